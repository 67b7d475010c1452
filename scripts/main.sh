#!/usr/bin/env bash
# The README's main command: set up .venv if needed, then run the main job.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
export MPLBACKEND=Agg
mkdir -p out
.venv/bin/qaa_hw compile --device ibm_brisbane --qubits 4 --layers 2 --seed 0 \
  --json out/compile_ibm_brisbane.json --qasm out/compile_ibm_brisbane.qasm "$@"
echo "report written to out/compile_ibm_brisbane.json and out/compile_ibm_brisbane.qasm"
