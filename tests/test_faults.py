"""Faults a public deployment meets, each through a real `faqbot serve` process."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ROOT, LiveServer, free_port


def _settings(tmp_path: Path, **server) -> str:
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump({"server": {"rate_limit_per_minute": 6000, "rate_limit_burst": 1000, **server}}))
    return str(path)


def test_corrupted_index_at_startup_is_rebuilt_with_a_log_line(tmp_path, index_path):
    index = tmp_path / "idx"
    shutil.copytree(index_path, index)
    for file in index.rglob("chroma*/**/*"):
        if file.is_file():
            file.write_bytes(b"corrupt" * 50)
    server = LiveServer(index=index, args=("--no-console",),
                        env_extra={"FAQBOT_SETTINGS": _settings(tmp_path)}).wait_ready(path="/readyz")
    try:
        r = httpx.post(server.url + "/api/chat", json={"message": "how long is a session?"}, timeout=30)
        assert r.json()["route"] == "answer"
        assert "rebuilding index" in server.log()
    finally:
        server.stop()


def test_broken_corpus_stops_the_server_naming_file_and_field(tmp_path):
    corpus = tmp_path / "entries"
    shutil.copytree(ROOT / "corpus" / "entries", corpus)
    data = yaml.safe_load((corpus / "safety.yaml").read_text())
    data[0].pop("review")
    (corpus / "safety.yaml").write_text(yaml.safe_dump(data))
    env = {**os.environ, "FAQBOT_CORPUS": str(corpus), "FAQBOT_INDEX": str(tmp_path / "idx")}
    run = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port()), "--no-console"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "safety.yaml" in run.stderr and "field review" in run.stderr and "Traceback" not in run.stderr


def test_broken_settings_stop_the_server_naming_the_field(tmp_path):
    bad = tmp_path / "settings.yaml"
    bad.write_text("retrieval:\n  min_score: 7\n")
    env = {**os.environ, "FAQBOT_SETTINGS": str(bad)}
    run = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port())],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "min_score" in run.stderr


def test_unreachable_vector_store_keeps_guardrails_answering(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    server = LiveServer(args=("--no-console", "--chroma-url", dead),
                        env_extra={"FAQBOT_SETTINGS": _settings(tmp_path)}).wait_ready()
    try:
        ready = httpx.get(server.url + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["index"] == "unavailable"

        def ask(message):
            return httpx.post(server.url + "/api/chat", json={"message": message}, timeout=30).json()

        answer = ask("how long is a session?")
        assert answer["route"] == "no_answer" and "contact" in answer["reply"].lower()
        assert ask("I'm going to kill myself tonight")["route"] == "crisis"
        assert ask("how many mg of ketamine should I take?")["route"] == "dosing"
        assert ask("do I have bipolar disorder?")["route"] == "medical_advice"
    finally:
        server.stop()


@pytest.mark.skipif(not shutil.which("chroma", path=str(Path(sys.executable).parent)), reason="chroma CLI missing")
def test_two_replicas_share_one_chroma_server(tmp_path):
    port = free_port()
    chroma = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(tmp_path / "db"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              env={**os.environ, "RUST_LOG": "warn"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    replicas = []
    try:
        for _ in range(100):
            try:
                if httpx.get(url + "/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            import time
            time.sleep(0.2)
        # The documents' vectors come from the models cache the session's index build filled (no torch import).
        run = subprocess.run([sys.executable, "-m", "bot.cli", "index", "--chroma-url", url], cwd=ROOT,
                             capture_output=True, text=True, timeout=180)
        assert run.returncode == 0 and "index built" in run.stdout, run.stderr
        settings = _settings(tmp_path)
        replicas = [LiveServer(args=("--no-console", "--chroma-url", url),
                               env_extra={"FAQBOT_SETTINGS": settings, "FAQBOT_INDEX": str(tmp_path / f"unused{i}")})
                    for i in range(2)]
        for replica in replicas:
            replica.wait_ready(path="/readyz")
        questions = ["how long is a session?", "what is esketamine?", "can I drive home afterwards?"]
        answers = [[httpx.post(r.url + "/api/chat", json={"message": q}, timeout=30).json() for q in questions]
                   for r in replicas]
        assert answers[0] == answers[1]
        assert all(a["route"] == "answer" for a in answers[0])
        assert "reused" in replicas[0].log() or "reused" in httpx.get(replicas[0].url + "/readyz").text
    finally:
        for replica in replicas:
            replica.stop()
        chroma.terminate()
        chroma.wait(timeout=20)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_rate_limit_is_shared_across_replicas_with_redis(tmp_path, index_path):
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    replicas = []
    try:
        settings = _settings(tmp_path, rate_limit_per_minute=4, rate_limit_burst=2)
        env = {"FAQBOT_SETTINGS": settings, "FAQBOT_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        replicas = [LiveServer(index=index_path, args=("--no-console",), env_extra=env) for _ in range(2)]
        for replica in replicas:
            replica.wait_ready()
        import time
        if time.time() % 60 > 50:   # keep all eight requests inside one fixed one-minute window
            time.sleep(61 - time.time() % 60)
        codes = [httpx.post(replicas[i % 2].url + "/api/chat", json={"message": "hi"}, timeout=30).status_code
                 for i in range(8)]
        # 6 allowed in the window across both replicas; each alone would have allowed 6.
        assert codes.count(200) == 6 and codes.count(429) == 2, codes
    finally:
        for replica in replicas:
            replica.stop()
        redis.terminate()


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:   # field 4 of /proc/PID/stat: the parent's pid
            kids.append(int(stat.parent.name))
    return kids


def test_workers_flag_runs_several_worker_processes(tmp_path, index_path):
    server = LiveServer(index=index_path, args=("--no-console", "--workers", "2"),
                        env_extra={"FAQBOT_SETTINGS": _settings(tmp_path)}).wait_ready(path="/readyz")
    try:
        # uvicorn starts each worker as a spawned child ("spawn_main"); the resource tracker does not count
        workers = [p for p in _children(server.proc.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(workers) == 2, _children(server.proc.pid)
        with httpx.Client(timeout=30) as client:
            replies = [client.post(server.url + "/api/chat", json={"message": "how long is a session?"})
                       for _ in range(12)]
        assert all(r.status_code == 200 and r.json()["route"] == "answer" for r in replies)
    finally:
        server.stop()
