"""Medical-advice detector: diagnosis, personal suitability, treatment plans, results, symptoms."""

from __future__ import annotations

from collections.abc import Sequence

from .dosing import general_verdict
from .policy import Policy, PolicyError, RuleSet
from .verdict import Verdict

__all__ = ["MedicalAdviceDetector"]


class MedicalAdviceDetector:
    """Routes questions only the patient's clinician can answer to a kind referral.

        >>> from guardrails import load_policy, normalize
        >>> detector = MedicalAdviceDetector(load_policy())
        >>> detector.run(normalize("Is ketamine safe for me with my heart condition?"), []).route
        'medical_advice'
        >>> detector.run(normalize("Is ketamine safe?"), []) is None
        True
    """

    def __init__(self, policy: Policy) -> None:
        rules = getattr(policy, "medical", None)
        if not isinstance(rules, RuleSet) or not rules.rules:
            raise PolicyError("medical_rules.yaml: rules: policy has no medical-advice rules")
        self._rules = rules

    def run(self, text_normalized: str, history_normalized: Sequence[str] = ()) -> Verdict | None:
        """Return a ``medical_advice`` verdict or None. History is not used."""
        if not text_normalized:
            return None
        stripped, used = self._rules.strip_exempt(text_normalized)
        rule = self._rules.first_match(stripped)
        if rule is not None:
            return Verdict("medical_advice", f"medical.{rule.id}", "rules", f"matched medical-advice rule {rule.id}")
        return general_verdict("medical", self._rules, used)
