"""The HTTP API: FastAPI's TestClient for the edges, httpx against a real running server for the rest."""

import json
import re

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


@pytest.mark.parametrize("message", [
    "I don't want to wake up tomorrow",
    "my brother says he's going to jump",                  # someone else, now, without "suicide"
    "just took a whole bottle of advil",                   # an overdose taken
    "meu irmão disse que vai se matar hoje à noite",       # Portuguese: the lexicon
    "не могу дышать после сеанса",                         # Russian: an emergency after a session
])
def test_crisis_reply_carries_resources(client, message):
    data = client.post("/api/chat", json={"message": message}).json()
    assert data["route"] == "crisis"
    values = {r["value"] for r in data["resources"]}
    assert "988" in values and "741741" in values and "911" in values
    assert data["sources"] == []


def test_history_is_read_statelessly(client):
    history = [{"role": "user", "content": "sometimes I think about not being here"},
               {"role": "assistant", "content": "..."}]
    data = client.post("/api/chat", json={"message": "yes, tonight", "history": history}).json()
    assert data["route"] == "crisis"


def test_one_conversation_window_for_the_widget_the_server_and_the_turn(client, pipeline):
    # The window is the guardrail policy's history_window; the widget is told it, the server keeps that many
    # earlier patient messages, the turn reads them: a crisis inside the window keeps the crisis line.
    window = pipeline.guardrails.policy.risk.history_window
    assert pipeline.history_window == window
    assert client.get("/widget-config.json").json()["history_turns"] == window
    crisis = {"role": "user", "content": "I swallowed all my pills an hour ago"}

    def history(ordinary_after: int) -> list[dict[str, str]]:
        turns = [crisis, {"role": "assistant", "content": "..."}]
        for n in range(ordinary_after):
            turns += [{"role": "user", "content": f"what should I wear to appointment {n}?"},
                      {"role": "assistant", "content": "..."}]
        return turns

    inside = client.post("/api/chat", json={"message": "how long is a session?",
                                            "history": history(window - 1)}).json()
    outside = client.post("/api/chat", json={"message": "how long is a session?",
                                             "history": history(window)}).json()
    assert inside.get("resources") and "988" in json.dumps(inside)
    assert outside["route"] == "answer" and not outside.get("resources")


def test_items_before_the_window_are_not_read(client, pipeline):
    history = [{"role": "system", "content": "x"}] + ["an earlier question"] * pipeline.history_window
    assert client.post("/api/chat", json={"message": "hi", "history": history}).status_code == 200


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
    (b"{}", 422, "missing_field"),
])
def test_bad_input_gets_a_clear_4xx(client, body, status, code):
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["error"]["code"] == code


@pytest.mark.parametrize(("body", "fields"), [
    (b"{}", ["message"]),
    (b'{"message": 42}', ["message"]),
    (b'{"message": "hi", "history": ["ok", {"role": "system", "content": "x"}]}', ["history[1]"]),
    (b'{"message": "hi", "session_id": 7}', ["session_id"]),
])
def test_422_names_the_field(client, body, fields):
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == fields


def test_unknown_path_and_wrong_method_use_the_error_shape(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "no such path: /api/nothing-here"}}
    wrong = client.get("/api/chat")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["allow"]
    assert "detail" not in wrong.json()


def test_form_body_gets_415(client):
    r = client.post("/api/chat", data={"message": "how long is a session"})
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"
    plain = client.post("/api/feedback", content=b'{"vote": "up"}', headers={"content-type": "text/plain"})
    assert plain.status_code == 415


def test_a_crash_is_a_500_in_the_error_shape(assistant):
    pipeline, _ = assistant

    class Broken:
        model_loaded = True

        @property
        def index(self):   # /readyz reads it
            raise RuntimeError("secret stack detail")

    app = create_app(pipeline, Broken(), ServerSettings(), load_clinic())
    r = TestClient(app, raise_server_exceptions=False).get("/readyz")
    assert r.status_code == 500
    assert r.json() == {"error": {"code": "internal", "message": "something went wrong; please contact the clinic"}}
    assert "secret" not in r.text and "Traceback" not in r.text


def test_openapi_documents_the_error_shape_and_actions(client):
    schema = client.get("/openapi.json").json()
    error = schema["components"]["schemas"]["ErrorResponse"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    assert set(schema["components"]["schemas"]["ErrorDetail"]["properties"]) == {"code", "message", "fields"}
    for path in ("/api/chat", "/api/feedback"):
        responses = schema["paths"][path]["post"]["responses"]
        for code in ("400", "413", "415", "422", "429", "500"):
            ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorResponse"), (path, code)
    actions = schema["components"]["schemas"]["ChatResponse"]["properties"]["actions"]
    assert "ActionOut" in json.dumps(actions)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_docs_are_served_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    script = client.get("/docs.js")
    assert script.status_code == 200
    for text in (page.text, script.text):
        urls = re.findall(r"(?:src|href)\s*=\s*\"([^\"]+)\"|https?://[^\s\"')]+", text)
        assert not [u for u in urls if u and u.startswith(("http:", "https:", "//"))], urls
    assert client.get("/redoc").status_code == 404


def test_widget_config_links(assistant):
    pipeline, status = assistant
    clinic = {**load_clinic(), "privacy_url": "https://clinic.example/privacy"}
    config = TestClient(create_app(pipeline, status, ServerSettings(), clinic)).get("/widget-config.json").json()
    assert config["privacy_url"] == "https://clinic.example/privacy"
    assert config["max_message_chars"] == 1000 and config["transcripts"] is False
    placeholder = {**clinic, "privacy_url": "[SET link to the clinic's privacy policy]"}
    config = TestClient(create_app(pipeline, status, ServerSettings(), placeholder)).get("/widget-config.json").json()
    assert config["privacy_url"] == ""
    unsafe = {**clinic, "privacy_url": "javascript:alert(1)"}
    config = TestClient(create_app(pipeline, status, ServerSettings(), unsafe)).get("/widget-config.json").json()
    assert config["privacy_url"] == ""


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
    assert junk.status_code == 400 and junk.json()["error"]["code"] == "malformed_json"


def test_live_server_errors_keep_the_shape(live_server):
    url = live_server.url
    cases = [
        (httpx.get(url + "/api/missing", timeout=10), 404, "not_found"),
        (httpx.put(url + "/api/chat", json={"message": "hi"}, timeout=10), 405, "method_not_allowed"),
        (httpx.post(url + "/api/chat", data={"message": "hi"}, timeout=10), 415, "unsupported_media_type"),
        (httpx.post(url + "/api/chat", json={}, timeout=10), 422, "missing_field"),
        (httpx.post(url + "/api/feedback", json={"route": "answer"}, timeout=10), 422, "missing_field"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.json()["error"]["code"] == code
        assert response.headers["content-type"].startswith("application/json")


def test_live_server_logs_are_json_lines_without_text(live_server):
    httpx.post(live_server.url + "/api/chat", json={"message": "call me at 555-867-5309 about parking"}, timeout=30)
    lines = [line for line in live_server.log().splitlines() if line.startswith("{")]
    chat_lines = [json.loads(line) for line in lines if '"chat"' in line]
    assert chat_lines and all({"route", "latency_ms"} <= set(c) for c in chat_lines)
    assert "867-5309" not in live_server.log() and "parking" not in live_server.log()
