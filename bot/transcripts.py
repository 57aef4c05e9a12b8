"""Optional transcript store, off by default. When on it keeps REDACTED text only, for a set retention.

    store = TranscriptStore(Path("var/transcripts.jsonl"), retention_days=30)
    store.write(session_hash, message, reply, route)     # message is redacted before it is written
    store.read()                                         # records within the retention period
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from bot.redact import redact


class TranscriptStore:
    def __init__(self, path: Path, retention_days: int) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.path = Path(path)
        self.retention_s = retention_days * 86400
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.purge()

    def write(self, session: str | None, message: str, reply: str, route: str) -> None:
        record = {"ts": round(time.time(), 3), "session": session, "route": route,
                  "message": redact(message), "reply": reply}
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def read(self) -> list[dict]:
        return read_jsonl(self.path, time.time() - self.retention_s)

    def purge(self) -> int:
        """Drop records older than the retention period; returns how many were dropped."""
        return purge_jsonl(self.path, self._lock, time.time() - self.retention_s)


def purge_jsonl(path: Path, lock: threading.Lock, cutoff: float) -> int:
    """Drop the records of a JSON-lines file stamped before ``cutoff``; returns how many were dropped."""
    if not path.exists():
        return 0
    with lock:
        lines = path.read_text(encoding="utf-8").splitlines()
        keep = [line for line in lines if _ts(line) >= cutoff]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
        os.replace(tmp, path)
    return len(lines) - len(keep)


def read_jsonl(path: Path, since: float) -> list[dict]:
    """Records of a JSON-lines store newer than `since`; unreadable lines are skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and _ts(line) >= since:
            out.append(record)
    return out


def _ts(line: str) -> float:
    try:
        return float(json.loads(line)["ts"])
    except (ValueError, KeyError, TypeError):
        return 0.0
