"""POST /api/feedback: what is kept (route, entry, vote; the question only with transcripts, redacted),
its own rate limit, and the grouping the staff console's feedback tab shows."""

import json
import time

import pytest
from fastapi.testclient import TestClient

from bot.feedback import FeedbackStore, group_similar, review_groups
from bot.server import create_app
from bot.settings import ServerSettings, load_clinic
from bot.transcripts import TranscriptStore


def _client(assistant, store, transcripts=None, **limits):
    pipeline, status = assistant
    settings = ServerSettings(**{"rate_limit_per_minute": 6000, "rate_limit_burst": 1000, **limits})
    return TestClient(create_app(pipeline, status, settings, load_clinic(), transcripts, store))


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_vote_is_stored_without_text_when_transcripts_are_off(assistant, tmp_path):
    path = tmp_path / "feedback.jsonl"
    client = _client(assistant, FeedbackStore(path, keep_text=False))
    r = client.post("/api/feedback", json={"vote": "down", "route": "answer", "entry_id": "sessions-length",
                                           "session_id": "abc-123", "message": "my name is Jane Roe, how long?"})
    assert r.status_code == 200 and r.json() == {"stored": True, "kept_text": False}
    [record] = _records(path)
    assert record["vote"] == "down" and record["route"] == "answer" and record["entry_id"] == "sessions-length"
    assert "message" not in record and "Jane" not in path.read_text()
    assert record["session"] != "abc-123" and len(record["session"]) == 12   # a hash, never the id


def test_text_is_kept_redacted_only_with_transcripts(assistant, tmp_path):
    transcripts = TranscriptStore(tmp_path / "t.jsonl", retention_days=30)
    path = tmp_path / "feedback.jsonl"
    client = _client(assistant, FeedbackStore(path, keep_text=True), transcripts)
    r = client.post("/api/feedback", json={"vote": "down", "route": "no_answer",
                                           "message": "my name is Jane Roe, call 555-867-5309 about parking"})
    assert r.json()["kept_text"] is True
    [record] = _records(path)
    assert record["message"] == "my name is [NAME], call [PHONE] about parking"


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"route": "answer"}, 422, "missing_field", "vote"),
    ({"vote": "up"}, 422, "missing_field", "route"),
    ({"vote": "meh", "route": "answer"}, 422, "wrong_value", "vote"),
    ({"vote": "up", "route": "<script>"}, 422, "wrong_value", "route"),
    ({"vote": "up", "route": "answer", "entry_id": "../../etc/passwd"}, 422, "wrong_value", "entry_id"),
    ({"vote": "up", "route": "answer", "message": "x" * 1001}, 413, "message_too_long", "message"),
    (["up"], 422, "wrong_type", "body"),
])
def test_bad_feedback_names_the_field(assistant, tmp_path, body, status, code, field):
    path = tmp_path / "feedback.jsonl"
    r = _client(assistant, FeedbackStore(path)).post("/api/feedback", json=body)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code and r.json()["error"]["fields"] == [field]
    assert not path.exists()


def test_feedback_has_its_own_rate_limit(assistant, tmp_path):
    client = _client(assistant, FeedbackStore(tmp_path / "f.jsonl"), feedback_per_minute=1, feedback_burst=2)
    vote = {"vote": "up", "route": "answer"}
    codes = [client.post("/api/feedback", json=vote).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]
    limited = client.post("/api/feedback", json=vote)
    assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    # The chat budget is separate: patients can still ask.
    assert client.post("/api/chat", json={"message": "how long is a session"}).status_code == 200


def test_old_feedback_is_dropped(tmp_path):
    path = tmp_path / "feedback.jsonl"
    old = {"ts": time.time() - 40 * 86400, "vote": "up", "route": "answer", "entry_id": None, "session": None}
    path.write_text(json.dumps(old) + "\n")
    store = FeedbackStore(path, retention_days=30)
    assert store.read() == []
    from bot.feedback import Feedback

    store.write(Feedback(vote="down", route="answer"))
    assert [r["vote"] for r in _records(path)] == ["down"]


def test_similar_questions_are_grouped(embed):
    texts = ["do you take my insurance?", "is ketamine covered by insurance", "can I bring my dog to the session",
             "does insurance pay for the treatment?", "are pets allowed at the clinic"]
    groups = group_similar(texts, embed)
    as_text = [{texts[i] for i in g} for g in groups]
    assert as_text[0] >= {"do you take my insurance?", "does insurance pay for the treatment?"}
    assert not any("can I bring my dog to the session" in g and "do you take my insurance?" in g for g in as_text)


def test_review_rows_join_thumbs_down_and_no_answer(embed):
    feedback = [{"vote": "down", "route": "answer", "entry_id": "insurance", "message": "do you take my insurance?"},
                {"vote": "up", "route": "answer", "entry_id": "x", "message": "thanks, great answer"},
                {"vote": "down", "route": "answer", "entry_id": "y"}]          # no text kept: not listed
    transcripts = [{"route": "no_answer", "message": "does insurance pay for the treatment?"},
                   {"route": "answer", "message": "how long is a session"}]
    rows = review_groups(feedback, transcripts, embed)
    assert rows[0][1] == 2 and "thumbs down \u00d71" in rows[0][2] and "no answer \u00d71" in rows[0][2]
    assert rows[0][5] == "insurance"
    assert all("thanks" not in " ".join(map(str, r)) and "how long" not in " ".join(map(str, r)) for r in rows)
