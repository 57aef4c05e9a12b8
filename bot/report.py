"""Summary metrics, report.md and PNG plots for `faqbot eval`.

Every function here works on plain per-case result dicts (one line of results.jsonl each):

    {"id", "kind", "expect": [...], "entry": str | None, "route", "reply", "entry_got": str | None,
     "candidates": [entry ids, best first], "rank": int | None, "latency_ms", "pass", "why": [...], ...}

    metrics = summarize(results)                 # the numbers in summary.json
    write_plots(results, metrics, out_dir)       # confusion.png, latency.png (matplotlib, Agg)
    write_markdown(...)                          # report.md
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.reply import ROUTES
from guardrails.verdict import DECLINE_ROUTES

REFUSED_ROUTES = (*DECLINE_ROUTES, "crisis")   # a decline expected and the hand-off given: safe side
ABSTAIN_ROUTES = ("no_answer", "out_of_scope")

# (label, key in metrics, higher is better)
HEADLINE = (
    ("pass rate", "pass_rate", True),
    ("crisis recall", "crisis_recall", True),
    ("decline recall", "decline_recall", True),
    ("answer accuracy", "answer_accuracy", True),
    ("answer-case pass rate", "answer_pass_rate", True),
    ("abstain accuracy", "abstain_accuracy", True),
    ("false-crisis rate", "false_crisis_rate", False),
    ("wrong-entry answers", "wrong_entry_rate", False),
    ("hit@1", "hit_at_1", True),
    ("hit@3", "hit_at_3", True),
    ("MRR", "mrr", True),
)


# -- metrics --------------------------------------------------------------------------------------------
def _ratio(hits: int, n: int) -> dict[str, Any]:
    return {"value": (hits / n) if n else None, "hits": hits, "n": n}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100, linear interpolation), rounded to 0.01; None for no values."""
    if not values:
        return None
    import numpy as np

    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 2)


def kind_of(case_id: str) -> str:
    """The case kind: the id's prefix before the last '-' ("crisis_multi-004" -> "crisis_multi")."""
    return case_id.rsplit("-", 1)[0] if "-" in case_id else case_id


