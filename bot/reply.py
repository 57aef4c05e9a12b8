"""Plain dataclasses that travel between the stages of a turn and out to the CLI, API and console."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from guardrails.policy import Resource  # the policy's resource, shown as-is (rendered)
from guardrails.verdict import DECLINE_ROUTES

# Every route a reply can take: the guardrails' (crisis and the declines) and the turn's own.
ROUTES = ("answer", "no_answer", "crisis", *DECLINE_ROUTES, "fallback", "small_talk")
ACTION_KINDS = ("call", "link")


@dataclass(frozen=True)
class SourceRef:
    id: str
    question: str
    source: str


@dataclass(frozen=True)
class Action:
    """A button the widget can show: call the clinic (``tel:`` href) or open its contact link (``https:``).

    Built only from config/clinic.yaml values that are set and valid (bot.messages.clinic_actions).
    """
    kind: str    # call | link
    label: str
    href: str


@dataclass(frozen=True)
class CandidateView:
    """A candidate entry as staff see it: why it ranked where it did."""
    id: str
    question: str
    score: float
    dense: float
    keyword: float
    probability: float = 0.0   # the entry classifier's


@dataclass
class Reply:
    route: str
    reply: str
    reason: str
    rule: str | None = None
    layer: str | None = None
    sources: list[SourceRef] = field(default_factory=list)
    candidates: list[CandidateView] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)   # call / contact buttons for the clinic
    timings_ms: dict[str, float] = field(default_factory=dict)
    # What decided a guardrail verdict (layer, rule, sentence, score, threshold): staff and eval only,
    # never sent to the patient's browser nor logged, since the sentence is the patient's own words.
    evidence: dict[str, Any] | None = None
    lang: str = "en"     # the language the reply's text is written in: "en" or "es"
    detected_lang: str = "en"   # the conversation's language as detected or chosen: "en", "es" or "other"

    @property
    def entry_id(self) -> str | None:
        return self.sources[0].id if self.sources else None

    def to_dict(self, explain: bool = True) -> dict[str, Any]:
        """The JSON shape of a reply: what the API, `--json` and eval results carry."""
        data: dict[str, Any] = {
            "route": self.route,
            "reply": self.reply,
            "sources": [asdict(s) for s in self.sources],
            "lang": self.lang,
        }
        if self.resources:
            data["resources"] = [asdict(r) for r in self.resources]
        if self.suggestions:
            data["suggestions"] = list(self.suggestions)
        if self.actions:
            data["actions"] = [asdict(a) for a in self.actions]
        if explain:
            data["reason"] = self.reason
            data["rule"] = self.rule
            data["evidence"] = self.evidence
            data["detected_lang"] = self.detected_lang
            data["scores"] = {
                "candidates": [asdict(c) for c in self.candidates],
                "best": self.candidates[0].score if self.candidates else None,
            }
        return data
