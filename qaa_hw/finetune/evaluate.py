"""Evaluation of a fine-tuned model, with the QAA adapters run ideal / noisy / mitigated.

For every :class:`EvalSetting` the QAA layers are switched to the matching backend
(:mod:`qaa_hw.adapters.backends`), then the test examples are scored: teacher-forced loss
and perplexity on the responses, and greedy generation from the prompts scored by BLEU,
ROUGE-L and BERTScore (:mod:`qaa_hw.finetune.metrics`). The result is one tidy row per
setting: task quality against device, noise scale λ and mitigation.

Generation is our own greedy loop with a KV cache (identical for every method): peft's
``generate`` drops the trained prefix of Prefix tuning on transformers 5.x (see
:mod:`qaa_hw.adapters.baselines`), so the prefix cache is inserted here.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from qaa_hw.adapters.backends import IdealBackend, NoisyBackend, QAABackend
from qaa_hw.adapters.mitigated import MITIGATIONS, REMBackend, ZNEBackend
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.cache import CompileCache
from qaa_hw.errors import ConfigError, did_you_mean
from qaa_hw.finetune.data import Example, collate, encode_examples, encode_prompt, perplexity
from qaa_hw.finetune.methods import AdaptedModel
from qaa_hw.finetune.metrics import (
    BertScoreModel,
    TextScores,
    aggregate_scores,
    per_example_scores,
)
from qaa_hw.mitigation.scaling import SCALINGS
from qaa_hw.mitigation.techniques import ZNE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSetting:
    """Where the QAA circuits run during one evaluation.

    Attributes:
        device: catalog device name; ``None`` for the ideal statevector.
        noise_scale: λ applied to the device's calibrated noise.
        mitigation: ``"none"``, ``"rem"`` (readout-error mitigation), ``"zne"``
            (Richardson at 1, 3, 5 with gate folding), ``"rem+zne"`` (both), or
            ``"zne:<scaling>"`` / ``"rem+zne:<scaling>"`` with a scaling of
            :data:`qaa_hw.mitigation.scaling.SCALINGS` (e.g. ``"zne:pulse_stretch"``).
        shots: finite shots per token and layer (``None``: exact expectations).
    """

    device: str | None = None
    noise_scale: float = 1.0
    mitigation: str = "none"
    shots: int | None = None

    def __post_init__(self) -> None:
        name, _, scaling = self.mitigation.partition(":")
        zne_names = [m for m in MITIGATIONS if m.endswith("zne")]
        accepted = tuple(name for m in MITIGATIONS for name in (
            m, *((f"{m}:{s}" for s in SCALINGS) if m in zne_names else ())))
        if name not in MITIGATIONS or (scaling and (name not in zne_names
                                                    or scaling not in SCALINGS)):
            raise ConfigError(
                f"mitigation={self.mitigation!r} is not valid for fine-tuning evaluation"
                f"{did_you_mean(self.mitigation, accepted)}; accepted: {', '.join(accepted)}"
            )
        if self.device is None and (self.mitigation != "none" or self.shots is not None):
            raise ConfigError("mitigation and shots need a device (the ideal backend is exact)")
        if not math.isfinite(self.noise_scale) or self.noise_scale < 0:
            raise ConfigError(f"noise_scale={self.noise_scale!r} is not valid; accepted: >= 0")

    @property
    def backend(self) -> str:
        """``"ideal"``, ``"noisy"`` or ``"mitigated"``."""
        if self.device is None:
            return "ideal"
        return "noisy" if self.mitigation == "none" else "mitigated"

    @property
    def label(self) -> str:
        """Short label, e.g. ``ibm_brisbane@1+zne``."""
        if self.device is None:
            return "ideal"
        text = f"{self.device}@{self.noise_scale:g}"
        if self.mitigation != "none":
            text += f"+{self.mitigation}"
        if self.shots is not None:
            text += f"/{self.shots}shots"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (result-row columns)."""
        return {"backend": self.backend, "device": self.device,
                "noise_scale": None if self.device is None else self.noise_scale,
                "mitigation": self.mitigation, "shots": self.shots}


def settings_grid(
    devices: Sequence[str],
    noise_scales: Sequence[float],
    mitigations: Sequence[str] = ("none",),
    *,
    shots: int | None = None,
) -> list[EvalSetting]:
    """The ideal setting, then every (device, λ, mitigation) combination."""
    out = [EvalSetting()]
    for device in devices:
        for lam in noise_scales:
            for mit in mitigations:
                out.append(EvalSetting(device, float(lam), mit, shots))
    return out


def make_backend(
    setting: EvalSetting,
    spec: QAASpec,
    compile_cache: CompileCache,
    *,
    prep_noise: str = "effective",
    seed: int = 0,
) -> QAABackend:
    """The QAA backend of ``setting`` for adapters of ``spec``."""
    if setting.device is None:
        return IdealBackend()
    compiled = compile_cache.get(spec, setting.device, seed=seed)
    name, _, scaling = setting.mitigation.partition(":")
    if name.endswith("zne"):
        technique = ZNE(scaling=scaling) if scaling else ZNE()
        return ZNEBackend(compiled, noise_scale=setting.noise_scale,
                          technique=technique, prep_noise=prep_noise,  # type: ignore[arg-type]
                          shots=setting.shots, seed=seed, rem=name.startswith("rem"))
    noisy = NoisyBackend(compiled, noise_scale=setting.noise_scale,
                         prep_noise=prep_noise, shots=setting.shots,  # type: ignore[arg-type]
                         seed=seed)
    return REMBackend(noisy) if name == "rem" else noisy


