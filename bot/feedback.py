"""Thumbs up/down from the widget: which reply was judged and how, never who, and the question only
when transcripts are on (then redacted, like transcripts).

    store = FeedbackStore(Path("var/feedback.jsonl"), retention_days=30, keep_text=False)
    vote = parse_feedback({"vote": "down", "route": "answer", "entry_id": "sessions-length"})
    store.write(vote, session_hash)
    store.read()                       # records within the retention period, oldest first
    review_groups(store.read(), transcripts.read(), embed)   # for the staff console's feedback tab
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.redact import redact
from bot.transcripts import purge_jsonl, read_jsonl

VOTES = ("up", "down")
_ROUTE = re.compile(r"[a-z_]{1,32}")
_ENTRY = re.compile(r"[A-Za-z0-9_.-]{1,128}")
GROUP_SIMILARITY = 0.45     # MiniLM cosine to a group's first question (paraphrases score 0.45-0.6)


class FeedbackError(ValueError):
    """A feedback body the API answers with 422; `field` names what is wrong."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class Feedback:
    vote: str
    route: str
    entry_id: str | None = None
    message: str | None = None     # the question; kept only when transcripts are on, and redacted


def parse_feedback(data: Any, max_chars: int = 1000) -> Feedback:
    """Validate a decoded /api/feedback body; raise FeedbackError naming the field."""
    if not isinstance(data, dict):
        raise FeedbackError("wrong_type", "request body must be a JSON object", "body")
    for name in ("vote", "route"):
        if name not in data:
            raise FeedbackError("missing_field", f"'{name}' is required", name)
    vote, route = data["vote"], data["route"]
    if vote not in VOTES:
        raise FeedbackError("wrong_value", "'vote' must be \"up\" or \"down\"", "vote")
    if not isinstance(route, str) or not _ROUTE.fullmatch(route):
        raise FeedbackError("wrong_value", "'route' must be a route name such as \"answer\"", "route")
    entry_id = data.get("entry_id")
    if entry_id is not None and (not isinstance(entry_id, str) or not _ENTRY.fullmatch(entry_id)):
        raise FeedbackError("wrong_value", "'entry_id' must be an entry id", "entry_id")
    message = data.get("message")
    if message is not None and not isinstance(message, str):
        raise FeedbackError("wrong_type", "'message' must be a string", "message")
    session_id = data.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or len(session_id) > 128):
        raise FeedbackError("wrong_type", "'session_id' must be a string of at most 128 characters", "session_id")
    if message is not None and len(message) > max_chars:
        raise FeedbackError("message_too_long", f"'message' is over the {max_chars}-character limit", "message")
    return Feedback(vote=vote, route=route, entry_id=entry_id, message=message or None)


class FeedbackStore:
    """Append-only JSON lines, dropped after the retention period. Creates nothing until the first vote."""

    def __init__(self, path: Path, retention_days: int = 30, keep_text: bool = False) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.path = Path(path)
        self.retention_s = retention_days * 86400
        self.keep_text = keep_text
        self._lock = threading.Lock()
        self._purged = False

    def write(self, feedback: Feedback, session: str | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {"ts": round(time.time(), 3), "session": session, "vote": feedback.vote,
                                  "route": feedback.route, "entry_id": feedback.entry_id}
        if self.keep_text and feedback.message:
            record["message"] = redact(feedback.message)
        if not self._purged:
            self.purge()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return record

    def read(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path, time.time() - self.retention_s)

    def purge(self) -> int:
        """Drop records older than the retention period; returns how many were dropped."""
        self._purged = True
        return purge_jsonl(self.path, self._lock, time.time() - self.retention_s)


@dataclass(frozen=True)
class ReviewItem:
    kind: str          # "thumbs down" | "no answer"
    text: str          # redacted question
    route: str
    entry_id: str | None


def review_items(feedback: Sequence[dict[str, Any]], transcripts: Sequence[dict[str, Any]]) -> list[ReviewItem]:
    """Thumbs-down answers (with their question) and no_answer questions: what to add to the corpus."""
    items = [ReviewItem("thumbs down", r["message"], r.get("route", ""), r.get("entry_id"))
             for r in feedback if r.get("vote") == "down" and isinstance(r.get("message"), str) and r["message"]]
    items += [ReviewItem("no answer", r["message"], "no_answer", None)
              for r in transcripts if r.get("route") == "no_answer" and isinstance(r.get("message"), str)
              and r["message"]]
    return items


def group_similar(texts: Sequence[str], embed: Callable[[list[str]], np.ndarray],
                  threshold: float = GROUP_SIMILARITY) -> list[list[int]]:
    """Greedy single-pass grouping by cosine to each group's first text; biggest groups first."""
    if not texts:
        return []
    vectors = np.asarray(embed(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    groups: list[list[int]] = []
    heads: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        sims = [float(vector @ head) for head in heads]
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= threshold:
            groups[best].append(i)
        else:
            groups.append([i])
            heads.append(vector)
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def review_groups(feedback: Sequence[dict[str, Any]], transcripts: Sequence[dict[str, Any]],
                  embed: Callable[[list[str]], np.ndarray]) -> list[list[Any]]:
    """Rows for the console: group, how many, kinds, an example question, the others, entries judged."""
    items = review_items(feedback, transcripts)
    rows = []
    for n, group in enumerate(group_similar([i.text for i in items], embed), start=1):
        members = [items[i] for i in group]
        kinds = ", ".join(f"{k} \u00d7{sum(m.kind == k for m in members)}"
                          for k in ("thumbs down", "no answer") if any(m.kind == k for m in members))
        entries = ", ".join(sorted({m.entry_id for m in members if m.entry_id}))
        others = " | ".join(dict.fromkeys(m.text for m in members[1:]))
        rows.append([n, len(members), kinds, members[0].text, others, entries])
    return rows
