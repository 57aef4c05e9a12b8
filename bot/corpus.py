"""The vetted FAQ corpus: YAML entries written and reviewed by us, loaded and validated.

    corpus = load_corpus()                       # corpus/entries/*.yaml
    entry = corpus.get("sessions-length")
    print(entry.question, corpus.content_hash)

Anything malformed raises `CorpusError` naming the file, the entry and the field.
Only entries with `review.status: approved` are served.

An entry may carry a Spanish version (`es:` with its own question, alternates, answer and review). Its
question and alternates help retrieval find the entry for a Spanish question whatever their review status
(they are never shown); its answer is served only once approved, and until then a Spanish-speaking patient
gets the English answer under one Spanish line that says so.
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
TRANSLATION_LANGS = ("es",)                              # languages an entry may carry besides English
TRANSLATION_STATUSES = ("approved", "pending", "rejected")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MIN_ALTERNATES = 4
MAX_ANSWER_WORDS = 120   # about 30 seconds of reading
MAX_TRANSLATED_WORDS = 160   # Spanish runs about a quarter longer than English


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
class Translation:
    """An entry's text in another language, reviewed on its own (`review.status`: approved | pending |
    rejected)."""
    lang: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    status: str
    reviewer: str = ""
    date: str = ""

    @property
    def approved(self) -> bool:
        return self.status == "approved"


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
    translations: tuple[Translation, ...] = ()

    @property
    def uses_clinic_details(self) -> bool:
        return "{" in self.answer

    def translation(self, lang: str) -> Translation | None:
        """The entry's text in ``lang`` (any review status), or None."""
        return next((t for t in self.translations if t.lang == lang), None)

    def serves(self, lang: str) -> bool:
        """Whether a patient writing in ``lang`` gets this entry's answer in that language."""
        if lang == "en":
            return True
        found = self.translation(lang)
        return found is not None and found.approved

    def render(self, clinic: dict[str, str], lang: str = "en") -> str:
        """The answer as a patient sees it: clinic placeholders filled in, unset details as neutral words.

        In ``lang`` when that translation is approved; otherwise the English answer (the caller says so)."""
        if lang != "en" and self.serves(lang):
            answer = self.translation(lang).answer  # type: ignore[union-attr] - serves() checked it
            return render_text(answer, clinic, lang) if "{" in answer else answer
        return render_text(self.answer, clinic) if self.uses_clinic_details else self.answer

    @property
    def translated_phrasings(self) -> tuple[str, ...]:
        """Questions and alternates in other languages that retrieval matches (never shown; rejected ones
        left out)."""
        return tuple(text for t in self.translations if t.status != "rejected"
                     for text in (t.question, *t.alternates))

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
    unknown_keys = set(raw) - {"id", "topic", "question", "alternates", "answer", "sources", "review",
                               *TRANSLATION_LANGS}
    if unknown_keys:
        raise CorpusError(file, entry_id, sorted(unknown_keys)[0],
                          f"unknown field (fields: id, topic, question, alternates, answer, sources, review, "
                          f"{', '.join(TRANSLATION_LANGS)})")
    translations = tuple(_parse_translation(raw[lang], lang, placeholders, file, entry_id)
                         for lang in TRANSLATION_LANGS if lang in raw)
    return Entry(id=entry_id, topic=topic, question=question,
                 alternates=tuple(" ".join(a.split()) for a in alternates), answer=answer,
                 sources=tuple(parsed_sources), status=status, file=file, translations=translations)


def _parse_translation(raw: Any, lang: str, placeholders: set[str], file: str, entry_id: str) -> Translation:
    """The same rules as the English text, plus: exactly the English answer's placeholders, and a review."""
    if not isinstance(raw, dict):
        raise CorpusError(file, entry_id, lang, "must be a mapping with question, alternates, answer, review")

    def text(name: str) -> str:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CorpusError(file, entry_id, f"{lang}.{name}", "missing or not text")
        return " ".join(value.split())

    question = text("question")
    alternates = raw.get("alternates")
    if not isinstance(alternates, list) or not all(isinstance(a, str) and a.strip() for a in alternates):
        raise CorpusError(file, entry_id, f"{lang}.alternates", "must be a list of non-empty texts")
    if len(alternates) < MIN_ALTERNATES:
        raise CorpusError(file, entry_id, f"{lang}.alternates", f"needs at least {MIN_ALTERNATES} phrasings")
    answer = text("answer")
    if len(answer.split()) > MAX_TRANSLATED_WORDS:
        raise CorpusError(file, entry_id, f"{lang}.answer", f"longer than {MAX_TRANSLATED_WORDS} words")
    found = {name for _, name, _, _ in string.Formatter().parse(answer) if name is not None}
    if found != placeholders:
        raise CorpusError(file, entry_id, f"{lang}.answer",
                          f"placeholders {sorted(found)} differ from the English answer's {sorted(placeholders)}")
    doses = find_dose_amounts(answer)
    if doses:
        raise CorpusError(file, entry_id, f"{lang}.answer", f"contains a dose amount: {doses[0]!r}")
    review = raw.get("review")
    if not isinstance(review, dict):
        raise CorpusError(file, entry_id, f"{lang}.review", "missing: a translation is reviewed on its own")
    status = review.get("status")
    if status not in TRANSLATION_STATUSES:
        raise CorpusError(file, entry_id, f"{lang}.review.status",
                          f"must be one of {', '.join(TRANSLATION_STATUSES)}")
    reviewer, date = str(review.get("reviewer") or "").strip(), str(review.get("date") or "").strip()
    if status == "approved" and (not reviewer or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)):
        raise CorpusError(file, entry_id, f"{lang}.review",
                          "an approved translation names its reviewer and date (YYYY-MM-DD)")
    return Translation(lang=lang, question=question, alternates=tuple(" ".join(a.split()) for a in alternates),
                       answer=answer, status=status, reviewer=reviewer, date=date)


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
    # What the index holds: translated answers and review states do not change it.
    payload = [[e.id, e.topic, e.question, list(e.alternates), e.answer] + ([list(e.translated_phrasings)]
               if e.translated_phrasings else []) for e in entries]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def negatives_path(directory: Path | None = None, lang: str = "en") -> Path:
    """`negatives/unanswerable.yaml`, or `unanswerable_<lang>.yaml` for another language's: those train only
    the classifier for questions in that language, so they never move English answers."""
    name = "unanswerable.yaml" if lang == "en" else f"unanswerable_{lang}.yaml"
    return (directory or corpus_dir()).parent / "negatives" / name


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
