"""The QAA adapter layer and its injection into Hugging Face causal LMs (peft-tuner style).

A :class:`QAALinear` wraps a frozen ``nn.Linear`` (``base_layer``) and adds

    ``delta(x) = scale * up(QAA(down(x)))``

* ``down``: ``in_features -> d`` (``d = 2^n`` by default); a fixed random projection with
  orthonormal rows (a buffer, seeded) or trainable (``train_down=True``);
* ``QAA``: amplitude embedding of ``down(x)`` (zero-padded, L2-normalised), the PQC with
  trainable angles ``qaa_theta``, readout ``<Z_q>`` (n values) or basis probabilities (2^n);
* ``up``: trainable ``readout -> out_features``, **zero-initialised**, so the wrapped model
  computes exactly what the base model computes until training moves ``up``.

The circuit runs on a switchable backend (:mod:`qaa_hw.adapters.backends`): ideal
statevector, a device's noisy channel at noise scale λ, finite shots, or a mitigated
executor. :func:`set_qaa_backend` switches every layer of a model at once, so one trained
model is evaluated ideal / noisy per device and λ / mitigated.

Parameters and buffers are named ``qaa_*``; :func:`inject_qaa` freezes everything else.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from qaa_hw.adapters.backends import IdealBackend, QAABackend
from qaa_hw.adapters.common import find_targets, freeze_except, replace_module
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.errors import ConfigError

logger = logging.getLogger(__name__)

PREFIX = "qaa_"
#: Kinds of down-projection: a fixed (or trainable) random projection with orthonormal rows,
#: or none at all (the identity; the hidden vector is zero-padded to 2^n, the paper's setting).
DOWN_KINDS: tuple[str, ...] = ("random", "identity")


@dataclass(frozen=True)
class QAAConfig:
    """What QAA adapter to inject and where.

    Attributes:
        target_modules: names (or name suffixes) of the ``nn.Linear`` layers to wrap,
            e.g. ``("q_proj", "v_proj")``.
        num_qubits: n; the circuit takes ``2^n`` amplitudes.
        num_layers: circuit layers L.
        rotations: rotation set per qubit per layer, one of
            :data:`~qaa_hw.circuits.spec.ROTATIONS` (``"ry"``, ``"ry_rz"``, ``"rx_rz"``).
        entangler: ``"ring"``, ``"line"`` or ``"all_to_all"`` (``"native"`` needs a device
            and is not available for adapters).
        readout: ``"z"`` (n outputs) or ``"probs"`` (2^n outputs).
        down_dim: width of the down-projection (``<= 2^n``; default ``2^n``).
        train_down: train the down-projection (default: a fixed random projection).
        scale: multiplier of the adapter's output.
        init_scale: standard deviation of the initial circuit angles (radians).
        seed: seed of the angles and the fixed projection (layer i uses ``seed + i``).
        down: ``"random"`` (default) or ``"identity"``: no down-projection, the layer's
            input is zero-padded to ``2^n`` (needs ``in_features <= 2^n``).
    """

    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    num_qubits: int = 4
    num_layers: int = 2
    rotations: str = "ry"
    entangler: str = "ring"
    readout: str = "z"
    down_dim: int | None = None
    train_down: bool = False
    scale: float = 1.0
    init_scale: float = 0.1
    seed: int = 0
    down: str = "random"
    spec: QAASpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        targets = self.target_modules
        if isinstance(targets, str):
            targets = (targets,)
        targets = tuple(targets)
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise ConfigError(
                f"target_modules={self.target_modules!r} is not valid; accepted: one or more "
                "module names such as 'q_proj'"
            )
        object.__setattr__(self, "target_modules", targets)
        if self.entangler == "native":
            raise ConfigError(
                "entangler='native' is not valid for adapters (it depends on a device); "
                "accepted: ring, line, all_to_all"
            )
        spec = QAASpec(
            num_qubits=self.num_qubits,
            num_layers=self.num_layers,
            rotations=self.rotations,
            entangler=self.entangler,  # type: ignore[arg-type]
            readout=self.readout,  # type: ignore[arg-type]
        )
        object.__setattr__(self, "spec", spec)
        if self.down_dim is not None and not (
            isinstance(self.down_dim, int) and 1 <= self.down_dim <= spec.dim
        ):
            raise ConfigError(
                f"down_dim={self.down_dim!r} is not valid; accepted: an integer 1..{spec.dim} "
                f"(2^num_qubits)"
            )
        for name in ("scale", "init_scale"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigError(f"{name}={value!r} is not valid; accepted: a finite number")
        if self.init_scale < 0:
            raise ConfigError(f"init_scale={self.init_scale!r} is not valid; accepted: >= 0")
        if self.down not in DOWN_KINDS:
            raise ConfigError(
                f"down={self.down!r} is not valid; accepted: {', '.join(DOWN_KINDS)}"
            )
        if self.down == "identity" and (self.down_dim is not None or self.train_down):
            raise ConfigError("down='identity' has no down_dim and nothing to train")

    @property
    def width(self) -> int:
        """Width of the down-projection (``down_dim`` or ``2^n``)."""
        return self.down_dim if self.down_dim is not None else self.spec.dim

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON, checkpoints)."""
        out = asdict(self)
        out.pop("spec", None)
        out["target_modules"] = list(self.target_modules)
        return out


