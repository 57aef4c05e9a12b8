"""Shared fixtures: the real model, a real Chroma store in a temp dir, a real server process.

The model is loaded once per test session; the index is built once into a session temp dir.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.bench import free_port  # noqa: F401 - re-exported for the tests

for _key, _value in {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                     "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false",
                     "ANONYMIZED_TELEMETRY": "False", "TRANSFORMERS_VERBOSITY": "error",
                     "OPENBLAS_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_key, _value)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

# Test levels, marked at collection: `system` starts processes or a browser, `integration` loads the real
# model or builds a real index in this process, `unit` does neither (`bash scripts/test.sh --fast`).
MODEL_FIXTURES = {"embeddings", "embed", "assistant", "pipeline", "index", "built_index"}
PROCESS_MARKS = ("subprocess.", "LiveServer(", "faqbot(", "sync_playwright", "live_server", "console_server",
                 "_eval(", "Popen(")


def _level(item: pytest.Item) -> str:
    import inspect

    names = set(getattr(item, "fixturenames", ()))
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError, AttributeError):
        source = ""
    if item.get_closest_marker("browser") or any(mark in source for mark in PROCESS_MARKS) \
            or names & {"live_server", "console_server", "staff", "served", "compared"}:
        return "system"
    return "integration" if names & MODEL_FIXTURES else "unit"


def broken_corpus_copy(tmp_path: Path, file_name: str, mutate) -> Path:  # noqa: ANN001
    """A copy of corpus/entries in ``tmp_path`` whose ``file_name`` went through ``mutate(list_of_entries)``."""
    import shutil

    import yaml

    folder = tmp_path / "entries"
    shutil.copytree(ROOT / "corpus" / "entries", folder)
    target = folder / file_name
    data = yaml.safe_load(target.read_text())
    mutate(data)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(_level(item))


@pytest.fixture(scope="session")
def embeddings():
    """The ONNX MiniLM backend (the query path the product uses once `faqbot index` exported it)."""
    from bot.embeddings import MiniLMEmbeddings
    from bot.minilm import packaged_model_path
    from bot.onnx_minilm import export_onnx
    from bot.settings import models_dir

    export_onnx(packaged_model_path(), models_dir())
    return MiniLMEmbeddings(backend="onnx")


@pytest.fixture(scope="session")
def embed(embeddings):
    """Callable[[list[str]], np.ndarray] of unit vectors, for the crisis classifier."""
    return embeddings.embed


@pytest.fixture(scope="module")
def policy():
    """The shipped policy (guardrails/policy/), for rule-level tests."""
    from guardrails import load_policy

    return load_policy()


@pytest.fixture(scope="module")
def guard(policy):
    """Guardrails over the shipped policy, rules only (no classifier)."""
    from guardrails import Guardrails

    return Guardrails(policy)


@pytest.fixture(scope="session")
def corpus():
    from bot.corpus import load_corpus

    return load_corpus()


@pytest.fixture(scope="session")
def index_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def assistant(corpus, embeddings, index_path):
    """(pipeline, status) over a real Chroma index built in a temp dir with sentence-transformers."""
    from bot.assistant import build_pipeline

    return build_pipeline(corpus=corpus, embeddings=embeddings, index_path=index_path)


@pytest.fixture(scope="session")
def pipeline(assistant):
    return assistant[0]


class LiveServer:
    """`faqbot serve` in a subprocess on a free loopback port."""

    def __init__(self, env_extra: dict[str, str] | None = None, args: tuple[str, ...] = (),
                 index: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **(env_extra or {})}
        if index is not None:
            env["FAQBOT_INDEX"] = str(index)
        self.log_path = ARTIFACTS / f"server-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port), *args],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180.0, path: str = "/healthz") -> LiveServer:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"server not ready in {timeout}s: {self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture(scope="session")
def live_server(index_path, assistant):
    """A real `faqbot serve` process (API, widget, staff console) sharing the session's built index."""
    server = LiveServer(index=index_path).wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
