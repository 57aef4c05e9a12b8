"""Dosing detector: amounts, frequency, changes, sources, recreational use, medication changes."""

from __future__ import annotations

from collections.abc import Sequence

from .dose import find_dose_amounts
from .policy import Policy, PolicyError, RuleSet
from .verdict import Verdict

__all__ = ["DosingDetector"]


class DosingDetector:
    """Routes dosing and medication-decision questions to the prescriber.

        >>> from guardrails import load_policy, normalize
        >>> detector = DosingDetector(load_policy())
        >>> detector.run(normalize("Can I double my dose if I feel nothing?"), []).rule
        'dosing.change'
        >>> detector.run(normalize("How long is a session?"), []) is None
        True

    Any dose amount in the message (``find_dose_amounts``) routes here as ``dosing.amount``.
    Role-play or "ignore your instructions" framings do not change the outcome.
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
        stripped, _ = self._rules.strip_exempt(text_normalized)
        if find_dose_amounts(stripped):
            return Verdict("dosing", "dosing.amount", "rules", "message contains a dose amount")
        rule = self._rules.first_match(stripped)
        if rule is not None:
            return Verdict("dosing", f"dosing.{rule.id}", "rules", f"matched dosing rule {rule.id}")
        return None
