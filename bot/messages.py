"""Patient-facing wording rendered with the clinic's details: policy templates, small talk, buttons, corpus answers.

    messages = render_messages(load_policy(), load_clinic())
    messages.declines["dosing"], messages.crisis, messages.resources, messages.actions
    messages.small_talk.reply_for("hi there!")         # (match, SmallTalkReply) or None
    render_text("Call {name} at {phone}.", clinic)     # the one placeholder renderer (corpus answers use it too)

No placeholder ever reaches a patient: a clinic value that is unset (empty, or still "[SET ...]") reads as
neutral words ("the clinic", "the number on this website"), and buttons are built only from values that are
set and valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from bot.reply import Action, Resource
from bot.settings import is_unset
from guardrails.policy import Policy, _check_template, _File
from guardrails.small_talk import LANGUAGES, SmallTalk, SmallTalkMatch, load_small_talk
from guardrails.verdict import DECLINE_ROUTES

# What an unset clinic detail reads as. A placeholder right after a colon stands alone ("Outside opening
# hours: {after_hours}"), so it gets a clause (UNSET_AFTER_COLON) where one reads better than the noun.
UNSET_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "name": "the clinic",
        "phone": "the number on this website",
        "email": "the email address on this website",
        "address": "the address on this website",
        "hours": "opening hours",
        "booking": "the booking details on this website",
        "pricing": "current prices from the team",
        "insurance": "what the team can tell you about insurance",
        "after_hours": "the after-hours advice on this website",
        "contact_url": "the contact page on this website",
        "privacy_url": "the privacy policy on this website",
        "fasting": "the team's instructions before your first session",
        "what_to_bring": "the team's advice before your first visit",
        "session_comforts": "what the team can tell you",
        "cancellation": "the clinic's cancellation policy",
        "payment_plans": "the payment options the team can explain",
        "minimum_age": "the clinic's age requirements",
    },
    "es": {
        "name": "la clínica",
        "phone": "número que aparece en este sitio web",
        "email": "el correo electrónico que aparece en este sitio web",
        "address": "la dirección que aparece en este sitio web",
        "hours": "en el horario de atención",
        "booking": "los datos para reservar que aparecen en este sitio web",
        "pricing": "los precios actuales que le dará el equipo",
        "insurance": "lo que el equipo pueda decirle sobre el seguro",
        "after_hours": "las indicaciones para fuera del horario que aparecen en este sitio web",
        "contact_url": "la página de contacto de este sitio web",
        "privacy_url": "la política de privacidad de este sitio web",
        "fasting": "las indicaciones del equipo antes de su primera sesión",
        "what_to_bring": "los consejos del equipo antes de su primera visita",
        "session_comforts": "lo que el equipo pueda decirle",
        "cancellation": "la política de cancelación de la clínica",
        "payment_plans": "las opciones de pago que el equipo puede explicarle",
        "minimum_age": "los requisitos de edad de la clínica",
    },
}
UNSET_AFTER_COLON: dict[str, dict[str, str]] = {
    "en": {
        "hours": "please see this website",
        "booking": "please call or use the contact details on this website",
        "pricing": "please ask the team",
        "insurance": "please ask the team",
        "after_hours": "please contact the team when the clinic reopens",
        "fasting": "the team will give you instructions before your first session",
        "what_to_bring": "the team will tell you before your first visit",
        "session_comforts": "please ask the team",
        "cancellation": "please ask the team",
        "payment_plans": "please ask the team what payment options are available",
        "minimum_age": "please ask the team",
    },
    "es": {
        "hours": "consulte este sitio web",
        "booking": "llame o use los datos de contacto de este sitio web",
        "pricing": "pregunte al equipo",
        "insurance": "pregunte al equipo",
        "after_hours": "comuníquese con el equipo cuando la clínica vuelva a abrir",
        "fasting": "el equipo le dará instrucciones antes de su primera sesión",
        "what_to_bring": "el equipo se lo dirá antes de su primera visita",
        "session_comforts": "pregunte al equipo",
        "cancellation": "pregunte al equipo",
        "payment_plans": "pregunte al equipo qué opciones de pago hay",
        "minimum_age": "pregunte al equipo",
    },
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")


def render_text(template: str, clinic: Mapping[str, str], lang: str = "en") -> str:
    """Fill ``{field}`` placeholders from the clinic's details; unset ones read as neutral words.

    A placeholder neither in ``clinic`` nor a known field is left as written (the corpus linter and the
    policy loader reject those before anything is served).
    """

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in clinic and key not in UNSET_WORDS["en"]:
            return match.group(0)
        value = clinic.get(key, "")
        if not is_unset(value):
            return value
        before = template[: match.start()].rstrip()
        words = _unset_words(key, lang, after_colon=before.endswith(":"))
        if not before or before[-1] in ".!?":
            words = words[:1].upper() + words[1:]
        return words

    return _PLACEHOLDER.sub(fill, template)


def _unset_words(key: str, lang: str, after_colon: bool) -> str:
    for table in ((UNSET_AFTER_COLON, UNSET_WORDS) if after_colon else (UNSET_WORDS,)):
        for language in (lang, "en"):
            words = table.get(language, {}).get(key)
            if words:
                return words
    return UNSET_WORDS["en"]["name"]


def phone_href(value: str | None) -> str | None:
    """``tel:`` link for a set, phone-like value ("+1 (555) 010-0100" -> "tel:+15550100100"), else None."""
    if is_unset(value):
        return None
    value = value.strip()
    if not _PHONE.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        return None
    return "tel:" + ("+" if value.startswith("+") else "") + digits


def link_href(value: str | None) -> str | None:
    """The value when it is a set, plain https:// address (no spaces, no user@), else None."""
    if is_unset(value):
        return None
    value = value.strip()
    if any(ch.isspace() for ch in value) or any(ch in value for ch in "\"'<>"):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return value


