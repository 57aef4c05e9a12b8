"""`faqbot bench`: the speed figures we hold ourselves to. Prints them and writes JSON (not a test).

- per-turn latency in-process, p50/p95, split by stage (embedding, guardrails, retrieval)
- cold start of `faqbot ask` (fresh process, index reused) and of `faqbot serve` to the first answer
- /api/chat throughput and latency with N concurrent clients for S seconds (loopback only, bounded)
- peak memory (VmHWM) of the server process
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.report import percentile
from bot.settings import home

MESSAGES = [
    "how long is a session?", "what side effects are common?", "can I drive home afterwards?",
    "what is esketamine?", "is ketamine addictive?", "how should I prepare for my first infusion?",
    "how many mg should I take?", "I want to kill myself", "do I have bipolar disorder?",
    "what's the weather like?", "how does ketamine work in the brain?", "is TMS the same thing as ketamine?",
    "can ketamine help PTSD?", "what do I eat before treatment", "how much does it cost?",
    "what's the capital of peru?",
]


def _messages(pattern: str, lo: int, hi: int, limit: int) -> list[str]:
    """Distinct messages from the evaluation files (lo <= length < hi), so no turn is a cache hit."""
    out: list[str] = []
    for path in sorted(home().glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                text = json.loads(line)["message"]
            except (ValueError, KeyError, TypeError):
                continue
            if lo <= len(text) < hi and text not in out:
                out.append(text[:1000])
    return out[:limit]


def short_messages(turns: int) -> list[str]:
    """The "short" set: the in-process turns and the one-client HTTP run read the same messages."""
    return _messages("eval/heldout/*.jsonl", 1, 300, turns)


def bench_in_process(turns: int) -> dict:
    """Per-turn latency by stage, every message seen for the first time (the caches only help repeats,
    which FAQ traffic has many of; `repeat` shows a second pass over the same short messages)."""
    from bot.assistant import build_pipeline

    pipeline, _ = build_pipeline()
    for m in MESSAGES:   # warm-up
        pipeline.run(m)
    sets = {
        "short": short_messages(turns),
        "long": _messages("eval/crisis/*.jsonl", 600, 5000, max(20, turns // 5)),
        "spanish": _messages("eval/spanish/*.jsonl", 1, 300, turns),   # to hold beside "short"
    }
    sets["repeat"] = sets["short"]
    out: dict = {}
    for name, messages in sets.items():
        stages: dict[str, list[float]] = {}
        for message in messages:
            reply = pipeline.run(message)
            for stage, ms in reply.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        out[name] = {stage: {"p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95), "n": len(v)}
                     for stage, v in stages.items()}
        out[name]["chars_mean"] = round(sum(map(len, messages)) / max(1, len(messages)))
    out["dense_rag"] = _bench_dense_rag(pipeline, {k: sets[k] for k in ("short", "long")}, out)
    return out


def _bench_dense_rag(pipeline, sets: dict[str, list[str]], ours: dict) -> dict:  # noqa: ANN001
    """What a user would pick instead: a plain dense RAG (LangChain's Chroma similarity search over the same
    answers, no guardrails), with the same encoder as ours, on the same messages seen for the first time.
    The ratio is our turn's latency over its."""
    from bot.baselines import DenseBaseline
    from bot.settings import load_clinic

    dense = DenseBaseline(pipeline.corpus, load_clinic(), backend=None)
    try:
        out: dict = {"encoder": dense.backend}
        for name, messages in sets.items():
            times = []
            for message in messages:
                t = time.perf_counter()
                dense.run(message)
                times.append((time.perf_counter() - t) * 1000)
            p50, p95 = percentile(times, 50), percentile(times, 95)
            out[name] = {"p50_ms": p50, "p95_ms": p95, "n": len(times),
                         "ratio_p50": round(ours[name]["total"]["p50_ms"] / p50, 2) if p50 else None,
                         "ratio_p95": round(ours[name]["total"]["p95_ms"] / p95, 2) if p95 else None}
        return out
    finally:
        dense.close()


