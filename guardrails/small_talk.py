"""Small talk (guardrails/policy/small_talk.yaml): greetings, thanks, goodbyes, "are you a bot?", "a person please".

    >>> talk = load_small_talk()
    >>> talk.match("Hi there!")
    SmallTalkMatch(intent='greeting', lang='en')
    >>> talk.match("¿Eres un bot?")
    SmallTalkMatch(intent='bot_question', lang='es')
    >>> talk.match("hi, how long is a session?") is None
    True

Strict on purpose: a message is small talk only when the WHOLE of it, normalised the way the guardrails
normalise text, is a run of the file's phrases and at most ``max_words`` words long. Anything else (a
question, a feeling, a phrase the file does not list) goes on to retrieval. This module only recognises
small talk; the caller runs the guardrails first, so a risky message never reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .normalize import normalize
from .policy import DEFAULT_POLICY_DIR, _check_template, _File, _load_spellings, _phrase_units, _trie_regex

__all__ = ["LANGUAGES", "SmallTalk", "SmallTalkIntent", "SmallTalkMatch", "load_small_talk"]

LANGUAGES = ("en", "es")
_NOT_WORD = re.compile(r"[^\w\s]")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SmallTalkIntent:
    id: str
    phrases: Mapping[str, tuple[str, ...]]        # language -> phrases as written (normalised at match time)
    replies: Mapping[str, str]                    # language -> reply template
    suggestions: Mapping[str, tuple[str, ...]]    # language -> 2 or 3 suggested questions
    actions: bool                                 # the reply carries the clinic's call / contact buttons


@dataclass(frozen=True)
class SmallTalkMatch:
    intent: str
    lang: str


class SmallTalk:
    """Recognises a whole message as small talk; intents earlier in the file win when a message mixes them."""

    def __init__(self, intents: tuple[SmallTalkIntent, ...], max_words: int,
                 spellings: Mapping[str, str] | None = None,
                 fillers: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.intents = intents
        self.max_words = max_words
        self.spellings = spellings
        self._by_id = {i.id: i for i in intents}
        self._filler = len(intents)   # the rank of a filler ("please"): allowed, but never small talk on its own
        self._patterns: list[tuple[int, str, re.Pattern[str]]] = []   # (priority, language, pattern)
        groups = [(rank, intent.phrases) for rank, intent in enumerate(intents)]
        groups.append((self._filler, fillers or {}))
        for rank, by_lang in groups:
            for lang, phrases in by_lang.items():
                units = [_phrase_units(self._norm(p)) for p in phrases]
                if units:
                    self._patterns.append((rank, lang, re.compile(_trie_regex(units))))

    def intent(self, intent_id: str) -> SmallTalkIntent:
        return self._by_id[intent_id]

    def _norm(self, text: str) -> str:
        text = normalize(text, self.spellings) if self.spellings is not None else normalize(text)
        return " ".join(_NOT_WORD.sub(" ", text).split())

    def match(self, message: str) -> SmallTalkMatch | None:
        """The intent and language when the whole message is small talk, else None."""
        words = self._norm(message).split()
        if not words or len(words) > self.max_words:
            return None
        n = len(words)
        # best[i]: the fewest phrases covering words[i:], with the (priority, language) of each; None = impossible
        best: list[list[tuple[int, frozenset[str]]] | None] = [None] * (n + 1)
        best[n] = []
        for i in range(n - 1, -1, -1):
            for j in range(i + 1, n + 1):
                rest = best[j]
                if rest is None:
                    continue
                segment = " ".join(words[i:j])
                hits = [(rank, lang) for rank, lang, pattern in self._patterns if pattern.fullmatch(segment)]
                if not hits:
                    continue
                rank = min(r for r, _ in hits)
                langs = frozenset(lang for r, lang in hits if r == rank)
                candidate = [(rank, langs), *rest]
                if best[i] is None or len(candidate) < len(best[i]):
                    best[i] = candidate
        found = best[0]
        if not found or all(r == self._filler for r, _ in found):
            return None
        rank = min(r for r, _ in found)
        # Spanish when some phrase is only Spanish ("hola", "gracias"); words both languages share ("ok") stay English.
        lang = "es" if any(langs == {"es"} for _, langs in found) else "en"
        intent = self.intents[rank]
        if lang not in intent.replies:
            lang = "en"
        return SmallTalkMatch(intent.id, lang)


def load_small_talk(policy_dir: Path | str | None = None, spellings: Mapping[str, str] | None = None) -> SmallTalk:
    """Read and check ``small_talk.yaml``; PolicyError names the file and field of any problem."""
    folder = Path(policy_dir) if policy_dir is not None else DEFAULT_POLICY_DIR
    src = _File(folder / "small_talk.yaml")
    if spellings is None:
        spellings = _load_spellings(_File(folder / "spellings.json"))
    max_words = src.number(src.data, "max_words", "max_words", 1, 20)
    if max_words != int(max_words):
        raise src.fail("max_words", "must be a whole number")
    fillers = _by_language(src, src.data, "fillers", "fillers", lists=True) if src.data.get("fillers") else {}
    raw_intents = src.get(src.data, "intents", "intents")
    if not isinstance(raw_intents, list) or not raw_intents:
        raise src.fail("intents", "must be a non-empty list")
    intents: list[SmallTalkIntent] = []
    seen: set[str] = set()
    for i, item in enumerate(raw_intents):
        fld = f"intents[{i}]"
        if not isinstance(item, dict):
            raise src.fail(fld, "must be a mapping with id, phrases, reply, suggestions")
        intent_id = src.text(item, "id", f"{fld}.id")
        if not _ID.match(intent_id) or intent_id in seen:
            raise src.fail(f"{fld}.id", "must be a unique lowercase id")
        seen.add(intent_id)
        unknown = set(item) - {"id", "description", "phrases", "reply", "suggestions", "actions"}
        if unknown:
            raise src.fail(fld, f"unknown keys {sorted(unknown)}")
        phrases = _by_language(src, item, "phrases", f"{fld}.phrases", lists=True)
        for lang, texts in phrases.items():
            for k, phrase in enumerate(texts):
                if "*" in phrase.split():
                    raise src.fail(f"{fld}.phrases.{lang}[{k}]", "wildcards are not allowed in small talk")
                try:
                    _phrase_units(phrase)
                except ValueError as exc:
                    raise src.fail(f"{fld}.phrases.{lang}[{k}]", str(exc)) from None
        replies = _by_language(src, item, "reply", f"{fld}.reply", lists=False)
        suggestions = _by_language(src, item, "suggestions", f"{fld}.suggestions", lists=True)
        for lang in phrases:
            if lang not in replies or lang not in suggestions:
                raise src.fail(fld, f"phrases in {lang!r} need a reply and suggestions in {lang!r}")
        for lang, text in replies.items():
            _check_template(src, f"{fld}.reply.{lang}", text)
        for lang, texts in suggestions.items():
            if not 2 <= len(texts) <= 3:
                raise src.fail(f"{fld}.suggestions.{lang}", "list 2 or 3 suggested questions")
            for k, text in enumerate(texts):
                _check_template(src, f"{fld}.suggestions.{lang}[{k}]", text)
        actions = item.get("actions", False)
        if not isinstance(actions, bool):
            raise src.fail(f"{fld}.actions", "must be true or false")
        intents.append(SmallTalkIntent(intent_id, MappingProxyType(phrases), MappingProxyType(replies),
                                       MappingProxyType(suggestions), actions))
    return SmallTalk(tuple(intents), int(max_words), spellings, fillers)


def _by_language(src: _File, item: dict, key: str, fld: str, lists: bool) -> dict:
    raw = src.get(item, key, fld)
    if not isinstance(raw, dict) or not raw:
        raise src.fail(fld, f"must map a language ({', '.join(LANGUAGES)}) to "
                            f"{'a list of texts' if lists else 'a text'}")
    out = {}
    for lang in raw:
        if lang not in LANGUAGES:
            raise src.fail(f"{fld}.{lang}", f"unknown language (use {', '.join(LANGUAGES)})")
        out[lang] = src.texts(raw, lang, f"{fld}.{lang}") if lists else src.text(raw, lang, f"{fld}.{lang}")
    return out

