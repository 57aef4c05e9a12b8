"""Hybrid retrieval: dense MiniLM similarity from Chroma fused with BM25, ranked per corpus entry.

    retriever = HybridRetriever(corpus, index, settings.retrieval)
    result = retriever.run(RetrievalQuery(text="how long is a session", vector=vec))
    result.best.entry_id, result.abstained, result.reason

An entry's dense score is the best cosine over its question, alternates and answer. Its keyword score is
BM25 over the whole entry, squashed to 0..1 by s / (s + KEYWORD_HALF). The fused score is
`dense_weight * dense + (1 - dense_weight) * keyword`. The retriever abstains when the best fused score
is under `min_score` or the best two are closer than `min_margin` (see docs/retrieval.md for calibration).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.bm25 import BM25, tokenize
from bot.corpus import Corpus
from bot.index import EntryIndex
from bot.settings import RetrievalSettings

KEYWORD_HALF = 6.0      # BM25 score that maps to 0.5
CONTEXT_WEIGHT = 0.35   # how much an earlier turn counts in a follow-up


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    score: float
    dense: float
    keyword: float


@dataclass(frozen=True)
class RetrievalQuery:
    text: str
    vector: np.ndarray
    context_text: str | None = None          # the earlier user turn a follow-up refers to
    context_vector: np.ndarray | None = None


@dataclass(frozen=True)
class Retrieval:
    candidates: list[Candidate] = field(default_factory=list)
    abstained: bool = True
    reason: str = ""
    used_context: bool = False

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class HybridRetriever:
    def __init__(self, corpus: Corpus, index: EntryIndex, settings: RetrievalSettings) -> None:
        settings.validate("retrieval settings")
        self.settings = settings
        self.index = index
        self.bm25 = BM25({e.id: " ".join((e.question, *e.alternates, e.answer)) for e in corpus.entries})

    def _rank(self, text: str, vector: np.ndarray, weights: dict[str, float] | None = None) -> list[Candidate]:
        dense: dict[str, float] = {}
        for entry_id, cosine in self.index.query(vector.tolist(), self.settings.candidates):
            if cosine > dense.get(entry_id, -1.0):
                dense[entry_id] = cosine
        floor = min(dense.values()) if dense else 0.0   # entries beyond the neighbours score at most this
        keyword_raw = self.bm25.run(text, weights)
        w = self.settings.dense_weight
        candidates = []
        for entry_id in set(dense) | set(keyword_raw):
            d = dense.get(entry_id, floor)
            k = keyword_raw.get(entry_id, 0.0)
            k = k / (k + KEYWORD_HALF)
            candidates.append(Candidate(entry_id, round(w * d + (1 - w) * k, 4), round(d, 4), round(k, 4)))
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
            candidates = self._rank(query.text, vector, weights)
            previous = self._rank(query.context_text, query.context_vector)
            if previous and len(candidates) > 1:
                candidates = [c for c in candidates if c.entry_id != previous[0].entry_id]
        else:
            candidates = self._rank(query.text, query.vector)
        candidates = candidates[: max(self.settings.top_k, 2)]
        if not candidates:
            return Retrieval([], True, "nothing in the corpus resembles the question", used_context)
        best = candidates[0]
        if best.score < self.settings.min_score:
            return Retrieval(candidates, True,
                             f"best entry scored {best.score:.3f}, under the {self.settings.min_score} threshold",
                             used_context)
        if len(candidates) > 1 and best.score - candidates[1].score < self.settings.min_margin:
            return Retrieval(candidates, True,
                             f"top two entries within {self.settings.min_margin} of each other: too close to call",
                             used_context)
        return Retrieval(candidates, False, f"best entry scored {best.score:.3f}", used_context)
