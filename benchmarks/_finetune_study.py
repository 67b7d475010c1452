"""The fine-tuning study of ``benchmarks/finetune.py --study``: does the circuit matter?

Every method of the plan trains on ``data/wordnet_defs`` with the same budget and seeds; QAA
is compared with its own ablations, LoRA r = 1 / r = 8, Prefix, SoRA, the base model and
retrieval; QAA (ideally and noise-aware trained) is evaluated with finite shots on two
devices without mitigation, with REM and with REM + ZNE; the trained QAA adapter is exported
as its classical surrogate. One JSON line per finished row in the store (committed); a rerun
skips the rows already there, so the study completes over several sittings.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "benchmarks" / "results" / "finetune_study.jsonl"
RUNS = ROOT / "benchmarks" / "results" / "finetune_study_runs"  # git-ignored checkpoints
#: Methods compared with QAA in the paired tests, in the order of the tables.
CORE = ("qaa", "qaa-const", "qaa-frozen", "qaa-nocircuit", "quadratic", "lora-r1", "lora-r8",
        "sora", "prefix")
EXTRA = ("qaa-paper", "qaa-nat")
#: The study's model. Another model (``--model gemma3-270m``) repeats these methods with the
#: first seed, in a store and checkpoint folder of its own.
MAIN_MODEL = "smollm2-135m"
SECOND_MODEL = "gemma3-270m"
SECOND_MODEL_METHODS = ("qaa", "lora-r1", "lora-r8")
#: Budget changes of the second model (Gemma's 262k-token vocabulary makes every token about
#: 3x dearer on this CPU): fewer test examples, same training.
SECOND_MODEL_BUDGET: dict[str, Any] = {"eval_examples": 200, "gen_examples": 50}
FIXED = ("base", "retrieval")  # deterministic: one row each
LABELS = {
    "qaa": "QAA (n = 4, L = 2, ideal training)", "qaa-const": "ablation: constant readout",
    "qaa-frozen": "ablation: frozen circuit angles", "qaa-nocircuit": "ablation: no circuit",
    "quadratic": "classical quadratic adapter", "lora-r1": "LoRA r = 1", "lora-r8": "LoRA r = 8",
    "sora": "SoRA r = 8", "prefix": "Prefix (10 tokens)",
    "qaa-paper": "QAA paper config (n = 10, no down-projection)",
    "qaa-nat": "QAA noise-aware (ibm_brisbane, λ = 1)", "base": "base model (no training)",
    "retrieval": "retrieval (nearest training word's gloss)",
}


@dataclass(frozen=True)
class Budget:
    """What every row of the study depends on (stored in each row; must not change)."""

    model: str = "smollm2-135m"
    dtype: str = "float32"
    task: str = "wordnet_defs"
    steps: int = 80
    batch_size: int = 8
    eval_examples: int | None = None  # all 500 test examples for the loss
    gen_examples: int = 100
    max_new_tokens: int = 32
    max_length: int = 768  # characters of the tiny test model; SmolLM2 never truncates
    shots_examples: int = 100
    seeds: tuple[int, ...] = (0, 1, 2)
    devices: tuple[str, ...] = ("ibm_brisbane", "ibm_torino")
    mitigations: tuple[str, ...] = ("none", "rem", "rem+zne")
    shots: tuple[int | None, ...] = (None, 100, 1000, 10000)
    shots_models: tuple[str, ...] = ("qaa", "qaa-nat")

    def key(self) -> str:
        """Short hash of the budget."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Row:
    """One planned row: ``kind`` is ``train``, ``shots`` or ``surrogate``."""

    kind: str
    name: str
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Unique key in the store."""
        parts = [self.kind, self.name, f"s{self.seed}"]
        parts += [f"{k}={v}" for k, v in sorted(self.extra.items())]
        return "/".join(parts)


def store_of(model: str) -> tuple[Path, Path]:
    """``(store, checkpoint folder)`` of the study on ``model``."""
    if model == MAIN_MODEL:
        return STORE, RUNS
    return STORE.with_name(f"finetune_study_{model}.jsonl"), RUNS / model


def plan(budget: Budget) -> list[Row]:
    """Every row, in the order they run: one seed of every method first, then the surrogate
    of that QAA, the other seeds, the extra configurations and the noise-aware QAA's
    surrogate, then shots (cheapest first).
    On another model than :data:`MAIN_MODEL`: :data:`SECOND_MODEL_METHODS`, first seed."""
    first, *others = budget.seeds
    if budget.model != MAIN_MODEL:
        return [Row("train", name, first) for name in SECOND_MODEL_METHODS]
    rows = [Row("train", name, first) for name in FIXED]
    rows += [Row("train", name, first) for name in CORE]
    rows.append(Row("surrogate", "qaa", first))
    for seed in others:
        rows += [Row("train", name, seed) for name in CORE]
    for seed in budget.seeds:
        rows += [Row("train", name, seed) for name in EXTRA]
    rows.append(Row("surrogate", "qaa-nat", first))
    for name in budget.shots_models:
        for shots in budget.shots:
            for device in budget.devices:
                for mit in budget.mitigations:
                    rows.append(Row("shots", name, first, {"device": device, "mitigation": mit,
                                                           "shots": shots or "exact"}))
    return rows


def method_settings(name: str, seed: int) -> tuple[Any, dict[str, Any]]:
    """``(MethodSettings, TrainConfig extras)`` of a study method name."""
    from qaa_hw.adapters.baselines import LoRASettings
    from qaa_hw.adapters.qaa import QAAConfig
    from qaa_hw.adapters.sora import SoRAConfig
    from qaa_hw.finetune.methods import MethodSettings

    qaa = QAAConfig(seed=seed)
    if name in ("qaa", "qaa-const", "qaa-frozen", "qaa-nocircuit", "quadratic"):
        return MethodSettings(method=name, qaa=qaa), {}
    if name == "qaa-paper":
        return MethodSettings(method="qaa", qaa=QAAConfig(num_qubits=10, down="identity",
                                                          seed=seed)), {}
    if name == "qaa-nat":
        return MethodSettings(method="qaa", qaa=qaa), {"train_noise": "ibm_brisbane"}
    if name.startswith("lora-r"):
        r = int(name[len("lora-r"):])
        return MethodSettings(method="lora", lora=LoRASettings(r=r, alpha=2.0 * r)), {}
    if name == "sora":
        return MethodSettings(method="sora", sora=SoRAConfig(seed=seed)), {}
    return MethodSettings(method=name), {}


def train_config(budget: Budget, name: str, seed: int, threads: int) -> Any:
    """The :class:`TrainConfig` of a train row."""
    from qaa_hw.finetune.train import TrainConfig

    methods, extra = method_settings(name, seed)
    return TrainConfig(model=budget.model, dtype=budget.dtype, methods=methods,
                       task=budget.task, steps=budget.steps, batch_size=budget.batch_size,
                       seed=seed, eval_examples=budget.eval_examples,
                       gen_examples=budget.gen_examples, max_new_tokens=budget.max_new_tokens,
                       checkpoint_every=20, threads=threads, max_length=budget.max_length,
                       **extra)


# ----------------------------------------------------------------------------- store
def read_store(path: Path, budget: Budget) -> dict[str, dict[str, Any]]:
    """Finished rows by key.

    Raises:
        SystemExit: (code 2) a row written with another budget.
    """
    rows: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row["budget_key"] != budget.key():
            raise SystemExit(f"error: {path} holds rows of another budget ({row['budget']}); "
                             "use the same options or another --store")
        rows[row["key"]] = row
    return rows


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one finished row (one line, flushed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, default=_plain) + "\n")
        fh.flush()


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# ------------------------------------------------------------------------------ runs
class Runner:
    """Runs rows on one loaded base model (deep-copied per row)."""

    def __init__(self, budget: Budget, runs_dir: Path, threads: int) -> None:
        import torch

        from qaa_hw.finetune.models import load_model

        torch.set_num_threads(threads)
        self.budget, self.runs_dir, self.threads = budget, runs_dir, threads
        self.base, self.tok = load_model(budget.model, dtype=budget.dtype)

    def run(self, row: Row, done: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Compute one row (plain data, with timings)."""
        t0, c0 = time.perf_counter(), time.process_time()
        if row.kind == "train":
            out = self.train_row(row)
        elif row.kind == "shots":
            out = self.shots_row(row)
        else:
            out = self.surrogate_row(row)
        out.update(key=row.key, kind=row.kind, name=row.name, seed=row.seed, **row.extra,
                   budget=asdict(self.budget), budget_key=self.budget.key(),
                   wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0)
        return out

    def _fresh(self) -> Any:
        gc.collect()
        return copy.deepcopy(self.base)

    def train_row(self, row: Row) -> dict[str, Any]:
        from qaa_hw.finetune.train import run_finetune

        config = train_config(self.budget, row.name, row.seed, self.threads)
        out = self.runs_dir / f"{row.name}-s{row.seed}"
        resume = (out / "checkpoint.pt").exists()
        summary = run_finetune(config, out, resume=resume, progress=True,
                               model_and_tokenizer=(self._fresh(), self.tok))
        ev = summary.eval_rows[0]
        return {"trainable_params": summary.trainable_params,
                "trainable_share": summary.trainable_share,
                "seconds_per_step": summary.seconds_per_step, "final_loss": summary.final_loss,
                "metrics": {k: ev[k] for k in ("loss", "bleu", "rouge_l", "bertscore")},
                "per_example": ev["per_example"], "predictions": ev.get("predictions_sample")}

    def trained(self, name: str, seed: int) -> Any:
        """The trained model of a train row (from its checkpoint; trained if missing)."""
        import torch

        from qaa_hw.adapters.common import load_trainable_state_dict
        from qaa_hw.finetune.methods import build_adapted

        config = train_config(self.budget, name, seed, self.threads)
        ckpt = self.runs_dir / f"{name}-s{seed}" / "checkpoint.pt"
        payload = torch.load(ckpt, map_location="cpu", weights_only=False) if ckpt.exists() \
            else None
        if payload is None or payload["step"] < self.budget.steps:
            self.train_row(Row("train", name, seed))
            payload = torch.load(ckpt, map_location="cpu", weights_only=False)
        adapted = build_adapted(self._fresh(), config.methods)
        load_trainable_state_dict(adapted.model, payload["adapter"])
        adapted.model.eval()
        return adapted

    def _test(self, limit: int) -> list[Any]:
        from qaa_hw.finetune.data import load_jsonl, task_files

        return load_jsonl(task_files(self.budget.task)[1], limit=limit)

    def shots_row(self, row: Row) -> dict[str, Any]:
        from qaa_hw.adapters.qaa import qaa_layers, set_qaa_backend
        from qaa_hw.compile.cache import CompileCache
        from qaa_hw.finetune.evaluate import EvalSetting, example_losses, make_backend

        adapted = self.trained(row.name, row.seed)
        shots = row.extra["shots"]
        setting = EvalSetting(row.extra["device"], 1.0, row.extra["mitigation"],
                              None if shots == "exact" else int(shots))
        spec = next(qaa_layers(adapted.lm))[1].spec
        backend = make_backend(setting, spec, CompileCache(), seed=row.seed)
        set_qaa_backend(adapted.lm, backend)
        sums, counts = example_losses(adapted, self.tok, self._test(self.budget.shots_examples),
                                      max_length=self.budget.max_length, batch_size=16)
        return {"metrics": {"loss": sum(sums) / sum(counts)},
                "per_example": {"loss_sum": sums, "tokens": counts}}

    def surrogate_row(self, row: Row) -> dict[str, Any]:
        return surrogate_measurement(self, row)


