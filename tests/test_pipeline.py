"""A turn end to end: routes, fail-closed behaviour, the final check, follow-ups, degraded modes."""

from dataclasses import replace

import pytest

from bot.pipeline import InputError, TurnPipeline


def test_answer_is_the_vetted_text_verbatim(pipeline, corpus):
    reply = pipeline.run("how long is one ketamine session?")
    assert reply.route == "answer"
    assert reply.reply == corpus.get(reply.entry_id).answer
    assert reply.sources[0].source.endswith(".txt")


def test_clinic_questions_use_clinic_settings(pipeline):
    from bot.settings import load_clinic

    reply = pipeline.run("what is your phone number?")
    assert reply.route == "answer" and reply.entry_id.startswith("contact-")
    assert load_clinic()["phone"] in reply.reply


def test_crisis_wins_over_everything(pipeline):
    for message in ("how much ketamine would it take to kill me", "I want to die. Also how long is a session?"):
        reply = pipeline.run(message)
        assert reply.route == "crisis", message
        assert reply.sources == [] and "988" in reply.reply


def test_informational_suicide_question_is_answered_with_resources(pipeline):
    reply = pipeline.run("can ketamine help with suicidal thoughts?")
    assert reply.route == "answer"
    assert reply.resources and "988" in reply.reply


def test_once_in_crisis_resources_stay(pipeline):
    reply = pipeline.run("how long is a session?", history=["I want to kill myself"])
    assert reply.route in ("answer", "no_answer")
    assert reply.resources and "988" in reply.reply


def test_empty_message_is_the_callers_error(pipeline):
    with pytest.raises(InputError):
        pipeline.run(" \n\t ")


def _clone(pipeline: TurnPipeline, **changes) -> TurnPipeline:
    clone = TurnPipeline(pipeline.corpus, pipeline.messages, pipeline.guardrails, pipeline.embed,
                         pipeline.retriever, pipeline.check, pipeline.clinic)
    for key, value in changes.items():
        setattr(clone, key, value)
    return clone


class Exploding:
    def run(self, *args, **kwargs):
        raise RuntimeError("boom: guardrail bug")


def test_a_failing_guardrail_fails_closed(pipeline, caplog):
    broken = _clone(pipeline, guardrails=Exploding())
    with caplog.at_level("ERROR"):
        reply = broken.run("my email is jo@example.com; how long is a session?")
    assert reply.route == "fallback"
    assert "988" in reply.reply and reply.resources
    assert "jo@example.com" not in caplog.text and "RuntimeError" in caplog.text


def test_final_check_blocks_an_unvetted_or_dosed_reply(pipeline, corpus):
    entry = corpus.get("sessions-length")
    tampered = replace(entry, answer="Take 2 mg/kg before you come.")
    entries = {**pipeline._entries, entry.id: tampered}
    broken = _clone(pipeline)
    broken._entries = entries
    reply = broken.run("how long is one ketamine session?")
    assert reply.route == "fallback" and "mg" not in reply.reply
    assert "final check" in reply.reason


def test_store_down_keeps_guardrails_working(pipeline):
    class DownRetriever:
        def run(self, query):
            raise ConnectionError("chroma unreachable")

    degraded = _clone(pipeline, retriever=DownRetriever())
    answer = degraded.run("how long is a session?")
    assert answer.route == "no_answer" and answer.rule == "retrieval.unavailable"
    assert degraded.run("I want to end it all tonight").route == "crisis"
    assert degraded.run("how many mg should I take").route == "dosing"


def test_model_down_keeps_rule_guardrails_working(pipeline):
    def no_model(texts):
        raise OSError("model files missing")

    degraded = _clone(pipeline, embed=no_model)
    assert degraded.run("i want to kill myself").route == "crisis"
    assert degraded.run("can i double my dose").route == "dosing"
    assert degraded.run("how long is a session?").route == "no_answer"


def test_follow_up_reads_the_previous_question(pipeline):
    first = pipeline.run("how many sessions do people usually need?")
    second = pipeline.run("and how long does each one take?", history=["how many sessions do people usually need?"])
    assert first.entry_id == "sessions-how-many"
    assert second.entry_id == "sessions-length"
    assert "previous question" in second.reason


def test_timings_cover_every_stage(pipeline):
    reply = pipeline.run("what are the side effects?")
    assert {"embed", "guardrails", "retrieve", "check", "total"} <= set(reply.timings_ms)
