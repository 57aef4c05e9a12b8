"""`faqbot corpus check`: the corpus linter. Names file, entry and field for every problem.

Errors (exit 1): a file that does not load (schema, YAML, ids, missing source or review, dose amount,
answers too long, unknown placeholders), seeds cited that do not exist, and two entries whose questions
are so close that retrieval could not tell them apart (MiniLM cosine >= NEAR_DUPLICATE, or identical
wording), or an alternate phrasing shared by two entries, and a broken negatives file or a negative
question that is also an entry's phrasing (corpus/negatives/unanswerable.yaml).
Warnings: draft/rejected entries (not served), clinic placeholders still unset, and an approved entry
whose own question the guardrails decline (a patient asking it that way gets the decline, not the entry;
right for "How many sessions will I need?", a mistake for a general question), in English and in each
translation. Translations follow the same rules (no dose amounts, the English answer's placeholders, a review
block); the report counts, per language, how many entries have an approved, pending or no translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.corpus import TRANSLATION_LANGS, CorpusError, Entry, load_file, load_negatives, negatives_path
from bot.settings import clinic_placeholders, corpus_dir, home, load_clinic

NEAR_DUPLICATE = 0.93
SEED_DIRS = ("../shared/seeds", "shared/seeds")


@dataclass
class LintReport:
    entries: int = 0
    approved: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # language -> {"approved": n, "pending": n, "rejected": n, "missing": n}, over approved entries
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)


def _seed_dir() -> Path | None:
    for rel in SEED_DIRS:
        path = (home() / rel).resolve()
        if path.is_dir():
            return path
    return None


def lint_corpus(directory: Path | None = None, embed: bool = True) -> LintReport:
    directory = directory or corpus_dir()
    report = LintReport()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        report.errors.append(f"{directory}: no *.yaml corpus files found")
        return report
    entries: list[Entry] = []
    for path in files:
        try:
            entries.extend(load_file(path))
        except CorpusError as exc:
            report.errors.append(str(exc))
    report.entries = len(entries)
    report.approved = sum(e.status == "approved" for e in entries)

    seen: dict[str, str] = {}
    phrasings: dict[str, str] = {}
    seeds = _seed_dir()
    for e in entries:
        if e.id in seen:
            report.errors.append(f"{e.file}: entry {e.id}: field id: repeats an id already used in {seen[e.id]}")
        seen.setdefault(e.id, e.file)
        if e.status != "approved":
            report.warnings.append(f"{e.file}: entry {e.id}: review.status is {e.status}: not served")
        if seeds is not None:
            for s in e.sources:
                if not (seeds / s.seed).is_file():
                    report.errors.append(f"{e.file}: entry {e.id}: field sources: seed {s.seed!r} not found in {seeds}")
        for text in (e.question, *e.alternates, *e.translated_phrasings):
            key = _phrasing_key(text)
            other = phrasings.get(key)
            if other and other != e.id:
                report.errors.append(f"{e.file}: entry {e.id}: field alternates: {text!r} is also a phrasing of "
                                     f"entry {other}")
            phrasings.setdefault(key, e.id)

    for path in (negatives_path(directory), *(negatives_path(directory, lang) for lang in TRANSLATION_LANGS)):
        try:
            for text in load_negatives(path):
                entry_id = phrasings.get(_phrasing_key(text))
                if entry_id:
                    report.errors.append(f"negatives/{path.name}: field questions: {text!r} is a phrasing of "
                                         f"entry {entry_id}: a question cannot be both answered and unanswerable")
        except CorpusError as exc:
            report.errors.append(str(exc))

    served = [e for e in entries if e.status == "approved"]
    report.warnings.extend(_declined_questions(served))
    for lang in TRANSLATION_LANGS:
        counts = {"approved": 0, "pending": 0, "rejected": 0, "missing": 0}
        for e in served:
            found = e.translation(lang)
            counts[found.status if found else "missing"] += 1
        report.coverage[lang] = counts
    if embed and len(entries) > 1:
        report.errors.extend(_near_duplicates(entries))
    try:
        unset = clinic_placeholders(load_clinic())
        if unset:
            report.warnings.append(f"config/clinic.yaml: fields still placeholders: {', '.join(unset)}")
    except ValueError as exc:
        report.errors.append(str(exc))
    return report


def _phrasing_key(text: str) -> str:
    """Two phrasings are the same question when they differ only in case, spacing or end punctuation."""
    return " ".join(text.lower().split()).strip(" ?.!")


def _declined_questions(entries: list[Entry]) -> list[str]:
    from guardrails import Guardrails, load_policy  # rules only: no model, well under a second

    try:
        guard = Guardrails(load_policy())
    except Exception as exc:  # noqa: BLE001 - a broken policy is `faqbot serve`'s to report, in full
        return [f"guardrails policy did not load ({type(exc).__name__}): declined questions not checked"]
    found = []
    for e in entries:
        questions = [("question", e.question)] + [(f"{t.lang}.question", t.question) for t in e.translations
                                                  if t.status != "rejected"]
        for fld, question in questions:
            verdict = guard.run(question, [])
            if verdict.route != "pass":
                found.append(f"{e.file}: entry {e.id}: field {fld}: the guardrails send it to {verdict.route} "
                             f"({verdict.rule}); patients asking it this way get that reply, not this entry")
    return found


def _near_duplicates(entries: list[Entry]) -> list[str]:
    from bot.embeddings import MiniLMEmbeddings

    vectors = MiniLMEmbeddings(backend="numpy").embed([e.question for e in entries])
    sims = vectors @ vectors.T
    problems = []
    for i in range(len(entries)):
        for j in range(i + 1, len(entries)):
            if sims[i, j] >= NEAR_DUPLICATE:
                a, b = entries[i], entries[j]
                problems.append(f"{b.file}: entry {b.id}: field question: too close to entry {a.id} in "
                                f"{a.file} (similarity {sims[i, j]:.2f} >= {NEAR_DUPLICATE}): merge them or "
                                "make the questions distinct")
    return problems
