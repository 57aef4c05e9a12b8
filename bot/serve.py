"""`faqbot serve`: one process (or N workers) on 127.0.0.1 with the API, the widget and the staff console.

Workers are separate processes; each builds its own pipeline from the same files (the index is built
once, under a file lock) or reads one Chroma server (`--chroma-url`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("faqbot.serve")
_STARTED = time.perf_counter()
GRACEFUL_SHUTDOWN_S = 5   # seconds a stop waits for open requests (a chat turn takes milliseconds)


def build_app(console: bool | None = None, chroma_url: str | None = None):  # noqa: ANN201
    """The full app: FastAPI routes plus the Gradio console at /staff."""
    from bot.assistant import build_pipeline
    from bot.logs import setup_logging
    from bot.server import create_app
    from bot.settings import home, load_clinic, load_settings
    from bot.transcripts import TranscriptStore

    setup_logging()
    if console is None:
        console = os.environ.get("FAQBOT_CONSOLE", "1") == "1"
    chroma_url = chroma_url or os.environ.get("FAQBOT_CHROMA_URL") or None
    settings = load_settings()
    clinic = load_clinic()
    pipeline, status = build_pipeline(settings=settings, chroma_url=chroma_url)
    for warning in status.warnings:
        log.warning(warning)
    transcripts = None
    if settings.transcripts.enabled:
        transcripts = TranscriptStore(home() / settings.transcripts.path, settings.transcripts.retention_days)
    app = create_app(pipeline, status, settings.server, clinic, transcripts)
    if console:
        from bot.console import mount_console

        # Behind FAQBOT_STAFF_PASSWORD(_HASH); without one, only on a loopback host (bot/staff_login.py).
        host = os.environ.get("FAQBOT_HOST") or settings.server.host
        app = mount_console(app, pipeline, status, settings, host, transcripts)
    log.info("ready", extra={"fields": {"index": status.index, "entries": status.corpus_entries,
                                        "startup_s": round(time.perf_counter() - _STARTED, 2)}})
    return app


def app_factory():  # noqa: ANN201 - uvicorn's factory entry point for --workers
    return build_app()


def public_refusal(host: str, clinic: dict[str, str], demo: bool) -> str | None:
    """Why `faqbot serve` must not start on ``host`` (None when it may): patients on a public host would
    otherwise get neutral stand-ins ("the number on this website") instead of the clinic's real contact."""
    from bot.settings import unset_required
    from bot.staff_login import is_loopback

    unset = unset_required(clinic)
    if not unset or demo or is_loopback(host):
        return None
    return (f"refusing to serve on {host}: config/clinic.yaml still has unset clinic details: {', '.join(unset)}. "
            "Fill them in, or pass --demo to serve a demo with neutral wording instead")


def serve(host: str | None, port: int | None, workers: int = 1, chroma_url: str | None = None,
          console: bool = True, demo: bool = False) -> int:
    import uvicorn

    from bot.corpus import load_corpus
    from bot.index import EntryIndex
    from bot.settings import index_dir, load_clinic, load_settings, unset_required

    settings = load_settings()
    host = host or settings.server.host
    port = port or settings.server.port
    if workers < 1:
        print("faqbot: error: --workers must be at least 1", file=sys.stderr)
        return 2
    clinic = load_clinic()
    refusal = public_refusal(host, clinic, demo)
    if refusal:
        print(f"faqbot: error: {refusal}", file=sys.stderr)
        return 2
    if demo and unset_required(clinic):
        print(f"faqbot: warning: --demo: clinic details unset ({', '.join(unset_required(clinic))}); "
              "patients see neutral wording instead", file=sys.stderr)
    os.environ["FAQBOT_CONSOLE"] = "1" if console else "0"
    os.environ["FAQBOT_HOST"] = host   # the console's mount rule needs the address actually bound
    if chroma_url:
        os.environ["FAQBOT_CHROMA_URL"] = chroma_url
    print(f"faqbot: serving on http://{host}:{port}/  (API /api/chat, staff console /staff)", file=sys.stderr)
    # A stop (SIGTERM from a supervisor, a deploy) waits this long for open requests, then closes the rest:
    # an open staff-console event stream would otherwise hold the process until it is killed.
    shutdown = {"timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S}
    if workers == 1:
        uvicorn.run(build_app(console=console, chroma_url=chroma_url), host=host, port=port,
                    log_level="warning", access_log=False, **shutdown)
    else:
        # Build the index once before the workers start, so they only open it.
        EntryIndex(Path(index_dir()), chroma_url=chroma_url).ensure(load_corpus())
        uvicorn.run("bot.serve:app_factory", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False, **shutdown)
    return 0
