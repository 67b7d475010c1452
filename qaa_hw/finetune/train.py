"""The fine-tuning loop: one loop for every method, resumable checkpoints, periodic evaluation.

``run_finetune(config, out_dir)`` trains the adapter chosen in ``config.methods`` on the
training examples (AdamW on the trainable parameters only, loss on response tokens), and
writes to ``out_dir``:

* ``checkpoint.pt``: adapter weights (trainable parameters plus the adapter's buffers),
  optimiser state, step, RNG states and the config, written atomically every
  ``checkpoint_every`` steps and at the end; ``resume=True`` continues from it and
  reproduces the uninterrupted run exactly (batches are a function of the step);
* ``metrics.jsonl``: one ``{"event": "train", ...}`` line per step and one
  ``{"event": "eval", ...}`` line per evaluation setting;
* ``results.sqlite``: the evaluation rows in the sweep results store
  (:class:`qaa_hw.analysis.store.ResultStore`; settings and metrics as JSON per row);
* ``summary.json``: parameter counts, timings, peak memory and the last evaluation.

QAA layers train on the ideal statevector, or on a device's noisy channel when
``train_noise`` names a device (noise-aware training, as in QuantumNAT). Evaluations switch
them to every setting of :func:`qaa_hw.finetune.evaluate.settings_grid`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qaa_hw.adapters.backends import NoisyBackend
from qaa_hw.adapters.common import load_trainable_state_dict, trainable_state_dict
from qaa_hw.compile.cache import CompileCache
from qaa_hw.errors import ConfigError
from qaa_hw.files import atomic_path, check_output_dir, write_text_atomic
from qaa_hw.finetune.data import (
    Example,
    batch_indices,
    collate,
    encode_examples,
    load_jsonl,
    task_files,
)
from qaa_hw.finetune.evaluate import (
    EvalResult,
    EvalRow,
    EvalSetting,
    evaluate_settings,
    settings_grid,
)
from qaa_hw.finetune.methods import AdaptedModel, MethodSettings, build_adapted
from qaa_hw.finetune.names import CIRCUIT_METHODS, QAA_METHODS, RULE_METHODS
from qaa_hw.limits import MAX_COUNT, MAX_SHOTS, check_float, check_int, check_seed
from qaa_hw.shutdown import deferred

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
#: Default learning rate per method (AdamW), chosen on the shipped task; QAA's ablations use
#: QAA's (methods that train nothing list 0).
DEFAULT_LR: dict[str, float] = {
    **dict.fromkeys(QAA_METHODS, 5e-3), "lora": 2e-3, "prefix": 1e-2, "sora": 2e-3,
    **dict.fromkeys(("base", *RULE_METHODS), 0.0),
}

#: Config fields that may differ when resuming (they do not change what was trained).
RESUMABLE_FIELDS = ("steps", "eval_every", "checkpoint_every", "eval_examples", "gen_examples",
                    "eval_batch_size", "max_new_tokens", "eval_devices", "eval_noise",
                    "mitigation", "shots", "bertscore", "threads")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a fine-tuning run depends on (stored in checkpoints and summaries).

    Attributes:
        model: ``"tiny"``, ``"smollm2-135m"`` or a local model folder.
        dtype: base-model dtype, ``"float32"`` or ``"bfloat16"`` (adapters stay float32).
        methods: the adapter method and its settings.
        task: shipped task used when no files are given.
        train_file: JSONL training file (overrides ``task``).
        test_file: JSONL test file (overrides ``task``).
        train_examples: use only the first N training examples.
        steps: optimiser steps in total.
        batch_size: examples per step.
        lr: AdamW learning rate (default per method, :data:`DEFAULT_LR`).
        weight_decay: AdamW weight decay.
        max_length: token limit of prompt + response.
        grad_clip: gradient-norm clip (0: none).
        seed: seed of batches, adapters, model (tiny) and compilation.
        train_noise: device whose noise the QAA circuits train under (``None``: ideal).
        train_noise_scale: λ of that noise.
        prep_noise: preparation-noise mode of the noisy engine.
        eval_every: evaluate every N steps (0: only at the end).
        checkpoint_every: checkpoint every N steps (0: only at the end).
        eval_examples: test examples used per evaluation (``None``: all).
        gen_examples: of those, how many are generated and scored by BLEU/ROUGE/BERTScore
            (the first ones; ``None``: all); the loss covers all of them.
        eval_batch_size: batch size of evaluation.
        max_new_tokens: generation limit.
        eval_devices: devices of the noisy evaluation settings (QAA only).
        eval_noise: noise scales λ of those settings.
        mitigation: mitigations of those settings (``"none"``, ``"zne"``).
        shots: finite shots per token in noisy evaluation (``None``: exact).
        bertscore: compute BERTScore (loads MiniLM).
        threads: torch CPU threads (``None``: torch's default).
    """

    model: str = "tiny"
    dtype: str = "float32"
    methods: MethodSettings = field(default_factory=MethodSettings)
    task: str = "e2e_mini"
    train_file: str | None = None
    test_file: str | None = None
    train_examples: int | None = None
    steps: int = 100
    batch_size: int = 8
    lr: float | None = None
    weight_decay: float = 0.0
    max_length: int = 256
    grad_clip: float = 1.0
    seed: int = 0
    train_noise: str | None = None
    train_noise_scale: float = 1.0
    prep_noise: str = "effective"
    eval_every: int = 0
    checkpoint_every: int = 50
    eval_examples: int | None = 40
    gen_examples: int | None = None
    eval_batch_size: int = 16
    max_new_tokens: int = 48
    eval_devices: tuple[str, ...] = ()
    eval_noise: tuple[float, ...] = (1.0,)
    mitigation: tuple[str, ...] = ("none",)
    shots: int | None = None
    bertscore: bool = True
    threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "max_length", "eval_batch_size", "max_new_tokens"):
            check_int(name, getattr(self, name), 1, MAX_COUNT)
        for name in ("eval_every", "checkpoint_every"):
            check_int(name, getattr(self, name), 0, MAX_COUNT)
        for name in ("train_examples", "eval_examples", "gen_examples", "threads"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1, MAX_COUNT)
        if self.shots is not None:
            check_int("shots", self.shots, 1, MAX_SHOTS)
        check_seed("seed", self.seed)
        if self.lr is not None:
            check_float("lr", self.lr, 0.0, low_open=True)
        for name in ("weight_decay", "grad_clip", "train_noise_scale"):
            check_float(name, getattr(self, name), 0.0)
        method = self.methods.method
        if (self.train_noise is not None or self.eval_devices) and method not in CIRCUIT_METHODS:
            raise ConfigError(
                f"train_noise / eval_devices apply to QAA circuits only "
                f"({', '.join(CIRCUIT_METHODS)}); method={method!r} has none"
            )
        object.__setattr__(self, "eval_devices", tuple(self.eval_devices))
        object.__setattr__(self, "eval_noise", tuple(float(x) for x in self.eval_noise))
        object.__setattr__(self, "mitigation", tuple(self.mitigation))
        if self.eval_devices:  # validate the grid early (bad mitigation names, λ < 0)
            settings_grid(self.eval_devices, self.eval_noise, self.mitigation, shots=self.shots)

    @property
    def learning_rate(self) -> float:
        """``lr`` or the method's default."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.methods.method]

    @property
    def train_label(self) -> str:
        """``"ideal"`` or ``"DEVICE@λ"``."""
        if self.train_noise is None:
            return "ideal"
        return f"{self.train_noise}@{self.train_noise_scale:g}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        out = asdict(self)
        out["methods"] = {"method": self.methods.method,
                          "settings": self.methods.adapter_settings()}
        out["learning_rate"] = self.learning_rate
        return out


@dataclass
class FinetuneSummary:
    """What a run produced (also written to ``summary.json``)."""

    config: dict[str, Any]
    trainable_params: int
    total_params: int
    trainable_share: float
    steps_done: int
    losses: list[float]
    seconds_per_step: float
    peak_memory_mb: float
    eval_rows: list[dict[str, Any]]
    out_dir: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final_loss(self) -> float:
        """Mean training loss of the last 10 steps (NaN if none)."""
        tail = self.losses[-10:]
        return float(sum(tail) / len(tail)) if tail else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {**asdict(self), "final_loss": self.final_loss}


# ----------------------------------------------------------------------------- memory
def reset_peak_memory() -> None:
    """Reset the process's peak resident set (Linux ``/proc/self/clear_refs``; else no-op)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb() -> float:
    """Peak resident set since the last reset (``VmHWM``), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024.0


# ------------------------------------------------------------------------------ data
def load_examples(config: TrainConfig) -> tuple[list[Example], list[Example]]:
    """Training and (limited) test examples of ``config``."""
    train_path, test_path = (None, None)
    if config.train_file is None or config.test_file is None:
        train_path, test_path = task_files(config.task)
    train = load_jsonl(config.train_file or train_path,  # type: ignore[arg-type]
                       limit=config.train_examples)
    test = load_jsonl(config.test_file or test_path,  # type: ignore[arg-type]
                      limit=config.eval_examples)
    return train, test


# ------------------------------------------------------------------------ checkpoints
def _rng_state() -> dict[str, Any]:
    return {"torch": torch.random.get_rng_state(), "python": random.getstate(),
            "numpy": np.random.get_state()}


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.random.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])


def save_checkpoint(path: Path, adapted: AdaptedModel, optimizer: torch.optim.Optimizer,
                    step: int, config: TrainConfig, rng: dict[str, Any] | None = None) -> None:
    """Write the checkpoint atomically (temporary file, then rename); ``rng``: the RNG
    states to store (default: the current ones)."""
    payload = {
        "step": step,
        "adapter": trainable_state_dict(adapted.model, adapted.state_prefixes),
        "optimizer": optimizer.state_dict(),
        "rng": rng or _rng_state(),
        "config": config.to_dict(),
    }
    with atomic_path(path, what="checkpoint") as tmp:
        torch.save(payload, tmp)


def check_resume(out: Path, config: TrainConfig) -> int:
    """The step of ``out``'s checkpoint, if resuming it with ``config`` loses nothing.

    Raises:
        ConfigError: no checkpoint; ``config.steps`` below the steps already done (that
            would shorten the run); or a run already finished at ``config.steps``.
    """
    ckpt = out / CHECKPOINT
    if not ckpt.exists():
        raise ConfigError(f"--resume given but {str(ckpt)!r} does not exist")
    step = int(_read_checkpoint(ckpt, config)["step"])
    if config.steps < step:
        raise ConfigError(
            f"steps={config.steps} is fewer than the {step} steps already in {str(ckpt)!r}; "
            f"resuming would shorten the run: pass --steps {step} or more, or another --out")
    summary = out / SUMMARY
    if config.steps == step and summary.exists():
        with contextlib.suppress(ValueError, OSError):
            if json.loads(summary.read_text(encoding="utf-8")).get("steps_done") == step:
                raise ConfigError(
                    f"{str(out)!r} already finished its {step} steps ({SUMMARY}); nothing to "
                    f"resume: pass --steps above {step} to train further, or another --out")
    return step


def _config_mismatch(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    keys = sorted(set(saved) | set(current))
    return [k for k in keys if k not in RESUMABLE_FIELDS
            and json.dumps(saved.get(k), default=str) != json.dumps(current.get(k), default=str)]


def _read_checkpoint(path: Path, config: TrainConfig) -> dict[str, Any]:
    """The checkpoint's payload, if it was written with settings ``config`` may resume."""
    try:
        payload: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        raise ConfigError(f"cannot read checkpoint {str(path)!r}: {e}") from e
    differ = _config_mismatch(payload.get("config", {}), config.to_dict())
    if differ:
        raise ConfigError(
            f"checkpoint {str(path)!r} was written with other settings ({', '.join(differ)}); "
            "use the same options to resume, or another --out"
        )
    return payload


