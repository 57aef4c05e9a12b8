"""Small talk: recognised only when the whole message is small talk, never ahead of the guardrails, in English
and Spanish, with suggestions that lead to answers and, for "talk to a person", the clinic's buttons."""

import shutil
from pathlib import Path

import pytest
import yaml

from bot.check import ReplyCheck
from bot.messages import render_messages
from bot.pipeline import TurnPipeline
from bot.settings import load_clinic
from guardrails.policy import DEFAULT_POLICY_DIR, PolicyError
from guardrails.small_talk import load_small_talk

SET_CLINIC = {"name": "Calm Clinic", "phone": "+1 (555) 010-0100", "email": "hello@calm.example",
              "address": "1 Main St", "hours": "Monday to Friday, 9am to 5pm", "booking": "book at calm.example",
              "pricing": "see calm.example/prices", "insurance": "we give you a superbill",
              "after_hours": "call our on-call line", "contact_url": "https://calm.example/contact"}


@pytest.fixture(scope="module")
def talk():
    return load_small_talk()


@pytest.mark.parametrize(("message", "intent", "lang"), [
    ("hi", "greeting", "en"),
    ("Hiii there!!", "greeting", "en"),
    ("good morning :)", "greeting", "en"),
    ("thank you so much!", "thanks", "en"),
    ("ok thx", "thanks", "en"),
    ("bye", "goodbye", "en"),
    ("thanks, bye!", "goodbye", "en"),
    ("ok", "ok", "en"),
    ("are u a real person?", "bot_question", "en"),
    ("hello, is this a bot?", "bot_question", "en"),
    ("can I talk to a real person please", "human_request", "en"),
    ("Hola", "greeting", "es"),
    ("muchas gracias", "thanks", "es"),
    ("¿Eres un bot?", "bot_question", "es"),
    ("quiero hablar con una persona, por favor", "human_request", "es"),
    ("Adiós", "goodbye", "es"),
])
def test_small_talk_is_recognised(talk, message, intent, lang):
    found = talk.match(message)
    assert found is not None, message
    assert (found.intent, found.lang) == (intent, lang)


@pytest.mark.parametrize("message", [
    "hi, how long is a session?",          # a question: the FAQ answers it
    "thanks, can I drive home afterwards?",
    "goodbye forever",                     # could be a farewell: never small talk
    "bye, I want to die",
    "I'm done",
    "see you never",
    "I need someone to talk to",
    "thanks for nothing",
    "please",                              # fillers alone are not small talk
    "yes",
    "hi " * 11,                            # longer than max_words
])
def test_anything_more_than_small_talk_is_not(talk, message):
    assert talk.match(message) is None


def _broken_policy(tmp_path: Path, mutate) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(DEFAULT_POLICY_DIR, folder)
    path = folder / "small_talk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("mutate", "field", "problem"), [
    (lambda d: d["intents"][0]["phrases"].update(fr=["bonjour"]), "intents[0].phrases.fr", "unknown language"),
    (lambda d: d["intents"][4]["suggestions"]["en"].append("What is ketamine?"), "intents[4].suggestions.en",
     "2 or 3"),
    (lambda d: d["intents"][4]["reply"].update(en="Hi! Most people get 0.5 mg/kg."), "intents[4].reply.en",
     "dose amount"),
    (lambda d: d["intents"][0]["reply"].update(en="Visit us at {address}."), "intents[0].reply.en",
     "not allowed"),
    (lambda d: d["intents"][1].update(id=d["intents"][0]["id"]), "intents[1].id", "unique"),
])
def test_a_broken_small_talk_file_names_the_field(tmp_path, mutate, field, problem):
    with pytest.raises(PolicyError) as err:
        load_small_talk(_broken_policy(tmp_path, mutate))
    assert f"small_talk.yaml: {field}" in str(err.value) and problem in str(err.value)


