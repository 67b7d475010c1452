"""Error-mitigation technique configurations: small frozen records validated on construction.

A technique record only *names* what Mitiq should do; :mod:`qaa_hw.mitigation.estimators`
turns it into Mitiq calls (factories, folding functions, DDD rules, PEC representations) and
:mod:`qaa_hw.mitigation.api` runs it over our noisy executors. Every record has ``to_dict()``
(the settings stored with each estimate) and ``name`` (``"zne"``, ``"rem"``, ...).

* :class:`ZNE`: zero-noise extrapolation (``mitiq.zne``) with a noise-scaling strategy of
  :mod:`qaa_hw.mitigation.scaling` (gate folding by default, or pulse stretching).
* :class:`REM`: readout-error mitigation with inverse confusion matrices built from the
  device's readout errors (``mitiq.rem``).
* :class:`DDD`: digital dynamical decoupling on idle windows (``mitiq.ddd``).
* :class:`PEC`: probabilistic error cancellation with depolarising representations built from
  the device's gate errors (``mitiq.pec``).
* :class:`Combined`: several of the above; they always apply in the order
  ZNE or PEC (outer, circuit-level estimators) → DDD (on every circuit they run) → REM (on
  every measured distribution), whatever order they are given in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qaa_hw.errors import ConfigError
from qaa_hw.limits import (
    MAX_COUNT,
    MAX_PEC_SAMPLES,
    MAX_SCALE_FACTOR,
    MAX_ZNE_ORDER,
    check_int,
)
from qaa_hw.mitigation.scaling import SCALINGS, NoiseScaling, make_scaling

FACTORIES: tuple[str, ...] = ("richardson", "linear", "polynomial", "exponential")
DDD_RULES: tuple[str, ...] = ("xx", "yy", "xyxy")
REM_METHODS: tuple[str, ...] = ("tensored", "uniform")
PEC_REPRESENTATIONS: tuple[str, ...] = ("global", "local")

#: The single techniques by name, in the order a :class:`Combined` applies them (outermost
#: first); filled below the classes.
TECHNIQUES: dict[str, type[Technique]] = {}
#: Backends the mitigated circuits run on (:func:`qaa_hw.mitigation.backends.make_backend`).
EXECUTORS: tuple[str, ...] = ("aer", "cirq")
#: Application order of the parts of a :class:`Combined` technique (outermost first).
ORDER: tuple[str, ...] = ("zne", "pec", "ddd", "rem")


def _choice(what: str, value: object, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise ConfigError(f"{what}={value!r} is not valid; accepted: {', '.join(accepted)}")


class Technique:
    """Base class of the technique records (frozen dataclasses)."""

    #: Short lower-case name, e.g. ``"zne"``.
    name: str = ""

    def parts(self) -> tuple[Technique, ...]:
        """The single techniques this one applies (itself, unless :class:`Combined`)."""
        return (self,)

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain data, ``{"technique": name, ...options}``."""
        raise NotImplementedError


