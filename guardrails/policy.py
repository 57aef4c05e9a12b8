"""Load and validate the guardrail policy (guardrails/policy/*.yaml). stdlib + yaml only.

    >>> policy = load_policy()                      # the folder next to this module
    >>> policy.resources[0].value
    '988'

Templates are filled in by `bot.messages.render_text`, the one placeholder renderer.

Every problem found at load raises ``PolicyError("<file>: <field>: <problem>")`` so staff
can find what to fix: a missing or empty field, a wrong type, a regex that doesn't
compile, a template placeholder that isn't allowed, or a template that contains a dose
amount.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .dose import find_dose_amounts
from .regex_cache import RegexCache
from .yaml_text import parse_yaml

__all__ = [
    "ALLOWED_PLACEHOLDERS",
    "DEFAULT_POLICY_DIR",
    "RiskSettings",
    "CrisisRules",
    "Policy",
    "PolicyTexts",
    "PolicyError",
    "Referrals",
    "Resource",
    "Rule",
    "RuleSet",
    "load_policy",
    "phrase_regex",
]

DEFAULT_POLICY_DIR = Path(__file__).with_name("policy")
ALLOWED_PLACEHOLDERS = frozenset({"name", "phone", "email", "hours", "contact_url"})
RESOURCE_KINDS = frozenset({"call", "sms", "web"})
MESSAGE_KEYS = ("dosing", "medical_advice", "out_of_scope", "no_answer", "fallback", "crisis_ack")
# Optional wording: `other_language` (a bilingual note for languages we do not serve) and `untranslated` (the
# line above an English answer whose translation is not approved yet). A missing one falls back to no_answer
# and to no line.
OPTIONAL_MESSAGE_KEYS = ("other_language", "untranslated")
TRANSLATED_LANGUAGES = ("es",)   # each has a folder policy/<lang>/ with crisis.yaml and messages.yaml

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_WORD_SEP = r"[\W_]+"
_WILDCARD = r"(?:[a-z0-9]+[\W_]+){0,3}"


class PolicyError(ValueError):
    """A policy file is missing, malformed or unsafe. The message names file and field."""


def _phrase_units(phrase: str) -> list[str]:
    """Split a phrase into regex units: one per letter (``k+``), separators, wildcards."""
    words = phrase.lower().split()
    if not words or words[0] == "*" or words[-1] == "*":
        raise ValueError("a phrase needs at least one word and cannot start or end with *")
    units: list[str] = []
    for i, word in enumerate(words):
        if word == "*":
            units.append(_WILDCARD)
            continue
        squeezed = re.sub(r"(.)\1+", r"\1", word)
        units.extend(f"{re.escape(ch)}+" if ch.isalpha() else re.escape(ch) for ch in squeezed)
        if i < len(words) - 1:
            units.append(_WORD_SEP)
    return units


def _trie_regex(sequences: list[list[str]]) -> str:
    """One regex for many unit sequences, shared prefixes factored out (fast to match)."""
    trie: dict[str, Any] = {}
    for units in sequences:
        node = trie
        for unit in units:
            node = node.setdefault(unit, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        alts = [unit + emit(child) for unit, child in node.items() if unit]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return "(?:" + body + ")?" if len(alts) == 1 else body + "?"
        return body

    return emit(trie)


def phrase_regex(*phrases: str) -> str:
    """Compile plain phrases into one regex over normalised text.

    Words are matched whole; any run of spaces/punctuation separates them; every letter may
    repeat (``kill`` matches ``kil``, ``kill`` and ``killl``); ``*`` stands for up to three
    arbitrary words (``end * life`` matches ``end my whole life``).

    >>> bool(re.search(phrase_regex("kill myself"), "i could kil myself"))
    True
    >>> bool(re.search(phrase_regex("kill myself", "kill me now", "end * life"), "end my whole life"))
    True
    """
    body = _trie_regex([_phrase_units(p) for p in phrases])
    return r"(?<![a-z0-9])(?:" + body + r")(?![a-z0-9])"


@dataclass(frozen=True)
class Rule:
    """One named rule: phrases and regexes matched against normalised text."""

    id: str
    description: str
    regex: re.Pattern[str]
    unless_domain: bool = False
    refer: str | None = None   # exemptions only: a referrals.yaml line to add to the answer

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text)


@dataclass(frozen=True)
class RuleSet:
    """Rules of one detector plus exemptions (spans blanked out before the rules run)."""

    rules: tuple[Rule, ...]
    exemptions: tuple[Rule, ...] = ()

    def strip_exempt(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Blank out exempt spans; return the remaining text and the exemption ids used."""
        used: list[str] = []
        for rule in self.exemptions:
            new = rule.regex.sub(" | ", text)
            if new != text:
                used.append(rule.id)
                text = new
        return text, tuple(used)

    def first_match(self, text: str) -> Rule | None:
        for rule in self.rules:
            if rule.search(text):
                return rule
        return None


