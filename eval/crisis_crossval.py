"""Choose the crisis classifier's settings from the TRAINING data alone, split by writer.

Leave-one-group-out, by style (default) or by writer: for each group, train on the other groups and
judge the held-out group's examples the way the product does (every part of the message, the riskiest
part decides). By style, every fold holds out one way of writing (narratives, slang, typos ...) across
all constructs and writers; by writer, a fold holds out one helper's file, and since each training
writer covered different constructs, that measures transfer to constructs never seen (a much harsher
test). Reports, per regularisation C and threshold: crisis recall over the held-out crisis examples,
the share of crisis or concern examples that would get the crisis line, and the false-crisis rate on
the held-out `none` examples. The evaluation sets (eval/crisis/) are never read.

    .venv/bin/python eval/crisis_crossval.py --c 16 --folds 5 --base-parts 16 --steps 0,0.05,0.1,0.15,0.2,0.3

Rule used to pick: for each C and threshold step (the raise of the crisis threshold per doubling of a
message's parts beyond --base-parts), the lowest crisis threshold whose held-out false-crisis rate on all
`none` examples is <= MAX_FALSE_CRISIS (3 %, the target for hard negatives; a first rule at 8 % handed
off 5 % of ordinary questions on the development sets); the C and step with the best crisis recall.
The false-crisis rate on long harmless examples (over LONG_CHARS characters) is reported beside it; a
rule that also bounded it at 3 % chose a step from the first part (base 1) that cut hand-off recall on
the development sets from 0.88 to 0.80, so crisis recall comes first;
then the highest concern threshold (not above it) at which held-out crisis-or-concern examples get the
crisis line >= MIN_LINE_RECALL of the time. The style split is harsh (a fold never saw its style), so
these rates are pessimistic; eval/crisis/ measures the chosen setting on other writers' wording.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from the repo
    sys.path.insert(0, str(ROOT))

from bot.crisis_model import training_rows  # noqa: E402
from bot.embeddings import MiniLMEmbeddings  # noqa: E402
from guardrails.risk_model import CrisisClassifier  # noqa: E402
from guardrails.sentences import risk_units  # noqa: E402
from guardrails.training_data import load_examples  # noqa: E402

THRESHOLDS = [round(x, 2) for x in np.arange(0.2, 0.91, 0.05)]
MAX_FALSE_CRISIS = 0.03   # pooled held-out `none` examples handed off: the hard-negative target
MIN_LINE_RECALL = 0.96    # held-out crisis or concern examples that get at least the crisis line
LONG_CHARS = 400          # "long" for the separate false-crisis bound on long harmless messages


def _disk_cached(embed, folder: Path):  # noqa: ANN001, ANN202
    """Vectors kept on disk per text, so re-runs after a data change embed only the new texts."""
    path = folder / "vectors.npz"
    store: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            store = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def run(texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        if missing:
            store.update(zip(missing, embed(missing), strict=True))
            folder.mkdir(parents=True, exist_ok=True)
            keys = list(store)
            np.savez(path, texts=np.array(keys), vectors=np.stack([store[k] for k in keys]))
        return np.stack([store[t] for t in texts])

    return run


def _owners(examples, rows_text: list[str]) -> np.ndarray:  # noqa: ANN001
    """Which example each training row comes from (rows are the examples, then their parts in order)."""
    owner = list(range(len(examples)))
    from bot.crisis_model import PART_CONSTRUCTS

    for i, e in enumerate(examples):
        if e.label == "none" and e.construct in PART_CONSTRUCTS:
            owner.extend([i] * (len(risk_units(e.text)) - 1))
    if len(owner) != len(rows_text):
        raise RuntimeError("training rows and their owners disagree")
    return np.asarray(owner)


def _threshold(t: float, step: float, parts: np.ndarray, base: int = 1) -> np.ndarray:
    """The product's crisis threshold per message (RiskSettings.crisis_threshold_for)."""
    return np.minimum(0.99, t + step * np.log2(np.maximum(1.0, parts / base)))


