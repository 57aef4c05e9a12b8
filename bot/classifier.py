"""Which entry is a question about? A softmax regression trained on the corpus's own phrasings.

Nearest-neighbour similarity treats every phrasing alike; a classifier trained on all of an entry's
phrasings (question, alternates, answer) learns which parts of the embedding tell neighbouring entries
apart (booking vs rescheduling, oral vs intramuscular). Cross-validated on alternates held out of
training, it lifts the retriever's top-1 accuracy from 0.75 to 0.83 (eval/crossval.py, docs/retrieval.md).

Questions no entry answers (`corpus/negatives/unanswerable.yaml`) train one more class, "none": the
probability it takes is taken from every entry, so a question beyond the corpus lowers every entry's
score instead of handing a confident probability to whichever entry is least unlike it.

    classifier = EntryClassifier.for_index(index, negatives)   # trained once per set of vectors, then cached
    classifier.run(vector)                                     # {"sessions-length": 0.91, ...}

Training reads the vectors already stored in the index (and the negatives' vectors, which the caller
embeds), so it needs no model; it runs only when those vectors changed (about 15 s on 2 cores). A query
is one matrix product.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger("faqbot.classifier")
REGULARISATION_C = 256.0   # inverse L2 strength; chosen by cross-validation over held-out alternates
NONE = ""                  # the class of questions no entry answers
NONE_WEIGHT = 1.0          # each negative's weight in training, relative to one phrasing (cross-validated)
TOLERANCE = 1e-8           # optimiser tolerance: see train()
CACHE_VERSION = 2          # bump when training changes in a way the digest of its inputs cannot see
CACHE_KEEP = 16            # trained classifiers kept in the cache (about 0.3 MB each)


class EntryClassifier:
    """Probabilities over entries (and "none", when trained with negatives) for a unit-length vector."""

    def __init__(self, entry_ids: list[str], weights: np.ndarray, bias: np.ndarray) -> None:
        if weights.ndim != 2 or weights.shape[0] != len(entry_ids) or bias.shape != (len(entry_ids),):
            raise ValueError("classifier weights do not match its entry ids")
        if len([e for e in entry_ids if e != NONE]) < 2:
            raise ValueError("a classifier needs at least two entries")
        self.entry_ids = list(entry_ids)
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)

    @classmethod
    def train(cls, vectors: np.ndarray, labels: list[str], negatives: np.ndarray | None = None,
              c: float = REGULARISATION_C, none_weight: float = NONE_WEIGHT) -> EntryClassifier:
        from sklearn.linear_model import LogisticRegression  # heavy import: only when (re)training

        if len(set(labels) - {NONE}) < 2:
            raise ValueError("a classifier needs phrasings of at least two entries")
        vectors = np.asarray(vectors, dtype=np.float64)
        labels = list(labels)
        weights = [1.0] * len(labels)
        if negatives is not None and len(negatives):
            vectors = np.vstack([vectors, np.asarray(negatives, dtype=np.float64)])
            labels += [NONE] * len(negatives)
            weights += [none_weight] * len(negatives)
        entry_ids = sorted(set(labels))
        # Trained to convergence (sklearn's default tolerance stops early, where a 1e-7 change in the
        # inputs moved probabilities by up to 0.004): the model is then a function of the corpus alone.
        model = LogisticRegression(C=c, max_iter=5000, tol=TOLERANCE)
        model.fit(vectors, labels, sample_weight=np.asarray(weights))
        order = [list(model.classes_).index(e) for e in entry_ids]
        return cls(entry_ids, model.coef_[order], model.intercept_[order])

    def run(self, vector: np.ndarray) -> dict[str, float]:
        """Each entry's probability; what they leave short of 1 is the probability that none fits."""
        logits = self.weights @ np.asarray(vector, dtype=np.float32) + self.bias
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        return {e: p for e, p in zip(self.entry_ids, probs.tolist(), strict=True) if e != NONE}

    # -- cache ---------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, entry_ids=np.array(self.entry_ids), weights=self.weights, bias=self.bias)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> EntryClassifier:
        with np.load(path, allow_pickle=False) as data:
            return cls([str(e) for e in data["entry_ids"]], data["weights"], data["bias"])

    @classmethod
    def for_index(cls, index, negatives: np.ndarray | None = None,  # noqa: ANN001
                  translations: bool = False, cache_dir: Path | None = None) -> EntryClassifier:
        """The classifier for a `bot.index.EntryIndex`'s vectors and these negatives' vectors, from the cache
        or trained now. ``translations``: trained on the translated phrasings too (the classifier for Spanish
        questions); without, it is the English classifier, unchanged by them.

        The cache (``cache_dir``, by default `var/models/entry-classifiers`) is keyed by a digest of exactly
        what training reads (the index's vectors and ids, the negatives, the settings), so every index that
        holds the same vectors shares one trained model: a rebuild, the tests' indexes, replicas."""
        from bot.settings import keep_newest, models_dir

        negatives = None if negatives is None or not len(negatives) else np.asarray(negatives, dtype=np.float32)
        digest = hashlib.sha256(f"{REGULARISATION_C}|{NONE_WEIGHT}|{TOLERANCE}|{CACHE_VERSION}".encode())
        digest.update(index.fingerprint(translations).encode())
        if negatives is not None:
            digest.update(negatives.tobytes())
        folder = Path(cache_dir) if cache_dir is not None else models_dir() / "entry-classifiers"
        path = folder / f"entry-{digest.hexdigest()[:20]}.npz"
        for stale in Path(index.path).glob("classifier-*.npz"):   # where earlier versions kept them
            stale.unlink(missing_ok=True)
        try:
            classifier = cls.load(path)
            os.utime(path)   # recently used: kept by the pruning below
            return classifier
        except (OSError, ValueError, KeyError):
            pass
        vectors, labels = index.vectors(translations=translations)
        classifier = cls.train(vectors, labels, negatives)
        log.info("trained entry classifier on %d phrasings of %d entries and %d negatives", len(labels),
                 len(set(labels)), 0 if negatives is None else len(negatives))
        try:
            classifier.save(path)
            keep_newest(folder, "entry-*.npz", CACHE_KEEP)
        except OSError:
            pass   # a read-only disk only costs start-up time
        return classifier