@dataclass(frozen=True)
class ZNE(Technique):
    """Zero-noise extrapolation: run the circuit with its noise amplified to several scale
    factors and extrapolate each output to zero noise with a Mitiq factory.

    Attributes:
        factory: ``"richardson"`` (``RichardsonFactory``), ``"linear"`` (``LinearFactory``),
            ``"polynomial"`` (``PolyFactory`` of ``order``) or ``"exponential"``
            (``ExpFactory`` with ``asymptote``).
        scale_factors: noise scale factors, at least two, each >= 1 (1 = the compiled
            circuit). With folding, odd integers scale every gate's noise exactly (each gate
            G becomes G (G^-1 G)^k); other values fold a subset and scale the noise only on
            average (Mitiq counts the noiseless virtual ``rz`` gates like any other gate).
        scaling: ``"fold_random"`` (``fold_gates_at_random``, seeded; the default),
            ``"fold_global"`` (``fold_global``), ``"fold_all"`` (``fold_all``; odd integer
            scale factors only) or ``"pulse_stretch"`` (every pulse stretched; readout not
            scaled); see :mod:`qaa_hw.mitigation.scaling`.
        order: polynomial order (``factory="polynomial"`` only); at most
            ``len(scale_factors) - 1``.
        asymptote: infinite-noise limit for ``factory="exponential"`` (``None``: fitted, which
            needs at least 3 scale factors).
    """

    factory: str = "richardson"
    scale_factors: tuple[float, ...] = (1.0, 3.0, 5.0)
    scaling: str = "fold_random"
    order: int = 2
    asymptote: float | None = None

    name = "zne"

    def __post_init__(self) -> None:
        _choice("ZNE factory", self.factory, FACTORIES)
        _choice("ZNE scaling", self.scaling, tuple(SCALINGS))
        try:
            factors = tuple(float(s) for s in self.scale_factors)
        except (TypeError, ValueError) as e:
            raise ConfigError(
                f"ZNE scale factors {self.scale_factors!r} are not numbers"
            ) from e
        object.__setattr__(self, "scale_factors", factors)
        if len(factors) < 2:
            raise ConfigError(f"ZNE needs at least 2 scale factors, got {factors}")
        if any(not math.isfinite(s) or not 1.0 <= s <= MAX_SCALE_FACTOR for s in factors):
            raise ConfigError(
                f"ZNE scale factors must be finite, >= 1 (1 = the compiled circuit) and "
                f"<= {MAX_SCALE_FACTOR:g}, got {factors}"
            )
        if len(set(factors)) != len(factors):
            raise ConfigError(f"ZNE scale factors must be distinct, got {factors}")
        if self.scaling == "fold_all" and any(s % 2 != 1 for s in factors):
            raise ConfigError(
                f"ZNE scaling='fold_all' folds every gate a whole number of times, so scale "
                f"factors must be odd integers (1, 3, 5, ...), got {factors}"
            )
        if self.factory == "polynomial":
            check_int("ZNE order", self.order, 1, MAX_ZNE_ORDER)
            if self.order > len(factors) - 1:
                raise ConfigError(
                    f"ZNE order={self.order} needs at least {self.order + 1} scale factors, "
                    f"got {factors}"
                )
        if self.factory == "exponential":
            if self.asymptote is None:
                if len(factors) < 3:
                    raise ConfigError(
                        "ZNE factory='exponential' with a fitted asymptote needs at least 3 "
                        f"scale factors, got {factors}; give asymptote= or more factors"
                    )
            else:
                if not math.isfinite(float(self.asymptote)):
                    raise ConfigError(f"ZNE asymptote={self.asymptote!r} must be finite")
                object.__setattr__(self, "asymptote", float(self.asymptote))

    def make_factory(self) -> Any:
        """A fresh Mitiq factory for one extrapolation."""
        from mitiq.zne.inference import ExpFactory, LinearFactory, PolyFactory, RichardsonFactory

        factors = list(self.scale_factors)
        if self.factory == "richardson":
            return RichardsonFactory(factors)
        if self.factory == "linear":
            return LinearFactory(factors)
        if self.factory == "polynomial":
            return PolyFactory(factors, order=self.order)
        return ExpFactory(factors, asymptote=self.asymptote)

    def noise_scaling(self, seed: int) -> NoiseScaling:
        """The strategy object (a Mitiq ``scale_noise`` callable; seeded)."""
        return make_scaling(self.scaling, seed)

    def to_dict(self) -> dict[str, Any]:
        """Settings; ``order``/``asymptote`` only for the factories that use them."""
        out: dict[str, Any] = {
            "technique": self.name,
            "factory": self.factory,
            "scale_factors": list(self.scale_factors),
            "scaling": self.scaling,
        }
        if self.factory == "polynomial":
            out["order"] = self.order
        if self.factory == "exponential":
            out["asymptote"] = self.asymptote
        return out


@dataclass(frozen=True)
class REM(Technique):
    """Readout-error mitigation with the device's confusion matrices.

    The measured distribution of every executed circuit is multiplied by Mitiq's inverse
    confusion matrix and projected onto the closest probability distribution
    (``mitiq.rem.inverse_confusion_matrix.closest_positive_distribution``).

    Attributes:
        method: ``"tensored"``: one confusion matrix per measured qubit from its
            ``prob_meas1_prep0`` / ``prob_meas0_prep1``
            (``generate_tensored_inverse_confusion_matrix``); ``"uniform"``: one matrix with
            the mean flip probabilities of the measured qubits
            (``generate_inverse_confusion_matrix``).
    """

    method: str = "tensored"

    name = "rem"

    def __post_init__(self) -> None:
        _choice("REM method", self.method, REM_METHODS)

    def to_dict(self) -> dict[str, Any]:
        """Settings."""
        return {"technique": self.name, "method": self.method}


@dataclass(frozen=True)
class DDD(Technique):
    """Digital dynamical decoupling: Mitiq fills the idle windows of the scheduled circuit
    with a pulse sequence equal to the identity.

    Attributes:
        rule: ``"xx"``, ``"yy"`` or ``"xyxy"`` (``mitiq.ddd.rules``).
        spacing: idle slots between the rule's gates; ``-1`` (default) spreads one sequence
            over the whole window (Mitiq's default).
    """

    rule: str = "xx"
    spacing: int = -1

    name = "ddd"

    def __post_init__(self) -> None:
        _choice("DDD rule", self.rule, DDD_RULES)
        check_int("DDD spacing", self.spacing, -1, MAX_COUNT)

    def make_rule(self) -> Callable[..., Any]:
        """The Mitiq rule function ``(slack_length, spacing) -> cirq.Circuit``."""
        from mitiq.ddd import rules

        return getattr(rules, self.rule)

    def to_dict(self) -> dict[str, Any]:
        """Settings."""
        return {"technique": self.name, "rule": self.rule, "spacing": self.spacing}


