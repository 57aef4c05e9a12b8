"""Split a message into the parts the crisis classifier judges one by one.

A risk in the middle of a long message ("...bought a rope today. anyway, can I move my appointment?")
is diluted in a vector of the whole text; judged sentence by sentence, the riskiest part stands out.

    >>> split_sentences("I'm fine. Actually no. How long is a session?")
    ["I'm fine.", 'Actually no.', 'How long is a session?']
    >>> risk_units("I bought a rope today. how much is a session?", long_chars=300)
    ['I bought a rope today.', 'how much is a session?', 'I bought a rope today. how much is a session?']
    >>> risk_units("ok. It's gone now. Thanks for checking on me, see you Friday.")[1:3]
    ["ok. It's gone now.", "It's gone now. Thanks for checking on me, see you Friday."]

Standard library only: the guardrail rules must start in well under a second.
"""

from __future__ import annotations

import re

__all__ = ["risk_units", "split_sentences"]

# Sentence ends: . ! ? … (and runs of them) before a space, CJK full stops, semicolons, line breaks.
_BOUNDARY = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？；])|;\s*|\s*\n+\s*")
_WORD = re.compile(r"\S+")
MIN_WORDS = 5         # a shorter sentence is judged only beside its neighbours ("bye", "It's gone now.")
WINDOW_WORDS = 24     # a run-on sentence longer than this is judged in overlapping windows
WINDOW_STRIDE = 12
MAX_UNITS = 48        # bound on the work for one message (a 1,000-character message makes about 20)


def split_sentences(text: str) -> list[str]:
    """Sentences and clauses of ``text``, in order, without empty parts."""
    return [part.strip() for part in _BOUNDARY.split(text) if part and part.strip()]


def _windows(sentence: str) -> list[str]:
    words = _WORD.findall(sentence)
    if len(words) <= WINDOW_WORDS:
        return [sentence]
    out = []
    for start in range(0, len(words) - WINDOW_STRIDE, WINDOW_STRIDE):
        out.append(" ".join(words[start:start + WINDOW_WORDS]))
    return out


def risk_units(text: str, long_chars: int = 300) -> list[str]:
    """The texts to judge for ``text``: each sentence of at least MIN_WORDS words (long run-ons in
    windows), each adjacent pair of sentences when there are three or more (or the message is longer than
    ``long_chars``), and the whole message, without repeats. A short sentence out of its message reads
    like anything ("bye", "It's gone now."), so it is judged only with a neighbour, or as the whole."""
    sentences: list[str] = []
    for sentence in split_sentences(text):
        sentences.extend(_windows(sentence))
    units = [s for s in sentences if len(_WORD.findall(s)) >= MIN_WORDS]
    if len(sentences) >= 3 or len(text) > long_chars:
        units.extend(f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False))
    units.append(text)
    unique = list(dict.fromkeys(u for u in units if u))
    if len(unique) > MAX_UNITS:   # keep the whole message (last) and spread the rest evenly
        step = (len(unique) - 1) / (MAX_UNITS - 1)
        unique = [unique[round(i * step)] for i in range(MAX_UNITS - 1)] + [unique[-1]]
        unique = list(dict.fromkeys(unique))
    return unique
