"""Choose the retriever's weights without touching any evaluation case: cross-validate on the corpus.

    .venv/bin/python eval/crossval.py [--folds 5] [--c 64,256,1024] [--weights 0,0.15,0.25,0.35,0.5]
                                      [--none-weights 1,0.25]

The corpus's alternates and its negatives (corpus/negatives/unanswerable.yaml) are split into folds. For
each fold the held-out ones are removed from the corpus (so from BM25, from the dense neighbours and
from the classifier's training data), and the real `HybridRetriever` ranks each as a patient question.
Reported:
- top-1 accuracy on held-out alternates for each classifier regularisation C, weight of each negative
  in the classifier's training (`bot.classifier.NONE_WEIGHT`) and `retrieval.classifier_weight`
  (0 = the classifier off);
- for each setting, the `min_score` that maximises the share of held-out alternates answered with their
  own entry plus the share of held-out negatives the retriever abstains on, and the setting where that
  sum is highest ("chosen").
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


class MemoryIndex:
    """The part of `EntryIndex` the retriever uses, over vectors held in memory (exact cosine)."""

    def __init__(self, vectors: np.ndarray, entry_ids: list[str], kinds: list[str]) -> None:
        self.vectors, self.entry_ids, self.kinds = vectors, entry_ids, kinds

    def query(self, vector: list[float], n: int) -> list[tuple[str, str, float]]:
        sims = self.vectors @ np.asarray(vector, dtype=np.float32)
        top = np.argsort(-sims)[:n]
        return [(self.entry_ids[i], self.kinds[i], float(sims[i])) for i in top]


def main() -> int:
    from bot.classifier import EntryClassifier
    from bot.corpus import load_corpus, load_negatives
    from bot.embeddings import MiniLMEmbeddings
    from bot.index import documents
    from bot.retriever import HybridRetriever, RetrievalQuery
    from bot.settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", default="64,256,1024")
    parser.add_argument("--weights", default="0,0.15,0.25,0.35,0.5")
    parser.add_argument("--none-weights", default="1",
                        help="weights of each negative in the classifier's training, relative to a phrasing")
    args = parser.parse_args()
    cs = [float(x) for x in args.c.split(",")]
    weights = [float(x) for x in args.weights.split(",")]
    none_weights = [float(x) for x in args.none_weights.split(",")]

    corpus = load_corpus()
    settings = load_settings().retrieval
    docs = documents(corpus)
    embeddings = MiniLMEmbeddings()
    vectors = embeddings.embed([d.text for d in docs])
    negatives = list(load_negatives())
    negative_vectors = embeddings.embed(negatives) if negatives else np.zeros((0, vectors.shape[1]), np.float32)
    rng = np.random.default_rng(0)
    fold_of, negative_fold_of = rng.integers(0, args.folds, len(docs)), rng.integers(0, args.folds, len(negatives))
    held_out_kind = "alternate"
    correct = {(c, nw, w): 0 for c in cs for nw in none_weights for w in weights}
    answered: dict[tuple, list[tuple[float, bool]]] = {k: [] for k in correct}   # (best score, right entry)
    unanswerable: dict[tuple, list[float]] = {k: [] for k in correct}            # best score of a negative
    total = 0
    for fold in range(args.folds):
        test = [i for i, d in enumerate(docs) if d.kind == held_out_kind and fold_of[i] == fold]
        held_out = set(test)
        keep = [i for i in range(len(docs)) if i not in held_out]
        kept_texts = {docs[i].text for i in keep if docs[i].kind == held_out_kind}
        fold_corpus = replace(corpus, entries=tuple(
            replace(e, alternates=tuple(a for a in e.alternates if a in kept_texts)) for e in corpus.entries))
        index = MemoryIndex(vectors[keep], [docs[i].entry_id for i in keep], [docs[i].kind for i in keep])
        negative_test = negative_fold_of == fold
        for c, nw in [(c, nw) for c in cs for nw in none_weights]:
            classifier = EntryClassifier.train(vectors[keep], [docs[i].entry_id for i in keep],
                                               negatives=negative_vectors[~negative_test], c=c, none_weight=nw)
            for w in weights:
                retriever = HybridRetriever(fold_corpus, index, replace(settings, classifier_weight=w),
                                            classifier=classifier)
                for i in test:
                    best = retriever.run(RetrievalQuery(docs[i].text, vectors[i])).best
                    right = best is not None and best.entry_id == docs[i].entry_id
                    correct[(c, nw, w)] += right
                    answered[(c, nw, w)].append((best.score if best else 0.0, right))
                for j in np.flatnonzero(negative_test):
                    best = retriever.run(RetrievalQuery(negatives[j], negative_vectors[j])).best
                    unanswerable[(c, nw, w)].append(best.score if best else 0.0)
        total += len(test)
        print(f"fold {fold + 1}/{args.folds}: {len(test)} held-out alternates", file=sys.stderr)
    print(f"{total} held-out alternates of {len(corpus)} entries; top-1 accuracy")
    print("C, none weight \\ classifier_weight  " + "  ".join(f"{w:>6}" for w in weights))
    for c, nw in [(c, nw) for c in cs for nw in none_weights]:
        print(f"{c:>21}, {nw:>11}  " + "  ".join(f"{correct[(c, nw, w)] / total:6.3f}" for w in weights))
    best = max(correct, key=lambda k: (correct[k], -k[2]))
    print(f"best ranking: C {best[0]}, none weight {best[1]}, classifier_weight {best[2]} "
          f"({correct[best] / total:.3f})")
    if not negatives:
        return 0

    def trade_off(key: tuple, t: float) -> tuple[float, float]:
        right = sum(score >= t and ok for score, ok in answered[key]) / total
        return right, sum(score < t for score in unanswerable[key]) / len(negatives)

    thresholds = [x / 100 for x in range(20, 71)]
    # Each mistake counts the same: an answerable question left unanswered ("please contact the clinic")
    # or an unanswerable one given a neighbouring entry's vetted answer.
    print(f"\nanswering vs abstaining ({len(negatives)} held-out negatives): per setting, the min_score that "
          "maximises alternates answered right + negatives abstained")
    print("      C  none weight  classifier_weight  min_score  answered right  negatives abstained")
    chosen = None
    for key in correct:
        value, t = max((sum(trade_off(key, t)), t) for t in thresholds)
        right, abstained = trade_off(key, t)
        print(f"{key[0]:7}  {key[1]:11}  {key[2]:17}  {t:9.2f}  {right:14.3f}  {abstained:19.3f}")
        if chosen is None or value > chosen[0]:
            chosen = (value, key, t)
    print(f"chosen: C {chosen[1][0]}, none weight {chosen[1][1]}, classifier_weight {chosen[1][2]}, "
          f"min_score {chosen[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