@dataclass(frozen=True)
class CrisisRules:
    """Crisis rules plus the informational and follow-up logic."""

    rules: RuleSet
    generic: tuple[Rule, ...]
    topic: tuple[Rule, ...]
    frames: tuple[Rule, ...]
    disclosure: tuple[Rule, ...]
    followup_window: int
    short_reply_words: int
    concern: tuple[Rule, ...]
    replies: tuple[Rule, ...]
    plans: tuple[Rule, ...]
    past: tuple[Rule, ...] = ()
    current: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Resource:
    """A crisis resource shown to the patient (the widget may render it as a button)."""

    id: str
    label: str
    text: str
    kind: str  # call | sms | web
    value: str


@dataclass(frozen=True)
class RiskSettings:
    """Thresholds of the learned crisis classifier and the conversation memory (crisis_classifier.yaml)."""

    crisis_threshold: float
    concern_threshold: float
    long_message_chars: int
    history_window: int
    acknowledgements: frozenset[str]
    rules_as_concern: frozenset[str] = frozenset()
    # Raise of the crisis threshold per doubling of the number of parts judged: a long message offers
    # many parts, and the riskiest of many harmless parts is higher by chance alone.
    crisis_threshold_step: float = 0.0
    crisis_threshold_base_parts: int = 1   # the raise starts above this many parts (a short message's)
    # A floor for the crisis threshold by the message's language: the encoder reads English; in Spanish its
    # scores are less sure, so a classifier-only hand-off asks for more (below it, the crisis line).
    crisis_threshold_by_language: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def crisis_threshold_for(self, parts: int) -> float:
        """The crisis threshold for a message judged in ``parts`` parts (never above 0.99)."""
        doublings = math.log2(max(1.0, parts / self.crisis_threshold_base_parts))
        return min(0.99, self.crisis_threshold + self.crisis_threshold_step * doublings)


@dataclass(frozen=True)
class Referrals:
    """One-line referrals added under an answer (referrals.yaml): "answer, then refer".

    ``lines``: id -> template. ``entries``: corpus entry id -> line id, for answers that always refer.
    A dosing or medical-advice exemption with ``refer: <line id>`` also adds its line to the answer.
    """

    lines: Mapping[str, str]
    entries: Mapping[str, str]
    # a general question an exemption recognised (refer: <line>) is answered by an entry carrying that line
    # when that entry ranks first and scores at least this (retrieval's min_score otherwise)
    expected_min_score: float = 1.0