def load_checkpoint(path: Path, adapted: AdaptedModel, optimizer: torch.optim.Optimizer,
                    config: TrainConfig) -> int:
    """Restore adapter, optimiser and RNG states; returns the step to continue from.

    Raises:
        ConfigError: unreadable checkpoint, or one written with different settings.
    """
    payload = _read_checkpoint(path, config)
    load_trainable_state_dict(adapted.model, payload["adapter"])
    optimizer.load_state_dict(payload["optimizer"])
    _set_rng_state(payload["rng"])
    return int(payload["step"])


# ---------------------------------------------------------------------------- output
class RunLog:
    """Appends JSONL events and stores evaluation rows in the results store.

    ``losses`` holds the training losses of the steps logged so far (earlier runs of a
    resumed folder included)."""

    def __init__(self, out_dir: Path, *, start: int = 0) -> None:
        from qaa_hw.analysis.store import ResultStore

        self.path = out_dir / METRICS
        self.losses = self._keep_through(start)
        self.store = ResultStore(out_dir)

    def _keep_through(self, start: int) -> list[float]:
        """Drop the events after step ``start`` (an interrupted run logged steps that its
        checkpoint does not hold; they are run again), atomically; returns the training
        losses kept, in step order."""
        if not self.path.exists():
            return []
        kept, losses = [], []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if int(event.get("step", 0)) <= start:
                kept.append(line)
                if event.get("event") == "train":
                    losses.append(float(event["loss"]))
        write_text_atomic(self.path, "".join(f"{x}\n" for x in kept), what="metrics log")
        return losses

    def event(self, record: dict[str, Any]) -> None:
        """Append one JSON line."""
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=_json_default, sort_keys=True) + "\n")

    def eval_row(self, row: EvalRow) -> None:
        """Log an evaluation row and record it in ``results.sqlite``."""
        from qaa_hw.analysis.store import PointResult

        data = row.to_dict()
        self.event({"event": "eval", **data})
        settings = {k: data[k] for k in ("run", "method", "model", "train_noise", "step",
                                         "backend", "device", "noise_scale", "mitigation",
                                         "shots")}
        results = {k: v for k, v in data.items() if k not in settings}
        key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        self.store.record(PointResult(key=key, status="ok", settings=settings, results=results,
                                      wall_s=data.get("eval_s")))

    def close(self) -> None:
        """Close the results store."""
        self.store.close()


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


