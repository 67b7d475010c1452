#!/usr/bin/env bash
# The README's test command: set up .venv if needed, lint, type-check, run the default tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
export MPLBACKEND=Agg
.venv/bin/ruff check qaa_hw tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