@dataclass(frozen=True)
class PolicyTexts:
    """The patient-facing wording in one more language (``policy/<lang>/``): the same fields as the English
    files, validated by the same rules, plus referral lines in that language (``referrals:``)."""

    lang: str
    crisis_reply: str
    resources: tuple[Resource, ...]
    resources_footer: str
    messages: Mapping[str, str]
    suggestions: tuple[str, ...]
    referral_lines: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Policy:
    """Everything the guardrails need, validated. Build it with ``load_policy()``."""

    crisis_reply: str
    resources: tuple[Resource, ...]
    resources_footer: str
    messages: Mapping[str, str]
    suggestions: tuple[str, ...]
    crisis: CrisisRules
    dosing: RuleSet
    medical: RuleSet
    scope: RuleSet
    domain_vocabulary: Rule
    spellings: Mapping[str, str]
    risk: RiskSettings
    lexicon: Any = None   # a CrisisLexicon (crisis_lexicon.yaml)
    source_dir: Path = field(default=DEFAULT_POLICY_DIR)
    referrals: Referrals = field(default_factory=lambda: Referrals(MappingProxyType({}), MappingProxyType({})))
    translations: Mapping[str, PolicyTexts] = field(default_factory=lambda: MappingProxyType({}))

    def templates(self) -> dict[str, str]:
        """Every patient-facing template, keyed by a dotted name (for checks and linting)."""
        out = _wording_templates("", self.crisis_reply, self.resources_footer, self.resources, self.messages,
                                 self.suggestions)
        for key, text in self.referrals.lines.items():
            out[f"referrals.lines.{key}"] = text
        for lang, texts in self.translations.items():
            out.update(_wording_templates(f"{lang}.", texts.crisis_reply, texts.resources_footer, texts.resources,
                                          texts.messages, texts.suggestions))
            for key, text in texts.referral_lines.items():
                out[f"{lang}.messages.referrals.{key}"] = text
        return out


def _wording_templates(prefix: str, crisis_reply: str, footer: str, resources: tuple[Resource, ...],
                       messages: Mapping[str, str], suggestions: tuple[str, ...]) -> dict[str, str]:
    """One language's crisis reply, resources, messages and suggestions, keyed by dotted name."""
    out = {f"{prefix}crisis.reply": crisis_reply, f"{prefix}crisis.footer": footer}
    for res in resources:
        out[f"{prefix}crisis.resources.{res.id}.label"] = res.label
        out[f"{prefix}crisis.resources.{res.id}.text"] = res.text
    for key, text in messages.items():
        out[f"{prefix}messages.{key}"] = text
    for i, text in enumerate(suggestions):
        out[f"{prefix}messages.suggestions[{i}]"] = text
    return out


# --------------------------------------------------------------------------- loading helpers


