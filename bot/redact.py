"""Redact identifiers from patient text before anything is written (logs, transcripts, reports).

    redact("I'm Jane, my name is Jane Doe, call 555-123-4567")
    # "I'm Jane, my name is [NAME], call [PHONE]"
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[EMAIL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("[DOB]", re.compile(
        r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2}|"
        r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}|"
        r"\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*,? \d{4})\b",
        re.IGNORECASE)),
    ("[PHONE]", re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")),
    ("[ADDRESS]", re.compile(
        r"\b\d{1,6}\s+(?:[A-Z0-9][\w.'-]*\s+){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|"
        r"court|ct|way|place|pl|terrace|circle|highway|hwy|parkway|pkwy)\b\.?(?:,?\s*(?:apt|apartment|unit|suite|ste|#)"
        r"\s*[\w-]+)?",
        re.IGNORECASE)),
    ("[SSN]", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
)
_NAME = re.compile(
    r"\b((?:my name is|my name's|i am called|i'm called|call me)\s+)"
    r"([A-Za-z][A-Za-z'-]+(?:\s+[A-Z][A-Za-z'-]+){0,2})",
    re.IGNORECASE)


def redact(text: str) -> str:
    """Replace emails, phone numbers, dates of birth, street addresses and stated names with tags."""
    for tag, pattern in _PATTERNS:
        text = pattern.sub(tag, text)
    return _NAME.sub(lambda m: m.group(1) + "[NAME]", text)
