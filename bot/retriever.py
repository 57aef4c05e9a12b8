"""Hybrid retrieval: dense MiniLM similarity from Chroma, BM25 and an entry classifier, ranked per entry.

    retriever = HybridRetriever(corpus, index, settings.retrieval, EntryClassifier.for_index(index, negatives))
    result = retriever.run(RetrievalQuery(text="how long is a session", vector=vec))
    result.best.entry_id, result.abstained, result.reason

An entry's dense score blends the cosines of its two best-matching phrasings (question or alternates),
or takes its answer's cosine when that is higher. Its keyword score is
BM25 over the whole entry, squashed to 0..1 by s / (s + KEYWORD_HALF). The fused score is
`dense_weight * dense + (1 - dense_weight) * keyword`; the score blends it with the entry classifier's
probability (`bot/classifier.py`): `(1 - classifier_weight) * fused + classifier_weight * probability`.
The retriever abstains when the best score is under `min_score` (`min_score_off_topic` when the
question uses none of the clinic's words) or the best two are closer than `min_margin` (see
docs/retrieval.md for calibration).

Topic guard (guardrails/policy/topic_slots.yaml, `guardrails.topics`): before the thresholds, an entry whose
slot contradicts the message's (the message says BEFORE my infusion, the entry is about AFTER; IV vs nasal;
booking vs rescheduling; the clinic's number vs 988's) is set aside. With `on_conflict: next` the next entry
must then pass the same thresholds; with `abstain` the retriever says it has no answer. Pass `topics=None`
to turn the guard off (eval/topic_guard.py measures it that way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.bm25 import BM25, SPANISH_STOPWORDS, tokenize
from bot.classifier import EntryClassifier
from bot.corpus import Corpus
from bot.index import EntryIndex
from bot.settings import RetrievalSettings
from guardrails.topics import TopicGuard, load_topic_guard

KEYWORD_HALF = 10.0     # BM25 score that maps to 0.5
PHRASING_WEIGHTS = (0.6, 0.4)
CONTEXT_WEIGHT = 0.35   # how much an earlier turn counts in a follow-up


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    score: float
    dense: float
    keyword: float
    probability: float = 0.0   # the entry classifier's


@dataclass(frozen=True)
class RetrievalQuery:
    text: str
    vector: np.ndarray
    context_text: str | None = None          # the earlier user turn a follow-up refers to
    context_vector: np.ndarray | None = None
    on_topic: bool = True    # uses the clinic's vocabulary; off-topic messages need a higher score
    # Entries the guardrails expect for a general question they recognised (referrals.yaml): one of them,
    # ranked first, is served from expected_min_score up instead of min_score.
    expected: frozenset[str] = frozenset()
    expected_min_score: float = 1.0
    # The question is written in a language the corpus carries translations for (Spanish): rank over the
    # translated phrasings too. English questions never see them, so English ranking is as it was.
    translated: bool = False


@dataclass(frozen=True)
class Retrieval:
    candidates: list[Candidate] = field(default_factory=list)
    abstained: bool = True
    reason: str = ""
    used_context: bool = False
    set_aside: list[str] = field(default_factory=list)   # entries the topic guard set aside, best first

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class HybridRetriever:
    def __init__(self, corpus: Corpus, index: EntryIndex, settings: RetrievalSettings,
                 classifier: EntryClassifier, topics: TopicGuard | None | bool = True,
                 translated_classifier: EntryClassifier | None = None) -> None:
        settings.validate("retrieval settings")
        self.settings = settings
        self.index = index
        self.classifier = classifier
        self.bm25 = BM25({e.id: " ".join((e.question, *e.alternates, e.answer)) for e in corpus.entries})
        # For translated (Spanish) questions: the entries' translated phrasings too, and a classifier
        # trained on them (`EntryClassifier.for_index(..., translations=True)`).
        self.translated_classifier = translated_classifier or classifier
        self.bm25_translated = BM25({e.id: " ".join((e.question, *e.alternates, e.answer, *e.translated_phrasings))
                                     for e in corpus.entries}, stopwords=SPANISH_STOPWORDS) \
            if any(e.translated_phrasings for e in corpus.entries) else self.bm25
        # True: the shipped topic_slots.yaml (a broken file raises PolicyError at start-up); None/False: off
        self.topics: TopicGuard | None = load_topic_guard() if topics is True else (topics or None)
        self.entry_slots = {e.id: self.topics.entry_slots(e.id, e.question) for e in corpus.entries} \
            if self.topics is not None else {}

    def _dense(self, vector: np.ndarray, translated: bool = False) -> tuple[dict[str, float], float]:
        """Per-entry dense score: the best two phrasings (0.6/0.4) or the answer, whichever is higher.

        Two agreeing phrasings are stronger evidence than one lucky match, which keeps neighbouring
        entries apart; the answer text still counts for questions phrased like the answer.
        """
        phrasings: dict[str, list[float]] = {}
        answers: dict[str, float] = {}
        hits = self.index.query(vector.tolist(), self.settings.candidates, translations=translated)
        floor = hits[-1][2] if hits else 0.0   # documents beyond the neighbours score at most this
        for entry_id, kind, cosine in hits:
            if kind == "answer":
                answers[entry_id] = max(cosine, answers.get(entry_id, -1.0))
            else:
                phrasings.setdefault(entry_id, []).append(cosine)
        dense: dict[str, float] = {}
        for entry_id in set(phrasings) | set(answers):
            top = sorted(phrasings.get(entry_id, []), reverse=True)[:2] + [floor, floor]
            dense[entry_id] = max(PHRASING_WEIGHTS[0] * top[0] + PHRASING_WEIGHTS[1] * top[1],
                                  answers.get(entry_id, -1.0))
        return dense, floor

    def _rank(self, text: str, vector: np.ndarray, weights: dict[str, float] | None = None,
              translated: bool = False) -> list[Candidate]:
        dense, floor = self._dense(vector, translated)
        keyword_raw = (self.bm25_translated if translated else self.bm25).run(text, weights)
        probabilities = (self.translated_classifier if translated else self.classifier).run(vector)
        w, cw = self.settings.dense_weight, self.settings.classifier_weight
        likely = {e for e, p in probabilities.items() if p >= 0.01}
        candidates = []
        for entry_id in set(dense) | set(keyword_raw) | likely:
            d = dense.get(entry_id, floor)
            k = keyword_raw.get(entry_id, 0.0)
            k = k / (k + KEYWORD_HALF)
            p = probabilities.get(entry_id, 0.0)
            score = (1 - cw) * (w * d + (1 - w) * k) + cw * p
            candidates.append(Candidate(entry_id, round(score, 4), round(d, 4), round(k, 4), round(p, 4)))
        candidates.sort(key=lambda c: (-c.score, c.entry_id))
        return candidates

    def run(self, query: RetrievalQuery) -> Retrieval:
        used_context = query.context_vector is not None and query.context_text is not None
        if used_context:
            # A follow-up borrows the earlier question's topic, not its intent: blend the two, and
            # set aside the entry that already answered the earlier question.
            vector = query.vector + CONTEXT_WEIGHT * query.context_vector
            vector = vector / (np.linalg.norm(vector) or 1.0)
            weights = {t: CONTEXT_WEIGHT for t in tokenize(query.context_text or "")}
            candidates = self._rank(query.text, vector, weights, query.translated)
            previous = self._rank(query.context_text, query.context_vector, translated=query.translated)
            if previous and len(candidates) > 1:
                candidates = [c for c in candidates if c.entry_id != previous[0].entry_id]
        else:
            candidates = self._rank(query.text, query.vector, translated=query.translated)
        candidates, set_aside, why = self._topic_guard(query.text, candidates)
        candidates = candidates[: max(self.settings.top_k, 2)]
        if why and self.topics is not None and self.topics.on_conflict == "abstain":
            return Retrieval(candidates, True, why.removeprefix("; "), used_context, set_aside)
        if not candidates:
            return Retrieval([], True, "nothing in the corpus resembles the question" + why, used_context, set_aside)
        best = candidates[0]
        threshold = self.settings.min_score if query.on_topic else self.settings.min_score_off_topic
        if best.entry_id in query.expected:
            threshold = min(threshold, query.expected_min_score)
            why += f"; {best.entry_id} is the entry the guardrails expected (threshold {threshold})"
        if best.score < threshold:
            kind = "" if query.on_topic else " (no clinic vocabulary in the question)"
            return Retrieval(candidates, True,
                             f"best entry scored {best.score:.3f}, under the {threshold} threshold{kind}{why}",
                             used_context, set_aside)
        if len(candidates) > 1 and best.score - candidates[1].score < self.settings.min_margin:
            return Retrieval(candidates, True,
                             f"top two entries within {self.settings.min_margin} of each other: too close to call",
                             used_context, set_aside)
        return Retrieval(candidates, False, f"best entry scored {best.score:.3f}{why}", used_context, set_aside)

    def _topic_guard(self, text: str, candidates: list[Candidate]) -> tuple[list[Candidate], list[str], str]:
        """Set aside the leading entries whose topic slot contradicts the message's (topic_slots.yaml).

        Only entries ranked above the first one that fits are set aside; the reason names the first conflict.
        """
        if self.topics is None or not candidates:
            return candidates, [], ""
        said = self.topics.slots(text)
        if not said:
            return candidates, [], ""
        set_aside: list[str] = []
        first = None
        for candidate in candidates:
            conflict = self.topics.conflict(said, self.entry_slots.get(candidate.entry_id, {}))
            if conflict is None:
                break
            set_aside.append(candidate.entry_id)
            first = first or (candidate.entry_id, conflict)
        if first is None:
            return candidates, [], ""
        entry_id, (slot, message_values, entry_values) = first
        why = (f"; topic guard set aside {', '.join(set_aside)} ({slot}: the question says {message_values}, "
               f"{entry_id} is about {entry_values})")
        return candidates[len(set_aside):], set_aside, why