class _File:
    """Accessors that raise PolicyError naming this file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        if not path.is_file():
            raise PolicyError(f"{self.name}: (file): missing from {path.parent}")
        try:
            with path.open(encoding="utf-8") as fh:
                self.data = json.load(fh) if path.suffix == ".json" else parse_yaml(fh)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise PolicyError(f"{self.name}: (file): not valid {path.suffix[1:].upper()}: {exc}") from None
        if not isinstance(self.data, dict):
            raise PolicyError(f"{self.name}: (file): expected a mapping at the top level")
        self.terms = self._terms()

    def _terms(self) -> dict[str, str]:
        """Named word lists (``terms:``) that patterns can use as ``<<name>>``.

        A list may include another list by naming it as an item: ``[<<named_meds>>, pills]``.
        """
        raw = self.data.get("terms")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail("terms", "must be a mapping of name -> list of words")
        lists: dict[str, tuple[str, ...]] = {}
        for name in raw:
            if not isinstance(name, str) or not _ID.match(name):
                raise self.fail(f"terms.{name}", "name must be lowercase letters, digits and underscores")
            lists[name] = self.texts(raw, name, f"terms.{name}")
        out: dict[str, str] = {}

        def resolve(name: str, trail: tuple[str, ...]) -> str:
            if name in out:
                return out[name]
            words: set[str] = set()
            nested: list[str] = []
            for i, word in enumerate(lists[name]):
                ref = re.fullmatch(r"<<([a-z0-9_]+)>>", word)
                if ref is None:
                    words.add(re.escape(word.lower()))
                    continue
                other = ref.group(1)
                if other not in lists:
                    raise self.fail(f"terms.{name}[{i}]", f"unknown term list <<{other}>>")
                if other in trail:
                    raise self.fail(f"terms.{name}[{i}]", f"<<{other}>> includes itself")
                nested.append(resolve(other, (*trail, other)))
            # longest first; ties alphabetically, so the pattern text (and its cached compiled form) is the
            # same in every process
            out[name] = "(?:" + "|".join(sorted(words, key=lambda w: (-len(w), w)) + nested) + ")"
            return out[name]

        for name in lists:
            resolve(name, (name,))
        return out

    def expand(self, pattern: str, fld: str) -> str:
        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self.terms:
                raise self.fail(fld, f"unknown term list <<{name}>> (define it under terms:)")
            return self.terms[name]

        return re.sub(r"<<([a-z0-9_]+)>>", sub, pattern)

    def fail(self, fld: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.name}: {fld}: {problem}")

    def get(self, data: Mapping[str, Any], key: str, fld: str, required: bool = True) -> Any:
        if key not in data or data[key] is None:
            if required:
                raise self.fail(fld, "missing")
            return None
        return data[key]

    def text(self, data: Mapping[str, Any], key: str, fld: str) -> str:
        value = self.get(data, key, fld)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(fld, "must be a non-empty string")
        return value.strip()

    def texts(self, data: Mapping[str, Any], key: str, fld: str, required: bool = True) -> tuple[str, ...]:
        value = self.get(data, key, fld, required)
        if value is None:
            return ()
        if not isinstance(value, list) or (required and not value):
            raise self.fail(fld, "must be a non-empty list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{fld}[{i}]", "must be a non-empty string")
        return tuple(item.strip() for item in value)

    def number(self, data: Mapping[str, Any], key: str, fld: str, lo: float, hi: float) -> float:
        value = self.get(data, key, fld)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise self.fail(fld, f"must be a number between {lo} and {hi}")
        return float(value)

    def rule(self, data: Any, fld: str) -> Rule:
        if not isinstance(data, dict):
            raise self.fail(fld, "must be a mapping with id and phrases and/or patterns")
        rule_id = self.get(data, "id", f"{fld}.id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            raise self.fail(f"{fld}.id", "must be lowercase letters, digits and underscores")
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise self.fail(f"{fld}.description", "must be a string")
        phrases = self.texts(data, "phrases", f"{fld}.phrases", required=False)
        patterns = self.texts(data, "patterns", f"{fld}.patterns", required=False)
        if not phrases and not patterns:
            raise self.fail(fld, f"rule {rule_id!r} needs phrases or patterns")
        unknown = set(data) - {"id", "description", "phrases", "patterns", "unless_domain", "refer"}
        if unknown:
            raise self.fail(fld, f"unknown keys {sorted(unknown)}")
        unless_domain = data.get("unless_domain", False)
        if not isinstance(unless_domain, bool):
            raise self.fail(f"{fld}.unless_domain", "must be true or false")
        sources: list[str] = []
        for i, phrase in enumerate(phrases):
            try:
                _phrase_units(phrase)
            except ValueError as exc:
                raise self.fail(f"{fld}.phrases[{i}]", str(exc)) from None
        if phrases:
            sources.append(phrase_regex(*phrases))
        for i, pattern in enumerate(patterns):
            pattern = self.expand(pattern, f"{fld}.patterns[{i}]")
            try:
                RegexCache.default().compile(pattern)
            except re.error as exc:
                raise self.fail(f"{fld}.patterns[{i}]", f"regex does not compile: {exc}") from None
            sources.append(pattern)
        # compiled forms are kept across processes (guardrails/regex_cache.py): the file is read on first use
        combined = RegexCache.default().compile("|".join(f"(?:{s})" for s in sources))
        refer = data.get("refer")
        if refer is not None and (not isinstance(refer, str) or not _ID.match(refer)):
            raise self.fail(f"{fld}.refer", "must be the id of a line in referrals.yaml")
        return Rule(rule_id, description.strip(), combined, unless_domain, refer)

    def rules(self, data: Mapping[str, Any], key: str, fld: str, required: bool = True) -> tuple[Rule, ...]:
        value = self.get(data, key, fld, required)
        if value is None:
            return ()
        if not isinstance(value, list) or (required and not value):
            raise self.fail(fld, "must be a non-empty list of rules")
        out = tuple(self.rule(item, f"{fld}[{i}]") for i, item in enumerate(value))
        seen: set[str] = set()
        for i, rule in enumerate(out):
            if rule.id in seen:
                raise self.fail(f"{fld}[{i}].id", f"duplicate id {rule.id!r}")
            seen.add(rule.id)
        return out

    def ruleset(self) -> RuleSet:
        rules = self.rules(self.data, "rules", "rules")
        return RuleSet(rules, self.rules(self.data, "exemptions", "exemptions", required=False))

    def template(self, data: Mapping[str, Any], key: str, fld: str) -> str:
        value = self.text(data, key, fld)
        _check_template(self, fld, value)
        return value


def _check_template(src: _File, fld: str, text: str) -> None:
    for name in _PLACEHOLDER.findall(text):
        if name not in ALLOWED_PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in sorted(ALLOWED_PLACEHOLDERS))
            raise src.fail(fld, f"placeholder {{{name}}} is not allowed (use only {allowed})")
    if text.count("{") != text.count("}"):
        raise src.fail(fld, "unbalanced braces")
    amounts = find_dose_amounts(text)
    if amounts:
        raise src.fail(fld, f"contains a dose amount ({amounts[0]!r}); templates must never state doses")


def _load_crisis(src: _File) -> tuple[str, tuple[Resource, ...], str]:
    reply = src.template(src.data, "reply", "reply")
    footer = src.template(src.data, "footer", "footer")
    raw = src.get(src.data, "resources", "resources")
    if not isinstance(raw, list) or not raw:
        raise src.fail("resources", "must be a non-empty list")
    resources: list[Resource] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        fld = f"resources[{i}]"
        if not isinstance(item, dict):
            raise src.fail(fld, "must be a mapping with id, label, text, kind, value")
        res_id = src.text(item, "id", f"{fld}.id")
        if not _ID.match(res_id) or res_id in seen:
            raise src.fail(f"{fld}.id", "must be a unique lowercase id")
        seen.add(res_id)
        kind = src.text(item, "kind", f"{fld}.kind")
        if kind not in RESOURCE_KINDS:
            raise src.fail(f"{fld}.kind", f"must be one of {sorted(RESOURCE_KINDS)}")
        value = src.get(item, "value", f"{fld}.value")
        if not isinstance(value, (str, int)) or not str(value).strip():
            raise src.fail(f"{fld}.value", "must be a non-empty string")
        value = str(value).strip()
        label = src.template(item, "label", f"{fld}.label")
        text = src.template(item, "text", f"{fld}.text")
        _check_template(src, f"{fld}.value", value)
        if value not in reply:
            raise src.fail("reply", f"does not mention resource {res_id} ({value}); keep reply and resources in step")
        resources.append(Resource(res_id, label, text, kind, value))
    return reply, tuple(resources), footer


def _load_messages(src: _File) -> tuple[Mapping[str, str], tuple[str, ...]]:
    messages = {key: src.template(src.data, key, key) for key in MESSAGE_KEYS}
    messages.update({key: src.template(src.data, key, key) for key in OPTIONAL_MESSAGE_KEYS if key in src.data})
    suggestions = src.texts(src.data, "suggestions", "suggestions")
    if not 2 <= len(suggestions) <= 5:
        raise src.fail("suggestions", "list 2 to 5 example questions")
    for i, text in enumerate(suggestions):
        _check_template(src, f"suggestions[{i}]", text)
    return MappingProxyType(messages), suggestions


def _load_translation(folder: Path, lang: str, referrals: Referrals) -> PolicyTexts:
    """``policy/<lang>/``: the crisis reply and messages in that language, under the English files' rules."""
    reply, resources, footer = _load_crisis(_File(folder / "crisis.yaml"))
    src = _File(folder / "messages.yaml")
    messages, suggestions = _load_messages(src)
    if "untranslated" not in messages:
        raise src.fail("untranslated", "missing: the line shown above an English answer not yet translated")
    raw = src.get(src.data, "referrals", "referrals", required=False) or {}
    if not isinstance(raw, dict):
        raise src.fail("referrals", "must be a mapping of referral line id -> the line in this language")
    lines: dict[str, str] = {}
    for key in raw:
        if key not in referrals.lines:
            raise src.fail(f"referrals.{key}", "unknown line (the ids are those of referrals.yaml's lines)")
        lines[key] = src.template(raw, key, f"referrals.{key}")
        if "\n" in lines[key]:
            raise src.fail(f"referrals.{key}", "a referral is one line")
    return PolicyTexts(lang, reply, resources, footer, messages, suggestions, MappingProxyType(lines))


