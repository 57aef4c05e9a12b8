"""The guardrail pipeline: crisis -> dosing -> medical advice -> out of scope -> pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .crisis import CrisisDetector
from .dosing import DosingDetector
from .medical import MedicalAdviceDetector
from .normalize import normalize
from .policy import Policy
from .scope import ScopeDetector
from .verdict import Verdict

if TYPE_CHECKING:  # pragma: no cover - keeps numpy out of the rule layer's imports
    from .similarity import CrisisSimilarity

__all__ = ["Guardrails"]


class Guardrails:
    """Decide what the assistant may do with one user turn. Safety comes before answering.

        >>> from guardrails import Guardrails, load_policy
        >>> guard = Guardrails(load_policy())
        >>> guard.run("How much ketamine would it take to kill me?").route
        'crisis'
        >>> guard.run("Can I take an extra troche if I feel nothing?").route
        'dosing'
        >>> v = guard.run("How long is a session?", history=["I want to die"])
        >>> (v.route, v.resources)
        ('pass', True)

    Order: crisis (rules on the message, then on recent history + message, then similarity
    when a ``query_vector`` and a similarity layer are given) -> dosing -> medical_advice ->
    out_of_scope -> pass. ``history`` holds the earlier USER messages, oldest first; if any of
    them was crisis, a later non-crisis verdict keeps ``resources=True``.

    Exceptions are not swallowed: the caller must catch any exception and send
    ``policy.messages["fallback"]`` (fail closed).
    """

    def __init__(
        self, policy: Policy, similarity: CrisisSimilarity | None = None, history_limit: int = 20
    ) -> None:
        if not isinstance(policy, Policy):
            raise TypeError("Guardrails needs a Policy from load_policy()")
        if similarity is not None and not callable(getattr(similarity, "run", None)):
            raise TypeError("similarity must be a CrisisSimilarity or None")
        if history_limit < 1:
            raise ValueError("history_limit must be at least 1")
        self.policy = policy
        self.similarity = similarity
        self.history_limit = history_limit
        self.crisis = CrisisDetector(policy)
        self.dosing = DosingDetector(policy)
        self.medical = MedicalAdviceDetector(policy)
        self.scope = ScopeDetector(policy)

    def normalize(self, text: str) -> str:
        """Normalise text with this policy's spelling map."""
        return normalize(text, self.policy.spellings)

    def mentions_domain(self, message: str) -> bool:
        """True when the message uses the clinic's vocabulary (ketamine, session, infusion, ...).

        Retrieval asks for more confidence before answering a message without any of these words.
        """
        return self.policy.domain_vocabulary.search(self.normalize(message)) is not None

    def was_in_crisis(self, history_normalized: Sequence[str]) -> bool:
        """True when any earlier user message (judged with its own history) was crisis."""
        for i, text in enumerate(history_normalized):
            verdict = self.crisis.run(text, history_normalized[:i])
            if verdict is not None and verdict.route == "crisis":
                return True
        return False

    def run(self, message: str, history: Sequence[str] = (), query_vector: Any = None) -> Verdict:
        """Return the verdict for ``message`` given the earlier user messages."""
        if not isinstance(message, str):
            raise TypeError("message must be a string")
        if isinstance(history, str):
            raise TypeError("history must be a sequence of earlier user messages, not a string")
        text = self.normalize(message)
        past = [self.normalize(h) for h in list(history)[-self.history_limit :] if isinstance(h, str)]

        verdict = self.crisis.run(text, past)
        if verdict is not None and verdict.route == "crisis":
            return verdict
        informational = verdict  # a pass verdict with resources=True, or None
        if self.similarity is not None and query_vector is not None:
            similar = self.similarity.run(query_vector)
            if similar is not None:
                return similar

        sticky = self.was_in_crisis(past)
        for detector in (self.dosing, self.medical, self.scope):
            found = detector.run(text, past)
            if found is not None:
                return self._with_resources(found, informational, sticky)
        if informational is not None:
            return self._with_resources(informational, None, sticky)
        if sticky:
            return Verdict(
                "pass", "crisis.sticky", "history", "earlier crisis in this conversation; resources kept", True
            )
        return Verdict("pass", reason="no guardrail matched")

    @staticmethod
    def _with_resources(verdict: Verdict, informational: Verdict | None, sticky: bool) -> Verdict:
        notes = []
        if informational is not None and informational is not verdict:
            notes.append("mentions suicide or self-harm as a topic")
        if sticky:
            notes.append("earlier crisis in this conversation; resources kept")
        if not notes:
            return verdict
        return replace(verdict, resources=True, reason="; ".join([verdict.reason, *notes]))
