"""Crisis phrases in other languages: an exact, explainable layer beside the English rules.

The lexicon (`guardrails/policy/crisis_lexicon.yaml`) lists, per language, short phrases
that on their own signal crisis ("quiero morir", "je veux mourir", "我想死") and idioms that use the same
words harmlessly ("me muero de hambre"), which are blanked out first.

    >>> lexicon = CrisisLexicon({"es": (("quiero morir",), ("me muero de hambre",))})
    >>> lexicon.run("ya no aguanto, quiero morir")
    ('es', 'quiero morir')
    >>> lexicon.run("me muero de hambre jaja") is None
    True

Matching is on casefolded text without accents, on word boundaries for scripts with spaces and as
substrings for Chinese, Japanese and Korean. Standard library and PyYAML only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import yaml

from .regex_cache import RegexCache
from .yaml_text import parse_yaml

__all__ = ["CrisisLexicon", "LexiconError", "fold"]

DEFAULT_LEXICON = Path(__file__).resolve().parent / "policy" / "crisis_lexicon.yaml"
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the file and field."""


def fold(text: str) -> str:
    """Casefold, strip accents, collapse whitespace: the form both phrases and messages are matched in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(unicodedata.normalize("NFC", kept).replace("’", "'").split())


def _compile(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    # longest first; ties alphabetically, so the pattern text (and its cached compiled form) is the same in
    # every process
    for phrase in sorted({f for f in map(fold, phrases) if f}, key=lambda f: (-len(f), f)):
        body = r"\s+".join(re.escape(w) for w in phrase.split())
        # Chinese and Japanese have no spaces, and Korean glues endings onto words: match inside words.
        parts.append(body if _NO_SPACES.search(phrase) or _HANGUL.search(phrase) else rf"(?<!\w){body}(?!\w)")
    # compiled through the policy's regex cache (guardrails/regex_cache.py), as the rule files are
    return RegexCache.default().compile("|".join(parts)) if parts else None


class CrisisLexicon:
    """``run(text)`` returns (language, phrase) for the first crisis phrase found, or None."""

    def __init__(self, languages: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
        if not languages:
            raise LexiconError("the lexicon has no languages")
        self._crisis: list[tuple[str, re.Pattern[str]]] = []
        self._idioms: list[re.Pattern[str]] = []
        for lang, (crisis, idioms) in languages.items():
            pattern = _compile(crisis)
            if pattern is None:
                raise LexiconError(f"language {lang!r} has no crisis phrases")
            self._crisis.append((lang, pattern))
            blank = _compile(idioms)
            if blank is not None:
                self._idioms.append(blank)
        self.languages = tuple(languages)

    @classmethod
    def from_file(cls, path: Path | None = None) -> CrisisLexicon:
        path = Path(path or DEFAULT_LEXICON)
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LexiconError(f"{path}: cannot read: {exc}") from exc
        langs = data.get("languages") if isinstance(data, dict) else None
        if not isinstance(langs, dict) or not langs:
            raise LexiconError(f"{path}: languages: must be a mapping of language code -> crisis, not_crisis")
        out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for lang, body in langs.items():
            if not isinstance(body, dict):
                raise LexiconError(f"{path}: languages.{lang}: must be a mapping with crisis and not_crisis")
            lists = []
            for key in ("crisis", "not_crisis"):
                items = body.get(key, [])
                if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
                    raise LexiconError(f"{path}: languages.{lang}.{key}: must be a list of phrases")
                lists.append(tuple(items))
            for phrase in lists[0]:
                if len(fold(phrase)) < (2 if _NO_SPACES.search(phrase) or _HANGUL.search(phrase) else 3):
                    raise LexiconError(f"{path}: languages.{lang}.crisis: {phrase!r} is too short to match safely")
            out[str(lang)] = (lists[0], lists[1])
        return cls(out)

    def run(self, text: str) -> tuple[str, str] | None:
        folded = fold(text)
        for idiom in self._idioms:
            folded = idiom.sub(" | ", folded)
        for lang, pattern in self._crisis:
            match = pattern.search(folded)
            if match:
                return lang, match.group(0)
        return None