def _load_crisis_rules(src: _File) -> CrisisRules:
    info = src.get(src.data, "informational", "informational")
    if not isinstance(info, dict):
        raise src.fail("informational", "must be a mapping with topic, frames, disclosure")
    follow = src.get(src.data, "followup", "followup")
    if not isinstance(follow, dict):
        raise src.fail("followup", "must be a mapping with window, concern, replies")
    window = src.number(follow, "window", "followup.window", 1, 20)
    if window != int(window):
        raise src.fail("followup.window", "must be a whole number")
    short = src.number(follow, "short_reply_words", "followup.short_reply_words", 1, 100)
    if short != int(short):
        raise src.fail("followup.short_reply_words", "must be a whole number")
    return CrisisRules(
        rules=src.ruleset(),
        generic=src.rules(info, "generic", "informational.generic", required=False),
        topic=src.rules(info, "topic", "informational.topic"),
        frames=src.rules(info, "frames", "informational.frames"),
        disclosure=src.rules(info, "disclosure", "informational.disclosure"),
        followup_window=int(window),
        short_reply_words=int(short),
        concern=src.rules(follow, "concern", "followup.concern"),
        replies=src.rules(follow, "replies", "followup.replies"),
        plans=src.rules(follow, "plans", "followup.plans"),
        past=src.rules(info, "past", "informational.past", required=False),
        current=src.rules(info, "current", "informational.current", required=False),
    )


