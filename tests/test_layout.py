"""The project's shape: no import cycles, guardrails apart from the rest, settings that moved still load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_no_import_cycles():
    run = subprocess.run([sys.executable, "scripts/import_graph.py"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and "cycles: 0" in run.stdout, run.stdout + run.stderr


def test_a_cycle_is_reported(tmp_path):
    # The checker itself, on two modules that import each other.
    for package in ("bot", "guardrails", "eval"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text("from bot import b\n")
    (tmp_path / "bot" / "b.py").write_text("def f():\n    from bot.a import x\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "import_graph.py").write_text((ROOT / "scripts" / "import_graph.py").read_text())
    run = subprocess.run([sys.executable, "scripts/import_graph.py"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1 and "bot.a <-> bot.b" in run.stdout, run.stdout + run.stderr


def test_guardrails_never_import_the_rest_of_the_product():
    # The guardrails must load and run when the rest of the product cannot (docs/architecture.md).
    run = subprocess.run([sys.executable, "scripts/import_graph.py", "--edges"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    edges = [line.split(" -> ") for line in run.stdout.splitlines() if " -> " in line and ":" not in line]
    assert edges, run.stdout
    assert [e for e in edges if e[0].startswith("guardrails") and e[1].startswith("bot")] == []


def test_a_retired_setting_still_starts_and_says_where_it_went(tmp_path, caplog):
    # max_history_turns moved to the guardrail policy (history_window): an older settings file keeps working.
    from bot.settings import SettingsError, load_settings

    path = tmp_path / "settings.yaml"
    path.write_text("server:\n  max_history_turns: 20\n  max_message_chars: 900\n")
    with caplog.at_level("WARNING", logger="faqbot.settings"):
        settings = load_settings(path)
    assert settings.server.max_message_chars == 900
    assert "max_history_turns" in caplog.text and "history_window" in caplog.text
    path.write_text("server:\n  max_history_turn: 20\n")      # a typo is still an error naming the key
    with pytest.raises(SettingsError, match="max_history_turn: unknown setting"):
        load_settings(path)
