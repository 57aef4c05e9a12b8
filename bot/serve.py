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
        import gradio as gr

        from bot.console import build_console, local_theme

        app = gr.mount_gradio_app(app, build_console(pipeline, status), path="/staff", theme=local_theme(),
                                  ssr_mode=False)
    log.info("ready", extra={"fields": {"index": status.index, "entries": status.corpus_entries,
                                        "startup_s": round(time.perf_counter() - _STARTED, 2)}})
    return app


def app_factory():  # noqa: ANN201 - uvicorn's factory entry point for --workers
    return build_app()


def serve(host: str | None, port: int | None, workers: int = 1, chroma_url: str | None = None,
          console: bool = True) -> int:
    import uvicorn

    from bot.corpus import load_corpus
    from bot.index import EntryIndex
    from bot.settings import index_dir, load_settings

    settings = load_settings()
    host = host or settings.server.host
    port = port or settings.server.port
    if workers < 1:
        print("faqbot: error: --workers must be at least 1", file=sys.stderr)
        return 2
    os.environ["FAQBOT_CONSOLE"] = "1" if console else "0"
    if chroma_url:
        os.environ["FAQBOT_CHROMA_URL"] = chroma_url
    print(f"faqbot: serving on http://{host}:{port}/  (API /api/chat, staff console /staff)", file=sys.stderr)
    if workers == 1:
        uvicorn.run(build_app(console=console, chroma_url=chroma_url), host=host, port=port,
                    log_level="warning", access_log=False)
    else:
        # Build the index once before the workers start, so they only open it.
        EntryIndex(Path(index_dir()), chroma_url=chroma_url).ensure(load_corpus())
        uvicorn.run("bot.serve:app_factory", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False)
    return 0