def _fixed_projection(width: int, in_features: int, generator: torch.Generator) -> Tensor:
    """``[width, in_features]`` with orthonormal rows (Gaussian rows when width > in)."""
    g = torch.randn(in_features, width, generator=generator, dtype=torch.float64)
    if width <= in_features:
        q, _ = torch.linalg.qr(g)
        return q.T.contiguous()
    return (g / math.sqrt(in_features)).T.contiguous()


class QAALinear(nn.Module):
    """A frozen ``nn.Linear`` plus the QAA delta ``scale * up(QAA(down(x)))``.

    Args:
        base_layer: the layer to wrap (kept as ``base_layer`` and frozen).
        config: the adapter configuration.
        index: position among the wrapped layers (offsets the seed).
        backend: where the circuit runs (default :class:`IdealBackend`).
    """

    #: names of ``qaa_*`` parameters that stay frozen (ablations; none for QAA itself).
    frozen: tuple[str, ...] = ()
    #: whether the readout runs a circuit (so noisy evaluation means something).
    has_circuit: bool = True

    def __init__(
        self,
        base_layer: nn.Linear,
        config: QAAConfig,
        *,
        index: int = 0,
        backend: QAABackend | None = None,
    ) -> None:
        super().__init__()
        self.base_layer = base_layer
        self.config = config
        self.spec = config.spec
        self.scaling = float(config.scale)
        self.backend: QAABackend = backend if backend is not None else IdealBackend()
        self.qaa_disabled = False
        gen = torch.Generator().manual_seed(int(config.seed) + index)
        theta = config.init_scale * torch.randn(self.spec.parameter_shape, generator=gen,
                                                dtype=torch.float64)
        self.qaa_theta = nn.Parameter(theta.to(torch.float32))
        # Adapter tensors stay float32 whatever the base model's dtype (e.g. bfloat16).
        if config.down == "identity":
            if base_layer.in_features > self.spec.dim:
                raise ConfigError(
                    f"down='identity' needs in_features <= 2^num_qubits; the layer has "
                    f"{base_layer.in_features} > {self.spec.dim} (use more qubits)"
                )
            proj = torch.eye(base_layer.in_features, dtype=torch.float32)
        else:
            proj = _fixed_projection(config.width, base_layer.in_features, gen).to(torch.float32)
        if config.train_down:
            self.qaa_down = nn.Parameter(proj)
        else:
            self.register_buffer("qaa_down", proj)
        self.qaa_up = nn.Parameter(
            torch.zeros(base_layer.out_features, self.spec.output_dim, dtype=torch.float32)
        )
        base_layer.weight.requires_grad_(False)
        if base_layer.bias is not None:
            base_layer.bias.requires_grad_(False)

    @property
    def in_features(self) -> int:
        """Input width of the wrapped layer."""
        return self.base_layer.in_features

    @property
    def out_features(self) -> int:
        """Output width of the wrapped layer."""
        return self.base_layer.out_features

    @property
    def weight(self) -> Tensor:
        """The base layer's weight (some model code reads ``module.weight``)."""
        return self.base_layer.weight

    def qaa_readout(self, x: Tensor) -> Tensor:
        """The circuit readout of ``down(x)`` on the current backend, ``[..., O]``."""
        h = x.to(self.qaa_down.dtype) @ self.qaa_down.T
        return self.backend.readout(self.spec, h, self.qaa_theta)

    def forward(self, x: Tensor) -> Tensor:
        """``base_layer(x) + scale * up(QAA(down(x)))``."""
        result: Tensor = self.base_layer(x)
        if self.qaa_disabled:
            return result
        r = self.qaa_readout(x).to(self.qaa_up.dtype)
        delta = (r @ self.qaa_up.T) * self.scaling
        return result + delta.to(result.dtype)

    def extra_repr(self) -> str:
        """Short description shown by ``print(module)``."""
        s = self.spec
        return (
            f"qubits={s.num_qubits}, layers={s.num_layers}, readout={s.readout}, "
            f"down={'trainable' if self.config.train_down else self.config.down}, "
            f"backend={self.backend.kind}"
        )


