"""The assumptions a user sets for a feasibility assessment: verdict thresholds and what a
training run on a QPU looks like (``docs/feasibility.md`` explains every number)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from qaa_hw.errors import ConfigError

GRADIENTS: tuple[str, ...] = ("parameter_shift", "forward")


@dataclass(frozen=True)
class Thresholds:
    """Verdict thresholds (see the module docstring and ``docs/feasibility.md``).

    The circuit verdict uses ``esp_*``, ``t2_*`` (coherent time over min T2) and ``error_*``
    (mean |error| at the assumed shots); the cost verdict uses ``epoch_h_*`` (QPU hours per
    training epoch: a working day of reserved QPU time, a week) and ``tokens_1k_s_*`` (QPU
    seconds per 1,000 generated tokens: a minute, an hour).
    """

    esp_feasible: float = 0.5
    esp_marginal: float = 0.1
    t2_feasible: float = 0.25
    t2_marginal: float = 1.0
    error_feasible: float = 0.05
    error_marginal: float = 0.15
    epoch_h_feasible: float = 8.0
    epoch_h_marginal: float = 168.0
    tokens_1k_s_feasible: float = 60.0
    tokens_1k_s_marginal: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.esp_marginal <= self.esp_feasible <= 1:
            raise ConfigError("thresholds: need 0 < esp_marginal <= esp_feasible <= 1")
        if not 0 < self.t2_feasible <= self.t2_marginal:
            raise ConfigError("thresholds: need 0 < t2_feasible <= t2_marginal")
        if not 0 < self.error_feasible <= self.error_marginal:
            raise ConfigError("thresholds: need 0 < error_feasible <= error_marginal")
        if not 0 < self.epoch_h_feasible <= self.epoch_h_marginal:
            raise ConfigError("thresholds: need 0 < epoch_h_feasible <= epoch_h_marginal")
        if not 0 < self.tokens_1k_s_feasible <= self.tokens_1k_s_marginal:
            raise ConfigError(
                "thresholds: need 0 < tokens_1k_s_feasible <= tokens_1k_s_marginal")

    def to_dict(self) -> dict[str, float]:
        """Plain data."""
        return asdict(self)


@dataclass(frozen=True)
class TrainingAssumptions:
    """What a training run and generation on a QPU are assumed to look like.

    Attributes:
        tokens_per_step: tokens per optimizer step (batch x sequence length), default 512
            (4 sequences of 128 tokens).
        layers: transformer layers that carry adapters (default 30: every layer of
            SmolLM2-135M, the fine-tuning setup).
        targets: adapted modules per layer (default 2: ``q_proj`` and ``v_proj``).
        steps_per_epoch: optimizer steps per epoch (default 250: 128k tokens).
        shots: shots per circuit (the fine-tuning study's quality-vs-shots result when the
            report is given one, see :func:`qaa_hw.analysis.task_quality.shots_from_study`).
        gradient: ``"parameter_shift"`` (2P + 1 circuits per token and module) or
            ``"forward"`` (1; the cost of a forward pass only).
        input_gradients: count the gradients with respect to the adapter inputs, which
            backpropagation needs in every adapted layer but the lowest (2 circuits per
            embedding angle, parameter shift); only with ``parameter_shift``.
    """

    tokens_per_step: int = 512
    layers: int = 30
    targets: int = 2
    steps_per_epoch: int = 250
    shots: int = 1000
    gradient: str = "parameter_shift"
    input_gradients: bool = True

    def __post_init__(self) -> None:
        for f in ("tokens_per_step", "layers", "targets", "steps_per_epoch", "shots"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{f}: expected an integer >= 1, got {v!r}")
        if self.gradient not in GRADIENTS:
            raise ConfigError(f"gradient: expected one of {', '.join(GRADIENTS)}, "
                              f"got {self.gradient!r}")
        if not isinstance(self.input_gradients, bool):
            raise ConfigError(f"input_gradients: expected true or false, got "
                              f"{self.input_gradients!r}")

    @property
    def modules(self) -> int:
        """Adapted modules per token: ``layers x targets``."""
        return self.layers * self.targets

    @property
    def input_gradient_modules(self) -> int:
        """Modules whose input gradient training needs: all but the lowest layer's."""
        if self.gradient != "parameter_shift" or not self.input_gradients:
            return 0
        return (self.layers - 1) * self.targets

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrainingAssumptions:
        """Build from a ``training:`` mapping; unknown keys are errors naming the key.

        The older key ``modules: M`` (adapted modules of one block) reads as ``layers: 1,
        targets: M`` unless ``layers`` or ``targets`` is given.
        """
        values = dict(data)
        if "modules" in values:
            modules = values.pop("modules")
            if "layers" not in values and "targets" not in values:
                values.update(layers=1, targets=modules)
        names = {f.name for f in fields(cls)}
        for key in values:
            if key not in names:
                raise ConfigError(f"{key}: unknown field (accepted: {', '.join(sorted(names))})")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``modules`` included)."""
        return {**asdict(self), "modules": self.modules}


@dataclass(frozen=True)
class Pricing:
    """The price of QPU time, overridable (``qaa_hw report --usd-per-qpu-second``).

    Attributes:
        usd_per_qpu_s: US dollars per second of QPU time.
        source: where the price comes from.
    """

    usd_per_qpu_s: float = 1.60
    source: str = ("IBM Quantum Platform Pay-As-You-Go plan: USD 96 per minute of QPU time "
                   "(ibm.com/quantum/pricing, 2024); applied to every device")

    def __post_init__(self) -> None:
        v = self.usd_per_qpu_s
        if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0 or v == float(
                "inf"):
            raise ConfigError(f"usd_per_qpu_s: expected a finite number >= 0, got {v!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


#: Transformer layers of the named models of ``qaa_hw finetune --model`` (SmolLM2-135M:
#: ``num_hidden_layers: 30`` in HuggingFaceTB/SmolLM2-135M-Instruct's config.json; Gemma 3
#: 270M: ``gemma3.block_count: 18`` in its GGUF header).
MODEL_LAYERS: dict[str, int] = {"smollm2-135m": 30, "gemma3-270m": 18}


def model_layers(model: str) -> int:
    """Transformer layers of ``model``: a name of :data:`MODEL_LAYERS`, ``tiny`` or a local
    model folder with a Hugging Face ``config.json`` (``num_hidden_layers``).

    Raises:
        ConfigError: an unknown name or a folder without a readable layer count.
    """
    import json
    from pathlib import Path

    if model in MODEL_LAYERS:
        return MODEL_LAYERS[model]
    if model == "tiny":
        from qaa_hw.finetune.models import TinySettings

        return TinySettings().num_layers
    config = Path(model) / "config.json"
    try:
        layers = json.loads(config.read_text(encoding="utf-8"))["num_hidden_layers"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(
            f"model={model!r} is not valid; accepted: {', '.join([*MODEL_LAYERS, 'tiny'])} or "
            f"a folder whose config.json has num_hidden_layers ({type(e).__name__})") from e
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ConfigError(f"{config}: num_hidden_layers={layers!r} is not an integer >= 1")
    return layers


def finetune_run_modules(run_dir: str | Any) -> tuple[int, int]:
    """``(layers, targets)`` of a QAA fine-tuning run folder (its ``summary.json``: the
    model's layers, the adapter's ``target_modules``).

    Raises:
        ConfigError: no readable summary, or the run is not a QAA run.
    """
    import json
    from pathlib import Path

    path = Path(run_dir) / "summary.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))["config"]
        method = config["methods"]["method"]
        targets = config["methods"]["settings"]["target_modules"]
        model = config["model"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"fine-tuning run {str(run_dir)!r}: no readable summary.json with "
                          f"the model and the adapter's target_modules ({type(e).__name__})"
                          ) from e
    if method != "qaa":
        raise ConfigError(f"fine-tuning run {str(run_dir)!r} trained {method!r}; accepted: a "
                          "qaa run")
    return model_layers(str(model)), len(targets)