def route_order(labels: Iterable[str]) -> list[str]:
    labels = set(labels)
    return [r for r in ROUTES if r in labels] + sorted(labels - set(ROUTES))


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    n = len(results)
    passed = sum(1 for r in results if r["pass"])

    per_kind: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_kind[r["kind"]].append(r)
    for kind in sorted(by_kind):
        rows = by_kind[kind]
        ok = sum(1 for r in rows if r["pass"])
        per_kind[kind] = {"n": len(rows), "passed": ok, "pass_rate": ok / len(rows)}

    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        confusion[r["expect"][0]][r["route"]] += 1
    expected_labels = route_order(confusion)
    actual_labels = route_order({a for row in confusion.values() for a in row})

    crisis = [r for r in results if set(r["expect"]) == {"crisis"}]
    decline = [r for r in results if {"dosing", "medical_advice"} & set(r["expect"]) and not r.get("label")]
    answer = [r for r in results if r.get("entry") and "answer" in r["expect"]]
    abstain = [r for r in results if set(r["expect"]) <= set(ABSTAIN_ROUTES)]
    not_crisis = [r for r in results if "crisis" not in r["expect"]]
    ranked = [r for r in results if r.get("entry")]
    risky = [r for r in results if r.get("label") in ("crisis", "concern")]
    latencies = [float(r["latency_ms"]) for r in results if r.get("latency_ms") is not None]

    stages: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for stage, ms in (r.get("timings_ms") or {}).items():
            stages[stage].append(float(ms))

    hit1 = sum(1 for r in ranked if r.get("rank") == 1)
    hit3 = sum(1 for r in ranked if r.get("rank") is not None and r["rank"] <= 3)
    mrr_sum = sum(1.0 / r["rank"] for r in ranked if r.get("rank"))
    return {
        "cases": n,
        "passed": passed,
        "pass_rate": _ratio(passed, n),
        "per_kind": per_kind,
        "confusion": {
            "expected": expected_labels,
            "actual": actual_labels,
            "counts": {e: {a: confusion[e][a] for a in actual_labels if confusion[e][a]} for e in expected_labels},
        },
        "crisis_recall": _ratio(sum(1 for r in crisis if r["route"] == "crisis"), len(crisis)),
        "decline_recall": _ratio(sum(1 for r in decline if r["route"] in r["expect"] and r["route"] in REFUSED_ROUTES),
                                 len(decline)),
        "answer_accuracy": _ratio(sum(1 for r in answer if r["route"] == "answer" and r.get("entry_got") == r["entry"]),
                                  len(answer)),
        "answer_pass_rate": _ratio(sum(1 for r in answer if r["pass"]), len(answer)),
        "abstain_accuracy": _ratio(sum(1 for r in abstain if r["route"] in ABSTAIN_ROUTES), len(abstain)),
        "false_crisis_rate": _ratio(sum(1 for r in not_crisis if r["route"] == "crisis"), len(not_crisis)),
        # Of the replies that served an entry, those that served the wrong one (a different entry than the
        # case names, or any entry where the case expects none): the patient was told something off-topic.
        "wrong_entry_rate": _ratio(sum(1 for r in results if r["route"] == "answer" and (
            "answer" not in r["expect"] or (r.get("entry") and r.get("entry_got") != r["entry"]))),
            sum(1 for r in results if r["route"] == "answer")),
        "crisis_line_rate": _ratio(sum(1 for r in risky if "988" in r["reply"]), len(risky)),
        "risk": risk_breakdown(results),
        "hit_at_1": _ratio(hit1, len(ranked)),
        "hit_at_3": _ratio(hit3, len(ranked)),
        "mrr": {"value": (mrr_sum / len(ranked)) if ranked else None, "n": len(ranked)},
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                       "mean": round(sum(latencies) / len(latencies), 2) if latencies else None,
                       "max": round(max(latencies), 2) if latencies else None, "n": len(latencies)},
        "stage_latency_ms": {stage: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)}
                             for stage, v in stages.items()},
    }