# ------------------------------------------------------------------------------ loop
def run_finetune(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    model_and_tokenizer: tuple[Any, Any] | None = None,
    stop_after: int | None = None,
) -> FinetuneSummary:
    """Train, checkpoint and evaluate (see the module docstring).

    Args:
        config: the run's settings.
        out_dir: output folder (created).
        resume: continue from ``out_dir/checkpoint.pt``.
        progress: show a tqdm progress bar on stderr.
        model_and_tokenizer: a fresh base model and its tokenizer (default: load
            ``config.model``); modified in place.
        stop_after: stop after this global step (simulates an interruption; tests).

    Raises:
        ConfigError: an existing checkpoint without ``resume``, bad data or settings.
    """
    from qaa_hw.finetune.models import load_model

    out = check_output_dir(out_dir, what="output folder")
    ckpt = out / CHECKPOINT
    if ckpt.exists() and not resume:
        raise ConfigError(
            f"{str(out)!r} already has a checkpoint; pass --resume to continue it or choose "
            "another --out"
        )
    if resume:
        check_resume(out, config)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    train_examples, test_examples = load_examples(config)
    if config.methods.method in RULE_METHODS:
        return run_rule(config, out, train_examples, test_examples)
    model, tok = model_and_tokenizer or load_model(config.model, seed=config.seed,
                                                               dtype=config.dtype)
    torch.manual_seed(config.seed)
    adapted = build_adapted(model, config.methods)
    count = adapted.parameters_count()
    compile_cache = CompileCache()
    if config.train_noise is not None:
        from qaa_hw.adapters.qaa import qaa_layers, set_qaa_backend

        spec = next(qaa_layers(adapted.lm))[1].spec
        compiled = compile_cache.get(spec, config.train_noise, seed=config.seed)
        set_qaa_backend(adapted.lm, NoisyBackend(
            compiled, noise_scale=config.train_noise_scale,
            prep_noise=config.prep_noise, seed=config.seed))  # type: ignore[arg-type]
    params = [p for p in adapted.model.parameters() if p.requires_grad]
    lr = config.learning_rate
    # a method that trains nothing (base) gets a placeholder so checkpoints keep one shape
    optimizer = torch.optim.AdamW(params or [torch.nn.Parameter(torch.zeros(1))], lr=lr,
                                  weight_decay=config.weight_decay)
    encoded = encode_examples(tok, train_examples, max_length=config.max_length)
    start = load_checkpoint(ckpt, adapted, optimizer, config) if resume else 0
    log = RunLog(out, start=start)
    bert = None
    if config.bertscore:
        from qaa_hw.finetune.metrics import BertScoreModel

        bert = BertScoreModel()
    settings = settings_grid(config.eval_devices, config.eval_noise, config.mitigation,
                             shots=config.shots)
    losses = log.losses
    step_times: list[float] = []
    rows: list[dict[str, Any]] = []
    run_name = out.name

    def evaluate(step: int) -> None:
        results = evaluate_settings(
            adapted, tok, test_examples, settings, compile_cache=compile_cache,
            prep_noise=config.prep_noise, seed=config.seed, max_length=config.max_length,
            batch_size=config.eval_batch_size, max_new_tokens=config.max_new_tokens,
            bertscore=bert, gen_examples=config.gen_examples, progress=progress)
        rows.clear()
        for setting, result in results:
            rows.append(log_result(log, config, run_name, step, setting, result, count))

    reset_peak_memory()
    end = config.steps if stop_after is None else min(config.steps, stop_after)
    if not params:  # nothing to train: evaluate the model as it is
        start = end = config.steps
    bar = _progress(range(start, end), progress, f"{config.methods.method} fine-tuning",
                    "step")
    adapted.model.train()
    done = start
    saved = start
    rng = _rng_state()
    try:
        for step in bar:
            rng = _rng_state()  # the state a checkpoint after step `done` must hold
            t0 = time.perf_counter()
            idx = batch_indices(len(encoded), config.batch_size, step, seed=config.seed)
            batch = collate([encoded[i] for i in idx], tok.pad_token_id)
            loss = adapted.model(**batch).loss
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            with deferred():  # an update and its bookkeeping are never torn apart
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if adapted.after_step is not None:
                    adapted.after_step(lr)
                dt = time.perf_counter() - t0
                value = float(loss.detach())
                losses.append(value)
                step_times.append(dt)
                log.event({"event": "train", "step": step + 1, "loss": value, "lr": lr,
                           "seconds": dt})
                done = step + 1
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{value:.4f}")
            if config.checkpoint_every and done % config.checkpoint_every == 0:
                save_checkpoint(ckpt, adapted, optimizer, done, config)
                saved = done
            if config.eval_every and done % config.eval_every == 0 and done < end:
                evaluate(done)
        final = max(start, end)
        save_checkpoint(ckpt, adapted, optimizer, final, config)
        saved = final
        peak = peak_memory_mb()
        if stop_after is None or final >= config.steps:
            evaluate(final)
    except KeyboardInterrupt:
        if done > saved:  # keep every finished step (the RNG as at the step's end)
            adapted.model.zero_grad(set_to_none=True)
            save_checkpoint(ckpt, adapted, optimizer, done, config,
                            rng=_rng_state() if done == step + 1 else rng)
        raise
    finally:
        log.close()
    summary = FinetuneSummary(
        config=config.to_dict(), trainable_params=count.trainable, total_params=count.total,
        trainable_share=count.share, steps_done=final, losses=losses,
        seconds_per_step=statistics.median(step_times) if step_times else float("nan"),
        peak_memory_mb=peak, eval_rows=rows, out_dir=str(out),
    )
    if config.methods.method == "sora":
        from qaa_hw.adapters.sora import sora_active_rank

        summary.extra["sora_active_rank"] = list(sora_active_rank(adapted.model))
    write_text_atomic(out / SUMMARY, json.dumps(summary.to_dict(), indent=2,
                                                default=_json_default), what="summary")
    return summary


