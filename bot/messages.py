"""Policy templates rendered once with the clinic's details: the only non-corpus text a reply may carry.

    messages = render_messages(load_policy(), load_clinic())
    messages.declines["dosing"], messages.crisis, messages.resources
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.reply import Resource
from guardrails.policy import Policy, render

DECLINE_ROUTES = ("dosing", "medical_advice", "out_of_scope")


@dataclass(frozen=True)
class PolicyMessages:
    crisis: str
    resources: tuple[Resource, ...]
    footer: str
    declines: dict[str, str]
    suggestions: tuple[str, ...]
    no_answer: str
    fallback: str
    crisis_ack: str

    @property
    def unavailable(self) -> str:
        # When the store is down the honest reply is the same: we can't answer, contact the clinic.
        return self.no_answer

    def templates(self) -> set[str]:
        """Every whole reply text a policy template can produce."""
        return {self.crisis, self.crisis_ack, self.no_answer, self.fallback, *self.declines.values()}


def render_messages(policy: Policy, clinic: dict[str, str]) -> PolicyMessages:
    resources = tuple(
        Resource(id=r.id, label=render(r.label, clinic), text=render(r.text, clinic), kind=r.kind,
                 value=render(r.value, clinic))
        for r in policy.resources
    )
    return PolicyMessages(
        crisis=render(policy.crisis_reply, clinic),
        resources=resources,
        footer=render(policy.resources_footer, clinic),
        declines={route: render(policy.messages[route], clinic) for route in DECLINE_ROUTES},
        suggestions=tuple(render(s, clinic) for s in policy.suggestions),
        no_answer=render(policy.messages["no_answer"], clinic),
        fallback=render(policy.messages["fallback"], clinic),
        crisis_ack=render(policy.messages["crisis_ack"], clinic),
    )
