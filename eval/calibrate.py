"""Calibrate the retrieval abstain threshold and margin on our own labelled questions.

    .venv/bin/python eval/calibrate.py [--answers eval/cases/answers.jsonl] [--unrelated eval/cases/unrelated.jsonl]

For each dense weight on a grid, every labelled question is retrieved once (no guardrails); then every
(min_score, min_margin) pair is scored by
    objective = answer accuracy (answered with the right entry) + abstain accuracy (unrelated abstained)
subject to abstain accuracy >= 0.90 and answer accuracy >= 0.90. Prints the best settings and a table;
`docs/retrieval.md` records the run that set config/settings.yaml.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def load_cases(path: Path, with_entry: bool) -> list[dict]:
    cases = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        if with_entry and not case.get("entry"):
            continue
        if case.get("history"):
            continue   # follow-ups depend on context handling, not on the thresholds
        cases.append(case)
    return cases


def main() -> int:
    from bot.corpus import load_corpus
    from bot.embeddings import MiniLMEmbeddings
    from bot.index import EntryIndex
    from bot.retriever import HybridRetriever, RetrievalQuery
    from bot.settings import index_dir, load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", default=str(ROOT / "eval/cases/answers.jsonl"))
    parser.add_argument("--unrelated", default=str(ROOT / "eval/cases/unrelated.jsonl"))
    args = parser.parse_args()
    answers = load_cases(Path(args.answers), with_entry=True)
    unrelated = [c for c in load_cases(Path(args.unrelated), with_entry=False)]
    corpus = load_corpus()
    index = EntryIndex(index_dir())
    index.ensure(corpus)
    embeddings = MiniLMEmbeddings()
    base = load_settings().retrieval
    vectors_a = embeddings.embed([c["message"] for c in answers])
    vectors_u = embeddings.embed([c["message"] for c in unrelated])
    best = None
    rows = []
    for weight in (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
        retriever = HybridRetriever(corpus, index, replace(base, dense_weight=weight, min_score=0.0,
                                                            min_margin=0.0))
        ra = [retriever.run(RetrievalQuery(c["message"], v)) for c, v in zip(answers, vectors_a, strict=True)]
        ru = [retriever.run(RetrievalQuery(c["message"], v)) for c, v in zip(unrelated, vectors_u, strict=True)]
        hit1 = sum(r.best.entry_id == c["entry"] for r, c in zip(ra, answers, strict=True)) / len(answers)
        for min_score in [x / 100 for x in range(30, 71)]:
            for min_margin in (0.0, 0.005, 0.01, 0.015, 0.02, 0.03):
                def abstains(r, min_score=min_score, min_margin=min_margin):
                    top = r.candidates
                    return top[0].score < min_score or (len(top) > 1 and top[0].score - top[1].score < min_margin)
                answer_acc = sum((not abstains(r)) and r.best.entry_id == c["entry"]
                                 for r, c in zip(ra, answers, strict=True)) / len(answers)
                abstain_acc = sum(abstains(r) for r in ru) / len(unrelated)
                row = (weight, min_score, min_margin, round(hit1, 3), round(answer_acc, 3), round(abstain_acc, 3))
                rows.append(row)
                if answer_acc >= 0.9 and abstain_acc >= 0.9:
                    # Prefer the safer (higher) threshold among equally good settings.
                    key = (answer_acc + abstain_acc, abstain_acc, min_score)
                    if best is None or key > best[0]:
                        best = (key, row)
    print(f"{len(answers)} answer cases, {len(unrelated)} unrelated cases")
    print("dense_weight  min_score  min_margin  hit@1  answer_acc  abstain_acc")
    for weight in sorted({r[0] for r in rows}):
        top = max((r for r in rows if r[0] == weight), key=lambda r: (r[4] + r[5], r[5]))
        print("  ".join(f"{x:>10}" for x in top))
    if best is None:
        print("no setting reaches both floors")
        return 1
    print("best:", dict(zip(("dense_weight", "min_score", "min_margin", "hit@1", "answer_accuracy",
                             "abstain_accuracy"), best[1], strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
