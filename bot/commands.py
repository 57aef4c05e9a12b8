"""The body of each `faqbot` sub-command; each imports only what it needs."""

from __future__ import annotations

import argparse
import json
import sys


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _print_reply(reply, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        print_json(reply.to_dict())
        return
    print(reply.reply)
    if reply.sources:
        s = reply.sources[0]
        print(f"\n[{reply.route}] entry {s.id}: \"{s.question}\" (source: {s.source})")
    else:
        print(f"\n[{reply.route}] {reply.reason}")
    for suggestion in reply.suggestions:
        print(f"  - {suggestion}")


def _pipeline(chroma_url: str | None = None):  # noqa: ANN202
    from bot.assistant import build_pipeline

    pipeline, status = build_pipeline(chroma_url=chroma_url)
    for warning in status.warnings:
        print(f"faqbot: warning: {warning}", file=sys.stderr)
    if status.index_error:
        print(f"faqbot: warning: index unavailable: {status.index_error}", file=sys.stderr)
    elif status.index != "reused":
        print(f"faqbot: index {status.index}", file=sys.stderr)
    return pipeline


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.pipeline import InputError

    pipeline = _pipeline(args.chroma_url)
    try:
        reply = pipeline.run(args.question, history=args.history)
    except InputError as exc:
        print(f"faqbot: error: {exc}", file=sys.stderr)
        return 2
    _print_reply(reply, args.json)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.pipeline import InputError

    pipeline = _pipeline(args.chroma_url)
    history: list[str] = []
    print("Ask about ketamine treatment at the clinic. Not for emergencies: call or text 988, or 911.")
    print("Type 'quit' to leave.\n")
    while True:
        try:
            message = input("you> ")
        except EOFError:
            print()
            return 0
        if message.strip().lower() in ("quit", "exit", "bye"):
            return 0
        try:
            reply = pipeline.run(message, history=history)
        except InputError:
            continue
        print()
        for line in reply.reply.splitlines():
            print(f"bot> {line}" if line else "")
        if reply.sources:
            print(f"     (entry {reply.sources[0].id})")
        print()
        history = (history + [message])[-6:]


def cmd_index(args: argparse.Namespace) -> int:
    import shutil

    from bot.assistant import build_pipeline
    from bot.embeddings import MiniLMEmbeddings
    from bot.minilm import packaged_model_path
    from bot.onnx_minilm import export_onnx
    from bot.settings import index_dir, models_dir

    path = index_dir()
    if args.force and not args.chroma_url and path.exists():
        shutil.rmtree(path)
    # The fast encoder first (exported once from the packaged weights), then the whole start-up, so the
    # entry classifier, the crisis classifier and cached vectors are ready before the first turn.
    export_onnx(packaged_model_path(), models_dir())
    _, status = build_pipeline(chroma_url=args.chroma_url, embeddings=MiniLMEmbeddings(backend="onnx"))
    if status.index_error:
        print(f"faqbot index: {status.index_error}", file=sys.stderr)
        return 1
    where = args.chroma_url or str(path)
    print(f"index {status.index}: {status.corpus_entries} entries, corpus {status.corpus_hash}, at {where}; "
          "entry and crisis classifiers ready")
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.lint import lint_corpus

    report = lint_corpus(Path(args.dir) if args.dir else None, embed=not args.no_embed)
    for line in report.warnings:
        print(f"warning: {line}")
    for line in report.errors:
        print(f"error: {line}")
    for lang, counts in report.coverage.items():
        print(f"translations ({lang}): {counts['approved']} of {report.approved} served entries approved, "
              f"{counts['pending']} pending, {counts['rejected']} rejected, {counts['missing']} missing")
    print(f"corpus check: {report.entries} entries ({report.approved} approved), "
          f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 1 if report.errors else 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import serve

    return serve(host=args.host, port=args.port, workers=args.workers, chroma_url=args.chroma_url,
                 console=not args.no_console, demo=args.demo)


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import run_eval_command

    return run_eval_command(args)


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.bench import run_bench_command

    return run_bench_command(args)