@dataclass(frozen=True)
class PEC(Technique):
    """Probabilistic error cancellation with depolarising representations of every noisy gate.

    Each native gate with a non-zero device error ``r`` (average gate infidelity) gets a
    Mitiq representation for a depolarising channel of the same infidelity.

    Attributes:
        num_samples: circuits sampled from the quasi-probability representation (every one
            is executed; the estimate's standard error falls as ``norm / sqrt(num_samples)``).
        representation: ``"global"``: ``represent_operation_with_global_depolarizing_noise``
            with Pauli error ``p = r (d + 1) / d`` (``d = 2^k``), the channel our Aer and Cirq
            noise models apply; ``"local"``:
            ``represent_operation_with_local_depolarizing_noise``, one depolarising channel per
            qubit with ``p`` chosen so that their product has infidelity ``r``.
    """

    num_samples: int = 100
    representation: str = "global"

    name = "pec"

    def __post_init__(self) -> None:
        check_int("PEC num_samples", self.num_samples, 1, MAX_PEC_SAMPLES)
        _choice("PEC representation", self.representation, PEC_REPRESENTATIONS)

    def to_dict(self) -> dict[str, Any]:
        """Settings."""
        return {
            "technique": self.name,
            "num_samples": self.num_samples,
            "representation": self.representation,
        }


@dataclass(frozen=True, init=False)
class Combined(Technique):
    """Several techniques applied together, e.g. ``Combined(REM(), ZNE())``.

    They apply in a fixed order whatever order they are given in: ZNE or PEC produce the
    circuits, DDD is inserted into each of them, REM corrects each measured distribution.

    Attributes:
        techniques: the parts, sorted into application order.
    """

    techniques: tuple[Technique, ...]

    def __init__(self, *techniques: Technique) -> None:
        if len(techniques) == 1 and isinstance(techniques[0], tuple | list):
            techniques = tuple(techniques[0])
        for t in techniques:
            if not isinstance(t, Technique) or isinstance(t, Combined):
                raise ConfigError(
                    f"Combined takes ZNE, REM, DDD or PEC records, got {t!r}"
                )
        names = [t.name for t in techniques]
        if len(techniques) < 2:
            raise ConfigError(f"Combined needs at least 2 techniques, got {names}")
        if len(set(names)) != len(names):
            raise ConfigError(f"Combined takes each technique at most once, got {names}")
        if "zne" in names and "pec" in names:
            raise ConfigError("Combined cannot use both ZNE and PEC (both are outer estimators)")
        ordered = tuple(sorted(techniques, key=lambda t: ORDER.index(t.name)))
        object.__setattr__(self, "techniques", ordered)

    @property
    def name(self) -> str:  # type: ignore[override]
        """Part names in application order, e.g. ``"zne+rem"``."""
        return "+".join(t.name for t in self.techniques)

    def parts(self) -> tuple[Technique, ...]:
        """The parts, in application order."""
        return self.techniques

    def to_dict(self) -> dict[str, Any]:
        """Settings of every part."""
        return {"technique": self.name, "parts": [t.to_dict() for t in self.techniques]}


def technique_parts(technique: Technique) -> dict[str, Technique]:
    """``{name: part}`` of a technique (one entry unless :class:`Combined`)."""
    if not isinstance(technique, Technique) or type(technique) is Technique:
        raise ConfigError(
            f"technique={technique!r} is not valid; accepted: ZNE(...), REM(...), DDD(...), "
            "PEC(...) or Combined(...)"
        )
    return {t.name: t for t in technique.parts()}


TECHNIQUES.update({"zne": ZNE, "pec": PEC, "ddd": DDD, "rem": REM})


def technique_from_names(name: str, options: dict[str, dict[str, Any]] | None = None) -> Technique:
    """The record for ``"zne"``, ``"zne+rem"``, ... (names as in the CLI and YAML).

    Args:
        name: ``+``-joined technique names (``"none"`` is not a technique).
        options: ``{technique: {option: value}}`` keyword arguments of each record.

    Raises:
        ConfigError: an unknown name or an invalid option.
    """
    options = options or {}
    parts = []
    for part in name.split("+"):
        if part not in TECHNIQUES:
            raise ConfigError(
                f"technique {part!r} is not valid; accepted: {', '.join(TECHNIQUES)}"
            )
        opts = dict(options.get(part, {}))
        if isinstance(opts.get("scale_factors"), list):
            opts["scale_factors"] = tuple(opts["scale_factors"])
        try:
            parts.append(TECHNIQUES[part](**opts))
        except TypeError as e:
            raise ConfigError(f"options {opts} of technique {part!r} are not valid: {e}") from e
    return parts[0] if len(parts) == 1 else Combined(*parts)