@dataclass(frozen=True)
class EvalResult:
    """Scores of one evaluation.

    Attributes:
        loss: mean teacher-forced loss per response token.
        perplexity: ``exp(loss)``.
        scores: BLEU / ROUGE-L / BERTScore of the greedy generations.
        predictions: the generated texts.
        seconds: wall time.
        per_example: ``loss_sum`` and ``tokens`` per scored example, ``rouge_l``,
            ``bertscore`` and ``bleu_stats`` per generated example (paired tests and
            bootstrap intervals resample these).
    """

    loss: float
    perplexity: float
    scores: TextScores
    predictions: tuple[str, ...]
    seconds: float
    per_example: dict[str, list[Any]] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """Flat metric columns."""
        return {"loss": self.loss, "perplexity": self.perplexity,
                **{k: v for k, v in self.scores.to_dict().items() if k != "count"},
                "examples": self.scores.count, "eval_s": self.seconds}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@torch.no_grad()
def example_losses(adapted: AdaptedModel, tokenizer: Any, examples: Sequence[Example], *,
                   max_length: int, batch_size: int, tick: Callable[[], None] | None = None
                   ) -> tuple[list[float], list[int]]:
    """Per example: summed loss over its response tokens (teacher forcing), token count;
    ``tick()`` after each batch."""
    encoded = encode_examples(tokenizer, examples, max_length=max_length)
    sums: list[float] = []
    counts: list[int] = []
    for chunk in _chunks(encoded, batch_size):
        batch = collate(chunk, tokenizer.pad_token_id)
        logits = adapted.model(input_ids=batch["input_ids"],
                               attention_mask=batch["attention_mask"]).logits
        labels = batch["labels"][:, 1:]
        logits = logits[:, -labels.shape[1] - 1:-1].float()  # prefix positions dropped
        tok_loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100,
            reduction="none").reshape(labels.shape)
        sums.extend(tok_loss.sum(1).double().tolist())
        counts.extend((labels != -100).sum(1).tolist())
        if tick is not None:
            tick()
    return sums, counts


def mean_loss(adapted: AdaptedModel, tokenizer: Any, examples: Sequence[Example], *,
              max_length: int, batch_size: int) -> float:
    """Mean loss per response token (teacher forcing)."""
    sums, counts = example_losses(adapted, tokenizer, examples, max_length=max_length,
                                  batch_size=batch_size)
    return sum(sums) / max(sum(counts), 1)


@torch.no_grad()
def greedy_generate(
    adapted: AdaptedModel,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 48,
    batch_size: int = 16,
    tick: Callable[[], None] | None = None,
) -> list[str]:
    """Greedy continuations of ``prompts`` (left-padded batches, KV cache), decoded.

    Generation stops at EOS or after ``max_new_tokens``; special tokens are removed;
    ``tick()`` is called after each batch.
    """
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    lm = adapted.lm
    texts: list[str] = []
    for chunk in _chunks(list(prompts), batch_size):
        encoded = [encode_prompt(tokenizer, p) for p in chunk]
        bsz, width = len(encoded), max(len(e) for e in encoded)
        ids = torch.full((bsz, width), pad, dtype=torch.long)
        mask = torch.zeros((bsz, width), dtype=torch.long)
        for row, e in enumerate(encoded):
            ids[row, width - len(e):] = torch.tensor(e)
            mask[row, width - len(e):] = 1
        p = adapted.num_prefix_tokens
        cache = adapted.prefix_cache(bsz) if adapted.prefix_cache is not None else None
        full_mask = torch.cat((torch.ones(bsz, p, dtype=torch.long), mask), dim=1)
        positions = (mask.cumsum(-1) - 1).clamp(min=0) + p
        out = lm(input_ids=ids, attention_mask=full_mask, position_ids=positions, cache=cache,
                 use_cache=True, logits_to_keep=1)
        generated = torch.empty((bsz, 0), dtype=torch.long)
        done = torch.zeros(bsz, dtype=torch.bool)
        last = positions[:, -1]
        for _ in range(max_new_tokens):
            nxt = out.logits[:, -1].argmax(-1)
            if eos is not None:
                nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
                done |= nxt == eos
            generated = torch.cat((generated, nxt[:, None]), dim=1)
            if bool(done.all()):
                break
            full_mask = torch.cat((full_mask, torch.ones(bsz, 1, dtype=torch.long)), dim=1)
            last = last + 1
            out = lm(input_ids=nxt[:, None], attention_mask=full_mask, position_ids=last[:, None],
                     cache=out.cache, use_cache=True, logits_to_keep=1)
        for row in generated.tolist():
            if eos is not None and eos in row:
                row = row[:row.index(eos)]
            texts.append(tokenizer.decode(row, skip_special_tokens=True).strip())
        if tick is not None:
            tick()
    return texts


