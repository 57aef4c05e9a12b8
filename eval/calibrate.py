"""Calibrate the retrieval abstain threshold and margin on our own labelled questions.

    .venv/bin/python eval/calibrate.py [--answers FILE.jsonl] [--unrelated FILE.jsonl]

Every labelled question goes through the guardrails (as in a real turn) and is retrieved once per dense
weight on a grid; then every (min_score, min_score_off_topic, min_margin) triple is scored by
    objective = answer accuracy (answered with the right entry) + abstain accuracy (unrelated not answered)
subject to abstain accuracy >= 0.90 (a question the guardrails send out of scope counts as not answered).
Prints the best settings and a table;
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
    from bot.assistant import build_pipeline
    from bot.retriever import HybridRetriever, RetrievalQuery

    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", default=str(ROOT / "eval/cases/answers.jsonl"))
    parser.add_argument("--unrelated", default=str(ROOT / "eval/cases/unrelated.jsonl"))
    args = parser.parse_args()
    answers = load_cases(Path(args.answers), with_entry=True)
    unrelated = load_cases(Path(args.unrelated), with_entry=False)
    pipeline, _ = build_pipeline()
    guard, base = pipeline.guardrails, pipeline.retriever.settings

    def prepare(cases):
        vectors = pipeline.embed([c["message"] for c in cases])
        out = []
        for case, vector in zip(cases, vectors, strict=True):
            verdict = guard.run(case["message"], (), query_vector=vector)
            out.append((case, vector, verdict.route, guard.mentions_domain(case["message"])))
        return out

    prepared_a, prepared_u = prepare(answers), prepare(unrelated)
    best = None
    rows = []
    for weight in (0.6, 0.7, 0.8):
        retriever = HybridRetriever(pipeline.corpus, pipeline.retriever.index,
                                    replace(base, dense_weight=weight, min_score=0.0, min_score_off_topic=0.0,
                                            min_margin=0.0))
        ra = [(c, retriever.run(RetrievalQuery(c["message"], v)), route, topic) for c, v, route, topic in prepared_a]
        ru = [(retriever.run(RetrievalQuery(c["message"], v)), route, topic) for c, v, route, topic in prepared_u]
        hit1 = sum(r.best.entry_id == c["entry"] for c, r, _, _ in ra) / len(ra)
        for on_topic in [x / 100 for x in range(30, 66)]:
            for off_topic in [x / 100 for x in range(40, 76, 2)]:
                if off_topic < on_topic:
                    continue   # a question without any clinic vocabulary never needs less confidence
                for margin in (0.0, 0.005, 0.01):
                    def answers_it(r, topic, on_topic=on_topic, off_topic=off_topic, margin=margin):
                        top = r.candidates
                        threshold = on_topic if topic else off_topic
                        return top[0].score >= threshold and (len(top) < 2 or top[0].score - top[1].score >= margin)
                    answer_acc = sum(route == "pass" and answers_it(r, topic) and r.best.entry_id == c["entry"]
                                     for c, r, route, topic in ra) / len(ra)
                    abstain_acc = sum(route != "pass" or not answers_it(r, topic) for r, route, topic in ru) / len(ru)
                    row = (weight, on_topic, off_topic, margin, round(hit1, 3), round(answer_acc, 3),
                           round(abstain_acc, 3))
                    rows.append(row)
                    if abstain_acc >= 0.9:
                        # Among equally good settings prefer the safer (higher) thresholds.
                        key = (round(answer_acc + abstain_acc, 3), abstain_acc, on_topic + off_topic)
                        if best is None or key > best[0]:
                            best = (key, row)
    names = ("dense_weight", "min_score", "min_score_off_topic", "min_margin", "hit@1", "answer_accuracy",
             "abstain_accuracy")
    print(f"{len(answers)} answer cases, {len(unrelated)} unrelated or unanswerable cases")
    print("  ".join(f"{n:>19}" for n in names))
    for weight in sorted({r[0] for r in rows}):
        top = max((r for r in rows if r[0] == weight and r[6] >= 0.9), key=lambda r: (r[5] + r[6], r[6]),
                  default=None)
        if top:
            print("  ".join(f"{x:>19}" for x in top))
    if best is None:
        print("no setting keeps abstain accuracy >= 0.90")
        return 1
    print("best:", dict(zip(names, best[1], strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