@dataclass(frozen=True)
class ActionLabels:
    call: Mapping[str, str]    # language -> label template
    link: Mapping[str, str]


def clinic_actions(clinic: Mapping[str, str], labels: ActionLabels, lang: str = "en") -> tuple[Action, ...]:
    """Call and contact-link buttons from config/clinic.yaml's phone and contact_url, when set and valid."""
    actions = []
    tel = phone_href(clinic.get("phone"))
    if tel:
        actions.append(Action("call", render_text(labels.call.get(lang) or labels.call["en"], clinic, lang), tel))
    url = link_href(clinic.get("contact_url"))
    if url:
        actions.append(Action("link", render_text(labels.link.get(lang) or labels.link["en"], clinic, lang), url))
    return tuple(actions)


def load_action_labels(policy_dir: Path) -> ActionLabels:
    """The ``actions:`` labels in messages.yaml (``call`` and ``link``, per language); PolicyError if wrong."""
    src = _File(policy_dir / "messages.yaml")
    raw = src.get(src.data, "actions", "actions")
    if not isinstance(raw, dict):
        raise src.fail("actions", "must map call and link to their labels")
    out = {}
    for kind in ("call", "link"):
        labels = src.get(raw, kind, f"actions.{kind}")
        if not isinstance(labels, dict) or "en" not in labels:
            raise src.fail(f"actions.{kind}", "must map languages (at least en) to a label")
        for lang in labels:
            if lang not in LANGUAGES:
                raise src.fail(f"actions.{kind}.{lang}", f"unknown language (use {', '.join(LANGUAGES)})")
            _check_template(src, f"actions.{kind}.{lang}", src.text(labels, lang, f"actions.{kind}.{lang}"))
        out[kind] = {lang: str(text).strip() for lang, text in labels.items()}
    return ActionLabels(call=out["call"], link=out["link"])


@dataclass(frozen=True)
class SmallTalkReply:
    text: str
    suggestions: tuple[str, ...]
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class SmallTalkMessages:
    """Small-talk recognition (guardrails/policy/small_talk.yaml) and its replies, rendered per language."""
    detector: SmallTalk | None
    replies: Mapping[tuple[str, str], SmallTalkReply] = field(default_factory=dict)   # (intent, lang) -> reply

    def reply_for(self, message: str) -> tuple[SmallTalkMatch, SmallTalkReply] | None:
        if self.detector is None:
            return None
        found = self.detector.match(message)
        if found is None:
            return None
        return found, self.replies[(found.intent, found.lang)]