# -- through the pipeline: guardrails first, replies a patient sees ----------------------------------------------
def with_clinic(pipeline: TurnPipeline, clinic: dict[str, str]) -> TurnPipeline:
    """The same pipeline serving another clinic's details (messages, final check and answers re-rendered)."""
    messages = render_messages(pipeline.guardrails.policy, clinic)
    allowed = {e.render(clinic) for e in pipeline.corpus.entries} | messages.templates()
    return TurnPipeline(pipeline.corpus, messages, pipeline.guardrails, pipeline.embed, pipeline.retriever,
                        ReplyCheck(allowed=allowed, footer=messages.footer), clinic)


def test_greeting_gets_a_greeting_and_suggestions_that_are_answered(pipeline):
    reply = pipeline.run("hello!")
    assert reply.route == "small_talk" and reply.rule == "small_talk.greeting"
    assert reply.reply.startswith("Hello!") and "[SET" not in reply.reply
    assert 2 <= len(reply.suggestions) <= 3
    for suggestion in reply.suggestions:
        followed = pipeline.run(suggestion, history=["hello!"])
        assert followed.route == "answer", (suggestion, followed.reason)


def test_every_small_talk_suggestion_is_answered(pipeline):
    suggestions = {s for r in pipeline.messages.small_talk.replies.values() for s in r.suggestions}
    for suggestion in suggestions:
        assert pipeline.run(suggestion).route == "answer", suggestion


def test_spanish_small_talk_is_answered_in_spanish(pipeline):
    reply = pipeline.run("hola, ¿eres un bot?")
    assert reply.route == "small_talk" and reply.rule == "small_talk.bot_question"
    assert "no una persona" in reply.reply and "[SET" not in reply.reply
    assert "la clínica" in reply.reply           # the unset clinic name, in Spanish


def test_small_talk_never_swallows_risk(pipeline):
    # risk in the same message: the crisis reply, not a greeting
    assert pipeline.run("hi, I want to die").route == "crisis"
    # after a crisis earlier on, a short "thanks" gets the crisis follow-up (crisis.acknowledged)
    ack = pipeline.run("thanks", history=["I want to kill myself"])
    assert (ack.route, ack.rule) == ("crisis", "crisis.acknowledged")
    assert "988" in ack.reply and ack.resources
    # other small talk after a crisis keeps the crisis line and resources
    later = pipeline.run("are you a real person?", history=["I want to kill myself"])
    assert "988" in later.reply and later.resources


def test_a_question_with_a_greeting_is_still_answered(pipeline):
    reply = pipeline.run("hi! how long does one ketamine session take?")
    assert reply.route == "answer" and reply.entry_id == "sessions-length"


def test_talk_to_a_person_gives_the_clinics_contact_and_buttons(pipeline):
    clinic = {**load_clinic(), **SET_CLINIC}
    reply = with_clinic(pipeline, clinic).run("can I talk to a real person please?")
    assert reply.route == "small_talk" and reply.rule == "small_talk.human_request"
    assert "Calm Clinic" in reply.reply and "+1 (555) 010-0100" in reply.reply
    assert "https://calm.example/contact" in reply.reply and "Monday to Friday" in reply.reply
    assert [(a.kind, a.href) for a in reply.actions] == [("call", "tel:+15550100100"),
                                                         ("link", "https://calm.example/contact")]
    assert reply.to_dict(explain=False)["actions"][0] == {"kind": "call", "label": "Call Calm Clinic",
                                                          "href": "tel:+15550100100"}
    spanish = with_clinic(pipeline, clinic).run("quiero hablar con una persona")
    assert [a.label for a in spanish.actions] == ["Llamar a Calm Clinic", "Contactar a Calm Clinic"]


def test_unset_clinic_details_give_neutral_words_and_no_buttons(pipeline):
    reply = pipeline.run("talk to a person")
    assert reply.route == "small_talk"
    assert "[SET" not in reply.reply and "{" not in reply.reply
    assert "the number on this website" in reply.reply
    assert reply.actions == [] and "actions" not in reply.to_dict(explain=False)
