"""The final check every reply passes before it leaves: vetted text only, no dose, resources on crisis.

    check = ReplyCheck(allowed={...rendered answers and templates...}, footer=footer_text)
    problems = check.run(reply)        # [] when the reply may go out
"""

from __future__ import annotations

from bot.reply import Reply
from guardrails.dose import find_dose_amounts

CRISIS_MARKERS = ("988",)


class ReplyCheck:
    def __init__(self, allowed: set[str], footer: str | tuple[str, ...]) -> None:
        if not allowed:
            raise ValueError("ReplyCheck needs the set of vetted texts")
        self.allowed = frozenset(allowed)
        self.footers = (footer,) if isinstance(footer, str) else tuple(footer)   # one per language

    def run(self, reply: Reply) -> list[str]:
        problems: list[str] = []
        text = reply.reply
        footer = next((f for f in self.footers if f and text.endswith(f)), "")
        body = text[: -len(footer)].rstrip() if footer else text
        if body not in self.allowed:
            problems.append("reply is not vetted corpus text or a policy template")
        doses = find_dose_amounts(text)
        if doses:
            problems.append(f"reply contains a dose amount ({len(doses)} found)")
        if reply.route in ("crisis", "fallback"):
            if not all(marker in text for marker in CRISIS_MARKERS) or not reply.resources:
                problems.append("crisis reply lacks the crisis resources")
        return problems