def _load_referrals(src: _File) -> Referrals:
    raw = src.get(src.data, "lines", "lines")
    if not isinstance(raw, dict) or not raw:
        raise src.fail("lines", "must be a mapping of id -> one-line referral")
    lines: dict[str, str] = {}
    for key in raw:
        if not isinstance(key, str) or not _ID.match(key):
            raise src.fail(f"lines.{key}", "id must be lowercase letters, digits and underscores")
        lines[key] = src.template(raw, key, f"lines.{key}")
        if "\n" in lines[key]:
            raise src.fail(f"lines.{key}", "a referral is one line")
    entries = src.get(src.data, "entries", "entries", required=False) or {}
    if not isinstance(entries, dict):
        raise src.fail("entries", "must be a mapping of corpus entry id -> line id")
    for entry_id, line in entries.items():
        if not isinstance(entry_id, str) or not re.fullmatch(r"[a-z0-9_-]+", entry_id):
            raise src.fail(f"entries.{entry_id}", "must be a corpus entry id")
        if line not in lines:
            raise src.fail(f"entries.{entry_id}", f"unknown line {line!r} (define it under lines:)")
    floor = src.number(src.data, "expected_min_score", "expected_min_score", 0.0, 1.0) \
        if "expected_min_score" in src.data else 1.0
    return Referrals(MappingProxyType(lines), MappingProxyType(dict(entries)), floor)


def _check_refers(name: str, rules: RuleSet, referrals: Referrals) -> None:
    """Only exemptions refer, and only to a line that exists."""
    for i, rule in enumerate(rules.rules):
        if rule.refer is not None:
            raise PolicyError(f"{name}: rules[{i}].refer: only exemptions refer (a rule declines)")
    for i, rule in enumerate(rules.exemptions):
        if rule.refer is not None and rule.refer not in referrals.lines:
            raise PolicyError(f"{name}: exemptions[{i}].refer: unknown referral {rule.refer!r} "
                              "(define it in referrals.yaml under lines:)")


def _load_spellings(src: _File) -> Mapping[str, str]:
    raw = src.get(src.data, "spellings", "spellings")
    if not isinstance(raw, dict):
        raise src.fail("spellings", "must be a mapping of word -> replacement")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9/ ]+", key) or not isinstance(value, str):
            raise src.fail(f"spellings.{key}", "keys and values must be lowercase words")
        out[key] = value.lower()
    return MappingProxyType(out)


