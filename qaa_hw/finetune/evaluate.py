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
from dataclasses import asdict, dataclass
from typing import Any

import torch

from qaa_hw.adapters.backends import IdealBackend, NoisyBackend, QAABackend
from qaa_hw.adapters.mitigated import MITIGATIONS, ZNEBackend
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.cache import CompileCache
from qaa_hw.errors import ConfigError, did_you_mean
from qaa_hw.finetune.data import Example, collate, encode_examples, encode_prompt, perplexity
from qaa_hw.finetune.methods import AdaptedModel
from qaa_hw.finetune.metrics import BertScoreModel, TextScores, score_texts
from qaa_hw.mitigation.scaling import SCALINGS
from qaa_hw.mitigation.techniques import ZNE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalSetting:
    """Where the QAA circuits run during one evaluation.

    Attributes:
        device: catalog device name; ``None`` for the ideal statevector.
        noise_scale: λ applied to the device's calibrated noise.
        mitigation: ``"none"``, ``"zne"`` (Richardson at 1, 3, 5 with gate folding) or
            ``"zne:<scaling>"`` with a scaling of :data:`qaa_hw.mitigation.scaling.SCALINGS`
            (e.g. ``"zne:pulse_stretch"``).
        shots: finite shots per token and layer (``None``: exact expectations).
    """

    device: str | None = None
    noise_scale: float = 1.0
    mitigation: str = "none"
    shots: int | None = None

    def __post_init__(self) -> None:
        name, _, scaling = self.mitigation.partition(":")
        accepted = (*MITIGATIONS, *(f"zne:{s}" for s in SCALINGS))
        if name not in MITIGATIONS or (scaling and (name != "zne" or scaling not in SCALINGS)):
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
    if name == "zne":
        technique = ZNE(scaling=scaling) if scaling else ZNE()
        return ZNEBackend(compiled, noise_scale=setting.noise_scale,
                          technique=technique, prep_noise=prep_noise,  # type: ignore[arg-type]
                          shots=setting.shots, seed=seed)
    return NoisyBackend(compiled, noise_scale=setting.noise_scale,
                        prep_noise=prep_noise, shots=setting.shots,  # type: ignore[arg-type]
                        seed=seed)


@dataclass(frozen=True)
class EvalResult:
    """Scores of one evaluation.

    Attributes:
        loss: mean teacher-forced loss per response token.
        perplexity: ``exp(loss)``.
        scores: BLEU / ROUGE-L / BERTScore of the greedy generations.
        predictions: the generated texts.
        seconds: wall time.
    """

    loss: float
    perplexity: float
    scores: TextScores
    predictions: tuple[str, ...]
    seconds: float

    def metrics(self) -> dict[str, Any]:
        """Flat metric columns."""
        return {"loss": self.loss, "perplexity": self.perplexity,
                **{k: v for k, v in self.scores.to_dict().items() if k != "count"},
                "examples": self.scores.count, "eval_s": self.seconds}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@torch.no_grad()
def mean_loss(adapted: AdaptedModel, tokenizer: Any, examples: Sequence[Example], *,
              max_length: int, batch_size: int, tick: Callable[[], None] | None = None
              ) -> float:
    """Mean loss per response token (teacher forcing); ``tick()`` after each batch."""
    encoded = encode_examples(tokenizer, examples, max_length=max_length)
    total = 0.0
    count = 0
    for chunk in _chunks(encoded, batch_size):
        batch = collate(chunk, tokenizer.pad_token_id)
        out = adapted.model(**batch)
        n = int((batch["labels"][:, 1:] != -100).sum())
        total += float(out.loss) * n
        count += n
        if tick is not None:
            tick()
    return total / max(count, 1)


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


def eval_batches(examples: int, batch_size: int) -> int:
    """Batches :func:`evaluate_model` runs: the loss's and the generation's."""
    return 2 * math.ceil(examples / batch_size)


def evaluate_model(
    adapted: AdaptedModel,
    tokenizer: Any,
    examples: Sequence[Example],
    *,
    max_length: int = 256,
    batch_size: int = 16,
    max_new_tokens: int = 48,
    bertscore: BertScoreModel | None = None,
    tick: Callable[[], None] | None = None,
) -> EvalResult:
    """Loss, perplexity and generation scores of ``adapted`` on ``examples``; ``tick()``
    after each batch of the loss and of the generation (:func:`eval_batches` of them)."""
    start = time.perf_counter()
    was_training = adapted.model.training
    adapted.model.eval()
    try:
        loss = mean_loss(adapted, tokenizer, examples, max_length=max_length,
                         batch_size=batch_size, tick=tick)
        preds = greedy_generate(adapted, tokenizer, [e.prompt for e in examples],
                                max_new_tokens=max_new_tokens, batch_size=batch_size,
                                tick=tick)
    finally:
        adapted.model.train(was_training)
    refs = [e.response.strip() for e in examples]
    scores = score_texts(preds, refs, bertscore=bertscore)
    return EvalResult(loss=loss, perplexity=perplexity(loss), scores=scores,
                      predictions=tuple(preds), seconds=time.perf_counter() - start)


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

    layers = list(qaa_layers(adapted.lm))
    if not layers:
        settings = [EvalSetting()]
    bar = _EvalProgress(len(settings) * eval_batches(len(examples),
                                                     kwargs.get("batch_size", 16)), progress)
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
