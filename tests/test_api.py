"""The HTTP API: FastAPI's TestClient for the edges, httpx against a real running server for the rest."""

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.server import create_app
from bot.settings import ServerSettings, load_clinic


@pytest.fixture(scope="module")
def client(assistant):
    pipeline, status = assistant
    limits = ServerSettings(rate_limit_per_minute=6000, rate_limit_burst=1000,
                            cors_allow_origins=("https://www.sample-clinic.example",))
    return TestClient(create_app(pipeline, status, limits, load_clinic()))


def test_answer_has_the_documented_shape(client):
    r = client.post("/api/chat", json={"message": "How long does a ketamine session take?", "history": []})
    assert r.status_code == 200
    data = r.json()
    assert data["route"] == "answer"
    assert set(data["sources"][0]) == {"id", "question", "source"}
    assert "resources" not in data


def test_crisis_reply_carries_resources(client):
    data = client.post("/api/chat", json={"message": "I don't want to wake up tomorrow"}).json()
    assert data["route"] == "crisis"
    values = {r["value"] for r in data["resources"]}
    assert "988" in values and "741741" in values and "911" in values
    assert data["sources"] == []


def test_history_is_read_statelessly(client):
    history = [{"role": "user", "content": "sometimes I think about not being here"},
               {"role": "assistant", "content": "..."}]
    data = client.post("/api/chat", json={"message": "yes, tonight", "history": history}).json()
    assert data["route"] == "crisis"


@pytest.mark.parametrize(("body", "status", "code"), [
    (b'{"message": ""}', 422, "empty_message"),
    (b'{"message": "   \\n "}', 422, "empty_message"),
    (json.dumps({"message": "a" * 1001}).encode(), 413, "message_too_long"),
    (b'{"message": 42}', 422, "wrong_type"),
    (b'{"message": "hi", "history": "nope"}', 422, "wrong_type"),
    (b'{"message": "hi", "history": [{"role": "system", "content": "x"}]}', 422, "wrong_type"),
    (b'["message"]', 422, "wrong_type"),
    (b'{"message": "hi"', 400, "malformed_json"),
    (b'{"message": "\xff\xfe"}', 400, "invalid_utf8"),
    (b'{"message": "hi\\u0000there"}', 422, "control_characters"),
    (b"", 400, "malformed_json"),
])
def test_bad_input_gets_a_clear_4xx(client, body, status, code):
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["error"]["code"] == code


def test_body_size_cap(client):
    r = client.post("/api/chat", content=b'{"message": "' + b"a" * 70000 + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_health_ready_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["model_loaded"] and ready["index"] == "open"
    schema = client.get("/openapi.json").json()
    assert "/api/chat" in schema["paths"]


def test_cors_allow_list(client):
    ok = client.options("/api/chat", headers={"Origin": "https://www.sample-clinic.example",
                                              "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://www.sample-clinic.example"
    bad = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers


def test_security_headers_on_every_response(client):
    for path in ("/", "/widget.js", "/healthz"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors" in r.headers["content-security-policy"]
        assert "script-src 'self'" in r.headers["content-security-policy"]


def test_rate_limit_returns_429(assistant):
    pipeline, status = assistant
    limits = ServerSettings(rate_limit_per_minute=1, rate_limit_burst=3)
    tight = TestClient(create_app(pipeline, status, limits, load_clinic()))
    codes = [tight.post("/api/chat", json={"message": "how long is a session"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    r = tight.post("/api/chat", json={"message": "hi"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_logs_never_hold_the_message(client, caplog):
    secret = "my name is Zelda Quux, email zq@example.com, and I feel nauseous after sessions"
    with caplog.at_level("INFO"):
        client.post("/api/chat", json={"message": secret})
    text = " ".join(str(getattr(r, "fields", "")) + r.getMessage() for r in caplog.records)
    assert "Zelda" not in text and "zq@example.com" not in text and "nauseous" not in text
    assert any(getattr(r, "fields", {}).get("route") for r in caplog.records)


def test_live_server_answers_over_http(live_server):
    r = httpx.post(live_server.url + "/api/chat", json={"message": "what is esketamine?"}, timeout=30)
    assert r.status_code == 200 and r.json()["route"] == "answer"
    assert "esketamine" in r.json()["sources"][0]["id"] or "esketamine" in r.json()["reply"].lower()
    assert httpx.get(live_server.url + "/readyz", timeout=10).json()["ready"] is True
    assert httpx.get(live_server.url + "/docs", timeout=10).status_code == 200
    junk = httpx.post(live_server.url + "/api/chat", content=b"\x00\x01not json", timeout=10)
    assert junk.status_code == 400


def test_live_server_logs_are_json_lines_without_text(live_server):
    httpx.post(live_server.url + "/api/chat", json={"message": "call me at 555-867-5309 about parking"}, timeout=30)
    lines = [line for line in live_server.log().splitlines() if line.startswith("{")]
    chat_lines = [json.loads(line) for line in lines if '"chat"' in line]
    assert chat_lines and all({"route", "latency_ms"} <= set(c) for c in chat_lines)
    assert "867-5309" not in live_server.log() and "parking" not in live_server.log()
