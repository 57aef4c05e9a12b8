"""Settings and clinic details: YAML files staff can edit, validated at start-up.

    settings = load_settings()            # config/settings.yaml
    clinic = load_clinic()                # config/clinic.yaml
    print(settings.retrieval.min_score, clinic["phone"])

A wrong value raises `SettingsError` naming the file and the field.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from guardrails.yaml_text import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("faqbot.settings")
CLINIC_FIELDS = ("name", "phone", "email", "address", "hours", "booking", "pricing", "insurance",
                 "after_hours", "contact_url")
# Clinic policies corpus answers quote (fasting before a session, what to bring, cancellations, ...). Optional:
# left out of clinic.yaml ("") or still "[SET ...]", answers read neutral words instead ("the team will tell you").
CLINIC_POLICY_FIELDS = ("fasting", "what_to_bring", "session_comforts", "cancellation", "payment_plans",
                        "minimum_age")
OPTIONAL_CLINIC_FIELDS = ("privacy_url", *CLINIC_POLICY_FIELDS)   # may be left out of clinic.yaml; "" then
# Contact details declines, fallbacks and contact answers quote: `faqbot serve` on a non-loopback host refuses to
# start while any is unset (unless --demo).
REQUIRED_CLINIC_FIELDS = ("name", "phone", "email", "address", "hours", "booking", "after_hours", "contact_url")
PLACEHOLDER_MARK = "[SET"


class SettingsError(ValueError):
    """A settings or clinic file is missing, malformed, or has a wrong value."""


def home() -> Path:
    """Project folder holding corpus/, config/ and var/ (FAQBOT_HOME overrides)."""
    return Path(os.environ.get("FAQBOT_HOME", ROOT))


def config_dir() -> Path:
    return Path(os.environ.get("FAQBOT_CONFIG", home() / "config"))


def corpus_dir() -> Path:
    return Path(os.environ.get("FAQBOT_CORPUS", home() / "corpus" / "entries"))


def index_dir() -> Path:
    return Path(os.environ.get("FAQBOT_INDEX", home() / "var" / "index"))


def models_dir() -> Path:
    """Built model artefacts (the exported encoder, the crisis classifier), keyed by their inputs' hash."""
    return Path(os.environ.get("FAQBOT_MODELS", home() / "var" / "models"))


def keep_newest(folder: Path, pattern: str, keep: int) -> None:
    """Delete all but the ``keep`` most recently used files of a cache folder (callers touch a file on use)."""
    files = sorted(Path(folder).glob(pattern), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


@dataclass(frozen=True)
class RetrievalSettings:
    # the same as config/settings.yaml, which is what runs; these fill in a field left out of it
    min_score: float = 0.5
    min_score_off_topic: float = 0.5
    min_margin: float = 0.0
    dense_weight: float = 0.7
    classifier_weight: float = 0.65
    candidates: int = 60
    top_k: int = 3

    def validate(self, where: str) -> None:
        _check(0.0 <= self.min_score <= 1.0, where, "min_score", "must be between 0 and 1")
        _check(0.0 <= self.min_score_off_topic <= 1.0, where, "min_score_off_topic", "must be between 0 and 1")
        _check(0.0 <= self.min_margin <= 0.5, where, "min_margin", "must be between 0 and 0.5")
        _check(0.0 <= self.dense_weight <= 1.0, where, "dense_weight", "must be between 0 and 1")
        _check(0.0 <= self.classifier_weight <= 1.0, where, "classifier_weight", "must be between 0 and 1")
        _check(1 <= self.candidates <= 500, where, "candidates", "must be between 1 and 500")
        _check(1 <= self.top_k <= 10, where, "top_k", "must be between 1 and 10")


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_message_chars: int = 1000
    max_body_bytes: int = 65536
    rate_limit_per_minute: int = 60
    rate_limit_burst: int = 20
    cors_allow_origins: tuple[str, ...] = ()
    frame_ancestors: tuple[str, ...] = ("'self'",)
    redis_url: str | None = None
    trusted_proxies: tuple[str, ...] = ()   # addresses whose X-Forwarded-For names the real client
    feedback_per_minute: int = 10            # POST /api/feedback, per client address (its own bucket)
    feedback_burst: int = 10
    feedback_path: str = "var/feedback.jsonl"   # thumbs up/down: route, entry id, vote (text only with transcripts)

    def validate(self, where: str) -> None:
        _check(1 <= self.port <= 65535, where, "port", "must be 1-65535")
        _check(10 <= self.max_message_chars <= 20000, where, "max_message_chars", "must be 10-20000")
        _check(1024 <= self.max_body_bytes <= 10_000_000, where, "max_body_bytes", "must be 1024-10000000")
        _check(self.rate_limit_per_minute >= 1, where, "rate_limit_per_minute", "must be >= 1")
        _check(self.rate_limit_burst >= 1, where, "rate_limit_burst", "must be >= 1")
        _check(self.feedback_per_minute >= 1, where, "feedback_per_minute", "must be >= 1")
        _check(self.feedback_burst >= 1, where, "feedback_burst", "must be >= 1")
        for origin in self.cors_allow_origins:
            _check(origin.startswith(("http://", "https://")), where, "cors_allow_origins",
                   f"{origin!r} must start with http:// or https://")


@dataclass(frozen=True)
class TranscriptSettings:
    enabled: bool = False
    path: str = "var/transcripts.jsonl"
    retention_days: int = 30

    def validate(self, where: str) -> None:
        _check(1 <= self.retention_days <= 3650, where, "retention_days", "must be 1-3650")


@dataclass(frozen=True)
class Settings:
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    transcripts: TranscriptSettings = field(default_factory=TranscriptSettings)


def _check(ok: bool, where: str, name: str, problem: str) -> None:
    if not ok:
        raise SettingsError(f"{where}: {name}: {problem}")


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"{path}: file not found")
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: top level must be a mapping")
    return data


