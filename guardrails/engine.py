"""The guardrail pipeline: crisis -> dosing -> medical advice -> out of scope -> pass."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from .crisis import CrisisDetector
from .dosing import DosingDetector
from .lexicon import CrisisLexicon
from .medical import MedicalAdviceDetector
from .normalize import normalize
from .policy import Policy
from .risk import Assessment, RiskDetector
from .scope import ScopeDetector
from .verdict import Verdict

__all__ = ["Guardrails"]

_NOT_WORD = re.compile(r"[^\w\s]")


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
        >>> guard.run("ok thanks", history=["I want to die"]).rule
        'crisis.acknowledged'

    Order: crisis (rules, the multilingual lexicon and, when given, the learned classifier on every part
    of the message) -> crisis across the conversation (earlier user messages judged by the same
    detector, cached per text) -> dosing -> medical_advice -> out_of_scope -> pass. A message with a
    lesser risk signal (concern), or after a crisis earlier in the conversation, keeps
    ``resources=True`` whatever it routes to. ``history`` holds the earlier USER messages, oldest first.

    ``classifier`` (a ``CrisisClassifier``) and ``embed`` (texts -> unit vectors) go together; without
    them only the rule layers run. Exceptions from the rule layers are not swallowed: the caller must
    catch any exception and send ``policy.messages["fallback"]`` (fail closed).
    """

    def __init__(self, policy: Policy, classifier=None, embed: Callable | None = None,  # noqa: ANN001
                 lexicon: CrisisLexicon | None = None) -> None:
        if not isinstance(policy, Policy):
            raise TypeError("Guardrails needs a Policy from load_policy()")
        self.policy = policy
        self.history_limit = policy.risk.history_window
        self.crisis = CrisisDetector(policy)
        self.lexicon = lexicon if lexicon is not None else policy.lexicon
        self.risk = RiskDetector(self.crisis, self.lexicon, classifier, embed, policy.risk, self.normalize,
                                 small_talk=self.is_acknowledgement)
        self.dosing = DosingDetector(policy)
        self.medical = MedicalAdviceDetector(policy)
        self.scope = ScopeDetector(policy)
        phrases = "|".join(re.escape(a) for a in sorted(policy.risk.acknowledgements, key=len, reverse=True))
        self._acks = re.compile(rf"(?:{phrases})(?: (?:{phrases}))*")

    def normalize(self, text: str) -> str:
        """Normalise text with this policy's spelling map."""
        return normalize(text, self.policy.spellings)

    def mentions_domain(self, message: str) -> bool:
        """True when the message uses the clinic's vocabulary (ketamine, session, infusion, ...).

        Retrieval asks for more confidence before answering a message without any of these words.
        """
        return self.policy.domain_vocabulary.search(self.normalize(message)) is not None

    def assess(self, message: str) -> Assessment:
        """The risk of one message on its own (cached): what staff and the evaluation see."""
        return self.risk.assess(message)

    def is_acknowledgement(self, message: str) -> bool:
        """"ok", "thanks", "jk" and the like (crisis_classifier.yaml: acknowledgements)."""
        text = " ".join(_NOT_WORD.sub(" ", self.normalize(message)).split())
        return bool(text) and len(text.split()) <= 8 and self._acks.fullmatch(text) is not None

    def run(self, message: str, history: Sequence[str] = ()) -> Verdict:
        """Return the verdict for ``message`` given the earlier user messages."""
        if not isinstance(message, str):
            raise TypeError("message must be a string")
        if isinstance(history, str):
            raise TypeError("history must be a sequence of earlier user messages, not a string")
        earlier_raw = [h for h in list(history)[-self.history_limit :] if isinstance(h, str) and h.strip()]
        found = self.risk.assess(message)
        if found.level == "crisis":
            return found.verdict()

        text = self.normalize(message)
        earlier = [self.risk.assess(h) for h in earlier_raw]
        in_crisis = any(a.level == "crisis" for a in earlier)
        if in_crisis and self.is_acknowledgement(message):
            return Verdict("crisis", "crisis.acknowledged", "history",
                           "short reply after a crisis earlier in this conversation; resources again")
        concerned = any(a.level in ("concern", "crisis") and not a.informational for a in earlier)
        followup = self.crisis.followup(text, [self.normalize(h) for h in earlier_raw], concerned)
        if followup is not None:
            return followup
        if concerned and not in_crisis and self.risk.classifier is not None:
            # "I can't do this anymore" then "I have the pills right here": judged together.
            joined = self.risk.assess(f"{earlier_raw[-1]} {message}")
            if joined.level == "crisis":
                return Verdict("crisis", "crisis.conversation", "history",
                               f"read with the previous message: {joined.reason}", score=joined.score,
                               threshold=joined.threshold, sentence=joined.sentence)
        concern = found.verdict()   # pass with resources=True for concern, else None
        general: Verdict | None = None   # a general question near a decline: answer, then refer
        for detector in (self.dosing, self.medical, self.scope):
            verdict = detector.run(text, [])
            if verdict is None:
                continue
            if verdict.route == "pass":
                general = general or verdict
                continue
            return self._with_resources(verdict, concern, in_crisis or concerned)
        refer = general.refer if general is not None else None
        if concern is not None:
            return replace(self._with_resources(concern, None, in_crisis or concerned), refer=refer)
        if in_crisis or concerned:
            # A risk said earlier does not go away because the next message is a booking question.
            return Verdict("pass", "crisis.sticky", "history",
                           f"earlier {'crisis' if in_crisis else 'risk signal'} in this conversation; resources kept",
                           True, refer=refer)
        return general or Verdict("pass", reason="no guardrail matched")

    @staticmethod
    def _with_resources(verdict: Verdict, concern: Verdict | None, sticky: bool) -> Verdict:
        notes = []
        extra = {}
        if concern is not None and concern is not verdict:
            notes.append(concern.reason)
            extra = {"score": concern.score, "threshold": concern.threshold, "sentence": concern.sentence}
        if sticky:
            notes.append("earlier crisis in this conversation; resources kept")
        if not notes:
            return verdict
        return replace(verdict, resources=True, reason="; ".join([verdict.reason, *notes]), **extra)
