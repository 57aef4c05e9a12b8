"""The staff console, driven through gradio_client against the console mounted in a real server behind
its login (a password hash from the environment), with transcripts on so the feedback tab exists."""

from __future__ import annotations

import shutil

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.staff_login import (
    ENV_HASH,
    ENV_PASSWORD,
    LoginConfigError,
    StaffLogin,
    hash_password,
    mount_decision,
    verify_password,
)

PASSWORD = "correct horse battery staple"
AUTH = ("staff", PASSWORD)


@pytest.fixture(scope="module")
def console_server(index_path, assistant, tmp_path_factory):
    """`faqbot serve` with FAQBOT_STAFF_PASSWORD_HASH set, transcripts on, a trusted local proxy (so the
    lockout test can speak for another address with X-Forwarded-For), all files in a temp dir."""
    from conftest import LiveServer

    from bot.settings import config_dir

    folder = tmp_path_factory.mktemp("console")
    config = folder / "config"
    config.mkdir()
    shutil.copy(config_dir() / "clinic.yaml", config / "clinic.yaml")
    settings = yaml.safe_load((config_dir() / "settings.yaml").read_text())
    settings["server"]["trusted_proxies"] = ["127.0.0.1"]
    settings["server"]["feedback_path"] = str(folder / "feedback.jsonl")
    settings["transcripts"] = {"enabled": True, "path": str(folder / "transcripts.jsonl"), "retention_days": 7}
    (config / "settings.yaml").write_text(yaml.safe_dump(settings))
    server = LiveServer(env_extra={"FAQBOT_CONFIG": str(config), ENV_HASH: hash_password(PASSWORD)},
                        index=index_path)
    try:
        server.wait_ready(timeout=600)   # a busy machine may have to rebuild the index
    except Exception:
        server.stop()
        raise
    server.folder = folder
    yield server
    server.stop()


@pytest.fixture(scope="module")
def staff(console_server):
    from gradio_client import Client

    return Client(console_server.url + "/staff/", auth=AUTH, verbose=False)


def _rows(table):
    return table["data"] if isinstance(table, dict) else table


# ------------------------------------------------------------------------------------------- the login

def test_console_needs_the_login(console_server):
    from gradio_client import Client

    assert httpx.get(console_server.url + "/staff/config", timeout=10).status_code == 401
    with pytest.raises(Exception):   # noqa: B017 - gradio_client raises its own error types
        Client(console_server.url + "/staff/", verbose=False)
    with pytest.raises(Exception):   # noqa: B017
        Client(console_server.url + "/staff/", auth=("staff", "not the password"), verbose=False)


def test_repeated_failures_lock_the_address_out(console_server):
    url = console_server.url + "/staff/login"
    elsewhere = {"X-Forwarded-For": "203.0.113.9"}     # through the trusted proxy: another client
    codes = [httpx.post(url, data={"username": "staff", "password": f"guess {i}"}, headers=elsewhere,
                        timeout=10).status_code for i in range(5)]
    assert codes == [400] * 5
    locked = httpx.post(url, data={"username": "staff", "password": PASSWORD}, headers=elsewhere, timeout=10)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked_out"
    assert int(locked.headers["retry-after"]) > 60
    # Other addresses still sign in.
    ok = httpx.post(url, data={"username": "staff", "password": PASSWORD}, timeout=10)
    assert ok.status_code == 200


def test_password_is_hashed_and_checked():
    encoded = hash_password(PASSWORD)
    assert PASSWORD not in encoded and encoded.startswith("scrypt$16384$")
    assert verify_password(PASSWORD, encoded) and not verify_password(PASSWORD + "!", encoded)
    login = StaffLogin("staff", encoded)
    assert login("staff", PASSWORD) and not login("admin", PASSWORD) and not login("staff", "")


def test_plain_password_env_is_hashed_and_removed(monkeypatch):
    monkeypatch.delenv(ENV_HASH, raising=False)
    monkeypatch.setenv(ENV_PASSWORD, PASSWORD)
    import os

    login = StaffLogin.from_env()
    assert login is not None and login("staff", PASSWORD)
    assert ENV_PASSWORD not in os.environ
    with pytest.raises(LoginConfigError):
        StaffLogin.from_env({ENV_PASSWORD: "short"})
    with pytest.raises(LoginConfigError):
        StaffLogin.from_env({ENV_HASH: "plaintext-not-a-hash"})
    assert StaffLogin.from_env({}) is None


def test_mount_rule():
    login = StaffLogin("staff", hash_password(PASSWORD))
    assert mount_decision("127.0.0.1", None)[0] and mount_decision("::1", None)[0]
    refused, why = mount_decision("0.0.0.0", None)
    assert not refused and "not mounted" in why
    assert not mount_decision("127.0.0.1", None, ("127.0.0.1",))[0]    # a proxy makes it public
    assert mount_decision("0.0.0.0", login)[0]


