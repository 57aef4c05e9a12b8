"""The HTTP API, the widget's files and the demo page (FastAPI). The staff console is mounted by serve.

    app = create_app(pipeline, status, settings.server, clinic)
    # POST /api/chat {"message": "...", "history": [...], "session_id": "..."}
    # POST /api/feedback {"vote": "up"|"down", "route": "...", "entry_id": "...", "session_id": "..."}
    # GET /healthz, /readyz, /widget.js, /widget-config.json, /  (demo clinic page), /docs, /openapi.json

Every error, whatever the path or method, is {"error": {"code", "message", "fields"?}}. /docs is a page
served from bot/static (no CDN): it renders /openapi.json.

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
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.feedback import FeedbackError, FeedbackStore, parse_feedback
from bot.pipeline import InputError, TurnPipeline
from bot.ratelimit import client_address, make_limiter
from bot.settings import PLACEHOLDER_MARK, ServerSettings, home
from bot.transcripts import TranscriptStore
from guardrails.language import SERVED as SERVED_LANGUAGES

log = logging.getLogger("faqbot.api")
STATIC = Path(__file__).with_name("static")
ALLOWED_CONTROL = {"\n", "\r", "\t"}


class HistoryTurn(BaseModel):
    role: str = Field(description="'user' or 'assistant'")
    content: str


class ChatRequest(BaseModel):
    message: str = Field(description="The patient's message (1 to server.max_message_chars characters)")
    history: list[HistoryTurn | str] = Field(default_factory=list,
                                             description="Earlier turns, oldest first; strings are user turns. "
                                                         "The last history_turns user turns "
                                                         "(/widget-config.json) are read")
    session_id: str | None = Field(default=None, max_length=128)
    lang: str | None = Field(default=None, description="'en' or 'es': the language the patient chose in the "
                                                       "widget; omitted, the server detects it per conversation")


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


class ActionOut(BaseModel):
    kind: str = Field(description="'call' (href is tel:) or 'link' (href is https:)")
    label: str
    href: str


class ChatResponse(BaseModel):
    route: str = Field(description="answer | no_answer | crisis | dosing | medical_advice | out_of_scope | "
                                   "fallback | small_talk")
    reply: str
    sources: list[SourceOut]
    resources: list[ResourceOut] | None = None
    suggestions: list[str] | None = None
    actions: list[ActionOut] | None = Field(default=None, description="buttons: the clinic's phone, contact link")
    lang: str = Field(description="the language of the reply's text: 'en' or 'es'")


class FeedbackRequest(BaseModel):
    vote: str = Field(description="'up' or 'down'")
    route: str = Field(description="the route of the reply judged")
    entry_id: str | None = Field(default=None, description="the answer's entry id, when it had one")
    session_id: str | None = Field(default=None, max_length=128)
    message: str | None = Field(default=None, description="the question; stored (redacted) only when "
                                                          "transcripts are enabled, dropped otherwise")


class FeedbackResponse(BaseModel):
    stored: bool
    kept_text: bool = Field(description="whether the question was kept (transcripts enabled)")


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. missing_field, rate_limited, not_found")
    message: str = Field(description="for developers; the widget shows its own wording")
    fields: list[str] | None = Field(default=None, description="the request fields at fault (422)")


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_TEXT = {400: "malformed JSON or invalid UTF-8", 403: "origin not on the CORS allow-list",
              404: "no such path", 405: "method not allowed on this path",
              413: "message or body too large", 415: "body is not application/json",
              422: "missing or wrong fields (named in error.fields)", 429: "rate limited (see Retry-After)",
              500: "internal error (never a stack trace)"}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": ERROR_TEXT[code]} for code in codes}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
           fields: list[str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _json_body(request_headers: Any, raw: bytes, limits: ServerSettings) -> Any:
    """Content type, size, UTF-8 and JSON checks shared by every POST endpoint."""
    media = (request_headers.get("content-type") or "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", f"send the body as application/json, not {media}")
    if len(raw) > limits.max_body_bytes:
        raise ApiError(413, "body_too_large", f"request body is over {limits.max_body_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_utf8", "request body is not valid UTF-8") from exc
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", "request body is not valid JSON") from exc


def _has_bad_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROL for ch in text)


def parse_chat(raw: bytes, limits: ServerSettings, headers: Any = None, *,
               window: int) -> tuple[str, list[str], str | None, str | None]:
    """Validate a /api/chat body by hand so every mistake gets a clear 4xx, never a 500. ``window``: how many
    earlier user messages are kept (the pipeline's `history_window`)."""
    data = _json_body(headers or {}, raw, limits)
    if not isinstance(data, dict):
        raise ApiError(422, "wrong_type", "request body must be a JSON object with a 'message' field", ["body"])
    if "message" not in data:
        raise ApiError(422, "missing_field", "'message' is required", ["message"])
    message = data.get("message")
    if not isinstance(message, str):
        raise ApiError(422, "wrong_type", "'message' must be a string", ["message"])
    if not message.strip():
        raise ApiError(422, "empty_message", "'message' is empty", ["message"])
    if len(message) > limits.max_message_chars:
        raise ApiError(413, "message_too_long",
                       f"'message' is over the {limits.max_message_chars}-character limit", ["message"])
    if _has_bad_control(message):
        raise ApiError(422, "control_characters", "'message' contains control characters", ["message"])
    history_raw = data.get("history", [])
    if history_raw is None:
        history_raw = []
    if not isinstance(history_raw, list):
        raise ApiError(422, "wrong_type", "'history' must be a list of earlier turns", ["history"])
    # The last `window` user messages, newest read first; older items are neither read nor checked.
    user_turns: list[str] = []
    for i in range(len(history_raw) - 1, -1, -1):
        if len(user_turns) >= window:
            break
        turn = history_raw[i]
        if isinstance(turn, str):
            content, role = turn, "user"
        elif isinstance(turn, dict) and isinstance(turn.get("content"), str) and turn.get("role") in (
                "user", "assistant"):
            content, role = turn["content"], turn["role"]
        else:
            raise ApiError(422, "wrong_type",
                           f"history[{i}] must be a string or {{\"role\": \"user\"|\"assistant\", \"content\": str}}",
                           [f"history[{i}]"])
        if role == "user":
            user_turns.append(content[: limits.max_message_chars])
    user_turns.reverse()
    session_id = data.get("session_id")
    if session_id is not None and (not isinstance(session_id, str) or len(session_id) > 128):
        raise ApiError(422, "wrong_type", "'session_id' must be a string of at most 128 characters",
                       ["session_id"])
    lang = data.get("lang")
    if lang is not None and lang not in SERVED_LANGUAGES:
        raise ApiError(422, "wrong_value", f"'lang' must be one of {', '.join(SERVED_LANGUAGES)} (or left out)",
                       ["lang"])
    return message, user_turns, session_id, lang


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


def _safe_link(value: str) -> str:
    """A clinic link the widget may show: http(s) only, never a "[SET ...]" placeholder."""
    value = (value or "").strip()
    if not value or PLACEHOLDER_MARK in value or not value.startswith(("https://", "http://")):
        return ""
    return value


def create_app(pipeline: TurnPipeline, status: Any, limits: ServerSettings, clinic: dict[str, str],
               transcripts: TranscriptStore | None = None, feedback: FeedbackStore | None = None) -> FastAPI:
    app = FastAPI(title="Ketamine clinic FAQ assistant", version="0.1.0",
                  description="Vetted answers only; crisis hand-off; declines dosing and medical advice. "
                              "Every error is {\"error\": {\"code\", \"message\", \"fields\"?}}.",
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None)
    limiter = make_limiter(limits.rate_limit_per_minute, limits.rate_limit_burst, limits.redis_url)
    feedback_limiter = make_limiter(limits.feedback_per_minute, limits.feedback_burst, limits.redis_url,
                                    namespace="fb")
    if feedback is None:
        retention = transcripts.retention_s // 86400 if transcripts is not None else 30
        feedback = FeedbackStore(home() / limits.feedback_path, retention, keep_text=transcripts is not None)
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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(404, "not_found", f"no such path: {request.url.path[:200]}")
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            return _error(405, "method_not_allowed", f"{request.method} is not allowed here; use {allow or 'another'}",
                          headers=exc.headers)
        return _error(exc.status_code, "http_error", str(exc.detail)[:200], headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(part) for part in err.get("loc", ())[1:]) or "body" for err in exc.errors()]
        return _error(422, "invalid_fields", "missing or wrong fields: " + ", ".join(fields), fields=fields)

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

    @app.get("/healthz", tags=["ops"], responses=error_responses(500))
    def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses=error_responses(500))
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

    def limited(bucket: Any, request: Request, what: str) -> JSONResponse | None:
        allowed, retry_after = bucket.hit(client_address(request, trusted))
        if allowed:
            return None
        return _error(429, "rate_limited", f"too many {what}; please wait a moment",
                      {"Retry-After": str(max(1, int(retry_after + 0.999)))})

    @app.post("/api/chat", response_model=ChatResponse, response_model_exclude_none=True, tags=["chat"],
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": ChatRequest.model_json_schema()}}}},
              responses=error_responses(400, 403, 413, 415, 422, 429, 500))
    async def chat(request: Request) -> Response:
        """Answer one patient turn. The reply is vetted corpus text or a policy template, nothing else."""
        started = time.perf_counter()
        refused = limited(limiter, request, "messages")
        if refused is not None:
            return refused
        try:
            message, history, session_id, lang = parse_chat(await request.body(), limits, request.headers,
                                                            window=pipeline.history_window)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message, fields=exc.fields)
        try:
            # A turn is ~15 ms of CPU-bound work: running it inline beats hopping to a thread pool,
            # where 16 concurrent requests would only fight over the GIL. Scale with --workers.
            reply = pipeline.run(message, history, lang)
        except InputError as exc:
            return _error(422, "empty_message", str(exc), fields=["message"])
        except Exception as exc:  # noqa: BLE001 - the pipeline already fails closed; belt and braces
            log.error("chat failed", extra={"fields": {"error": type(exc).__name__}})
            reply = pipeline.fallback(f"error: {type(exc).__name__}", lang or "en")
        latency = round((time.perf_counter() - started) * 1000, 2)
        session = _session_hash(session_id)
        log.info("chat", extra={"fields": {"route": reply.route, "rule": reply.rule, "entry": reply.entry_id,
                                           "lang": reply.lang,
                                           "latency_ms": latency, "session": session,
                                           "chars": len(message)}})
        if transcripts is not None:
            transcripts.write(session, message, reply.reply, reply.route)
        return JSONResponse(reply.to_dict(explain=False))

    @app.post("/api/feedback", response_model=FeedbackResponse, tags=["chat"],
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": FeedbackRequest.model_json_schema()}}}},
              responses=error_responses(400, 403, 413, 415, 422, 429, 500))
    async def give_feedback(request: Request) -> Response:
        """Thumbs up or down on one reply. Stores the route, entry id and vote; the question only when
        transcripts are enabled, and then redacted. Its own rate limit (server.feedback_per_minute)."""
        refused = limited(feedback_limiter, request, "feedback votes")
        if refused is not None:
            return refused
        try:
            data = _json_body(request.headers, await request.body(), limits)
            vote = parse_feedback(data, limits.max_message_chars)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message, fields=exc.fields)
        except FeedbackError as exc:
            return _error(413 if exc.code == "message_too_long" else 422, exc.code, exc.message,
                          fields=[exc.field])
        feedback.write(vote, _session_hash(data.get("session_id")))
        log.info("feedback", extra={"fields": {"vote": vote.vote, "route": vote.route, "entry": vote.entry_id}})
        return JSONResponse({"stored": True, "kept_text": bool(feedback.keep_text and vote.message)})

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8",
                            headers={"Cache-Control": "public, max-age=300"})

    @app.get("/widget-config.json", include_in_schema=False)
    def widget_config() -> JSONResponse:
        """What the widget shows besides replies: clinic name, contact and privacy links, limits."""
        body: dict[str, Any] = {
            "clinic_name": clinic["name"], "contact_url": clinic["contact_url"], "phone": clinic["phone"],
            "privacy_url": _safe_link(clinic.get("privacy_url", "")),
            "suggestions": list(pipeline.messages.suggestions),
            "suggestions_by_lang": {lang: list(pipeline.messages.for_lang(lang).suggestions)
                                    for lang in SERVED_LANGUAGES},
            "max_message_chars": limits.max_message_chars,
            "history_turns": pipeline.history_window,
            "transcripts": transcripts is not None}
        if transcripts is not None:
            body["retention_days"] = transcripts.retention_s // 86400
        return JSONResponse(body)

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", media_type="text/html; charset=utf-8")

    @app.get("/docs.js", include_in_schema=False)
    def docs_script() -> FileResponse:
        return FileResponse(STATIC / "docs.js", media_type="text/javascript; charset=utf-8")

    @app.get("/", include_in_schema=False)
    def demo() -> FileResponse:
        return FileResponse(STATIC / "demo.html", media_type="text/html; charset=utf-8")

    return app


def _session_hash(session_id: Any) -> str | None:
    if not isinstance(session_id, str) or not session_id:
        return None
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]
