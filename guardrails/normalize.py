"""Text normalisation applied before any rule is matched (pure stdlib).

``normalize`` turns what a patient typed into a predictable form so that rules can be
written once::

    >>> normalize("I wanna DIEEEE")
    'i want to diee'
    >>> normalize("k1ll mys3lf")
    'kill myself'
    >>> normalize("I don’t want to wake up, ever.")
    'i do not want to wake up ever .'
    >>> normalize("Is 0.5 mg/kg normal?")
    'is 0.5 mg/kg normal ?'

Steps, in order: Unicode NFKC, lowercase, accents stripped (``ñ`` -> ``n``), typographic
apostrophes unified and contractions expanded (``don't`` -> ``do not``), hyphens and
underscores between words become spaces, leetspeak decoded inside words that contain
letters (``1 3 0 4 @ $ 5 7`` -> ``i e o a a s s t``; plain numbers and number+unit tokens
such as ``988``, ``50mg`` and ``3x`` are left alone), runs of 3+ identical letters cut to
two (``dieeee`` -> ``diee``, ``killll`` -> ``kill``), punctuation turned into spaces
except sentence ends (`` . ? ! `` kept as separate tokens) and the ``.`` and ``/`` inside
numbers and units (``0.5 mg/kg``, ``150/95``), the misspelling/shorthand map applied
word by word (``sucide`` -> ``suicide``, ``dont`` -> ``do not``, ``wanna`` -> ``want to``),
whitespace collapsed.

Rule phrases are compiled so that every letter may repeat (see ``policy.phrase_regex``),
which is why cutting runs to two letters is enough: ``diee`` still matches ``die`` and
``kil myself`` still matches ``kill myself``.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

__all__ = ["normalize", "default_spellings", "SPELLINGS_FILE"]

SPELLINGS_FILE = Path(__file__).with_name("policy") / "spellings.json"

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bain't\b"), "am not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(it|that|what|there|he|she|who|where|how|here)'s\b"), r"\1 is"),
)
_LEET = str.maketrans({"1": "i", "3": "e", "0": "o", "4": "a", "@": "a", "$": "s", "5": "s", "7": "t"})
_LEET_CHARS = frozenset("13045@$7")
# number + unit or suffix: left alone by the leetspeak step (50mg, 3x, 2nd, 10am, 24hrs)
_NUMBER_TOKEN = re.compile(
    r"[$]?\d+(?:[.,]\d+)*(?:mg|ml|mcg|ug|kg|g|cc|x|am|pm|st|nd|rd|th|s|min|mins|hr|hrs|h|k|yo|yr|yrs|"
    r"lb|lbs|mm|cm|m|d|w|wk|wks|mo|mos|%)?"
)
_TOKEN = re.compile(r"[\w@$]+")
_BANG_IN_WORD = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_JOINERS = re.compile(r"(?<=[a-z])[-_\u2010-\u2015](?=[a-z])")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_PUNCT = re.compile(r"[^\w\s.?!/%+*]")
_SENTENCE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_LOOSE_SLASH = re.compile(r"(?<!\w)/|/(?!\w)")
_ENDERS = re.compile(r"([?!]+)")
_SPACES = re.compile(r"\s+")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


def _deleet_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if not _LEET_CHARS.intersection(token) or not re.search(r"[a-z]", token):
        return token
    if _NUMBER_TOKEN.fullmatch(token):
        return token
    return token.translate(_LEET)


@functools.lru_cache(maxsize=1)
def default_spellings() -> Mapping[str, str]:
    """The misspelling/shorthand map shipped in ``policy/spellings.json``."""
    with SPELLINGS_FILE.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {str(k).lower(): str(v).lower() for k, v in data.get("spellings", {}).items()}


@functools.lru_cache(maxsize=8)
def _speller(items: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    table = dict(items)
    if not table:
        return None, table
    keys = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(re.escape(k) for k in keys) + r")(?![a-z0-9])")
    return pattern, table


def normalize(text: str, spellings: Mapping[str, str] | None = None) -> str:
    """Return the normalised form of ``text`` used by every rule.

    ``spellings`` maps a word (or words) to its replacement; by default the map in
    ``policy/spellings.json`` is used. Pass ``{}`` to skip the map.
    """
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", str(text)).lower()
    out = _strip_accents(out).translate(_APOSTROPHES)
    for pattern, repl in _CONTRACTIONS:
        out = pattern.sub(repl, out)
    out = out.replace("'", "")
    out = _JOINERS.sub(" ", out)
    out = _BANG_IN_WORD.sub("i", out)
    out = _TOKEN.sub(_deleet_token, out)
    out = _REPEATS.sub(r"\1\1", out)
    out = _PUNCT.sub(" ", out).replace("_", " ")
    out = _SENTENCE_DOT.sub(" . ", out)
    out = _LOOSE_SLASH.sub(" ", out)
    out = _ENDERS.sub(r" \1 ", out)
    table = default_spellings() if spellings is None else spellings
    pattern, lookup = _speller(tuple(sorted(table.items())))
    if pattern is not None:
        out = pattern.sub(lambda m: lookup[m.group(0)], out)
    return _SPACES.sub(" ", out).strip()
