#!/usr/bin/env bash
# The README's main command: set up .venv if needed, then run the default study end to end:
# compile report on ibm_brisbane, a noise/mitigation sweep over three devices, and the
# hardware-feasibility report (HTML + Markdown). Extra arguments go to `qaa_hw sweep`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
export MPLBACKEND=Agg
mkdir -p out
.venv/bin/qaa_hw compile --device ibm_brisbane --qubits 4 --layers 2 --seed 0 \
  --json out/compile_ibm_brisbane.json --qasm out/compile_ibm_brisbane.qasm
.venv/bin/qaa_hw simulate --device ibm_brisbane --qubits 4 --layers 2 --inputs 16 --seed 0 \
  --json out/simulate_ibm_brisbane.json
.venv/bin/qaa_hw sweep analysis/default_study.yaml --out out/default_study "$@"
# The fine-tuning study's store (benchmarks/finetune.py --study), when present, adds task
# quality against noise to the report and sets the shots per circuit.
STORE=benchmarks/results/finetune_study.jsonl
EXTRA=()
if [ -f "$STORE" ]; then EXTRA=(--finetune-store "$STORE"); fi
.venv/bin/qaa_hw report --devices ibm_brisbane,ibm_torino,google_weber \
  --sweep out/default_study --out out/report --model smollm2-135m \
  --target-modules q_proj,v_proj "${EXTRA[@]}"
echo
echo "compile report: out/compile_ibm_brisbane.json (OpenQASM 3: out/compile_ibm_brisbane.qasm)"
echo "sweep results:  out/default_study/results.{sqlite,csv,parquet}"
echo "feasibility report: $ROOT/out/report/report.html (Markdown: out/report/report.md)"
