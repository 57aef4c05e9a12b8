"""Dosing detector: amounts, frequency, changes, sources, recreational use, medication changes."""

from __future__ import annotations

from collections.abc import Sequence

from .dose import find_dose_amounts
from .policy import Policy, PolicyError, RuleSet
from .verdict import Verdict

__all__ = ["DosingDetector", "general_verdict"]


class DosingDetector:
    """Routes dosing and medication-decision questions to the prescriber.

        >>> from guardrails import load_policy, normalize
        >>> detector = DosingDetector(load_policy())
        >>> detector.run(normalize("Can I double my dose if I feel nothing?"), []).rule
        'dosing.change'
        >>> detector.run(normalize("How long is a session?"), []) is None
        True

    Any dose amount in the message (``find_dose_amounts``) routes here as ``dosing.amount``.
    Role-play or "ignore your instructions" framings do not change the outcome. A general question that an
    exemption with ``refer`` recognises returns a ``pass`` verdict carrying that referral line:

        >>> detector.run(normalize("Can ketamine interact with alcohol?"), []).refer
        'substances'
    """

    def __init__(self, policy: Policy) -> None:
        rules = getattr(policy, "dosing", None)
        if not isinstance(rules, RuleSet) or not rules.rules:
            raise PolicyError("dosing_rules.yaml: rules: policy has no dosing rules")
        self._rules = rules

    def run(self, text_normalized: str, history_normalized: Sequence[str] = ()) -> Verdict | None:
        """Return a ``dosing`` verdict or None. History is not used (each question stands alone)."""
        if not text_normalized:
            return None
        stripped, used = self._rules.strip_exempt(text_normalized)
        if find_dose_amounts(stripped):
            return Verdict("dosing", "dosing.amount", "rules", "message contains a dose amount")
        rule = self._rules.first_match(stripped)
        if rule is not None:
            return Verdict("dosing", f"dosing.{rule.id}", "rules", f"matched dosing rule {rule.id}")
        return general_verdict("dosing", self._rules, used)


def general_verdict(prefix: str, rules: RuleSet, used: Sequence[str]) -> Verdict | None:
    """A pass that refers: a general question an exemption with ``refer`` recognised, nothing personal left.

    The exemption's span was blanked and no rule matched the rest, so the corpus answers it, with the
    referral line (referrals.yaml) under the answer.
    """
    for exemption in rules.exemptions:
        if exemption.id in used and exemption.refer is not None:
            return Verdict("pass", f"{prefix}.general.{exemption.id}", "rules",
                           f"general question (exemption {exemption.id}): answer and refer ({exemption.refer})",
                           refer=exemption.refer)
    return None