def log_result(log: RunLog, config: TrainConfig, run_name: str, step: int,
               setting: EvalSetting, result: EvalResult, count: Any) -> dict[str, Any]:
    """Store one evaluation row; returns it with three sample generations and the
    per-example scores (summary only)."""
    row = EvalRow(run=run_name, method=config.methods.method, model=config.model,
                  train_noise=config.train_label, step=step, setting=setting,
                  metrics=result.metrics(), trainable_params=count.trainable,
                  trainable_share=count.share)
    log.eval_row(row)
    out = row.to_dict()
    out["predictions_sample"] = list(result.predictions[:3])
    out["per_example"] = result.per_example
    return out


def run_rule(config: TrainConfig, out: Path, train: list[Example], test: list[Example]
             ) -> FinetuneSummary:
    """Score a text rule (:data:`qaa_hw.finetune.rules.RULES`) like a trained model."""
    from qaa_hw.adapters.common import ParameterCount
    from qaa_hw.finetune.evaluate import scored_result
    from qaa_hw.finetune.rules import RULES

    start = time.perf_counter()
    gen = test[:config.gen_examples] if config.gen_examples is not None else test
    bert = None
    if config.bertscore:
        from qaa_hw.finetune.metrics import BertScoreModel

        bert = BertScoreModel()
    preds = RULES[config.methods.method](train, gen)
    result = scored_result(preds, gen, [], [], bertscore=bert, start=start)
    log = RunLog(out)
    try:
        row = log_result(log, config, out.name, 0, EvalSetting(), result,
                         ParameterCount(0, 0, 0.0))
    finally:
        log.close()
    summary = FinetuneSummary(
        config=config.to_dict(), trainable_params=0, total_params=0, trainable_share=0.0,
        steps_done=0, losses=[], seconds_per_step=float("nan"), peak_memory_mb=peak_memory_mb(),
        eval_rows=[row], out_dir=str(out))
    write_text_atomic(out / SUMMARY, json.dumps(summary.to_dict(), indent=2,
                                                default=_json_default))
    return summary


def _progress(steps: range, enabled: bool, desc: str, unit: str) -> Any:
    if not enabled:
        return steps
    from tqdm.auto import tqdm

    return tqdm(steps, total=len(steps), desc=desc, unit=unit, dynamic_ncols=True)


def with_overrides(config: TrainConfig, **changes: Any) -> TrainConfig:
    """``dataclasses.replace`` that re-validates (used by the CLI and benchmarks)."""
    return replace(config, **changes)


def eval_setting_labels(settings: Sequence[EvalSetting]) -> list[str]:
    """Labels of settings (for progress messages)."""
    return [s.label for s in settings]