def choose(results: dict) -> dict | None:  # noqa: ANN001
    """The setting the rule in the module docstring picks from {"C|step": [rows per threshold]}."""
    best = None
    for key, rows in results.items():
        c, _, step = str(key).partition("|")
        ok = [r for r in rows if r["false_crisis"] <= MAX_FALSE_CRISIS]
        if not ok:
            continue
        r = min(ok, key=lambda r: r["threshold"])
        concern = [x for x in rows if x["line_recall"] >= MIN_LINE_RECALL and x["threshold"] <= r["threshold"]]
        ct = max(concern, key=lambda x: x["threshold"])["threshold"] if concern else THRESHOLDS[0]
        if best is None or r["crisis_recall"] > best["crisis_recall"]:
            best = {"c": float(c), "crisis_threshold_step": float(step or 0), "crisis_threshold": r["threshold"],
                    "concern_threshold": ct, **r}
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--c", default="1,4,16", help="regularisation values to try (comma-separated)")
    parser.add_argument("--base-parts", type=int, default=1,
                        help="the threshold rises only above this many parts (crisis_threshold_base_parts)")
    parser.add_argument("--steps", default="0,0.02,0.04,0.06",
                        help="crisis threshold raises per doubling of a message's parts to try (comma-separated)")
    parser.add_argument("--long-chars", type=int, default=300)
    parser.add_argument("--split", choices=("style", "writer"), default="style")
    parser.add_argument("--folds", type=int, default=0,
                        help="hold out several styles (or writers) per fold, dealt round-robin into this many "
                             "folds (0: one per fold); fewer folds train fewer models")
    parser.add_argument("--out", default="var/crisis-crossval.json")
    parser.add_argument("--select-only", action="store_true", help="re-apply the rule to an earlier --out file")
    args = parser.parse_args(argv)
    if args.select_only:
        saved = json.loads(Path(args.out).read_text())
        print("chosen:", json.dumps(choose(saved["results"])))
        return 0
    examples = load_examples()
    embed = _disk_cached(MiniLMEmbeddings(cache_size=0).embed, ROOT / "var" / "cache" / "crossval")
    start = time.perf_counter()
    rows_text, rows_label = training_rows(examples, args.long_chars)
    owner = _owners(examples, rows_text)
    row_vectors = embed(rows_text)
    units = [risk_units(e.text, args.long_chars) for e in examples]
    flat = [u for us in units for u in us]
    unit_vectors = embed(flat)
    offsets = np.cumsum([0] + [len(us) for us in units])
    print(f"embedded {len(examples)} examples, {len(flat)} parts in {time.perf_counter() - start:.0f} s")
    labels = np.array([e.label for e in examples])
    writers = np.array([getattr(e, args.split) for e in examples])
    if args.folds:
        deal = {g: f"fold{i % args.folds}" for i, g in enumerate(sorted(set(writers)))}
        print("folds:", {f: sorted(g for g in deal if deal[g] == f) for f in sorted(set(deal.values()))})
        folds = np.array([deal[w] for w in writers])
    else:
        folds = writers
    results = {}
    parts = np.array([len(us) for us in units])
    long_msg = np.array([len(e.text) > LONG_CHARS for e in examples])
    for c in [float(x) for x in args.c.split(",")]:
        crisis_max = np.zeros(len(examples))
        risk_max = np.zeros(len(examples))
        for fold in sorted(set(folds)):
            train = folds != fold
            keep = train[owner]
            model = CrisisClassifier.train(row_vectors[keep], [t for t, k in zip(rows_text, keep, strict=True) if k],
                                           [lab for lab, k in zip(rows_label, keep, strict=True) if k], c=c)
            for i in np.flatnonzero(~train):
                probs = model.probabilities(unit_vectors[offsets[i]:offsets[i + 1]], units[i])
                crisis_max[i] = probs[:, 2].max()
                risk_max[i] = (probs[:, 1] + probs[:, 2]).max()
        crisis = labels == "crisis"
        risky = labels != "none"
        none = labels == "none"
        for step in [float(x) for x in args.steps.split(",")]:
            rows = []
            for t in THRESHOLDS:
                handed = crisis_max >= _threshold(t, step, parts, args.base_parts)
                rows.append({
                    "threshold": t,
                    "crisis_recall": float(handed[crisis].mean()),
                    "crisis_recall_long": float(handed[crisis & long_msg].mean()),
                    "false_crisis": float(handed[none].mean()),
                    "false_crisis_long": float(handed[none & long_msg].mean()),
                    "line_recall": float((handed[risky] | (risk_max[risky] >= t)).mean()),
                    "concern_on_none": float((risk_max[none] >= t).mean()),
                    "per_writer_recall": {w: float(handed[crisis & (writers == w)].mean())
                                          for w in sorted(set(writers[crisis]))},
                    "per_writer_false": {w: float(handed[none & (writers == w)].mean())
                                         for w in sorted(set(writers[none]))},
                })
            results[f"{c}|{step}"] = rows
            for r in rows:
                print(f"C={c:<5} step={step:<5} t={r['threshold']:.2f} crisis recall {r['crisis_recall']:.3f} "
                      f"(long {r['crisis_recall_long']:.3f}) line {r['line_recall']:.3f} "
                      f"false crisis {r['false_crisis']:.3f} (long {r['false_crisis_long']:.3f})")
    best = choose(results)
    print("chosen:", json.dumps({k: best[k] for k in ("c", "crisis_threshold_step", "crisis_threshold",
                                                       "concern_threshold", "crisis_recall", "false_crisis",
                                                       "false_crisis_long")} if best else None))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": {str(k): v for k, v in results.items()}, "chosen": best}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