def inject_qaa(model: nn.Module, config: QAAConfig,
               layer_class: type[QAALinear] | None = None) -> nn.Module:
    """Wrap every target ``nn.Linear`` of ``model`` in a :class:`QAALinear`, in place.

    Afterwards only ``qaa_*`` parameters are trainable, except those a layer class lists in
    its ``frozen`` attribute (the ablations of :mod:`qaa_hw.adapters.ablations`).

    Args:
        model: e.g. a Hugging Face ``LlamaForCausalLM``.
        config: which modules and which circuit.
        layer_class: :class:`QAALinear` (default) or a subclass of it.

    Returns:
        ``model`` (modified in place).

    Raises:
        ConfigError: no module matched ``config.target_modules``, or the model already has
            QAA layers.
    """
    if any(True for _ in qaa_layers(model)):
        raise ConfigError("the model already has QAA layers; inject into a fresh model")
    cls = layer_class if layer_class is not None else QAALinear
    targets = find_targets(model, config.target_modules)
    for index, (name, linear) in enumerate(targets):
        replace_module(model, name, cls(linear, config, index=index))
    freeze_except(model, PREFIX)
    for _, layer in qaa_layers(model):
        for attr in layer.frozen:
            getattr(layer, attr).requires_grad_(False)
    logger.info("injected QAA into %d modules (%s)", len(targets),
                ", ".join(sorted({n.rsplit('.', 1)[-1] for n, _ in targets})))
    return model


def qaa_layers(model: nn.Module) -> Iterator[tuple[str, QAALinear]]:
    """``(name, layer)`` for every :class:`QAALinear` in ``model``."""
    for name, module in model.named_modules():
        if isinstance(module, QAALinear):
            yield name, module


def set_qaa_backend(model: nn.Module, backend: QAABackend) -> int:
    """Run every QAA layer of ``model`` on ``backend``; returns how many layers.

    Raises:
        ConfigError: the model has no QAA layer.
    """
    backend.clear_cache()
    count = 0
    for _, layer in qaa_layers(model):
        layer.backend = backend
        count += 1
    if count == 0:
        raise ConfigError("the model has no QAA layer; call inject_qaa first")
    return count


def set_qaa_enabled(model: nn.Module, enabled: bool) -> None:
    """Switch the QAA delta of every layer on or off (off: the base model)."""
    for _, layer in qaa_layers(model):
        layer.qaa_disabled = not enabled
