"""Structured JSON-line logs. Patient text never goes in: only routes, rules, ids and timings.

Anything free-form that reaches a log record is passed through `bot.redact.redact` first, as a last guard.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from bot.redact import redact


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": round(time.time(), 3), "level": record.levelname.lower(), "logger": record.name,
                "msg": redact(record.getMessage())}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            data["error"] = record.exc_info[0].__name__   # the type only: a traceback may quote input
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "chromadb", "uvicorn.access", "gradio", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
