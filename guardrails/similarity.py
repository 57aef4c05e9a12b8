"""Crisis similarity layer: a safety net for crisis phrasings the rules miss. Imports numpy only.

    >>> import numpy as np
    >>> def embed(texts):            # any model: L2-normalised float32 rows (n, d)
    ...     rows = np.array([[1.0, 0.0] if "die" in t else [0.0, 1.0] for t in texts], dtype="float32")
    ...     return rows
    >>> layer = CrisisSimilarity(embed, ["I want to die"], ["how long is a session"], threshold=0.6, margin=0.05)
    >>> layer.run(np.array([1.0, 0.0], dtype="float32")).rule
    'crisis.similarity'
    >>> layer.run(np.array([0.0, 1.0], dtype="float32")) is None
    True

The caller embeds the user's message once (the same vector it uses for retrieval) and
passes it as ``query_vector``; the layer fires when the best cosine similarity to a crisis
example is >= ``threshold`` and beats the best negative example by at least ``margin``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .verdict import Verdict

if TYPE_CHECKING:  # pragma: no cover
    from .policy import Policy

__all__ = ["CrisisSimilarity"]

Embed = Callable[[list[str]], np.ndarray]


class CrisisSimilarity:
    """Cosine similarity of a message vector to curated crisis examples and negatives.

    ``embed`` must return L2-normalised float32 rows, shape ``(n, d)``; the constructor
    embeds all examples once and checks the shape and the normalisation.
    """

    def __init__(
        self,
        embed: Embed,
        examples: Sequence[str],
        negatives: Sequence[str],
        threshold: float,
        margin: float,
    ) -> None:
        if not callable(embed):
            raise TypeError("embed must be a callable: list[str] -> numpy.ndarray (n, d)")
        examples = [str(e) for e in examples if str(e).strip()]
        negatives = [str(n) for n in negatives if str(n).strip()]
        if not examples:
            raise ValueError("CrisisSimilarity needs at least one crisis example")
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        if not 0.0 <= float(margin) < 1.0:
            raise ValueError(f"margin must be in [0, 1), got {margin!r}")
        self.threshold = float(threshold)
        self.margin = float(margin)
        self.examples = tuple(examples)
        self.negatives = tuple(negatives)
        self._examples = self._embed(embed, examples)
        self.dim = int(self._examples.shape[1])
        if negatives:
            self._negatives = self._embed(embed, negatives)
            if self._negatives.shape[1] != self.dim:
                raise ValueError("embed returned rows of different widths for examples and negatives")
        else:
            self._negatives = np.zeros((0, self.dim), dtype=np.float32)

    @classmethod
    def from_policy(cls, policy: Policy, embed: Embed) -> CrisisSimilarity:
        """Build the layer from ``policy.similarity`` (guardrails/policy/crisis_examples.yaml)."""
        cfg = policy.similarity
        return cls(embed, cfg.examples, cfg.negatives, cfg.threshold, cfg.margin)

    @staticmethod
    def _embed(embed: Embed, texts: list[str]) -> np.ndarray:
        rows = np.asarray(embed(texts), dtype=np.float32)
        if rows.ndim != 2 or rows.shape[0] != len(texts) or rows.shape[1] == 0:
            raise ValueError(f"embed returned shape {rows.shape}, expected ({len(texts)}, d)")
        if not np.all(np.isfinite(rows)):
            raise ValueError("embed returned non-finite values")
        norms = np.linalg.norm(rows, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            raise ValueError("embed must return L2-normalised rows (normalize_embeddings=True)")
        return rows

    def scores(self, query_vector: np.ndarray) -> tuple[float, float, int]:
        """Return (best crisis score, best negative score, index of the best crisis example)."""
        q = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query vector has {q.shape[0]} dimensions, expected {self.dim}")
        norm = float(np.linalg.norm(q))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError("query vector is zero or not finite")
        q = q / norm
        sims = self._examples @ q
        best = int(np.argmax(sims))
        negative = float(np.max(self._negatives @ q)) if len(self._negatives) else -1.0
        return float(sims[best]), negative, best

    def run(self, query_vector: np.ndarray) -> Verdict | None:
        """A ``crisis`` verdict when the message is close to a crisis example, else None."""
        score, negative, best = self.scores(query_vector)
        if score >= self.threshold and score - negative >= self.margin:
            return Verdict(
                "crisis",
                "crisis.similarity",
                "similarity",
                f"close to curated crisis example #{best} (score {score:.2f}, best negative {negative:.2f})",
                score=round(score, 4),
            )
        return None
