"""The vetted corpus loads, lints clean, and a broken file gives an error naming file, entry and field."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.corpus import TOPICS, CorpusError, load_corpus
from bot.lint import lint_corpus
from guardrails.dose import find_dose_amounts

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = ROOT / "corpus" / "entries"


def test_corpus_is_large_and_covers_every_topic(corpus):
    assert len(corpus) >= 60
    assert {e.topic for e in corpus.entries} == set(TOPICS)
    for entry in corpus.entries:
        assert len(entry.alternates) >= 4, entry.id
        assert entry.sources and entry.status == "approved"


def test_corpus_lints_clean():
    report = lint_corpus(ENTRIES)
    assert report.errors == []
    # every entry's own question reaches retrieval: none is declined by the guardrails
    assert not [w for w in report.warnings if "field question" in w], report.warnings


def test_entry_question_the_guardrails_decline_is_flagged(tmp_path):
    def personal(data):
        data[0]["question"] = "How many mg of ketamine should I take at home?"
    report = lint_corpus(_broken_copy(tmp_path, personal), embed=False)
    flagged = [w for w in report.warnings if "field question" in w]
    assert len(flagged) == 1, report.warnings
    assert "sessions.yaml: entry sessions-how-many" in flagged[0] and "dosing" in flagged[0]
    # staff see it from the command, as a warning: the corpus still passes
    folder = tmp_path / "entries"
    run = subprocess.run([sys.executable, "-m", "bot.cli", "corpus", "check", "--dir", str(folder), "--no-embed"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning: sessions.yaml: entry sessions-how-many: field question: the guardrails send it to dosing" \
        in run.stdout


def test_no_answer_carries_a_dose_or_seed_marketing(corpus):
    for entry in corpus.all_entries:
        assert find_dose_amounts(entry.answer) == [], entry.id
        assert not re.search(r"(?<!n't a )(?<!not a )total cure|(?:is|it's) not addictive|isn't addictive|"
                             r"massachusetts|arizona|utah|telemedical",
                             entry.answer, re.IGNORECASE), entry.id


def test_clinic_facts_come_from_settings(corpus):
    from bot.settings import CLINIC_FIELDS, CLINIC_POLICY_FIELDS, load_clinic

    contact = [e for e in corpus.entries if e.topic == "clinic_contact"]
    assert contact and all(e.uses_clinic_details for e in contact)
    clinic = {k: f"<{k}>" for k in CLINIC_FIELDS + CLINIC_POLICY_FIELDS}
    unset = load_clinic()            # this repo's clinic.yaml is still "[SET ...]"
    for entry in (e for e in corpus.entries if e.uses_clinic_details):
        rendered = entry.render(clinic)
        assert "{" not in rendered and "<" in rendered, entry.id
        patient = entry.render(unset)
        assert "[SET" not in patient and "{" not in patient, entry.id
        assert patient[0].isupper(), entry.id      # "The clinic ...", not "the clinic ..." at the start


# The questions every clinic gets: a general fact rests on a seed, a clinic's own rule is a placeholder.
NEW_ENTRIES = {
    "preparation-eating-drinking": "{fasting}", "preparation-what-to-bring": "{what_to_bring}",
    "sessions-music-eye-mask": "{session_comforts}", "sessions-arrive-leave": None,
    "contact-cancellation": "{cancellation}", "contact-payment-plans": "{payment_plans}",
    "conditions-minimum-age": "{minimum_age}", "conditions-pregnancy": None, "aftercare-next-day": None,
    "preparation-telling-family": None,
}


def test_questions_every_clinic_gets_have_entries(corpus):
    seeds = ROOT.parent / "shared" / "seeds"
    review = (ROOT / "corpus" / "REVIEW.md").read_text(encoding="utf-8")
    for entry_id, placeholder in NEW_ENTRIES.items():
        entry = corpus.get(entry_id)
        assert len(entry.alternates) >= 30, entry_id
        assert all((seeds / s.seed).is_file() for s in entry.sources) or not seeds.is_dir(), entry_id
        if placeholder:
            assert placeholder in entry.answer, entry_id
        assert f"`{entry_id}`" in review, entry_id
    # no clinic-specific number slipped into these answers
    for entry_id in NEW_ENTRIES:
        assert not re.search(r"\d", corpus.get(entry_id).answer), entry_id
    pregnancy = corpus.get("conditions-pregnancy").answer
    assert "care team" in pregnancy and "prescriber" in pregnancy


def _broken_copy(tmp_path: Path, mutate) -> Path:  # noqa: ANN001
    from conftest import broken_corpus_copy

    return broken_corpus_copy(tmp_path, "sessions.yaml", mutate)


@pytest.mark.parametrize(("mutate", "field", "problem"), [
    (lambda d: d[0].pop("sources"), "sources", "missing"),
    (lambda d: d[0].pop("review"), "review", "missing"),
    (lambda d: d[0].update(answer="Most people take 0.5 mg/kg over forty minutes."), "answer", "dose amount"),
    (lambda d: d[0].update(topic="gossip"), "topic", "not one of"),
    (lambda d: d[0].update(alternates=["just one"]), "alternates", "at least"),
    (lambda d: d[1].update(id=d[0]["id"]), "id", "repeats"),
    (lambda d: d[0].update(answer="Late cancellations cost {late_fee}."), "answer", "unknown placeholder"),
])
def test_broken_entry_names_file_entry_and_field(tmp_path, mutate, field, problem):
    folder = _broken_copy(tmp_path, mutate)
    with pytest.raises(CorpusError) as err:
        load_corpus(folder)
    message = str(err.value)
    assert "sessions.yaml" in message and f"field {field}" in message and problem in message


def test_invalid_yaml_names_the_file(tmp_path):
    folder = tmp_path / "entries"
    shutil.copytree(ENTRIES, folder)
    (folder / "safety.yaml").write_text("- id: x\n  question: [unclosed\n")
    with pytest.raises(CorpusError, match=r"safety\.yaml: not valid YAML"):
        load_corpus(folder)


def test_binary_file_is_refused_with_its_name(tmp_path):
    folder = tmp_path / "entries"
    shutil.copytree(ENTRIES, folder)
    (folder / "aftercare.yaml").write_bytes(b"\xff\xfe\x00binary\x80")
    with pytest.raises(CorpusError, match=r"aftercare\.yaml: not UTF-8"):
        load_corpus(folder)


def test_near_duplicate_questions_are_caught(tmp_path):
    def duplicate(data):
        twin = dict(data[0])
        twin["id"] = "sessions-twin"
        twin["question"] = data[0]["question"].rstrip("?") + " exactly?"
        twin["alternates"] = [f"twin phrasing {i}" for i in range(5)]
        data.append(twin)
    folder = _broken_copy(tmp_path, duplicate)
    report = lint_corpus(folder)
    assert any("sessions-twin" in e and "too close" in e for e in report.errors), report.errors


def test_cli_corpus_check_fails_on_a_broken_corpus(tmp_path):
    folder = _broken_copy(tmp_path, lambda d: d[0].pop("sources"))
    run = subprocess.run([sys.executable, "-m", "bot.cli", "corpus", "check", "--dir", str(folder), "--no-embed"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "sessions.yaml" in run.stdout and "field sources" in run.stdout


def test_cli_corpus_check_passes_and_stays_light():
    code = ("import sys; from bot.cli import main; rc = main(['corpus', 'check']); "
            "heavy = [m for m in ('torch', 'sentence_transformers', 'gradio', 'langchain_chroma') "
            "if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "HEAVY []" in run.stdout
    assert "0 error(s)" in run.stdout


def test_negatives_file_is_checked(tmp_path):
    """corpus/negatives/unanswerable.yaml: broken -> named; a negative that is also a phrasing -> error."""
    from bot.corpus import load_negatives

    folder = tmp_path / "entries"
    shutil.copytree(ENTRIES, folder)
    negatives = tmp_path / "negatives" / "unanswerable.yaml"
    negatives.parent.mkdir()
    negatives.write_text("questions: [fine, 7]\n")
    with pytest.raises(CorpusError, match=r"negatives/unanswerable\.yaml: field questions: must be a list"):
        load_negatives(negatives)
    assert any("field questions" in e for e in lint_corpus(folder, embed=False).errors)
    negatives.write_text("questions:\n  - is there wifi in the waiting room\n"
                         "  - How long does one ketamine session take?\n")
    report = lint_corpus(folder, embed=False)
    assert any("is a phrasing of entry sessions-length" in e for e in report.errors), report.errors
    assert load_negatives(tmp_path / "missing.yaml") == ()
