"""`faqbot`: every user-facing action is a sub-command. Heavy imports happen inside each command.

    faqbot ask "how long is a session?" [--json]
    faqbot chat
    faqbot index [--chroma-url URL]
    faqbot corpus check
    faqbot serve [--host H] [--port P] [--workers N] [--chroma-url URL] [--demo]
    faqbot eval --cases FILE.jsonl --out DIR [--compare bm25,dense]
    faqbot bench
"""

from __future__ import annotations

import argparse
import os
import sys

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "ANONYMIZED_TELEMETRY": "False",
    # One BLAS thread per request: OpenBLAS threads spin-wait, and on 2 busy cores a single
    # 6-token query otherwise takes seconds instead of milliseconds.
    "OPENBLAS_NUM_THREADS": "1",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="faqbot", description="Patient FAQ assistant for ketamine-therapy clinics.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question from the vetted corpus")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print route, reply, sources and scores as JSON")
    ask.add_argument("--history", action="append", default=[], metavar="EARLIER",
                     help="an earlier user message (repeat, oldest first)")
    ask.add_argument("--chroma-url", help="use a Chroma server (chroma run) instead of var/index")

    chat = sub.add_parser("chat", help="a terminal conversation that remembers the last few turns")
    chat.add_argument("--chroma-url")

    index = sub.add_parser("index", help="(re)build the index when the corpus changed")
    index.add_argument("--force", action="store_true", help="rebuild even when the corpus is unchanged")
    index.add_argument("--chroma-url", help="fill a Chroma server's collection instead of var/index")

    corpus = sub.add_parser("corpus", help="corpus tools")
    corpus_sub = corpus.add_subparsers(dest="corpus_command", required=True, metavar="ACTION")
    check = corpus_sub.add_parser("check", help="lint the corpus: schema, ids, sources, doses, near-duplicates")
    check.add_argument("--dir", help="corpus folder (default corpus/entries)")
    check.add_argument("--no-embed", action="store_true", help="skip the embedding-based near-duplicate check")

    serve = sub.add_parser("serve", help="HTTP API, chat widget and staff console on one port")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--chroma-url")
    serve.add_argument("--no-console", action="store_true", help="skip the Gradio staff console")
    serve.add_argument("--demo", action="store_true",
                       help="serve on a public host even while config/clinic.yaml's contact details are unset")

    ev = sub.add_parser("eval", help="score the whole system on labelled cases and write a report")
    ev.add_argument("--cases", nargs="+", action="extend", required=True, metavar="FILE.jsonl")
    ev.add_argument("--out", required=True, metavar="DIR")
    ev.add_argument("--compare", default="", help="baselines to run alongside: bm25,dense")
    ev.add_argument("--no-progress", action="store_true")
    ev.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="run the cases in N worker processes (same routes; latency figures then share the CPU)")
    for name in ("crisis-recall", "decline-recall", "answer-accuracy", "abstain-accuracy", "hit1", "crisis-line"):
        ev.add_argument(f"--min-{name}", type=float, default=None, metavar="X",
                        help=f"exit non-zero when {name.replace('-', ' ')} is under X")
    ev.add_argument("--max-false-crisis", type=float, default=None, metavar="X")

    bench = sub.add_parser("bench", help="latency, throughput, cold start and memory figures")
    bench.add_argument("--out", default="var/bench.json")
    bench.add_argument("--turns", type=int, default=300)
    bench.add_argument("--clients", type=int, default=16)
    bench.add_argument("--seconds", type=float, default=30.0)
    bench.add_argument("--skip-http", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    args = _parser().parse_args(argv)
    from bot.corpus import CorpusError
    from bot.minilm import ModelMissingError
    from bot.settings import SettingsError

    try:
        from bot import commands
        return getattr(commands, f"cmd_{args.command}")(args)
    except (CorpusError, SettingsError, ModelMissingError) as exc:
        print(f"faqbot: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__name__ == "PolicyError":
            print(f"faqbot: error: {exc}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