def eval_batches(examples: int, batch_size: int, gen_examples: int | None = None) -> int:
    """Batches :func:`evaluate_model` runs: the loss's and the generation's."""
    generated = examples if gen_examples is None else min(examples, gen_examples)
    return math.ceil(examples / batch_size) + math.ceil(generated / batch_size)


def evaluate_model(
    adapted: AdaptedModel,
    tokenizer: Any,
    examples: Sequence[Example],
    *,
    max_length: int = 256,
    batch_size: int = 16,
    max_new_tokens: int = 48,
    bertscore: BertScoreModel | None = None,
    gen_examples: int | None = None,
    tick: Callable[[], None] | None = None,
) -> EvalResult:
    """Loss, perplexity and generation scores of ``adapted`` on ``examples``.

    The loss covers every example; generation the first ``gen_examples`` (``None``: all);
    ``tick()`` after each batch of both (:func:`eval_batches` of them).
    """
    start = time.perf_counter()
    was_training = adapted.model.training
    adapted.model.eval()
    gen = list(examples[:gen_examples] if gen_examples is not None else examples)
    try:
        sums, counts = example_losses(adapted, tokenizer, examples, max_length=max_length,
                                      batch_size=batch_size, tick=tick)
        preds = greedy_generate(adapted, tokenizer, [e.prompt for e in gen],
                                max_new_tokens=max_new_tokens, batch_size=batch_size,
                                tick=tick)
    finally:
        adapted.model.train(was_training)
    return scored_result(preds, gen, sums, counts, bertscore=bertscore, start=start)


def scored_result(
    predictions: Sequence[str],
    examples: Sequence[Example],
    loss_sums: Sequence[float],
    token_counts: Sequence[int],
    *,
    bertscore: BertScoreModel | None,
    start: float,
) -> EvalResult:
    """An :class:`EvalResult` from predictions for ``examples`` and per-example losses
    (empty for text rules: the loss is then NaN)."""
    refs = [e.response.strip() for e in examples]
    per = per_example_scores(predictions, refs, bertscore=bertscore)
    loss = sum(loss_sums) / sum(token_counts) if token_counts else math.nan
    per = {"loss_sum": list(loss_sums), "tokens": list(token_counts), **per}
    return EvalResult(loss=loss, perplexity=perplexity(loss), scores=aggregate_scores(per),
                      predictions=tuple(predictions), seconds=time.perf_counter() - start,
                      per_example=per)


@dataclass(frozen=True)
class EvalRow:
    """One tidy result row: run, step, setting and metrics."""

    run: str
    method: str
    model: str
    train_noise: str
    step: int
    setting: EvalSetting
    metrics: dict[str, Any]
    trainable_params: int
    trainable_share: float

    def to_dict(self) -> dict[str, Any]:
        """Flat plain-data form."""
        out = {k: v for k, v in asdict(self).items() if k not in ("setting", "metrics")}
        return {**out, **self.setting.to_dict(), **self.metrics}


def evaluate_settings(
    adapted: AdaptedModel,
    tokenizer: Any,
    examples: Sequence[Example],
    settings: Sequence[EvalSetting],
    *,
    compile_cache: CompileCache,
    prep_noise: str = "effective",
    seed: int = 0,
    progress: bool = False,
    **kwargs: Any,
) -> list[tuple[EvalSetting, EvalResult]]:
    """:func:`evaluate_model` once per setting (QAA only; other methods: ideal only).

    The QAA layers' backends are restored afterwards. ``progress``: a tqdm bar on stderr
    over every batch of every setting, labelled with the current setting.
    """
    from qaa_hw.adapters.qaa import qaa_layers, set_qaa_backend

    layers = [layer for layer in qaa_layers(adapted.lm) if layer[1].has_circuit]
    if not layers:
        settings = [EvalSetting()]
    batches = eval_batches(len(examples), kwargs.get("batch_size", 16),
                           kwargs.get("gen_examples"))
    bar = _EvalProgress(len(settings) * batches, progress)
    previous = layers[0][1].backend if layers else None
    results = []
    try:
        for setting in settings:
            bar.describe(setting.label)  # before the backend: it may compile first
            if layers:
                set_qaa_backend(adapted.lm, make_backend(
                    setting, layers[0][1].spec, compile_cache, prep_noise=prep_noise,
                    seed=seed))
            result = evaluate_model(adapted, tokenizer, examples, tick=bar.tick, **kwargs)
            logger.info("%s: loss %.4f rougeL %.4f", setting.label, result.loss,
                        result.scores.rouge_l)
            results.append((setting, result))
    finally:
        bar.close()
        if previous is not None:
            set_qaa_backend(adapted.lm, previous)
    return results


class _EvalProgress:
    """tqdm bar over evaluation batches (or nothing)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="evaluation", unit="batch", dynamic_ncols=True)

    def describe(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_description(f"evaluation {label}")

    def tick(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
