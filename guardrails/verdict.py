"""The result every guardrail layer returns."""

from __future__ import annotations

from dataclasses import dataclass

# The routes a guardrail declines with its own policy template (the one list; bot.reply and bot.messages read it).
DECLINE_ROUTES: tuple[str, ...] = ("dosing", "medical_advice", "out_of_scope")
ROUTES: tuple[str, ...] = ("crisis", *DECLINE_ROUTES, "pass")
LAYERS: tuple[str | None, ...] = (None, "rules", "lexicon", "classifier", "history", "error")


@dataclass(frozen=True)
class Verdict:
    """What the guardrails decided for one user turn.

    >>> v = Verdict(route="dosing", rule="dosing.amount", layer="rules", reason="matched dosing rule amount")
    >>> (v.route, v.resources, v.score)
    ('dosing', False, None)
    """

    route: str  # "crisis" | "dosing" | "medical_advice" | "out_of_scope" | "pass"
    rule: str | None = None  # machine id, e.g. "crisis.suicidal_intent", "dosing.amount"
    layer: str | None = None  # one of LAYERS
    reason: str = ""  # short explanation for staff; never the user's message
    resources: bool = False  # show crisis resources with an answered reply
    score: float | None = None  # the crisis classifier's probability when layer == "classifier"
    threshold: float | None = None  # the threshold that score was held to
    sentence: str | None = None  # the part of the message (or earlier message) that decided; staff only, never logged
    refer: str | None = None  # pass only: a referrals.yaml line to add under the answer ("answer, then refer")

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}; expected one of {ROUTES}")
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}")
        if self.refer is not None and self.route != "pass":
            raise ValueError("only a pass verdict refers; a decline carries its own referral")