@dataclass(frozen=True)
class PolicyMessages:
    crisis: str
    resources: tuple[Resource, ...]
    footer: str
    declines: dict[str, str]
    suggestions: tuple[str, ...]
    no_answer: str
    fallback: str
    crisis_ack: str
    actions: tuple[Action, ...] = ()                   # the clinic's call / contact buttons (declines, no answer)
    small_talk: SmallTalkMessages = SmallTalkMessages(detector=None)
    lang: str = "en"
    other_language: str = ""                           # the bilingual note for languages we do not serve
    untranslated: str = ""                             # the line above an English answer not yet translated
    referral_lines: Mapping[str, str] = field(default_factory=dict)   # referral id -> line, in this language
    translations: Mapping[str, PolicyMessages] = field(default_factory=dict)   # lang -> the same, translated

    @property
    def unavailable(self) -> str:
        # When the store is down the honest reply is the same: we can't answer, contact the clinic.
        return self.no_answer

    def for_lang(self, lang: str) -> PolicyMessages:
        """The wording in ``lang`` (policy/<lang>/), or this (English) wording when there is none."""
        return self.translations.get(lang, self)

    def templates(self) -> set[str]:
        """Every whole reply text a policy template can produce, in every language."""
        own = {self.crisis, self.crisis_ack, self.no_answer, self.fallback, *self.declines.values(),
               *(r.text for r in self.small_talk.replies.values())}
        if self.other_language:
            own.add(self.other_language)
        for translated in self.translations.values():
            own |= translated.templates()
        return own


def render_messages(policy: Policy, clinic: Mapping[str, str], small_talk: SmallTalk | None = None) -> PolicyMessages:
    folder = Path(policy.source_dir)
    small_talk = small_talk or load_small_talk(folder, policy.spellings)
    labels = load_action_labels(folder)
    replies = {}
    for intent in small_talk.intents:
        for lang, template in intent.replies.items():
            replies[(intent.id, lang)] = SmallTalkReply(
                text=render_text(template, clinic, lang).strip(),
                suggestions=tuple(render_text(s, clinic, lang) for s in intent.suggestions[lang]),
                actions=clinic_actions(clinic, labels, lang) if intent.actions else ())
    small = SmallTalkMessages(detector=small_talk, replies=replies)
    english = _render_texts(policy.crisis_reply, policy.resources, policy.resources_footer, policy.messages,
                            policy.suggestions, policy.referrals.lines, clinic, labels, small, "en")
    translated = {lang: _render_texts(t.crisis_reply, t.resources, t.resources_footer, t.messages, t.suggestions,
                                      t.referral_lines, clinic, labels, small, lang)
                  for lang, t in policy.translations.items()}
    return replace(english, translations=translated)


def _render_texts(crisis: str, resources: tuple[Resource, ...], footer: str, messages: Mapping[str, str],
                  suggestions: tuple[str, ...], referral_lines: Mapping[str, str], clinic: Mapping[str, str],
                  labels: ActionLabels, small: SmallTalkMessages, lang: str) -> PolicyMessages:
    def render(text: str) -> str:
        return render_text(text, clinic, lang)

    return PolicyMessages(
        crisis=render(crisis),
        resources=_resources(resources, clinic, lang),
        footer=render(footer),
        declines={route: render(messages[route]) for route in DECLINE_ROUTES},
        suggestions=tuple(render(s) for s in suggestions),
        no_answer=render(messages["no_answer"]),
        fallback=render(messages["fallback"]),
        crisis_ack=render(messages["crisis_ack"]),
        actions=clinic_actions(clinic, labels, lang),
        small_talk=small,
        lang=lang,
        other_language=render(messages["other_language"]) if "other_language" in messages else "",
        untranslated=render(messages["untranslated"]).strip() if "untranslated" in messages else "",
        referral_lines={key: render(line) for key, line in referral_lines.items()},
    )


def _resources(resources: tuple[Resource, ...], clinic: Mapping[str, str], lang: str = "en") -> tuple[Resource, ...]:
    """Crisis resources; one whose value quotes an unset or invalid clinic detail (the clinic's phone) is left
    out, so the widget never shows a button that cannot work."""
    out = []
    for r in resources:
        value = render_text(r.value, clinic, lang)
        if _PLACEHOLDER.search(r.value):
            usable = phone_href(value) if r.kind in ("call", "sms") else link_href(value)
            if not usable:
                continue
        out.append(Resource(id=r.id, label=render_text(r.label, clinic, lang), text=render_text(r.text, clinic, lang),
                            kind=r.kind, value=value))
    return tuple(out)