def test_no_console_on_a_public_host_without_a_login(assistant, monkeypatch):
    from bot.console import mount_console
    from bot.settings import load_settings

    monkeypatch.delenv(ENV_HASH, raising=False)
    monkeypatch.delenv(ENV_PASSWORD, raising=False)
    pipeline, status = assistant
    public = mount_console(FastAPI(), pipeline, status, load_settings(), "0.0.0.0")
    assert not any(getattr(r, "path", "") == "/staff" for r in public.routes)
    local = mount_console(FastAPI(), pipeline, status, load_settings(), "127.0.0.1")
    assert any(getattr(r, "path", "") == "/staff" for r in local.routes)
    # Open on loopback only: a request from any other address is refused.
    refused = TestClient(local).get("/staff/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "loopback_only"


# ------------------------------------------------------------------------------------------- the API

def test_every_endpoint_is_named_and_every_output_labelled(staff):
    api = staff.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/explain", "/browse", "/entry", "/feedback"}
    assert not api.get("unnamed_endpoints")
    for name, spec in api["named_endpoints"].items():
        for part in (*spec["parameters"], *spec["returns"]):
            assert part["label"] and not part["label"].startswith("value_"), (name, part)
    returns = [r["label"] for r in api["named_endpoints"]["/explain"]["returns"]]
    assert returns == ["Reply", "Route", "Why", "Decision", "Candidates", "Vetted entry"]


def test_a_question_returns_the_answer_and_why(staff, corpus):
    reply, route, why, found, candidates, entry = staff.predict("how long does a session take?", "[]",
                                                                api_name="/explain")
    assert route == "answer"
    assert reply == corpus.get("sessions-length").answer
    assert "retrieval.match" in why and "best entry scored" in why
    assert found["file"] == "config/settings.yaml (retrieval)"
    rows = _rows(candidates)
    assert rows[0][0] == "sessions-length" and len(rows) >= 2
    assert rows[0][4] == "answers" and rows[0][2] >= rows[0][3]     # score over its threshold
    assert 0.5 < rows[0][7] <= 1.0   # the classifier's probability is shown beside the other scores
    assert ".txt" in entry and "sessions-length" in entry


def test_a_decline_shows_phrase_rule_file_and_what_would_have_been_answered(staff):
    message = "Thanks for the info. What dose of ketamine should I take at home?"
    reply, route, why, found, candidates, entry = staff.predict(message, "[]", api_name="/explain")
    assert route == "dosing"
    assert found["rule"].startswith("dosing.") and found["file"] == "guardrails/policy/dosing_rules.yaml"
    assert found["phrase"] and found["phrase"].lower() in message.lower()
    assert found["sentence"] == "What dose of ketamine should I take at home?"
    assert "dosing_rules.yaml" in why and found["phrase"] in why
    rows = _rows(candidates)
    assert rows, "the candidates retrieval would have answered with"
    assert all(isinstance(r[3], float) and 0 < r[3] <= 1 for r in rows)   # each with its threshold
    assert rows[0][4].startswith(("would answer (declined: dosing)", "below threshold", "too close"))
    assert entry == ""


def test_crisis_shows_the_sentence_and_the_classifier_threshold(staff):
    reply, route, why, found, _, _ = staff.predict("everyone would be better off without me", "[]",
                                                   api_name="/explain")
    assert route == "crisis" and "988" in reply
    assert found["file"].startswith("guardrails/policy/crisis_")
    assert found["sentence"] or found["phrase"]
    if found["layer"] == "classifier":
        assert found["score"] >= found["threshold"] and "threshold" in why


def test_corpus_browser_filters_and_shows_whole_entries(staff, corpus):
    rows = _rows(staff.predict("esketamine", "all", "approved", api_name="/browse"))
    assert rows and any("esketamine" in " ".join(map(str, r)).lower() for r in rows)
    assert len(rows) < 20   # filtered, not the whole corpus
    topic_rows = _rows(staff.predict("", "side_effects", "all", api_name="/browse"))
    assert topic_rows and all(r[1] == "side_effects" for r in topic_rows)
    longest = max(corpus.entries, key=lambda e: len(e.answer))
    [row] = [r for r in _rows(staff.predict(longest.id, "all", "all", api_name="/browse")) if r[0] == longest.id]
    assert row[4] == longest.answer                                   # never cut
    assert all(s.seed in row[5] and s.claim in row[5] for s in longest.sources)
    shown = staff.predict(longest.id, api_name="/entry")
    assert longest.answer in shown and all(s.claim in shown for s in longest.sources)


def test_feedback_tab_groups_thumbs_down_and_unanswered(staff, console_server):
    url = console_server.url
    for question in ("can I bring my dog to the clinic?", "are pets allowed at the clinic"):
        r = httpx.post(url + "/api/chat", json={"message": question}, timeout=30)
        assert r.status_code == 200
    vote = {"vote": "down", "route": "answer", "entry_id": "sessions-length",
            "message": "my name is Jane Roe, can my dog come to the clinic with me?"}
    r = httpx.post(url + "/api/feedback", json=vote, timeout=10)
    assert r.json() == {"stored": True, "kept_text": True}
    rows = _rows(staff.predict(api_name="/feedback"))
    text = " ".join(" ".join(map(str, r)) for r in rows)
    assert "Jane" not in text and "[NAME]" in text
    dogs = [r for r in rows if "dog" in " ".join(map(str, r)).lower() or "pets" in " ".join(map(str, r)).lower()]
    assert dogs and dogs[0][1] >= 2, rows            # grouped, not one row per question
    assert "thumbs down" in dogs[0][2] or any("thumbs down" in r[2] for r in dogs)
