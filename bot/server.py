"""The HTTP API, the widget's files and the demo page (FastAPI). The staff console is mounted by serve.

    app = create_app(pipeline, status, settings.server, clinic)
    # POST /api/chat {"message": "...", "history": [...], "session_id": "..."}
    # GET /healthz, /readyz, /widget.js, /  (demo clinic page), /docs, /openapi.json

Stateless: the widget sends the recent history with each turn, so any replica can answer any turn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import unicodedata
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from bot.pipeline import InputError, TurnPipeline
from bot.ratelimit import make_limiter
from bot.settings import ServerSettings
from bot.transcripts import TranscriptStore

log = logging.getLogger("faqbot.api")
STATIC = Path(__file__).with_name("static")
ALLOWED_CONTROL = {"\n", "\r", "\t"}


class HistoryTurn(BaseModel):
    role: str = Field(description="'user' or 'assistant'")
    content: str


class ChatRequest(BaseModel):
    message: str = Field(description="The patient's message (1 to server.max_message_chars characters)")
    history: list[HistoryTurn | str] = Field(default_factory=list,
                                             description="Earlier turns, oldest first; strings are user turns")
    session_id: str | None = Field(default=None, max_length=128)


class SourceOut(BaseModel):
    id: str
    question: str
    source: str


class ResourceOut(BaseModel):
    id: str
    label: str
    text: str
    kind: str
    value: str


class ChatResponse(BaseModel):
    route: str = Field(description="answer | no_answer | crisis | dosing | medical_advice | out_of_scope | fallback")
    reply: str
    sources: list[SourceOut]
    resources: list[ResourceOut] | None = None
    suggestions: list[str] | None = None


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _has_bad_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROL for ch in text)


def parse_chat(raw: bytes, limits: ServerSettings) -> tuple[str, list[str], str | None]:
    """Validate a /api/chat body by hand so every mistake gets a clear 4xx, never a 500."""
    if len(raw) > limits.max_body_bytes:
        raise ApiError(413, "body_too_large", f"request body is over {limits.max_body_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_utf8", "request body is not valid UTF-8") from exc
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", "request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ApiError(422, "wrong_type", "request body must be a JSON object with a 'message' field")
    message = data.get("message")
    if not isinstance(message, str):
        raise ApiError(422, "wrong_type", "'message' must be a string")
    if not message.strip():
        raise ApiError(422, "empty_message", "'message' is empty")
    if len(message) > limits.max_message_chars:
        raise ApiError(413, "message_too_long",
                       f"'message' is over the {limits.max_message_chars}-character limit")
    if _has_bad_control(message):
        raise ApiError(422, "control_characters", "'message' contains control characters")
    history_raw = data.get("history", [])
    if history_raw is None:
        history_raw = []
    if not isinstance(history_raw, list):
        raise ApiError(422, "wrong_type", "'history' must be a list of earlier turns")
    user_turns: list[str] = []
    for i, turn in enumerate(history_raw[-limits.max_history_turns:] if limits.max_history_turns else []):
        if isinstance(turn, str):
            content, role = turn, "user"
        elif isinstance(turn, dict) and isinstance(turn.get("content"), str) and turn.get("role") in (
                "user", "assistant"):
            content, role = turn["content"], turn["role"]
        else:
            raise ApiError(422, "wrong_type",
                           f"history[{i}] must be a string or {{\"role\": \"user\"|\"assistant\", \"content\": str}}")
        if role == "user":
            user_turns.append(content[: limits.max_message_chars])
    session_id = data.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or len(session_id) > 128):
        raise ApiError(422, "wrong_type", "'session_id' must be a string of at most 128 characters")
    return message, user_turns, session_id


def security_headers(frame_ancestors: tuple[str, ...]) -> dict[str, str]:
    # No third-party origin anywhere: scripts, styles, fonts and API calls stay on this server.
    csp = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
           f"frame-ancestors {' '.join(frame_ancestors) or chr(39) + 'none' + chr(39)}")
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if frame_ancestors in ((), ("'none'",)):
        headers["X-Frame-Options"] = "DENY"
    elif frame_ancestors == ("'self'",):
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


def create_app(pipeline: TurnPipeline, status: Any, limits: ServerSettings, clinic: dict[str, str],
               transcripts: TranscriptStore | None = None) -> FastAPI:
    app = FastAPI(title="Ketamine clinic FAQ assistant", version="0.1.0",
                  description="Vetted answers only; crisis hand-off; declines dosing and medical advice.")
    limiter = make_limiter(limits.rate_limit_per_minute, limits.rate_limit_burst, limits.redis_url)
    headers = security_headers(limits.frame_ancestors)
    # Gradio's console needs inline scripts; it is for staff, still same-origin only.
    console_headers = {**headers, "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
        "frame-ancestors 'self'")}
    allowed_origins = set(limits.cors_allow_origins)
    trusted = set(limits.trusted_proxies)

    def origin_allowed(request: Request, origin: str) -> bool:
        own = f"{request.url.scheme}://{request.url.netloc}"
        return origin == own or origin in allowed_origins

    @app.middleware("http")
    async def guard(request: Request, call_next):  # noqa: ANN001, ANN202
        origin = request.headers.get("origin")
        cors: dict[str, str] = {}
        if origin and (request.url.path.startswith("/api/") or request.url.path == "/widget-config.json"):
            if not origin_allowed(request, origin):
                response = _error(403, "origin_not_allowed", "this origin is not on the CORS allow-list")
                response.headers.update(headers)
                return response
            cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"}
            if request.method == "OPTIONS":
                response = Response(status_code=204, headers=cors)
                response.headers.update(headers)
                return response
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_body_bytes:
            response = _error(413, "body_too_large", f"request body is over {limits.max_body_bytes} bytes")
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # noqa: BLE001 - never a 500 with a stack trace
                log.error("unhandled error", extra={"fields": {"error": type(exc).__name__,
                                                               "path": request.url.path}})
                response = _error(500, "internal", "something went wrong; please contact the clinic")
        base = console_headers if request.url.path.startswith("/staff") else headers
        for key, value in {**base, **cors}.items():
            if key not in response.headers or key == "Content-Security-Policy":
                response.headers[key] = value
        return response

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """Ready: model loaded and index open. 503 while answers are unavailable."""
        index_ok = pipeline.retriever is not None and pipeline.retriever.index.healthy()
        body = {"ready": bool(status.model_loaded and index_ok), "model_loaded": status.model_loaded,
                "index": "open" if index_ok else "unavailable", "index_status": status.index,
                "entries": status.corpus_entries, "corpus_hash": status.corpus_hash,
                "warnings": status.warnings}
        if status.index_error:
            body["index_error"] = status.index_error
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    @app.post("/api/chat", response_model=ChatResponse, response_model_exclude_none=True, tags=["chat"],
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": ChatRequest.model_json_schema()}}}},
              responses={400: {"description": "malformed JSON or invalid UTF-8"},
                         413: {"description": "message or body too large"},
                         422: {"description": "wrong types, empty message, control characters"},
                         429: {"description": "rate limited"}})
    async def chat(request: Request) -> Response:
        """Answer one patient turn. The reply is vetted corpus text or a policy template, nothing else."""
        started = time.perf_counter()
        client = request.client.host if request.client else "unknown"
        if client in trusted and request.headers.get("x-forwarded-for"):
            client = request.headers["x-forwarded-for"].split(",")[0].strip()[:64]
        allowed, retry_after = limiter.hit(client)
        if not allowed:
            return _error(429, "rate_limited", "too many messages; please wait a moment",
                          {"Retry-After": str(max(1, int(retry_after + 0.999)))})
        try:
            message, history, session_id = parse_chat(await request.body(), limits)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        try:
            # A turn is ~15 ms of CPU-bound work: running it inline beats hopping to a thread pool,
            # where 16 concurrent requests would only fight over the GIL. Scale with --workers.
            reply = pipeline.run(message, history)
        except InputError as exc:
            return _error(422, "empty_message", str(exc))
        except Exception as exc:  # noqa: BLE001 - the pipeline already fails closed; belt and braces
            log.error("chat failed", extra={"fields": {"error": type(exc).__name__}})
            reply = pipeline.fallback(f"error: {type(exc).__name__}")
        latency = round((time.perf_counter() - started) * 1000, 2)
        session = hashlib.sha256(session_id.encode()).hexdigest()[:12] if session_id else None
        log.info("chat", extra={"fields": {"route": reply.route, "rule": reply.rule, "entry": reply.entry_id,
                                           "latency_ms": latency, "session": session,
                                           "chars": len(message)}})
        if transcripts is not None:
            transcripts.write(session, message, reply.reply, reply.route)
        return JSONResponse(reply.to_dict(explain=False))

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8",
                            headers={"Cache-Control": "public, max-age=300"})

    @app.get("/widget-config.json", include_in_schema=False)
    def widget_config() -> JSONResponse:
        """What the widget shows besides replies: clinic name, contact link, suggestions."""
        return JSONResponse({"clinic_name": clinic["name"], "contact_url": clinic["contact_url"],
                             "phone": clinic["phone"], "suggestions": list(pipeline.messages.suggestions)})

    @app.get("/", include_in_schema=False)
    def demo() -> FileResponse:
        return FileResponse(STATIC / "demo.html", media_type="text/html; charset=utf-8")

    return app
