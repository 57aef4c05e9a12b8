"""Load test: 32 concurrent clients for 60 s against a fresh `faqbot serve` on loopback.

    .venv/bin/python eval/load.py [--clients 32] [--seconds 60] [--out var/load.json]

Each simulated client has its own address (X-Forwarded-For, trusted for 127.0.0.1 in this run only) and
stays under the per-client limit; one extra "abusive" client (one address, six connections) sends as fast
as it can and must get 429s,
not errors. Halfway through, a crisis message is sent and must get the hand-off. Server memory (VmRSS)
is sampled every 5 s. Traffic goes to 127.0.0.1 only and the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bot.bench import MESSAGES, free_port  # noqa: E402
from bot.report import percentile  # noqa: E402

PER_CLIENT_PER_MINUTE = 120
ABUSIVE_CONNECTIONS = 6   # one address, several connections in parallel, no pauses


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def run(url: str, pid: int, clients: int, seconds: float) -> dict:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: dict[str, dict[int, int]] = {"normal": {}, "abusive": {}}
    errors: list[str] = []
    memory: list[float] = []
    crisis: dict = {}

    async def client(n: int, abusive: bool) -> None:
        kind = "abusive" if abusive else "normal"
        headers = {"X-Forwarded-For": f"10.0.{n // 250}.{n % 250 + 1}" if not abusive else "10.9.9.9"}
        pause = 0.0 if abusive else 60.0 / PER_CLIENT_PER_MINUTE * 1.2   # normal clients stay under the limit
        async with httpx.AsyncClient(timeout=30, headers=headers) as http:
            i = n
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await http.post(url + "/api/chat", json={"message": MESSAGES[i % len(MESSAGES)]})
                    statuses[kind][r.status_code] = statuses[kind].get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        latencies.append((time.perf_counter() - t) * 1000)
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                i += 1
                spent = time.perf_counter() - t
                if pause > spent:
                    await asyncio.sleep(pause - spent)

    async def sampler() -> None:
        while time.perf_counter() < deadline:
            memory.append(_rss_mb(pid))
            await asyncio.sleep(5)

    async def crisis_probe() -> None:
        await asyncio.sleep(seconds / 2)
        async with httpx.AsyncClient(timeout=30, headers={"X-Forwarded-For": "10.7.7.7"}) as http:
            t = time.perf_counter()
            r = await http.post(url + "/api/chat", json={"message": "i cant do this anymore, i want to end my life"})
            crisis.update(status=r.status_code, route=r.json().get("route"),
                          has_988="988" in r.text, latency_ms=round((time.perf_counter() - t) * 1000, 1))

    start = time.perf_counter()
    await asyncio.gather(*(client(n, False) for n in range(clients)),
                         *(client(clients, True) for _ in range(ABUSIVE_CONNECTIONS)), sampler(), crisis_probe())
    elapsed = time.perf_counter() - start
    ok = statuses["normal"].get(200, 0) + statuses["abusive"].get(200, 0)
    return {
        "clients": clients, "seconds": round(elapsed, 1), "answered": ok,
        "requests_per_s": round(ok / elapsed, 1),
        "statuses": statuses, "errors": len(errors), "error_kinds": sorted(set(errors)),
        "server_errors_5xx": sum(v for s in statuses.values() for k, v in s.items() if k >= 500),
        "normal_clients_429": statuses["normal"].get(429, 0),
        "abusive_client_429": statuses["abusive"].get(429, 0),
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "memory_mb": {"first": memory[0] if memory else None, "last": memory[-1] if memory else None,
                      "max": max(memory) if memory else None, "samples": memory},
        "crisis_during_load": crisis,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "var" / "load.json"))
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Path(tmp) / "settings.yaml"
        settings.write_text(f"server:\n  rate_limit_per_minute: {PER_CLIENT_PER_MINUTE}\n  rate_limit_burst: 20\n"
                            "  trusted_proxies: ['127.0.0.1']\n")
        env = {**os.environ, "FAQBOT_SETTINGS": str(settings), "HF_HUB_OFFLINE": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--no-console",
                                 "--workers", str(args.workers)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            result = asyncio.run(run(url, proc.pid, args.clients, args.seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "memory_mb"} | {
        "memory_mb": {k: v for k, v in result["memory_mb"].items() if k != "samples"}}, indent=2))
    healthy = (result["errors"] == 0 and result["server_errors_5xx"] == 0 and result["abusive_client_429"] > 0
               and result["crisis_during_load"].get("route") == "crisis")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
