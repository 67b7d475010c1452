#!/usr/bin/env bash
# The README's test command: set up .venv if needed, lint, type-check, run the default tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
# The report test opens the HTML report in headless Chromium: install it from Debian when it
# is missing and we may (CI runs as root); a failed install fails the run.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium (Debian package) for the report's browser test" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
        >/dev/null
fi
export MPLBACKEND=Agg
.venv/bin/ruff check qaa_hw tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
