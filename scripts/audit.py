"""Audit the pinned dependencies (requirements.lock) against PyPI's vulnerability records.

    .venv/bin/python scripts/audit.py [--lock requirements.lock] [--accepted security/accepted-vulnerabilities.yaml]

The same data pip-audit's PyPI service reads (OSV records that PyPI attaches to releases). pip-audit asks
PyPI for each exact version (`/pypi/NAME/VERSION/json`); where that answers, so do we. Where only the
project endpoint answers (`/pypi/NAME/json`, as on our build machines), its records describe the latest
release, so a pin that IS the latest release is still audited and an older pin is reported as not audited.

Exit status: 0 no finding outside the accepted list; 1 a finding that is not accepted (printed with its
id, aliases and fix versions); 2 nothing could be audited (PyPI unreachable) or a bad input file.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Audited:
    name: str
    version: str
    how: str = ""                  # "version" | "latest" | "" (not audited)
    findings: list[dict] = field(default_factory=list)
    why_not: str = ""


def read_lock(path: Path) -> list[tuple[str, str]]:
    pins = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if "==" not in line:
            raise ValueError(f"{path}:{number}: not an exact pin: {line!r}")
        name, version = (part.strip() for part in line.split("==", 1))
        pins.append((name, version))
    return pins


def read_accepted(path: Path) -> dict[str, str]:
    """Accepted finding ids (and aliases) -> the reason, from a YAML list staff can review."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or []
    accepted: dict[str, str] = {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item.get("id") or not item.get("reason"):
            raise ValueError(f"{path}: item {i + 1}: needs 'id' and 'reason'")
        for vuln_id in [item["id"], *item.get("aliases", [])]:
            accepted[str(vuln_id)] = str(item["reason"])
    return accepted


def _get_json(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError, OSError):
        return None


def audit_pin(index_url: str, name: str, version: str) -> Audited:
    result = Audited(name, version)
    exact = _get_json(f"{index_url}/pypi/{name}/{version}/json")
    if exact is not None:
        result.how, result.findings = "version", exact.get("vulnerabilities") or []
        return result
    latest = _get_json(f"{index_url}/pypi/{name}/json")
    if latest is None:
        result.why_not = "PyPI did not answer"
    elif latest.get("info", {}).get("version") == version:
        result.how, result.findings = "latest", latest.get("vulnerabilities") or []
    else:
        result.why_not = f"older than the latest release ({latest.get('info', {}).get('version')})"
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", default=str(ROOT / "requirements.lock"))
    parser.add_argument("--accepted", default=str(ROOT / "security" / "accepted-vulnerabilities.yaml"))
    parser.add_argument("--index-url", default="https://pypi.org")
    args = parser.parse_args(argv)
    try:
        pins = read_lock(Path(args.lock))
        accepted = read_accepted(Path(args.accepted))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda pin: audit_pin(args.index_url.rstrip("/"), *pin), pins))
    audited = [r for r in results if r.how]
    if not audited:
        print(f"audit: none of {len(pins)} pins could be audited: is {args.index_url} reachable?", file=sys.stderr)
        return 2
    new = total = 0
    for r in audited:
        seen: set[str] = set()
        for finding in r.findings:
            ids = [finding.get("id", "?"), *(finding.get("aliases") or [])]
            if seen & set(ids):
                continue   # PyPI lists one advisory under each database's id (GHSA, PYSEC)
            seen.update(ids)
            total += 1
            reason = next((accepted[i] for i in ids if i in accepted), None)
            new += reason is None
            fixed = ", ".join(finding.get("fixed_in") or []) or "no fixed release"
            status = "accepted (see the accepted list for why)" if reason else "NOT ACCEPTED"
            print(f"{r.name}=={r.version}: {' / '.join(sorted(ids))} (fix: {fixed}) {status}")
    skipped = [r for r in results if not r.how]
    print(f"audit: {len(audited)}/{len(pins)} pins audited ({sum(r.how == 'version' for r in audited)} by exact "
          f"version, {sum(r.how == 'latest' for r in audited)} as the latest release); "
          f"{total} advisories, {new} not accepted")
    for r in skipped:
        print(f"  not audited: {r.name}=={r.version}: {r.why_not}")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
