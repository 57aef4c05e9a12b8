"""Topic guard in retrieval (guardrails/policy/topic_slots.yaml, guardrails/topics.py, bot/retriever.py).

A patient who asks what to do BEFORE an infusion must not get the AFTER-care entry, one who asks about 988
must not get the clinic's own number, and so on. The first tests need no model (the ranking is stubbed);
the last ones run the real pipeline.

Run: .venv/bin/pytest tests/test_topic_guard.py -q
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.corpus import load_corpus
from bot.retriever import Candidate, HybridRetriever, RetrievalQuery
from bot.settings import RetrievalSettings
from guardrails import PolicyError
from guardrails.topics import DEFAULT_TOPIC_FILE, load_topic_guard


@pytest.fixture(scope="module")
def guard():
    return load_topic_guard()


@pytest.mark.parametrize(
    ("message", "slot", "values"),
    [
        ("what should I eat before my infusion?", "timing", {"before"}),
        ("is it ok to have coffee the morning of my session", "timing", {"before"}),
        ("can I drive home after the infusion?", "timing", {"after"}),
        ("once the session is over can I go back to work", "timing", {"after"}),
        ("is IV ketamine better than the troches?", "form", {"iv", "oral"}),
        ("what's the deal with the nasal spray", "form", {"nasal"}),
        ("can ketamine be given as a shot", "form", {"im"}),
        ("is TMS a kind of ketamine?", "form", {"tms"}),
        ("I need to cancel my appointment on friday", "appointment", {"reschedule"}),
        ("can I push my visit back a week", "appointment", {"reschedule"}),
        ("how do I book a first visit", "appointment", {"booking"}),
        ("what is the 988 number for?", "party", {"other_service"}),
        ("what's your phone number?", "party", {"clinic"}),
    ],
)
def test_message_slots(guard, message, slot, values):
    assert guard.slots(message).get(slot) == frozenset(values)


@pytest.mark.parametrize(
    "message",
    ["how long is a session?", "I have had depression before, can ketamine help?", "can I do a shot of tequila",
     "what are the side effects?", "is ketamine addictive?"],
)
def test_ordinary_questions_fill_no_contested_slot(guard, message):
    said = guard.slots(message)
    assert "timing" not in said and "form" not in said and "appointment" not in said, said


def test_conflict_needs_both_sides_and_no_shared_value(guard):
    after = {"timing": frozenset({"after"})}
    assert guard.conflict(guard.slots("what should I eat before my infusion?"), after) == ("timing", "before", "after")
    assert guard.conflict(guard.slots("before and after my infusion, what should I eat?"), after) is None
    assert guard.conflict(guard.slots("what should I eat?"), after) is None
    assert guard.conflict(guard.slots("what should I eat before my infusion?"), {}) is None


def test_every_listed_entry_exists_and_new_entries_read_their_question(guard):
    corpus = load_corpus()
    ids = {e.id for e in corpus.entries}
    assert set(guard.entries) <= ids, set(guard.entries) - ids
    # an entry the file does not list takes its slots from its own question
    assert guard.entry_slots("new-entry", "What should I eat after a session?") == {"timing": frozenset({"after"})}
    assert guard.entry_slots("aftercare-hydration", "anything")["timing"] == frozenset({"after"})
    assert guard.entry_slots("preparation-plan-day", "How should I plan my day before and after?") == {}


def _broken(tmp_path: Path, mutate) -> Path:
    target = tmp_path / "topic_slots.yaml"
    data = yaml.safe_load(DEFAULT_TOPIC_FILE.read_text(encoding="utf-8"))
    mutate(data)
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shutil.copy(DEFAULT_TOPIC_FILE.with_name("spellings.json"), tmp_path / "spellings.json")
    return target


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["entries"].update({"forms-iv": {"form": ["laser"]}}), "topic_slots.yaml: entries.forms-iv.form"),
        (lambda d: d["entries"].update({"forms-iv": {"colour": ["iv"]}}), "topic_slots.yaml: entries.forms-iv.colour"),
        (lambda d: d.update({"on_conflict": "guess"}), "topic_slots.yaml: on_conflict"),
        (lambda d: d["slots"]["timing"]["values"]["before"].update({"patterns": ["(unclosed"]}),
         "topic_slots.yaml: slots.timing.values.before.patterns[0]: regex does not compile"),
    ],
)
def test_a_broken_slot_file_names_file_and_field(tmp_path, mutate, expected):
    with pytest.raises(PolicyError) as err:
        load_topic_guard(_broken(tmp_path, mutate))
    assert str(err.value).startswith(expected), str(err.value)


# --------------------------------------------------------------------------- the retriever, ranking stubbed


def stub_retriever(guard, ranked: list[tuple[str, float]]) -> HybridRetriever:
    """A HybridRetriever whose ranking is fixed, so only the guard and the thresholds decide."""
    corpus = load_corpus()
    retriever = object.__new__(HybridRetriever)
    retriever.settings = RetrievalSettings(min_score=0.5, min_margin=0.0, top_k=3)
    retriever.topics = guard
    retriever.entry_slots = {e.id: guard.entry_slots(e.id, e.question) for e in corpus.entries}
    retriever._rank = lambda text, vector, weights=None, translated=False: [Candidate(e, s, s, 0.0)
                                                                            for e, s in ranked]
    return retriever


def ask(retriever: HybridRetriever, text: str):
    return retriever.run(RetrievalQuery(text=text, vector=np.zeros(384, dtype=np.float32)))


def test_the_wrong_side_is_set_aside_and_the_next_entry_answers(guard):
    retriever = stub_retriever(guard, [("aftercare-hydration", 0.71), ("preparation-eating-drinking", 0.66)])
    result = ask(retriever, "what should I eat before my infusion?")
    assert not result.abstained and result.best.entry_id == "preparation-eating-drinking"
    assert result.set_aside == ["aftercare-hydration"] and "topic guard" in result.reason


def test_the_next_entry_must_still_clear_the_threshold(guard):
    retriever = stub_retriever(guard, [("contact-phone", 0.9), ("contact-after-hours", 0.2)])
    result = ask(retriever, "what is the 988 number for?")
    assert result.abstained and result.set_aside == ["contact-phone"]


def test_abstain_mode_says_no_answer_even_when_a_next_entry_fits(guard):
    retriever = stub_retriever(replace(guard, on_conflict="abstain"),
                               [("contact-booking", 0.8), ("contact-reschedule", 0.7)])
    result = ask(retriever, "I need to cancel my appointment")
    assert result.abstained and "contact-booking" in result.reason


def test_no_conflict_no_change(guard):
    ranked = [("contact-reschedule", 0.8), ("contact-booking", 0.7)]
    on = ask(stub_retriever(guard, ranked), "I need to cancel my appointment")
    off = ask(_off(ranked), "I need to cancel my appointment")
    assert (on.best.entry_id, on.abstained, on.set_aside) == ("contact-reschedule", False, [])
    assert (off.best.entry_id, off.abstained) == ("contact-reschedule", False)


def _off(ranked):
    retriever = stub_retriever(load_topic_guard(), ranked)
    retriever.topics = None
    return retriever


def test_guard_off_keeps_the_old_behaviour(guard):
    result = ask(_off([("aftercare-hydration", 0.71), ("preparation-eating-drinking", 0.66)]),
                 "what should I eat before my infusion?")
    assert result.best.entry_id == "aftercare-hydration" and result.set_aside == []


# --------------------------------------------------------------------------- end to end (real model and index)


def test_988_question_no_longer_gets_the_clinic_number(pipeline):
    reply = pipeline.run("what is the 988 number for?")
    assert reply.route == "no_answer" and reply.entry_id is None
    saved = pipeline.retriever.topics
    try:
        pipeline.retriever.topics = None
        assert pipeline.run("what is the 988 number for?").entry_id == "contact-phone"   # what the guard prevents
    finally:
        pipeline.retriever.topics = saved


@pytest.mark.parametrize(
    ("message", "entry"),
    [("what should I eat before my infusion?", "preparation-eating-drinking"),
     ("is it ok to eat something after my infusion?", "aftercare-hydration"),
     ("how do I cancel my appointment?", "contact-reschedule"),
     ("I want to book my first infusion", "contact-booking"),
     ("what does an IM shot of ketamine involve?", "forms-im")],
)
def test_neighbours_on_each_side_still_answer(pipeline, message, entry):
    reply = pipeline.run(message)
    assert (reply.route, reply.entry_id) == ("answer", entry), reply.reason
