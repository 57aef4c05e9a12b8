"""The vetted FAQ corpus: YAML entries written and reviewed by us, loaded and validated.

    corpus = load_corpus()                       # corpus/entries/*.yaml
    entry = corpus.get("sessions-length")
    print(entry.question, corpus.content_hash)

Anything malformed raises `CorpusError` naming the file, the entry and the field.
Only entries with `review.status: approved` are served.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.messages import render_text  # the one placeholder renderer, shared with the policy templates
from bot.settings import CLINIC_FIELDS, CLINIC_POLICY_FIELDS, corpus_dir
from guardrails.dose import find_dose_amounts
from guardrails.yaml_text import parse_yaml

TOPICS = ("sessions", "side_effects", "preparation", "aftercare", "how_it_works", "conditions",
          "forms_of_treatment", "safety", "care_team", "clinic_contact")
REVIEW_STATUSES = ("approved", "draft", "rejected")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MIN_ALTERNATES = 4
MAX_ANSWER_WORDS = 120   # about 30 seconds of reading


class CorpusError(ValueError):
    """A corpus file is broken; the message names the file, the entry and the field."""

    def __init__(self, file: str, entry: str | None, field: str | None, problem: str) -> None:
        self.file, self.entry, self.field, self.problem = file, entry, field, problem
        where = file + (f": entry {entry}" if entry else "") + (f": field {field}" if field else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Source:
    seed: str
    claim: str


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    sources: tuple[Source, ...]
    status: str
    file: str

    @property
    def uses_clinic_details(self) -> bool:
        return "{" in self.answer

    def render(self, clinic: dict[str, str]) -> str:
        """The answer as a patient sees it: clinic placeholders filled in, unset details as neutral words."""
        return render_text(self.answer, clinic) if self.uses_clinic_details else self.answer

    @property
    def source_label(self) -> str:
        return ", ".join(s.seed for s in self.sources)


@dataclass(frozen=True)
class Corpus:
    entries: tuple[Entry, ...]          # approved only: what is served
    all_entries: tuple[Entry, ...]      # every entry, for staff browsing and linting
    content_hash: str

    def get(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def __len__(self) -> int:
        return len(self.entries)


def _text(raw: dict[str, Any], name: str, file: str, entry: str | None) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(file, entry, name, "missing or not text")
    return " ".join(value.split())


def _parse_entry(raw: Any, file: str, position: int) -> Entry:
    if not isinstance(raw, dict):
        raise CorpusError(file, f"#{position}", None, "each entry must be a mapping")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
        raise CorpusError(file, f"#{position}", "id", "missing, or not lowercase letters, digits, - and _")
    topic = _text(raw, "topic", file, entry_id)
    if topic not in TOPICS:
        raise CorpusError(file, entry_id, "topic", f"{topic!r} is not one of {', '.join(TOPICS)}")
    question = _text(raw, "question", file, entry_id)
    alternates = raw.get("alternates")
    if not isinstance(alternates, list) or not all(isinstance(a, str) and a.strip() for a in alternates):
        raise CorpusError(file, entry_id, "alternates", "must be a list of non-empty texts")
    if len(alternates) < MIN_ALTERNATES:
        raise CorpusError(file, entry_id, "alternates", f"needs at least {MIN_ALTERNATES} phrasings")
    answer = _text(raw, "answer", file, entry_id)
    if len(answer.split()) > MAX_ANSWER_WORDS:
        raise CorpusError(file, entry_id, "answer", f"longer than {MAX_ANSWER_WORDS} words")
    placeholders = {name for _, name, _, _ in string.Formatter().parse(answer) if name is not None}
    # Any entry may quote the clinic's own details and rules; only through these placeholders, never as text.
    unknown = placeholders - set(CLINIC_FIELDS + CLINIC_POLICY_FIELDS)
    if unknown:
        raise CorpusError(file, entry_id, "answer", f"unknown placeholder(s) {sorted(unknown)}")
    doses = find_dose_amounts(answer)
    if doses:
        raise CorpusError(file, entry_id, "answer", f"contains a dose amount: {doses[0]!r}")
    sources = raw.get("sources")
    if not isinstance(sources, list) or not sources:
        raise CorpusError(file, entry_id, "sources", "missing: every entry cites at least one seed")
    parsed_sources = []
    for source in sources:
        if not isinstance(source, dict):
            raise CorpusError(file, entry_id, "sources", "each source needs seed and claim")
        parsed_sources.append(Source(seed=_text(source, "seed", file, entry_id),
                                     claim=_text(source, "claim", file, entry_id)))
    review = raw.get("review")
    if not isinstance(review, dict):
        raise CorpusError(file, entry_id, "review", "missing: every entry needs a review status")
    status = review.get("status")
    if status not in REVIEW_STATUSES:
        raise CorpusError(file, entry_id, "review.status", f"must be one of {', '.join(REVIEW_STATUSES)}")
    return Entry(id=entry_id, topic=topic, question=question,
                 alternates=tuple(" ".join(a.split()) for a in alternates), answer=answer,
                 sources=tuple(parsed_sources), status=status, file=file)


def load_file(path: Path) -> list[Entry]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(name, None, None, f"not UTF-8 text ({exc.reason})") from exc
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise CorpusError(name, None, None, f"not valid YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise CorpusError(name, None, None, "top level must be a list of entries")
    return [_parse_entry(raw, name, i + 1) for i, raw in enumerate(data)]


def load_corpus(directory: Path | None = None) -> Corpus:
    directory = directory or corpus_dir()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CorpusError(str(directory), None, None, "no *.yaml corpus files found")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in files:
        for entry in load_file(path):
            if entry.id in seen:
                raise CorpusError(path.name, entry.id, "id", f"repeats an id already used in {seen[entry.id]}")
            seen[entry.id] = path.name
            entries.append(entry)
    approved = tuple(e for e in entries if e.status == "approved")
    if not approved:
        raise CorpusError(str(directory), None, None, "no approved entries to serve")
    return Corpus(entries=approved, all_entries=tuple(entries), content_hash=_hash(approved))


def _hash(entries: tuple[Entry, ...]) -> str:
    payload = [[e.id, e.topic, e.question, list(e.alternates), e.answer] for e in entries]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def negatives_path(directory: Path | None = None) -> Path:
    return (directory or corpus_dir()).parent / "negatives" / "unanswerable.yaml"


def load_negatives(path: Path | None = None) -> tuple[str, ...]:
    """Questions no entry answers (`corpus/negatives/unanswerable.yaml`): the classifier's "none" class.

    Never served. A missing file means no negatives; a broken one is an error naming the file and field.
    """
    path = path or negatives_path()
    if not path.exists():
        return ()
    name = f"negatives/{path.name}"
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(name, None, None, f"not valid UTF-8 YAML: {exc}") from exc
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        raise CorpusError(name, None, "questions", "must be a list of non-empty strings")
    return tuple(q.strip() for q in questions)
