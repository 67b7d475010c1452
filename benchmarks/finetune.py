"""Fine-tuning benchmark: QAA against LoRA, Prefix and SoRA on SmolLM2-135M-Instruct (CPU).

Every method trains on the same shipped task (``data/e2e_mini``), with the same steps,
batches (a function of the step and seed), learning-rate rule and evaluation examples, in one
process, one after the other, each on a fresh copy of the same base model. QAA is trained
twice: on ideal circuits, and under ibm_brisbane's noise at λ = 1 (noise-aware training).
Both QAA models are then evaluated with their circuits run ideal and on each device at each
noise scale (idle relaxation on, as everywhere), without and with ZNE (gate folding, the
default, and pulse stretching), optionally with finite shots per circuit and token.

Run (the defaults are the run recorded in docs/benchmarks.md: 60 steps, all 80 test examples,
about 75 min on a 2-core host, one torch thread)::

    python benchmarks/finetune.py --out /tmp/qaa_finetune_bench --write-docs

``--study`` runs the study "does the circuit matter?" instead (``benchmarks/_finetune_study.py``:
QAA against its ablations, LoRA r = 1 / 8, Prefix, SoRA, the base model and retrieval on
``data/wordnet_defs``, 3 seeds, bootstrap intervals and paired tests, quality vs shots with
none / REM / REM + ZNE, the classical surrogate). It is resumable row by row: finished rows
are in ``benchmarks/results/finetune_study.jsonl`` (committed) and a rerun skips them::

    python benchmarks/finetune.py --study --write-docs            # run / continue, then docs
    python benchmarks/finetune.py --study --report-only --write-docs   # docs from the store

Goals checked at the end (printed as PASS / MISS with the measured ratio):

* QAA ROUGE-L >= 0.9 x LoRA's, with <= 0.1 % trainable parameters;
* QAA seconds per step <= 1.5 x LoRA's;
* noise-aware QAA loses at most half the ROUGE-L that the ideally trained QAA loses at
  λ = 1 on ibm_brisbane (losses measured from the ideally trained QAA's ideal ROUGE-L).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SECTION = "## Fine-tuning"
STUDY_SECTION = "## Fine-tuning study: does the circuit matter?"
METHOD_RUNS = ("qaa", "qaa-nat", "lora", "prefix", "sora")
#: Defaults of the benchmark (not the study, whose budget is benchmarks/_finetune_study.Budget).
LEGACY_DEFAULTS = {"dtype": "bfloat16", "steps": 60, "eval_examples": 80, "max_new_tokens": 40}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--dtype", choices=("float32", "bfloat16"),
                   help="base-model dtype (default bfloat16; the study: float32)")
    p.add_argument("--steps", type=int, help="steps per run (default 60; the study: 80)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--eval-examples", type=int, help="test examples (default 80)")
    p.add_argument("--max-new-tokens", type=int, help="generation limit (default 40; study 32)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1 is fastest on a shared 2-core host)")
    p.add_argument("--devices", default="ibm_brisbane,ibm_torino")
    p.add_argument("--noise", default="0,1,2")
    p.add_argument("--mitigation", default="none,zne,zne:pulse_stretch")
    p.add_argument("--shots", type=int, default=None,
                   help="shots per circuit and token in noisy evaluation (default exact)")
    p.add_argument("--train-noise", default="ibm_brisbane")
    p.add_argument("--runs", default=",".join(METHOD_RUNS),
                   help="subset of qaa,qaa-nat,lora,prefix,sora")
    p.add_argument("--out", default="/tmp/qaa_finetune_bench")
    p.add_argument("--resume", action="store_true",
                   help="continue each run from its checkpoint in --out (finished runs are "
                        "only evaluated again, with the evaluation options given now)")
    p.add_argument("--write-docs", action="store_true",
                   help="replace the --section section of docs/benchmarks.md")
    p.add_argument("--section", help=f"the docs section written (default {SECTION!r}; "
                                     f"the study: {STUDY_SECTION!r})")
    s = p.add_argument_group("study")
    s.add_argument("--study", action="store_true", help="run / continue the resumable study")
    s.add_argument("--store", default=None, help="the study's JSONL store (default "
                   "benchmarks/results/finetune_study.jsonl)")
    s.add_argument("--runs-dir", default=None, help="checkpoints of the study's runs "
                   "(default benchmarks/results/finetune_study_runs, git-ignored)")
    s.add_argument("--max-rows", type=int, default=None, help="stop after N new rows")
    s.add_argument("--rows", default=None, metavar="PATTERNS",
                   help="run only the rows whose key matches one of these comma-separated "
                        "shell patterns (keys are kind/method/seed[/options], e.g. "
                        "'train/lora-r1/*,shots/qaa/*'); processes with disjoint patterns "
                        "can share one store")
    s.add_argument("--report-only", action="store_true", help="tables from the store only")
    args = p.parse_args(argv)
    if not args.study:
        for name, value in LEGACY_DEFAULTS.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
    if args.section is None:
        args.section = STUDY_SECTION if args.study else SECTION
    return args


def run_one(name: str, args: argparse.Namespace, base: Any, tok: Any) -> dict[str, Any]:
    from qaa_hw.finetune.methods import MethodSettings
    from qaa_hw.finetune.train import TrainConfig, run_finetune

    method = "qaa" if name.startswith("qaa") else name
    is_qaa = method == "qaa"
    config = TrainConfig(
        model=args.model, dtype=args.dtype, methods=MethodSettings(method=method),
        steps=args.steps, batch_size=args.batch_size, eval_examples=args.eval_examples,
        max_new_tokens=args.max_new_tokens, checkpoint_every=0, threads=args.threads,
        train_noise=args.train_noise if name == "qaa-nat" else None,
        eval_devices=tuple(args.devices.split(",")) if is_qaa else (),
        eval_noise=tuple(float(x) for x in args.noise.split(",")),
        mitigation=tuple(args.mitigation.split(",")),
        shots=args.shots if is_qaa else None,
    )
    out = Path(args.out) / name
    if out.exists() and not args.resume:
        import shutil

        shutil.rmtree(out)
    model = copy.deepcopy(base)
    gc.collect()
    t0 = time.perf_counter()
    summary = run_finetune(config, out, resume=args.resume, progress=True,
                           model_and_tokenizer=(model, tok))
    wall = time.perf_counter() - t0
    del model
    gc.collect()
    result = summary.to_dict()
    result["name"] = name
    result["wall_s"] = wall
    print(f"{name}: {wall:.0f} s", flush=True)
    return result


def ideal_row(result: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in result["eval_rows"] if r["backend"] == "ideal")


def main_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| method | trainable params (% of model) | BLEU | ROUGE-L | BERTScore (MiniLM) | "
             "final train loss | test loss | s/step | peak memory (MiB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        row = ideal_row(r)
        label = {"qaa": "QAA (ideal training)", "qaa-nat": "QAA (noise-aware training)",
                 "lora": "LoRA (peft)", "prefix": "Prefix (peft)", "sora": "SoRA (ours)"}[r["name"]]
        lines.append(
            f"| {label} | {r['trainable_params']:,} ({100 * r['trainable_share']:.4f} %) | "
            f"{row['bleu']:.2f} | {row['rouge_l']:.4f} | {row['bertscore']:.4f} | "
            f"{r['final_loss']:.4f} | {row['loss']:.4f} | {r['seconds_per_step']:.2f} | "
            f"{r['peak_memory_mb']:.0f} |")
    return lines


def noise_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| QAA trained | circuits run | λ | mitigation | test loss | BLEU | ROUGE-L | "
             "BERTScore |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if not r["name"].startswith("qaa"):
            continue
        trained = "ideal" if r["name"] == "qaa" else "noise-aware"
        for row in r["eval_rows"]:
            where = row["device"] or "ideal"
            lam = "-" if row["noise_scale"] is None else f"{row['noise_scale']:g}"
            lines.append(f"| {trained} | {where} | {lam} | {row['mitigation']} | "
                         f"{row['loss']:.4f} | {row['bleu']:.2f} | {row['rouge_l']:.4f} | "
                         f"{row['bertscore']:.4f} |")
    return lines


def _find(result: dict[str, Any], device: str, lam: float, mitigation: str = "none"
          ) -> dict[str, Any] | None:
    for row in result["eval_rows"]:
        if (row["device"], row["noise_scale"], row["mitigation"]) == (device, lam, mitigation):
            return row
    return None


def goals(results: list[dict[str, Any]], train_noise: str) -> list[str]:
    by = {r["name"]: r for r in results}
    lines = []
    if "qaa" in by and "lora" in by:
        q, lo = by["qaa"], by["lora"]
        ratio = ideal_row(q)["rouge_l"] / max(ideal_row(lo)["rouge_l"], 1e-12)
        share = 100 * q["trainable_share"]
        ok = ratio >= 0.9 and share <= 0.1
        lines.append(f"- QAA ROUGE-L / LoRA ROUGE-L = {ratio:.3f} (goal >= 0.9) at {share:.4f} % "
                     f"trainable (goal <= 0.1 %): **{'PASS' if ok else 'MISS'}**")
        sratio = q["seconds_per_step"] / max(lo["seconds_per_step"], 1e-12)
        lines.append(f"- QAA s/step / LoRA s/step = {sratio:.2f} (goal <= 1.5): "
                     f"**{'PASS' if sratio <= 1.5 else 'MISS'}**")
    if "qaa" in by and "qaa-nat" in by:
        ref_row = ideal_row(by["qaa"])
        a, b = _find(by["qaa"], train_noise, 1.0), _find(by["qaa-nat"], train_noise, 1.0)
        if a is not None and b is not None:
            ref = ref_row["rouge_l"]
            drop_ideal, drop_nat = ref - a["rouge_l"], ref - b["rouge_l"]
            own = ideal_row(by["qaa-nat"])["rouge_l"] - b["rouge_l"]
            if drop_ideal <= 0:
                verdict = "INCONCLUSIVE (the ideally trained QAA lost no ROUGE-L)"
            else:
                verdict = "PASS" if drop_nat <= 0.5 * drop_ideal else "MISS"
            lines.append(
                f"- ROUGE-L lost at λ = 1 on {train_noise} (from the ideally trained QAA's ideal "
                f"{ref:.4f}): ideal training {drop_ideal:+.4f}, noise-aware training "
                f"{drop_nat:+.4f} (goal: at most half): **{verdict}**; noise-aware model "
                f"against its own ideal evaluation: {own:+.4f}")
            nat_ideal = ideal_row(by["qaa-nat"])["loss"]
            lines.append(
                f"- test loss gained at λ = 1 on {train_noise}, each model against its own ideal "
                f"evaluation: ideal training {a['loss'] - ref_row['loss']:+.4f} "
                f"({ref_row['loss']:.4f} -> {a['loss']:.4f}), noise-aware training "
                f"{b['loss'] - nat_ideal:+.4f} ({nat_ideal:.4f} -> {b['loss']:.4f})")
    return lines


def write_docs(text: str, section: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = doc.find(section + "\n")
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        nxt = doc.find("\n## ", start + len(section))
        doc = doc[:start] + text + ("" if nxt < 0 else doc[nxt + 1:])
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.study:
        from _finetune_study_main import run_study

        try:
            return run_study(args, argv if argv is not None else sys.argv[1:])
        except SystemExit as e:  # the study's one-line refusals exit 2
            if not isinstance(e.code, str):
                raise
            print(e.code, file=sys.stderr)
            return 2
    import torch

    from qaa_hw.finetune.models import load_model

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    base, tok = load_model(args.model, dtype=args.dtype)
    load_s = time.perf_counter() - t0
    results = []
    runs = [r for r in args.runs.split(",") if r]
    for name in runs:
        results.append(run_one(name, args, base, tok))
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "benchmark.json").write_text(json.dumps(results, indent=2, default=str))
    total = time.perf_counter() - t0
    shown = argv if argv is not None else sys.argv[1:]
    command = "python benchmarks/finetune.py " + shlex.join(shown)
    body = [
        args.section, "",
        f"Command: `{command}` (model load {load_s:.0f} s, total {total / 60:.1f} min, "
        f"{args.threads} torch thread(s), base model in {args.dtype}, adapters in float32).", "",
        f"Task: `data/e2e_mini` (600 training pairs; {args.eval_examples} test examples scored), "
        f"{args.steps} steps of {args.batch_size} examples for every method, AdamW with the "
        "default learning rate per method, greedy decoding with at most "
        f"{args.max_new_tokens} new tokens. QAA: 4 qubits, 2 layers, ring, Z readout, fixed "
        "random down-projection, q_proj and v_proj of every layer. LoRA/SoRA: rank 8, "
        "alpha 16, same modules. Prefix: 10 virtual tokens.", "",
        *main_table(results), "",
        "QAA task quality against noise (circuits of every adapted layer on the device's "
        "noisy channel with idle relaxation, fast engine with effective preparation noise, "
        + ("exact expectation values" if args.shots is None else
           f"{args.shots} shots per circuit and token (every amplified circuit sampled)")
        + "; zne = Mitiq Richardson extrapolation over noise scale factors 1, 3, 5 by random "
        "gate folding (what hardware can run), zne:pulse_stretch = the same with every pulse "
        "stretched (gate errors and relaxation scaled, readout not)):", "",
        *noise_table(results), "",
        "Goals:", "", *goals(results, args.train_noise), "",
    ]
    text = "\n".join(body) + "\n"
    print(text)
    (Path(args.out) / "benchmark.md").write_text(text)
    if args.write_docs:
        write_docs(text, args.section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
