"""``benchmarks/finetune.py --study``: run the pending rows, then write the report."""

from __future__ import annotations

import argparse
import shlex
import time
import traceback
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path

from _finetune_report import (
    method_table,
    noise_aware_table,
    paired_table,
    plots,
    second_model_lines,
    shots_table,
    surrogate_lines,
    train_runs,
    verdict,
)
from _finetune_study import (
    FIXED,
    MAIN_MODEL,
    ROOT,
    SECOND_MODEL,
    SECOND_MODEL_BUDGET,
    Budget,
    Runner,
    append_row,
    pending,
    plan,
    read_store,
    store_of,
)


def budget_of(args: argparse.Namespace, model: str | None = None) -> Budget:
    """The default budget of ``model`` (default ``--model``) with the command line's options."""
    model = model or args.model
    budget = Budget(model=model)
    if model != MAIN_MODEL:
        budget = replace(budget, **SECOND_MODEL_BUDGET)
    for name in ("dtype", "steps", "max_new_tokens"):
        if getattr(args, name) is not None:
            budget = replace(budget, **{name: getattr(args, name)})
    if args.eval_examples is not None:
        budget = replace(budget, eval_examples=args.eval_examples)
    return budget


def run_study(args: argparse.Namespace, argv: list[str]) -> int:
    budget = budget_of(args)
    default_store, default_runs = store_of(budget.model)
    store = Path(args.store) if args.store else default_store
    runs_dir = Path(args.runs_dir) if args.runs_dir else default_runs
    done = read_store(store, budget)
    rows = plan(budget)
    todo = list(pending(rows, done))
    if args.rows:
        patterns = args.rows.split(",")
        unmatched = [p for p in patterns if not any(fnmatch(r.key, p) for r in rows)]
        if unmatched:
            raise SystemExit(f"error: --rows {','.join(unmatched)} matches no row of the study; "
                             "keys look like train/qaa/s0 or shots/qaa/s0/device=ibm_torino/"
                             "mitigation=rem/shots=100")
        todo = [r for r in todo if any(fnmatch(r.key, p) for p in patterns)]
    print(f"study: {len(rows) - len(todo)}/{len(rows)} rows done; store {store}", flush=True)
    if todo and not args.report_only:
        runner = Runner(budget, runs_dir, args.threads)
        for count, row in enumerate(todo):
            if args.max_rows is not None and count >= args.max_rows:
                break
            t0 = time.perf_counter()
            try:
                result = runner.run(row, done)
            except Exception as e:  # the row stays pending; the study goes on
                traceback.print_exc()
                print(f"row {row.key} failed ({type(e).__name__}: {e}); not stored, retried "
                      "on the next run", flush=True)
                continue
            append_row(store, result)
            done[row.key] = result
            print(f"[{len(done)}/{len(rows)}] {row.key}: {time.perf_counter() - t0:.0f} s "
                  f"({result['cpu_s']:.0f} CPU s) {result.get('metrics', '')}", flush=True)
    if budget.model != MAIN_MODEL:  # the report is the main study's, with this model's rows
        second = (budget, done)
        budget = budget_of(args, MAIN_MODEL)
        store = store_of(MAIN_MODEL)[0]
        done, rows = read_store(store, budget), plan(budget)
        argv = _without_model(argv)
    else:
        second_budget = budget_of(args, SECOND_MODEL)
        second = (second_budget, read_store(store_of(SECOND_MODEL)[0], second_budget))
    text = report(done, rows, budget, argv, store, second)
    print(text)
    if args.write_docs:
        from finetune import write_docs

        write_docs(text, args.section)
    return 0


