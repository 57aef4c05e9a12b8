#!/usr/bin/env bash
# Creates .venv and installs the pinned packages and this project. Idempotent: a second run with the
# same requirements.lock and pyproject.toml does nothing. Installs with uv when it can (seconds), and falls
# back to pip (minutes) when uv cannot be installed or fails; FAQBOT_INSTALLER=pip forces pip.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
setup_start=$(date +%s)
PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.8
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi

quiet() { grep -v "is ignored" || true; }

# uv does not read pip's configuration: hand it the indexes, wheel folders and constraints pip would use
# (a machine may keep the CPU build of torch in a local wheel folder, and must not fetch a CUDA build).
pip_sources() {
  .venv/bin/python - <<'PY'
import subprocess
flags = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links",
         "constraint": "--constraint"}
out = subprocess.run([".venv/bin/python", "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
seen = set()
for line in out.splitlines():
    key, _, value = line.partition("=")
    name = key.rpartition(".")[2]
    if name in flags:
        for item in value.strip().strip("'\"").split():
            if (name, item) not in seen:
                seen.add((name, item))
                print(flags[name], item)
PY
}

install_with_uv() {
  [ "${FAQBOT_INSTALLER:-uv}" = uv ] || return 1
  .venv/bin/python -m pip install -q --disable-pip-version-check "uv==${UV_VERSION}" 2>&1 | quiet
  [ -x .venv/bin/uv ] || return 1
  local -a sources=()
  while read -r flag value; do sources+=("$flag" "$value"); done < <(pip_sources)
  local uv=(.venv/bin/uv pip install --quiet --python .venv/bin/python --index-strategy unsafe-best-match)
  "${uv[@]}" "${sources[@]}" -r requirements.lock || return 1
  "${uv[@]}" --no-deps -e . || return 1
  check_pins .venv/bin/uv pip check --python .venv/bin/python || return 1
  "${uv[@]}" "${sources[@]}" --no-deps construct-tracker==1.0.16 || return 1
}

install_with_pip() {
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | quiet
  # torch is pinned in requirements.lock; never leave it open (a CUDA build is GBs).
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | quiet
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | quiet
  check_pins .venv/bin/python -m pip check || exit 1
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps construct-tracker==1.0.16 2>&1 | quiet
}

# construct-tracker is installed after the check, without its dependencies: they clash with our pins on
# purpose, and it is read as data only (the Suicide Risk Lexicon and the public Reddit check in
# eval/reddit_check.py). Lines about it are ignored should it already be there.
check_pins() {
  local problems
  if ! problems=$("$@" 2>&1); then
    problems=$(echo "$problems" | grep -iv "construct-tracker\|^Checked\|^Found" || true)
    if [ -n "$problems" ]; then echo "$problems"; return 1; fi
  fi
}

want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat .venv/.faqbot-installed 2>/dev/null || true)" != "$want" ]; then
  if install_with_uv; then
    how=uv
  else
    echo "setup: installing with pip (first time: about 3 minutes)"
    install_with_pip
    how=pip
  fi
  echo "$want" > .venv/.faqbot-installed
  echo "setup: installed with ${how} in $(( $(date +%s) - setup_start )) s"
fi
