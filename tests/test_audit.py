"""scripts/audit.py, the dependency audit CI runs, against a local stand-in for PyPI's JSON API.

PyPI itself is not ours, so a small HTTP server on loopback plays it; the script runs as CI runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADVISORY = {"id": "GHSA-test-0001", "aliases": ["CVE-2099-0001"], "fixed_in": ["2.0"], "summary": "bad"}
PROJECTS = {   # name -> (latest version, advisories on it, whether the exact-version endpoint answers)
    "vulnerable": ("1.0", [ADVISORY], False),
    "clean": ("3.1", [], True),
    "old": ("9.9", [], False),
}


class FakePyPI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = self.path.strip("/").split("/")   # pypi/NAME/json or pypi/NAME/VERSION/json
        project = PROJECTS.get(parts[1]) if len(parts) >= 3 else None
        if project is None or (len(parts) == 4 and not project[2]):
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps({"info": {"version": project[0]}, "vulnerabilities": project[1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture(scope="module")
def pypi():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePyPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def audit(tmp_path: Path, index: str, lock: str, accepted: str = "[]") -> subprocess.CompletedProcess:
    (tmp_path / "requirements.lock").write_text(lock)
    (tmp_path / "accepted.yaml").write_text(accepted)
    command = [sys.executable, str(ROOT / "scripts" / "audit.py"), "--index-url", index,
               "--lock", str(tmp_path / "requirements.lock"), "--accepted", str(tmp_path / "accepted.yaml")]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_finding_fails_the_audit_and_names_the_advisory(tmp_path, pypi):
    result = audit(tmp_path, pypi, "vulnerable==1.0\nclean==3.1\n")
    assert result.returncode == 1
    assert "vulnerable==1.0: CVE-2099-0001 / GHSA-test-0001 (fix: 2.0) NOT ACCEPTED" in result.stdout
    assert "2/2 pins audited (1 by exact version, 1 as the latest release)" in result.stdout


def test_an_accepted_finding_passes_but_is_still_listed(tmp_path, pypi):
    accepted = "- id: CVE-2099-0001\n  reason: server-side only, not exposed\n"
    result = audit(tmp_path, pypi, "vulnerable==1.0\n", accepted)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GHSA-test-0001 (fix: 2.0) accepted" in result.stdout


def test_an_older_pin_is_reported_as_not_audited(tmp_path, pypi):
    result = audit(tmp_path, pypi, "clean==3.1\nold==1.2\n")
    assert result.returncode == 0
    assert "not audited: old==1.2: older than the latest release (9.9)" in result.stdout


def test_unreachable_index_is_an_error_not_a_pass(tmp_path):
    from bot.bench import free_port

    result = audit(tmp_path, f"http://127.0.0.1:{free_port()}", "clean==3.1\n")
    assert result.returncode == 2
    assert "none of 1 pins could be audited" in result.stderr


def test_bad_inputs_name_the_file(tmp_path, pypi):
    result = audit(tmp_path, pypi, "clean>=3.1\n")
    assert result.returncode == 2 and "requirements.lock:1: not an exact pin" in result.stderr
    result = audit(tmp_path, pypi, "clean==3.1\n", "- id: X\n")
    assert result.returncode == 2 and "item 1: needs 'id' and 'reason'" in result.stderr
