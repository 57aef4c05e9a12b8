#!/usr/bin/env bash
# Creates .venv and installs the pinned packages and this project. Idempotent: a second run with the
# same requirements.lock and pyproject.toml does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
setup_start=$(date +%s)
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat .venv/.faqbot-installed 2>/dev/null || true)" != "$want" ]; then
  echo "setup: installing pinned packages (first time: about 3 minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "is ignored" || true
  # torch is pinned to the CPU build in requirements.lock; never leave it open (a CUDA build is GBs).
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "is ignored" || true
  # construct-tracker (below) declares dependencies that clash with our pins on purpose: ignore only its lines.
  if ! problems=$(.venv/bin/python -m pip check 2>&1); then
    problems=$(echo "$problems" | grep -v "^construct-tracker " || true)
    if [ -n "$problems" ]; then echo "$problems"; exit 1; fi
  fi
  # Read as data only (the Suicide Risk Lexicon and the public Reddit check in eval/reddit_check.py): its
  # declared dependencies clash with our pins, so it is installed without them, after `pip check`.
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps construct-tracker==1.0.16 2>&1 \
    | grep -v "is ignored" || true
  echo "$want" > .venv/.faqbot-installed
  echo "setup: installed in $(( $(date +%s) - setup_start )) s"
fi
