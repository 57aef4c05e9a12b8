"""`faqbot bench`: the speed figures issues ask for. Prints them and writes JSON (not a test).

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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.settings import home

MESSAGES = [
    "how long is a session?", "what side effects are common?", "can I drive home afterwards?",
    "what is esketamine?", "is ketamine addictive?", "how should I prepare for my first infusion?",
    "how many mg should I take?", "I want to kill myself", "do I have bipolar disorder?",
    "what's the weather like?", "how does ketamine work in the brain?", "is TMS the same thing as ketamine?",
    "can ketamine help PTSD?", "what do I eat before treatment", "how much does it cost?",
    "what's the capital of peru?",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


def bench_in_process(turns: int) -> dict:
    from bot.assistant import build_pipeline

    pipeline, _ = build_pipeline()
    for m in MESSAGES:   # warm-up
        pipeline.run(m)
    stages: dict[str, list[float]] = {}
    for i in range(turns):
        reply = pipeline.run(MESSAGES[i % len(MESSAGES)])
        for stage, ms in reply.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    return {stage: {"p50_ms": _pct(v, 0.5), "p95_ms": _pct(v, 0.95), "n": len(v)} for stage, v in stages.items()}


def bench_ask_cold(runs: int = 3) -> dict:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot.cli", "ask", "how long is a session?"], cwd=home(),
                       capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(times), 2), "runs": [round(t, 2) for t in times]}


def _free_port() -> int:
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


async def _load(url: str, clients: int, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=30) as client:
            i = n
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await client.post(url + "/api/chat", json={"message": MESSAGES[i % len(MESSAGES)]})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    latencies.append((time.perf_counter() - t) * 1000)
                except httpx.HTTPError:
                    errors += 1
                i += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.perf_counter() - start
    ok = statuses.get(200, 0)
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": sum(statuses.values()),
            "ok": ok, "requests_per_s": round(ok / elapsed, 1), "statuses": statuses, "errors": errors,
            "p50_ms": _pct(latencies, 0.5) if latencies else None,
            "p95_ms": _pct(latencies, 0.95) if latencies else None}


def bench_server(clients: int, seconds: float, workers: int = 1) -> dict:
    import httpx

    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Path(tmp) / "settings.yaml"
        # The benchmark measures capacity, so per-client rate limiting is lifted for it.
        settings.write_text("server:\n  rate_limit_per_minute: 1000000\n  rate_limit_burst: 1000000\n")
        env = {**os.environ, "FAQBOT_SETTINGS": str(settings)}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
                                 "--workers", str(workers)], cwd=home(), env=env,
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
            load = asyncio.run(_load(url, clients, seconds))
            load["cold_start_to_first_answer_s"] = round(cold, 2)
            load["peak_rss_mb"] = _peak_rss_mb(proc.pid)
            load["workers"] = workers
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
        result["http"] = bench_server(args.clients, args.seconds)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0
