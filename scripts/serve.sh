#!/usr/bin/env bash
# The one command that runs the product: install, index, serve on 127.0.0.1 (embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
.venv/bin/faqbot index
exec .venv/bin/faqbot serve "$@"