def _load_risk(src: _File, spellings: Mapping[str, str]) -> RiskSettings:
    from .normalize import normalize

    crisis = src.number(src.data, "crisis_threshold", "crisis_threshold", 0.05, 0.99)
    concern = src.number(src.data, "concern_threshold", "concern_threshold", 0.05, 0.99)
    step = src.number(src.data, "crisis_threshold_step", "crisis_threshold_step", 0.0, 0.3) \
        if "crisis_threshold_step" in src.data else 0.0
    base = src.number(src.data, "crisis_threshold_base_parts", "crisis_threshold_base_parts", 1, 48) \
        if "crisis_threshold_base_parts" in src.data else 1
    if base != int(base):
        raise src.fail("crisis_threshold_base_parts", "must be a whole number")
    long_chars = src.number(src.data, "long_message_chars", "long_message_chars", 50, 5000)
    window = src.number(src.data, "history_window", "history_window", 1, 20)
    if window != int(window) or long_chars != int(long_chars):
        raise src.fail("history_window", "history_window and long_message_chars must be whole numbers")
    by_language_raw = src.get(src.data, "crisis_threshold_by_language", "crisis_threshold_by_language",
                              required=False) or {}
    if not isinstance(by_language_raw, dict):
        raise src.fail("crisis_threshold_by_language", "must map a language code (es) to a threshold")
    by_language = {str(lang): src.number(by_language_raw, lang, f"crisis_threshold_by_language.{lang}", 0.05, 0.99)
                   for lang in by_language_raw}
    acks = src.texts(src.data, "acknowledgements", "acknowledgements")
    downgraded = src.texts(src.data, "rules_as_concern", "rules_as_concern", required=False)
    for i, rule_id in enumerate(downgraded):
        if not re.fullmatch(r"crisis\.[a-z0-9_]+", rule_id):
            raise src.fail(f"rules_as_concern[{i}]", "must be a crisis rule id such as crisis.topic_mention")
    return RiskSettings(crisis, concern, int(long_chars), int(window),
                        frozenset(normalize(a, spellings).strip(" .!?") for a in acks), frozenset(downgraded),
                        step, int(base), MappingProxyType(by_language))


def load_policy(policy_dir: Path | str | None = None) -> Policy:
    """Read and validate every policy file in ``policy_dir`` (default: ``guardrails/policy``).

    Raises ``PolicyError`` naming the file and field on any problem.
    """
    folder = Path(policy_dir) if policy_dir is not None else DEFAULT_POLICY_DIR
    reply, resources, footer = _load_crisis(_File(folder / "crisis.yaml"))
    messages, suggestions = _load_messages(_File(folder / "messages.yaml"))
    crisis = _load_crisis_rules(_File(folder / "crisis_rules.yaml"))
    dosing = _File(folder / "dosing_rules.yaml").ruleset()
    medical = _File(folder / "medical_rules.yaml").ruleset()
    referrals = _load_referrals(_File(folder / "referrals.yaml"))
    _check_refers("dosing_rules.yaml", dosing, referrals)
    _check_refers("medical_rules.yaml", medical, referrals)
    scope_src = _File(folder / "scope_rules.yaml")
    scope = scope_src.ruleset()
    _check_refers("scope_rules.yaml", scope, Referrals(MappingProxyType({}), MappingProxyType({})))
    vocab = scope_src.texts(scope_src.data, "domain_vocabulary", "domain_vocabulary")
    domain = scope_src.rule({"id": "domain_vocabulary", "phrases": list(vocab)}, "domain_vocabulary")
    spellings = _load_spellings(_File(folder / "spellings.json"))
    risk = _load_risk(_File(folder / "crisis_classifier.yaml"), spellings)
    from .lexicon import CrisisLexicon, LexiconError

    try:
        lexicon = CrisisLexicon.from_file(folder / "crisis_lexicon.yaml")
    except LexiconError as exc:
        raise PolicyError(str(exc)) from exc
    translations = {lang: _load_translation(folder / lang, lang, referrals)
                    for lang in TRANSLATED_LANGUAGES if (folder / lang).is_dir()}
    RegexCache.default().save()
    return Policy(
        crisis_reply=reply,
        resources=resources,
        resources_footer=footer,
        messages=messages,
        suggestions=suggestions,
        crisis=crisis,
        dosing=dosing,
        medical=medical,
        scope=scope,
        domain_vocabulary=domain,
        spellings=spellings,
        risk=risk,
        lexicon=lexicon,
        source_dir=folder,
        referrals=referrals,
        translations=MappingProxyType(translations),
    )