def risk_breakdown(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Crisis-detection cases (those with a `label`), grouped: the hand-off and the crisis line for crisis
    and concern messages by construct, style and language; false hand-offs for `none` messages, ordinary
    questions and hard negatives apart."""
    labelled = [r for r in results if r.get("label")]
    if not labelled:
        return {}

    def handoff(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return _ratio(sum(1 for r in rows if r["route"] == "crisis"), len(rows))

    def line(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return _ratio(sum(1 for r in rows if "988" in r["reply"]), len(rows))

    crisis = [r for r in labelled if r["label"] == "crisis"]
    single = [r for r in crisis if not r.get("history_turns")]
    risky = [r for r in labelled if r["label"] in ("crisis", "concern")]
    none = [r for r in labelled if r["label"] == "none"]
    ordinary = [r for r in none if r.get("construct") in (None, "ordinary")]
    hard = [r for r in none if r.get("construct") not in (None, "ordinary")]

    def grouped(rows: list[dict[str, Any]], key: str, metric) -> dict[str, Any]:  # noqa: ANN001
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[str(r.get(key) or "-")].append(r)
        return {k: metric(v) for k, v in sorted(groups.items())}

    return {
        "crisis_recall": handoff(single),
        "crisis_line": line(crisis),
        "concern_line": line([r for r in labelled if r["label"] == "concern"]),
        "risk_line": line(risky),
        "false_crisis_ordinary": handoff(ordinary),
        "false_crisis_hard_negatives": handoff(hard),
        "crisis_recall_by_construct": grouped(single, "construct", handoff),
        "crisis_recall_by_style": grouped(single, "style", handoff),
        "crisis_recall_by_lang": grouped(single, "lang", handoff),
        "line_by_construct": grouped(risky, "construct", line),
        "line_by_style": grouped(risky, "style", line),
        "false_crisis_by_construct": grouped(none, "construct", handoff),
        "false_crisis_by_lang": grouped(none, "lang", handoff),
        "missed": [{"id": r["id"], "label": r["label"], "construct": r.get("construct"), "style": r.get("style"),
                    "lang": r.get("lang"), "route": r["route"]} for r in risky if "988" not in r["reply"]],
    }


# -- formatting helpers ---------------------------------------------------------------------------------
def fmt_metric(m: dict[str, Any] | None, counts: bool = True) -> str:
    if not m or m.get("value") is None:
        return "n/a"
    if "hits" not in m:                       # MRR
        return f"{m['value']:.3f}"
    text = f"{100 * m['value']:.1f}%"
    return f"{text} ({m['hits']}/{m['n']})" if counts else text


def fmt_latency(m: dict[str, Any]) -> str:
    lat = m["latency_ms"]
    if lat["p50"] is None:
        return "n/a"
    return f"{lat['p50']:.1f} / {lat['p95']:.1f} ms"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _pts(a: dict[str, Any], b: dict[str, Any]) -> str:
    if a.get("value") is None or b.get("value") is None:
        return "n/a"
    return f"{100 * (a['value'] - b['value']):+.1f} points"


# -- plots ----------------------------------------------------------------------------------------------
def write_plots(results: Sequence[dict[str, Any]], metrics: dict[str, Any], out_dir: Path,
                title: str = "our pipeline") -> dict[str, str]:
    """confusion.png and latency.png in out_dir; returns {"confusion": name, "latency": name}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    files: dict[str, str] = {}
    conf = metrics["confusion"]
    rows, cols = conf["expected"] or ["(none)"], conf["actual"] or ["(none)"]
    counts = np.array([[conf["counts"].get(e, {}).get(a, 0) for a in cols] for e in rows], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 3, 0.7 * len(rows) + 2.2))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("actual route")
    ax.set_ylabel("expected route (expect[0])")
    ax.set_title(f"Route confusion, {title} (colour: share of row)")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if counts[i, j]:
                ax.text(j, i, int(counts[i, j]), ha="center", va="center",
                        color="white" if shares[i, j] > 0.6 else "black", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(out_dir / "confusion.png", dpi=110)
    plt.close(fig)
    files["confusion"] = "confusion.png"

    latencies = [float(r["latency_ms"]) for r in results if r.get("latency_ms") is not None]
    fig, ax = plt.subplots(figsize=(7, 4))
    if latencies:
        ax.hist(latencies, bins=min(40, max(5, len(latencies) // 4)), color="#4c72b0", edgecolor="white")
        lat = metrics["latency_ms"]
        for q, style in (("p50", "--"), ("p95", ":")):
            ax.axvline(lat[q], color="black", linestyle=style, label=f"{q} {lat[q]:.1f} ms")
        ax.legend()
    ax.set_xlabel("latency per case (ms, in-process, includes embedding)")
    ax.set_ylabel("cases")
    ax.set_title(f"Latency, {title} ({len(latencies)} cases)")
    fig.tight_layout()
    fig.savefig(out_dir / "latency.png", dpi=110)
    plt.close(fig)
    files["latency"] = "latency.png"
    return files


# -- what our layers buy --------------------------------------------------------------------------------
def layer_gains(results: Sequence[dict[str, Any]], metrics: dict[str, Any],
                baselines: dict[str, dict[str, Any]],
                baseline_results: dict[str, Sequence[dict[str, Any]]]) -> list[str]:
    """Sentences comparing our pipeline with each baseline, every figure computed from this run."""
    if not baselines:
        return ["No baselines were run: add `--compare bm25,dense` to see what each layer buys."]
    names = list(baselines)

    def vs(key: str) -> str:
        return ", ".join(f"{n} {fmt_metric(baselines[n][key])} ({_pts(metrics[key], baselines[n][key])})"
                         for n in names)

    def count(rows: Sequence[dict[str, Any]], want, got) -> tuple[int, int]:  # noqa: ANN001
        chosen = [r for r in rows if want(r)]
        return sum(1 for r in chosen if got(r)), len(chosen)

    def is_crisis(r: dict[str, Any]) -> bool:
        return set(r["expect"]) == {"crisis"}

    def is_decline(r: dict[str, Any]) -> bool:
        return bool({"dosing", "medical_advice"} & set(r["expect"]))

    def is_abstain(r: dict[str, Any]) -> bool:
        return set(r["expect"]) <= set(ABSTAIN_ROUTES)

    def answered(r: dict[str, Any]) -> bool:
        return r["route"] == "answer"

    def answered_by_baselines(want, verb: str) -> str:  # noqa: ANN001
        """'bm25 <verb> k of n; dense <verb> k of n' over the cases `want` selects."""
        parts = []
        for n in names:
            k, total = count(baseline_results[n], want, answered)
            parts.append(f"{n} {verb} {k} of {total}")
        return "; ".join(parts)

    lines = []
    lines.append(
        f"**Crisis guardrail** (rules + example similarity): crisis recall {fmt_metric(metrics['crisis_recall'])} "
        f"for us vs {vs('crisis_recall')}. Of the crisis messages, "
        f"{answered_by_baselines(is_crisis, 'replied with an FAQ answer to')} instead of the 988/911 "
        f"hand-off. The cost: a false-crisis rate of {fmt_metric(metrics['false_crisis_rate'])} on the other cases.")
    lines.append(
        f"**Dosing and medical-advice declines**: decline recall {fmt_metric(metrics['decline_recall'])} "
        f"for us vs {vs('decline_recall')}; of the dose and personal-advice questions "
        f"{answered_by_baselines(is_decline, 'answered')} with whatever entry ranked first.")
    lines.append(
        f"**Abstaining** (retrieval score/margin threshold + scope rules): abstain accuracy "
        f"{fmt_metric(metrics['abstain_accuracy'])} for us vs {vs('abstain_accuracy')}; on questions the FAQ "
        f"cannot answer {answered_by_baselines(is_abstain, 'answered')} with an unrelated entry.")
    lines.append(
        f"**Hybrid retrieval** (MiniLM over question + alternates + answer, fused with BM25): hit@1 "
        f"{fmt_metric(metrics['hit_at_1'])} for us vs {vs('hit_at_1')}; hit@3 {fmt_metric(metrics['hit_at_3'])} "
        f"vs {vs('hit_at_3')}. Answer accuracy (answered with the right entry) "
        f"{fmt_metric(metrics['answer_accuracy'])} "
        f"vs {vs('answer_accuracy')}. Our hit@k counts a case the guardrails declined as a miss; the baselines "
        f"never decline.")
    lines.append(
        f"**Overall**: pass rate {fmt_metric(metrics['pass_rate'])} for us vs {vs('pass_rate')}; latency p50/p95 "
        f"{fmt_latency(metrics)} for us vs "
        + ", ".join(f"{n} {fmt_latency(baselines[n])}" for n in names) + ".")
    return lines


def risk_section(risk: dict[str, Any]) -> list[str]:
    """The crisis-detection part of report.md (cases carrying a `label`)."""
    if not risk:
        return []
    out = ["## Crisis detection (cases with a `label`)", ""]
    out.append(f"- crisis hand-off on crisis messages (single message): {fmt_metric(risk['crisis_recall'])}")
    out.append(f"- crisis line in the reply: crisis {fmt_metric(risk['crisis_line'])}, concern "
               f"{fmt_metric(risk['concern_line'])}, both {fmt_metric(risk['risk_line'])}")
    out.append(f"- false hand-off: ordinary questions {fmt_metric(risk['false_crisis_ordinary'])}, hard negatives "
               f"{fmt_metric(risk['false_crisis_hard_negatives'])}")
    out.append("")
    for title, key in (("Hand-off by construct", "crisis_recall_by_construct"),
                       ("Hand-off by style", "crisis_recall_by_style"),
                       ("Hand-off by language", "crisis_recall_by_lang"),
                       ("Crisis line by construct (crisis and concern)", "line_by_construct"),
                       ("Crisis line by style", "line_by_style"),
                       ("False hand-off by construct (label none)", "false_crisis_by_construct"),
                       ("False hand-off by language (label none)", "false_crisis_by_lang")):
        if not risk.get(key):
            continue
        out += [f"**{title}**", "", "| group | rate |", "|---|---|"]
        out += [f"| {group} | {fmt_metric(m)} |" for group, m in risk[key].items()]
        out.append("")
    if risk.get("missed"):
        out += [f"**Risk messages whose reply had no crisis line: {len(risk['missed'])}**", ""]
        out += [f"- {m['id']} ({m['label']}, {m['construct']}, {m['style']}, {m['lang']}): {m['route']}"
                for m in risk["missed"]]
        out.append("")
    return out


# -- report.md ------------------------------------------------------------------------------------------
def write_markdown(path: Path, *, results: Sequence[dict[str, Any]], metrics: dict[str, Any],
                   baselines: dict[str, dict[str, Any]], baseline_results: dict[str, Sequence[dict[str, Any]]],
                   case_files: Sequence[str], malformed: Sequence[dict[str, Any]], warnings: Sequence[str],
                   floors: Sequence[dict[str, Any]], plots: dict[str, str], generated_at: str,
                   corpus_info: str) -> None:
    names = list(baselines)
    out: list[str] = ["# faqbot evaluation report", ""]
    out.append(f"Generated {generated_at}. Corpus: {corpus_info}.  ")
    out.append(f"Cases: {metrics['cases']} from {', '.join(f'`{f}`' for f in case_files)}"
               + (f"; {len(malformed)} malformed line(s) skipped (listed below)." if malformed else "."))
    out.append("")
    out.append("Our pipeline is the same `TurnPipeline` the server runs (guardrails → hybrid retrieval → abstain → "
               "final check). " + (f"Baselines: {', '.join(names)} (see eval/README.md)." if names else ""))
    out.append("")

    out += ["## Summary", ""]
    out.append("| metric | ours |" + "".join(f" {n} |" for n in names))
    out.append("|---|---|" + "---|" * len(names))
    for label, key, better in HEADLINE:
        arrow = "↑" if better else "↓"
        row = f"| {label} {arrow} | {fmt_metric(metrics[key])} |"
        row += "".join(f" {fmt_metric(baselines[n][key])} |" for n in names)
        out.append(row)
    out.append(f"| latency p50 / p95 | {fmt_latency(metrics)} |"
               + "".join(f" {fmt_latency(baselines[n])} |" for n in names))
    out.append("")
    out.append("Definitions (details in eval/README.md): *crisis recall*: cases expecting only `crisis` that were "
               "routed `crisis`; *decline recall*: cases expecting `dosing` or `medical_advice` routed to a decline "
               "route they list; *answer accuracy*: cases with an `entry` and `answer` expected that were answered "
               "with that entry; *abstain accuracy*: cases expecting only `no_answer`/`out_of_scope` that got one of "
               "them; *false-crisis rate*: cases not expecting `crisis` that got it; *hit@k / MRR*: rank of the "
               "expected entry among the reply's top-3 candidates.")
    out.append("")

    if floors:
        out += ["## Floors", ""]
        for f in floors:
            mark = "met" if f["ok"] else "**MISSED**"
            value = "n/a" if f["value"] is None else f"{f['value']:.4f}"
            out.append(f"- {f['flag']} {f['threshold']}: {f['label']} = {value} → {mark}")
        out.append("")

    out += risk_section(metrics.get("risk") or {})

    out += ["## What our layers buy", ""]
    for line in layer_gains(results, metrics, baselines, baseline_results):
        out.append(f"- {line}")
    out.append("")

    out += ["## Pass rate per case kind", ""]
    out.append("| kind | cases | ours |" + "".join(f" {n} |" for n in names))
    out.append("|---|---|---|" + "---|" * len(names))
    for kind, row in metrics["per_kind"].items():
        cells = "".join(
            f" {100 * baselines[n]['per_kind'][kind]['pass_rate']:.1f}% |" if kind in baselines[n]["per_kind"]
            else " n/a |" for n in names)
        out.append(f"| {kind} | {row['n']} | {100 * row['pass_rate']:.1f}% ({row['passed']}) |{cells}")
    out.append("")

    out += ["## Route confusion (ours)", "",
            f"![route confusion matrix]({plots.get('confusion', 'confusion.png')})", ""]
    conf = metrics["confusion"]
    out.append("| expected \\ actual | " + " | ".join(conf["actual"]) + " |")
    out.append("|---|" + "---|" * len(conf["actual"]))
    for e in conf["expected"]:
        cells = (str(conf["counts"][e].get(a, "")) or "·" for a in conf["actual"])
        out.append(f"| **{e}** | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Rows are each case's primary expected route (`expect[0]`); a case that lists several acceptable "
               "routes can sit off the diagonal and still pass.")
    out.append("")

    lat = metrics["latency_ms"]
    out += ["## Latency (ours)", "", f"![latency histogram]({plots.get('latency', 'latency.png')})", ""]
    if lat["p50"] is not None:
        out.append(f"p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, mean {lat['mean']:.1f} ms, "
                   f"max {lat['max']:.1f} ms over {lat['n']} cases (in-process, one at a time, model warm "
                   "after the first case).")
    if metrics.get("stage_latency_ms"):
        out.append("")
        out.append("| stage | p50 ms | p95 ms | cases |")
        out.append("|---|---|---|---|")
        for stage, v in metrics["stage_latency_ms"].items():
            out.append(f"| {stage} | {v['p50']:.1f} | {v['p95']:.1f} | {v['n']} |")
    out.append("")

    if malformed or warnings:
        out += ["## Problems in the case files", ""]
        for m in malformed:
            out.append(f"- `{m['file']}` line {m['line']}: {_cell(m['problem'])} (skipped)")
        for w in warnings:
            out.append(f"- {_cell(w)}")
        out.append("")

    failures = [r for r in results if not r["pass"]]
    out += [f"## Failures (ours): {len(failures)}", ""]
    if not failures:
        out.append("None.")
    for r in failures:
        expected = " / ".join(r["expect"]) + (f" (entry `{r['entry']}`)" if r.get("entry") else "")
        got = r["route"] + (f" (entry `{r['entry_got']}`)" if r.get("entry_got") else "")
        out.append(f"- **{r['id']}**: expected {expected}; got {got}")
        out.append(f"  - message: “{_cell(r['message'])}”"
                   + (f" (after {r['history_turns']} earlier turn(s))" if r.get("history_turns") else ""))
        out.append(f"  - why: {_cell('; '.join(r['why']))}")
        reply = _cell(r["reply"])
        out.append(f"  - reply: “{reply[:200]}{'…' if len(reply) > 200 else ''}”")
    out.append("")

    for n in names:
        failed = [r for r in baseline_results[n] if not r["pass"]]
        out.append(f"Baseline {n}: {len(failed)} of {len(baseline_results[n])} cases failed "
                   f"(per case in `results-{n}.jsonl`).  ")
    path.write_text("\n".join(out).rstrip() + "\n", encoding="utf-8")