def _without_model(argv: list[str]) -> list[str]:
    """``argv`` less its ``--model`` option (the report shows the main study's command)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--model":
            skip = True
        elif not a.startswith("--model="):
            out.append(a)
    return out


def _cost_class(kind: str, name: str, extra: dict) -> str:
    """Rows of one class cost about the same CPU time."""
    if kind == "train":
        return "fixed" if name in FIXED else "train"
    if kind == "shots":
        return f"shots-{extra.get('shots')}-{'zne' in str(extra.get('mitigation'))}"
    return kind


def estimate_remaining(done: dict, rows: list, budget: Budget) -> str:
    """CPU hours left, from the mean CPU time of finished rows of the same cost class."""
    by: dict[str, list[float]] = {}
    for r in done.values():
        extra = {k: r.get(k) for k in ("shots", "mitigation")}
        by.setdefault(_cost_class(r["kind"], r["name"], extra), []).append(r["cpu_s"])
    left = 0.0
    unknown = 0
    for row in rows:
        if row.key in done:
            continue
        times = by.get(_cost_class(row.kind, row.name, row.extra))
        if times:
            left += sum(times) / len(times)
        else:
            unknown += 1
    text = f"about {left / 3600:.1f} CPU hours left for rows like those measured"
    if unknown:
        text += f", plus {unknown} rows of a kind not measured yet"
    return text


def report(done: dict, rows: list, budget: Budget, argv: list[str], store: Path,
           second: tuple[Budget, dict]) -> str:
    runs = train_runs(done)
    cpu_h = sum(r["cpu_s"] for r in done.values()) / 3600
    complete = len(done) == len(rows)
    table, found = paired_table(runs)
    shots, fewest = shots_table(done, runs, budget)
    images = plots(runs, done, budget, ROOT / "docs" / "img")
    status = ("complete" if complete else
              f"**PARTIAL: {len(done)} of {len(rows)} rows done** (the study is resumable; "
              f"{estimate_remaining(done, rows, budget)})")
    flags = [a for a in argv if a not in ("--write-docs", "--report-only")]
    where = store.relative_to(ROOT) if store.is_relative_to(ROOT) else store
    body = [
        "## Fine-tuning study: does the circuit matter?", "",
        f"Command: `python benchmarks/finetune.py {shlex.join(flags)}` (resumable: rows are "
        f"stored one per line in `{where}`, a rerun skips them; `--report-only "
        "--write-docs` rewrites this section). Status: "
        f"{status}. CPU time of the rows so far: {cpu_h:.1f} h (1 torch thread, 2-core host "
        "shared with other jobs).", "",
        f"Task: `data/wordnet_defs` (WordNet 3.0 definition generation, human-written glosses; "
        f"4,000 training synsets, 500 test synsets, split by synset). Every learned method: "
        f"SmolLM2-135M-Instruct in {budget.dtype}, {budget.steps} steps of {budget.batch_size} "
        f"examples ({budget.steps * budget.batch_size / 4000:.2f} epoch), AdamW at the "
        "method's default learning rate, seeds "
        f"{', '.join(map(str, budget.seeds))} (seed = batch order and adapter initialisation), "
        f"adapters on q_proj and v_proj of all 30 layers. Test loss on all 500 test examples; "
        f"BLEU, ROUGE-L and BERTScore (MiniLM, see \"Metrics\" in docs/finetune.md) on the "
        f"first {budget.gen_examples} (greedy, at most {budget.max_new_tokens} new tokens). "
        "Intervals: 95 % bootstrap over test examples and seeds (1,000 resamples); paired "
        "differences resample the same examples and seeds for both methods.", "",
        *method_table(runs), "",
        *images[:1], "",
        "Paired differences, QAA minus each method (for the loss, negative = QAA better):", "",
        *table, "",
        "Verdict (a difference counts only when its 95 % interval excludes 0):", "",
        *verdict(found, runs), "",
        f"Quality versus shots (QAA seed 0, circuits of all 60 adapted layers on the device's "
        f"noisy channel at λ = 1 with idle relaxation, every circuit and token sampled with the "
        f"given shots; REM = tensored inverse readout confusion per qubit, REM + ZNE = REM on "
        f"each of the folded circuits at 1, 3, 5, then Richardson; loss on the first "
        f"{budget.shots_examples} test examples; the ideal row is the same model with ideal "
        "circuits on the same examples):", "",
        *shots, "",
        "Fewest shots per circuit and token: (a) the loss within the "
        "ideal model's 95 % interval, which holds the spread over test examples and so "
        "tolerates large shifts; (b) no detectable change, the paired difference to the ideal "
        "model on the same examples with a 95 % interval holding 0 (the sensitive test). "
        "Either counts only when every larger measured shot count passes too.", "",
        *fewest, "",
        "Noise-aware against ideal training, both evaluated on the same device, mitigation, "
        "shots and test examples (test loss; negative = the noise-aware model is better):",
        "", *noise_aware_table(done, budget), "",
        *images[1:], "",
        "Classical surrogate of the trained QAA adapters (seed 0, ideal and noise-aware "
        "training): every adapter as its quadratic forms `x̂ᵀ Q_o x̂` "
        "(`qaa_hw.adapters.surrogate`), against the circuit on the same inputs:", "",
        *surrogate_lines(done), "",
        *second_model_lines(*second), "",
    ]
    return "\n".join(body) + "\n"