def bench_ask_cold(runs: int = 3) -> dict:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "ask", "how long is a session?"], cwd=home(),
                       capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return {"median_s": percentile(times, 50), "runs": [round(t, 2) for t in times]}


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class RawHttpClient:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams.

    The load generator shares the 2 cores with the server; httpx costs a few ms of CPU per request,
    this costs a fraction of one, so the figures measure the server rather than the client.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, payload: dict) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{self.extra}\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _load(url: str, clients: int, seconds: float) -> dict:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal errors
        client = RawHttpClient(parsed.hostname, parsed.port)
        i = n
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                status, _ = await client.post_json("/api/chat", {"message": MESSAGES[i % len(MESSAGES)]})
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append((time.perf_counter() - t) * 1000)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                errors += 1
                await client.close()
            i += 1
        await client.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.perf_counter() - start
    ok = statuses.get(200, 0)
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": sum(statuses.values()),
            "ok": ok, "requests_per_s": round(ok / elapsed, 1), "statuses": statuses, "errors": errors,
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95)}


async def _sequential(url: str, messages: list[str]) -> dict:
    """One client, one request at a time: each message's latency over HTTP on an otherwise idle server."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    client = RawHttpClient(parsed.hostname, parsed.port)
    latencies = []
    try:
        for message in messages:
            t = time.perf_counter()
            status, _ = await client.post_json("/api/chat", {"message": message})
            if status == 200:
                latencies.append((time.perf_counter() - t) * 1000)
    finally:
        await client.close()
    return {"n": len(latencies), "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95)}


def bench_server(clients: int, seconds: float, workers: int = 1, console: bool = False,
                 one_client: list[str] | None = None) -> dict:
    """Start `faqbot serve` (by default without the staff console, as an API replica), load it, stop it.
    ``one_client``: messages sent first one at a time, for the latency of a request on an idle server."""
    import httpx

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Path(tmp) / "settings.yaml"
        # The benchmark measures capacity, so per-client rate limiting is lifted for it.
        settings.write_text("server:\n  rate_limit_per_minute: 1000000\n  rate_limit_burst: 1000000\n")
        env = {**os.environ, "FAQBOT_SETTINGS": str(settings)}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
                                 "--workers", str(workers), *([] if console else ["--no-console"])],
                                cwd=home(), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("faqbot serve exited during the benchmark")
                try:
                    r = httpx.post(url + "/api/chat", json={"message": "how long is a session?"}, timeout=5)
                    if r.status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            cold = time.perf_counter() - start
            sequential = asyncio.run(_sequential(url, one_client)) if one_client else None
            load = asyncio.run(_load(url, clients, seconds))
            if sequential is not None:
                load["one_client"] = sequential
            load["cold_start_to_first_answer_s"] = round(cold, 2)
            load["peak_rss_mb"] = _peak_rss_mb(proc.pid)
            load["workers"] = workers
            load["console"] = console
            return load
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def run_bench_command(args: argparse.Namespace) -> int:
    result: dict = {"machine": {"cpus": os.cpu_count()}, "date": time.strftime("%Y-%m-%d %H:%M")}
    print("bench: in-process turns ...", file=sys.stderr)
    result["in_process"] = bench_in_process(args.turns)
    print("bench: cold `faqbot ask` ...", file=sys.stderr)
    result["ask_cold"] = bench_ask_cold()
    if not args.skip_http:
        print(f"bench: /api/chat with {args.clients} clients for {args.seconds:.0f} s ...", file=sys.stderr)
        # The "short" messages again, now over HTTP: the web layer's cost is the difference of the medians.
        result["http"] = bench_server(args.clients, args.seconds, workers=1, one_client=short_messages(args.turns))
        one = result["http"].get("one_client", {})
        if one.get("p50_ms") is not None:
            result["web_overhead_ms"] = {
                "p50": round(one["p50_ms"] - result["in_process"]["short"]["total"]["p50_ms"], 2),
                "how": "median /api/chat latency, one client, minus the median in-process turn, same messages"}
        print("bench: the same with --workers 2 ...", file=sys.stderr)
        result["http_2_workers"] = bench_server(args.clients, args.seconds, workers=2)
        print("bench: cold start of the full `faqbot serve` (with the staff console) ...", file=sys.stderr)
        result["http_with_console"] = bench_server(args.clients, min(args.seconds, 10.0), console=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0