# Settings that moved: a file that still has one starts, with a warning that says where it went.
RETIRED = {
    "max_history_turns": "the conversation window (earlier user messages a reply reads, sent by the widget and "
                         "kept by the server) is history_window in guardrails/policy/crisis_classifier.yaml",
}


def _section(cls: type, data: Any, where: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: must be a mapping")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            if key in RETIRED:
                log.warning("%s: %s is no longer read: %s", where, key, RETIRED[key])
                continue
            raise SettingsError(f"{where}: {key}: unknown setting")
        default = getattr(cls(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"{where}: {key}: must be a list of strings")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise SettingsError(f"{where}: {key}: must be true or false")
        elif isinstance(default, int | float) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"{where}: {key}: must be a number")
            value = type(default)(value)
        elif value is not None and not isinstance(value, str):
            raise SettingsError(f"{where}: {key}: must be text")
        values[key] = value
    section = cls(**values)
    section.validate(where)
    return section


def load_settings(path: Path | None = None) -> Settings:
    path = path or Path(os.environ.get("FAQBOT_SETTINGS", config_dir() / "settings.yaml"))
    data = _read_yaml(path)
    for key in data:
        if key not in ("retrieval", "server", "transcripts"):
            raise SettingsError(f"{path}: {key}: unknown section")
    settings = Settings(
        retrieval=_section(RetrievalSettings, data.get("retrieval"), f"{path}: retrieval"),
        server=_section(ServerSettings, data.get("server"), f"{path}: server"),
        transcripts=_section(TranscriptSettings, data.get("transcripts"), f"{path}: transcripts"),
    )
    redis_url = os.environ.get("FAQBOT_REDIS_URL")
    if redis_url:
        from dataclasses import replace
        settings = replace(settings, server=replace(settings.server, redis_url=redis_url))
    return settings


def load_clinic(path: Path | None = None) -> dict[str, str]:
    """Clinic details; every field must be present and non-empty text (placeholders allowed)."""
    path = path or config_dir() / "clinic.yaml"
    data = _read_yaml(path)
    clinic: dict[str, str] = {}
    for name in CLINIC_FIELDS:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{path}: {name}: must be non-empty text")
        clinic[name] = value.strip()
    for name in OPTIONAL_CLINIC_FIELDS:
        value = data.get(name) or ""
        if not isinstance(value, str):
            raise SettingsError(f"{path}: {name}: must be text")
        clinic[name] = value.strip()
    for key in data:
        if key not in CLINIC_FIELDS + OPTIONAL_CLINIC_FIELDS:
            raise SettingsError(f"{path}: {key}: unknown field "
                                f"(known: {', '.join(CLINIC_FIELDS + OPTIONAL_CLINIC_FIELDS)})")
    return clinic


def clinic_placeholders(clinic: dict[str, str]) -> list[str]:
    """Fields still holding a "[SET ...]" placeholder: shown as warnings at start-up."""
    return [name for name, value in clinic.items() if PLACEHOLDER_MARK in value]


def is_unset(value: str | None) -> bool:
    """A clinic value staff have not filled in: empty, or still a "[SET ...]" placeholder."""
    return not value or not value.strip() or PLACEHOLDER_MARK in value


def unset_required(clinic: dict[str, str]) -> list[str]:
    """Required contact details (REQUIRED_CLINIC_FIELDS) still unset: what blocks a public `faqbot serve`."""
    return [name for name in REQUIRED_CLINIC_FIELDS if is_unset(clinic.get(name))]
