"""How risky is one message? Rules, then the multilingual lexicon, then the learned classifier, per sentence.

    detector = RiskDetector(rules, lexicon, classifier, embed, policy.risk, normalize)
    found = detector.assess("work was awful. bought a rope today. anyway can I move my appointment?")
    found.level, found.layer, found.sentence, found.score, found.threshold
    # ('crisis', 'classifier', 'bought a rope today.', 0.97, 0.7)

Layers, in order (the first that decides wins):
1. the English crisis rules (`CrisisDetector`, exact and explainable) on the whole normalised message;
2. the crisis lexicon for other languages (`CrisisLexicon`);
3. the crisis classifier on every part of the message (`guardrails.sentences.risk_units`): the message's
   risk is its riskiest part; crisis when P(crisis) >= the crisis threshold for that many parts
   (crisis_threshold, raised by crisis_threshold_step per doubling of the parts), concern when
   P(crisis) + P(concern) >= concern_threshold.
Results are cached per text, so re-reading a conversation's earlier messages every turn is cheap.
When the classifier cannot run (no model, encoder error) the message is treated as concern: the reply
carries the crisis line (fail closed), and the error is logged by type only.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .crisis import CrisisDetector
from .language import LanguageDetector
from .lexicon import CrisisLexicon
from .policy import RiskSettings
from .sentences import risk_units
from .verdict import Verdict

__all__ = ["Assessment", "RiskDetector"]

_LANGUAGE = LanguageDetector()

log = logging.getLogger("faqbot.guardrails")
LEVELS = ("none", "concern", "crisis")
_CACHE_SIZE = 2048


@dataclass(frozen=True)
class Assessment:
    """The risk of one message on its own."""

    level: str                     # none | concern | crisis
    layer: str | None = None       # rules | lexicon | classifier
    rule: str | None = None        # rule id (rules, lexicon) or "crisis.classifier" / "crisis.concern"
    reason: str = ""
    sentence: str | None = None    # the part that decided (staff only; never logged)
    score: float | None = None     # the classifier's probability for that part
    threshold: float | None = None
    informational: bool = False    # suicide or self-harm mentioned as a topic (rules)

    def verdict(self) -> Verdict | None:
        """A crisis verdict, a pass-with-resources verdict for concern, or None."""
        if self.level == "none":
            return None
        route = "crisis" if self.level == "crisis" else "pass"
        return Verdict(route, self.rule, self.layer, self.reason, resources=self.level == "concern",
                       score=self.score, threshold=self.threshold, sentence=self.sentence)


class RiskDetector:
    """Rules -> lexicon -> classifier over the parts of a message. ``classifier`` and ``embed`` may be None
    (the rule layers alone: the corpus linter, rule tests)."""

    def __init__(self, rules: CrisisDetector, lexicon: CrisisLexicon | None, classifier, embed: Callable | None,
                 settings: RiskSettings, normalize: Callable[[str], str],
                 small_talk: Callable[[str], bool] | None = None) -> None:  # noqa: ANN001
        if (classifier is None) != (embed is None):
            raise ValueError("give both the crisis classifier and an embed function, or neither")
        if classifier is not None and not callable(getattr(classifier, "probabilities", None)):
            raise TypeError("classifier must be a guardrails.risk_model.CrisisClassifier")
        self.rules = rules
        self.lexicon = lexicon
        self.classifier = classifier
        self.embed = embed
        self.settings = settings
        self.normalize = normalize
        self.small_talk = small_talk or (lambda text: False)
        self._cache: OrderedDict[str, Assessment] = OrderedDict()
        self._lock = threading.Lock()

    def assess(self, text: str) -> Assessment:
        """The risk of ``text`` (cleaned, not normalised) on its own; memoised."""
        with self._lock:
            if text in self._cache:
                self._cache.move_to_end(text)
                return self._cache[text]
        found = self._assess(text)
        if found.layer != "error":
            with self._lock:
                self._cache[text] = found
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return found

    def _assess(self, text: str) -> Assessment:
        normalized = self.normalize(text)
        ruled = self.rules.assess(normalized)
        if ruled is not None and ruled.route == "crisis" and ruled.rule not in self.settings.rules_as_concern:
            return Assessment("crisis", "rules", ruled.rule, ruled.reason)
        informational = ruled is not None   # suicide or self-harm as a topic: the crisis line at least
        if self.lexicon is not None:
            # A past told as resolved ("hace años intenté quitarme la vida, hoy estoy bien") is not a crisis
            # phrase now: the lexicon reads the message without it.
            unpast = self.rules.without_past(normalized) if informational else normalized
            found = self.lexicon.run(unpast if unpast != normalized else text)
            if found is not None:
                lang, phrase = found
                return Assessment("crisis", "lexicon", f"crisis.lexicon.{lang}",
                                  f"matched a crisis phrase in the {lang} lexicon", sentence=phrase)
        # "bye", "thanks", "ok" on their own: small talk, not a farewell (rules still ran above; after a
        # crisis earlier in the conversation the engine answers them with the crisis acknowledgement).
        learned = Assessment("none") if self.small_talk(text) else self._classify(text)
        if learned.level != "none":
            return learned
        if informational:
            return Assessment("concern", "rules", ruled.rule, ruled.reason, informational=True)
        return learned

    def _classify(self, text: str) -> Assessment:
        if self.classifier is None or self.embed is None:
            return Assessment("none")
        s = self.settings
        try:
            units = risk_units(text, s.long_message_chars)
            probs = self.classifier.probabilities(self.embed(units), units)
        except Exception as exc:  # noqa: BLE001 - fail closed: the reply carries the crisis line
            log.error("crisis classifier failed (%s); treating the message as concern", type(exc).__name__)
            return Assessment("concern", "error", "crisis.classifier_error",
                              f"crisis classifier unavailable ({type(exc).__name__}); crisis line shown")
        crisis = probs[:, 2]
        best = int(crisis.argmax())
        threshold = round(s.crisis_threshold_for(len(units)), 4)
        if s.crisis_threshold_by_language:
            lang = _LANGUAGE.run(text).lang
            threshold = max(threshold, s.crisis_threshold_by_language.get(lang or "", 0.0))
        if crisis[best] >= threshold:
            return Assessment("crisis", "classifier", "crisis.classifier",
                              f"crisis classifier: P(crisis) {crisis[best]:.2f} >= {threshold:.2f} "
                              f"({len(units)} parts)",
                              sentence=units[best], score=round(float(crisis[best]), 4), threshold=threshold)
        risk = probs[:, 1] + probs[:, 2]
        best = int(risk.argmax())
        if risk[best] >= s.concern_threshold:
            return Assessment("concern", "classifier", "crisis.concern",
                              f"crisis classifier: P(concern or crisis) {risk[best]:.2f} >= {s.concern_threshold:.2f}",
                              sentence=units[best], score=round(float(risk[best]), 4), threshold=s.concern_threshold)
        return Assessment("none", "classifier", None, "", sentence=units[int(risk.argmax())],
                          score=round(float(risk.max()), 4), threshold=s.concern_threshold)