def per_input_readout(backend: Any, spec: Any, h: Any, theta: Any) -> Any:
    """The readout of every input run through the circuit's simulation (the statevector, or
    the noisy engine's channel per input), never through a quadratic form: the independent
    reference of the surrogate. REM and ZNE are applied to those per-input outputs."""
    from qaa_hw.adapters.backends import NoisyBackend
    from qaa_hw.adapters.mitigated import REMBackend, ZNEBackend, rem_correct

    if isinstance(backend, ZNEBackend):
        return sum(w * per_input_readout(b, spec, h, theta)
                   for w, b in zip(backend.weights.tolist(), backend.scaled, strict=True))
    if isinstance(backend, REMBackend):
        return rem_correct(per_input_readout(backend.inner, spec, h, theta), backend.confusion,
                           spec.readout)
    if isinstance(backend, NoisyBackend):
        return backend.engine_outputs(h, theta, spec.readout)
    return backend.readout(spec, h, theta)  # ideal: the statevector simulation


def surrogate_measurement(runner: Runner, row: Row) -> dict[str, Any]:
    """Export the trained QAA as quadratic forms (ideal, ibm_brisbane λ = 1, and REM + ZNE
    there), check it against the circuit on real hidden states, time it per token."""
    import torch

    from qaa_hw.adapters.backends import IdealBackend
    from qaa_hw.adapters.qaa import qaa_layers, set_qaa_backend
    from qaa_hw.adapters.surrogate import export_surrogate
    from qaa_hw.analysis.feasibility import shot_timing
    from qaa_hw.compile.cache import CompileCache
    from qaa_hw.finetune.data import collate, encode_examples
    from qaa_hw.finetune.evaluate import EvalSetting, make_backend

    adapted = runner.trained(row.name, row.seed)
    layers = list(qaa_layers(adapted.lm))
    captured: dict[str, Any] = {}
    hooks = [layer.register_forward_pre_hook(
        lambda mod, args, name=name: captured.__setitem__(name, args[0].detach()))
        for name, layer in layers]
    batch = collate(encode_examples(runner.tok, runner._test(8),
                                            max_length=runner.budget.max_length),
                    runner.tok.pad_token_id)
    with torch.no_grad():
        adapted.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    for h in hooks:
        h.remove()
    mask = batch["attention_mask"].bool()
    cache = CompileCache()
    spec = layers[0][1].spec
    out: dict[str, Any] = {"tokens": int(mask.sum()), "layers": len(layers), "settings": {}}
    settings = {"ideal": None, "ibm_brisbane@1": EvalSetting("ibm_brisbane", 1.0),
                "ibm_brisbane@1+rem+zne": EvalSetting("ibm_brisbane", 1.0, "rem+zne")}
    for label, setting in settings.items():
        backend = IdealBackend() if setting is None else make_backend(setting, spec, cache)
        set_qaa_backend(adapted.lm, backend)
        t0 = time.perf_counter()
        sur = export_surrogate(adapted.lm)
        export_s = time.perf_counter() - t0
        worst = 0.0
        flops = 0
        for name, layer in layers:
            x = captured[name][mask].double()
            with torch.no_grad():
                h = x @ layer.qaa_down.double().T
                circuit = per_input_readout(backend, layer.spec, h,
                                            layer.qaa_theta.detach().double())
                expect = circuit.double() @ layer.qaa_up.double().T * layer.scaling
            worst = max(worst, float((sur[name].delta(x) - expect).abs().max()))
            flops += sur[name].flops()
        xs = {name: captured[name][mask].double() for name, _ in layers}
        cpu = []
        for _ in range(4):  # the first is a warm-up; CPU time is robust to a shared host
            c0 = time.process_time()
            with torch.no_grad():
                for name, _ in layers:
                    sur[name].delta(xs[name])
            cpu.append(time.process_time() - c0)
        per_token_s = min(cpu[1:]) / out["tokens"]
        out["settings"][label] = {"max_abs_diff": worst, "us_per_token": per_token_s * 1e6,
                                  "flops_per_token": flops, "export_s": export_s}
    compiled = cache.get(spec, "ibm_brisbane")
    shot_s = shot_timing(compiled.device).shot_seconds(compiled.metrics.duration_s)
    out["qpu"] = {"duration_s": compiled.metrics.duration_s, "shot_s": shot_s,
                  "s_per_token_1000_shots": len(layers) * 1000 * shot_s,
                  "s_per_token_1000_shots_rem_zne": len(layers) * 3 * 1000 * shot_s}
    return out


def pending(rows: list[Row], done: dict[str, dict[str, Any]]) -> Iterator[Row]:
    """Planned rows not in the store."""
    return (r for r in rows if r.key not in done)
