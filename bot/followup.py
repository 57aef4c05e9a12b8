"""Is this message a follow-up that only makes sense with the previous question?

    is_followup("and how long does each one take?")   # True
    is_followup("how long does a session take?")      # False
"""

from __future__ import annotations

import re

_OPENERS = re.compile(r"^(and|also|but|so|what about|how about|then|ok(ay)? and|same for|plus)\b")
_REFERENCES = re.compile(r"\b(it|that|this|those|these|they|them|each one|each|one|ones|there|then)\b")
_WORD = re.compile(r"[a-z']+")


def is_followup(message: str) -> bool:
    text = message.lower().strip()
    words = _WORD.findall(text)
    if not words:
        return False
    if _OPENERS.match(text):
        return True
    return len(words) <= 8 and bool(_REFERENCES.search(text))
