"""Crisis detector: suicide, self-harm, harm to others, unsafe at home, medical emergency."""

from __future__ import annotations

from collections.abc import Sequence

from .policy import CrisisRules, Policy, PolicyError
from .verdict import Verdict

__all__ = ["CrisisDetector"]

_BLANK = " | "
_SEAM = 160  # characters on each side of the message boundary checked for split phrases
_CACHE_SIZE = 512  # memoised single-message results (history is re-read every turn); memory only


class CrisisDetector:
    """Rule-based crisis detection over normalised text, reading the conversation too.

    Build it from a policy; ``run`` takes the normalised message and the normalised earlier
    user messages (oldest first)::

        >>> from guardrails import load_policy, normalize
        >>> detector = CrisisDetector(load_policy())
        >>> detector.run(normalize("I don't want to wake up tomorrow"), []).route
        'crisis'
        >>> detector.run(normalize("yes, tonight"), [normalize("sometimes I think about not being here")]).rule
        'crisis.followup'
        >>> v = detector.run(normalize("Can ketamine help with suicidal thoughts?"), [])
        >>> (v.route, v.resources)
        ('pass', True)

    Returns a ``crisis`` verdict, a ``pass`` verdict with ``resources=True`` when suicide or
    self-harm is only mentioned as a topic ("can ketamine help with suicidal thoughts?"), or
    ``None``.
    """

    def __init__(self, policy: Policy) -> None:
        rules = getattr(policy, "crisis", None)
        if not isinstance(rules, CrisisRules):
            raise PolicyError("crisis_rules.yaml: (file): policy has no crisis rules")
        if not rules.rules.rules or not rules.topic or not rules.disclosure:
            raise PolicyError("crisis_rules.yaml: rules: crisis rules, topic and disclosure must not be empty")
        self._r = rules
        self._cache: dict[str, Verdict | None] = {}
        self._concern_cache: dict[str, bool] = {}
        self._strip_cache: dict[str, tuple[str, bool]] = {}

    # ------------------------------------------------------------------ single message
    def _strip(self, text: str) -> tuple[str, bool]:
        """Blank idioms and general third-person spans; report whether a topic mention was blanked."""
        if text not in self._strip_cache:
            if len(self._strip_cache) >= _CACHE_SIZE:
                self._strip_cache.clear()
            self._strip_cache[text] = self._strip_uncached(text)
        return self._strip_cache[text]

    def _strip_uncached(self, text: str) -> tuple[str, bool]:
        text, _ = self._r.rules.strip_exempt(text)
        mention = False
        for rule in self._r.generic:
            new = rule.regex.sub(_BLANK, text)
            if new != text:
                mention = True
                text = new
        return text, mention

    def assess(self, text: str) -> Verdict | None:
        """Judge one normalised message on its own (no history). Results are memoised."""
        if text in self._cache:
            return self._cache[text]
        verdict = self._assess(text)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[text] = verdict
        return verdict

    def without_past(self, text: str) -> str:
        """The normalised message with history told as past and resolved blanked out ("I tried years ago,
        I'm fine now"); unchanged when there is none, or when the message says it is happening again."""
        if not self._r.past or any(c.search(text) for c in self._r.current):
            return text
        for rule in self._r.past:
            text = rule.regex.sub(_BLANK, text)
        return text

    def _assess(self, text: str) -> Verdict | None:
        if not text:
            return None
        stripped, mention = self._strip(text)
        if self._r.past and not any(c.search(stripped) for c in self._r.current):
            # history told as past and resolved: blank it, and show the resources (concern)
            for rule in self._r.past:
                new = rule.regex.sub(_BLANK, stripped)
                if new != stripped:
                    mention, stripped = True, new
        rule = self._r.rules.first_match(stripped)
        if rule is not None:
            return Verdict("crisis", f"crisis.{rule.id}", "rules", f"matched crisis rule {rule.id}")
        if any(t.search(stripped) for t in self._r.topic):
            for rule in self._r.disclosure:
                if rule.search(stripped):
                    return Verdict(
                        "crisis", "crisis.disclosure", "rules", f"matched crisis disclosure rule {rule.id}"
                    )
            remaining = stripped
            for frame in self._r.frames:
                remaining = frame.regex.sub(_BLANK, remaining)
            if any(t.search(remaining) for t in self._r.topic):
                return Verdict(
                    "crisis",
                    "crisis.topic_mention",
                    "rules",
                    "mentions suicide or self-harm without an informational framing",
                )
            mention = True
        if mention:
            return Verdict(
                "pass",
                "crisis.informational",
                "rules",
                "mentions suicide or self-harm as a general topic; resources shown",
                resources=True,
            )
        return None

    def is_concern(self, text: str) -> bool:
        """True when a message is crisis or shows concern that makes a short follow-up crisis."""
        if text not in self._concern_cache:
            verdict = self.assess(text)
            if verdict is not None and verdict.route == "crisis":
                found = True
            else:
                stripped, _ = self._strip(text)
                found = any(rule.search(stripped) for rule in self._r.concern)
            if len(self._concern_cache) >= _CACHE_SIZE:
                self._concern_cache.clear()
            self._concern_cache[text] = found
        return self._concern_cache[text]

    # ------------------------------------------------------------------ conversation
    def followup(self, text: str, history: Sequence[str], concerned: bool = False) -> Verdict | None:
        """Crisis read across messages: a phrase split over two, or a short reply or plan after concern.

        ``concerned`` says another layer (the classifier) already found concern in the window."""
        window = [h for h in history[-self._r.followup_window :] if h]
        if not window:
            return None
        # a crisis phrase split across the previous message and this one ("I want to" / "die")
        current, _ = self._strip(text)
        previous, _ = self._strip(window[-1])
        # only the seam matters: the end of the previous message and the start of this one
        joined = f"{previous[-_SEAM:]} {current[:_SEAM]}"
        offset = len(previous[-_SEAM:]) + 1
        for rule in self._r.rules.rules:
            for match in rule.regex.finditer(joined):
                if match.start() < offset < match.end():
                    return Verdict(
                        "crisis", "crisis.followup", "history", f"crisis rule {rule.id} matched across messages"
                    )
        if not concerned and not any(self.is_concern(h) for h in window):
            return None
        if len(current.split()) <= self._r.short_reply_words:
            for rule in self._r.replies:
                if rule.search(current):
                    return Verdict(
                        "crisis", "crisis.followup", "history", f"short reply ({rule.id}) after a concerning message"
                    )
        for rule in self._r.plans:
            if rule.search(current):
                return Verdict(
                    "crisis", "crisis.followup", "history", f"plan or timing ({rule.id}) after a concerning message"
                )
        return None

    def run(self, text_normalized: str, history_normalized: Sequence[str] = ()) -> Verdict | None:
        """Crisis verdict for the message in its conversation, an informational pass, or None."""
        verdict = self.assess(text_normalized)
        if verdict is not None and verdict.route == "crisis":
            return verdict
        followup = self.followup(text_normalized, history_normalized)
        if followup is not None:
            return followup
        return verdict
