"""Measure the retrieval topic guard (guardrails/policy/topic_slots.yaml) on labelled cases.

    .venv/bin/python eval/topic_guard.py --cases eval/cases/*.jsonl [--json out.json]

Runs every case through the real pipeline three times: guard off, guard on with `on_conflict: next`, and
guard on with `on_conflict: abstain`. For each setting, against "off":

- wrong answer -> abstention: off answered with the wrong entry (or answered where no answer was expected),
  the guard says "no answer" instead;
- wrong answer -> right answer: the guard took the next entry and that is the labelled one;
- right answer lost: off answered correctly, the guard gives no answer or another entry;
- touched: cases where the guard set an entry aside at all.

A "right" answer is route `answer` with the labelled entry; an answer to a case that allows one but names no
entry is "unjudged" (every case the guard touches is listed, off -> on, so those can be read by eye). Only
answers the guardrails let through are affected: declines and crisis replies never reach retrieval.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.evaluate import load_cases  # noqa: E402


def verdict(case, reply) -> str:  # noqa: ANN001
    """right | wrong | unjudged | abstain | other (a decline, crisis, small talk)."""
    if reply.route == "answer":
        if "answer" not in case.expect:
            return "wrong"
        if case.entry is None:
            return "unjudged"      # an answer is allowed, but the case names no entry to check it against
        return "right" if reply.entry_id == case.entry else "wrong"
    if reply.route == "no_answer":
        return "abstain"
    return "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", required=True)
    parser.add_argument("--json", help="write the per-case changes here")
    args = parser.parse_args(argv)

    import logging

    logging.disable(logging.WARNING)
    from bot.assistant import build_pipeline

    cases = load_cases(args.cases).cases
    pipeline, _ = build_pipeline()
    retriever = pipeline.retriever
    guard = retriever.topics
    if guard is None:
        print("the topic guard is not loaded", file=sys.stderr)
        return 2
    settings = {"off": None, "next": replace(guard, on_conflict="next"),
                "abstain": replace(guard, on_conflict="abstain")}
    outcomes: dict[str, dict[str, tuple[str, str | None, bool]]] = {}
    for name, topics in settings.items():
        retriever.topics = topics
        rows = {}
        for case in cases:
            reply = pipeline.run(case.message, list(case.history))
            touched = "topic guard" in (reply.reason or "")
            rows[case.id] = (verdict(case, reply), reply.entry_id, touched)
        outcomes[name] = rows
    retriever.topics = guard

    off = outcomes["off"]
    report: dict[str, dict[str, object]] = {}
    for name in ("next", "abstain"):
        on = outcomes[name]
        changes = {"wrong_to_abstain": [], "wrong_to_right": [], "wrong_to_other_wrong": [],
                   "right_lost": [], "abstain_to_answer": []}
        for case in cases:
            before, after = off[case.id][0], on[case.id][0]
            if before == "wrong" and after == "abstain":
                changes["wrong_to_abstain"].append(case.id)
            elif before == "wrong" and after == "right":
                changes["wrong_to_right"].append(case.id)
            elif before == "wrong" and after == "wrong" and off[case.id][1] != on[case.id][1]:
                changes["wrong_to_other_wrong"].append(case.id)
            elif before == "right" and after != "right":
                changes["right_lost"].append(case.id)
            elif before == "abstain" and after in ("right", "wrong"):
                changes["abstain_to_answer"].append(case.id)
        report[name] = {
            "cases": len(cases),
            "touched": sum(1 for c in cases if on[c.id][2]),
            "wrong_answers_off": sum(1 for c in cases if off[c.id][0] == "wrong"),
            "wrong_answers_on": sum(1 for c in cases if on[c.id][0] == "wrong"),
            "right_answers_off": sum(1 for c in cases if off[c.id][0] == "right"),
            "right_answers_on": sum(1 for c in cases if on[c.id][0] == "right"),
            **{k: v for k, v in changes.items()},
        }
    touched = [c for c in cases if outcomes["next"][c.id][2] or outcomes["abstain"][c.id][2]]
    print(f"cases the guard touched: {len(touched)}")
    for c in touched:
        show = " | ".join(f"{n}: {outcomes[n][c.id][0]} {outcomes[n][c.id][1] or ''}".rstrip() for n in outcomes)
        print(f"  {c.id} (expects {c.entry or '/'.join(c.expect)}): {show}")
    for name, row in report.items():
        print(f"on_conflict: {name}  ({row['cases']} cases, guard touched {row['touched']})")
        print(f"  wrong answers {row['wrong_answers_off']} -> {row['wrong_answers_on']}; "
              f"right answers {row['right_answers_off']} -> {row['right_answers_on']}")
        for key in ("wrong_to_abstain", "wrong_to_right", "wrong_to_other_wrong", "right_lost", "abstain_to_answer"):
            ids = row[key]
            print(f"  {key.replace('_', ' ')}: {len(ids)}{'  ' + ', '.join(ids) if ids else ''}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
