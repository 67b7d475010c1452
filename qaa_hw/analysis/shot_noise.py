"""Statistical error of an adapter call at finite shots, after mitigation.

A hardware estimate of ``<Z_i>`` from ``S`` shots has variance ``(1 - z^2) / S``. Mitigation
changes both the value and its variance:

* **REM** (tensored readout inversion) divides each output by ``1 - p(1|0) - p(0|1)`` of the
  qubit it is read on, and so its standard deviation too;
* **ZNE** with a linear factory (Richardson, linear, polynomial) returns ``sum_k w_k z_k``
  over the scale factors ``s_k``, each circuit run with ``S`` shots, so its variance is
  ``sum_k w_k^2 Var(z_k)``: Richardson at (1, 3, 5) has ``w = (15, -10, 3) / 8`` and
  amplifies the standard deviation by ``sqrt(sum w^2) = 2.28``.

The values ``z_k`` at each scale factor come from the simulation core
(:func:`qaa_hw.simulate.simulate` with the fast engine, the ZNE record's own noise scaling
through :meth:`~qaa_hw.mitigation.scaling.NoiseScaling.engine_setting`), and the weights from
Mitiq's factory (:func:`qaa_hw.adapters.mitigated.extrapolation_weights`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from qaa_hw.errors import ConfigError

if TYPE_CHECKING:
    from qaa_hw.analysis.sweep_spec import SweepPoint
    from qaa_hw.compile.compiled import CompiledAdapter
    from qaa_hw.mitigation.techniques import ZNE, Technique


@dataclass(frozen=True)
class ShotError:
    """Standard error of one mitigated adapter call.

    Attributes:
        shots: shots per executed circuit.
        standard_error: mean over inputs and outputs of the standard deviation of the
            mitigated estimate at ``shots``.
        unmitigated_standard_error: the same for the plain circuit (no mitigation) at
            ``shots``.
        amplification: ``standard_error / unmitigated_standard_error``.
        weights: extrapolation weights (``(1,)`` without ZNE).
    """

    shots: int
    standard_error: float
    unmitigated_standard_error: float
    amplification: float
    weights: tuple[float, ...]

    def shots_for_equal_error(self) -> float:
        """Shots per circuit that give the mitigated estimate the unmitigated standard error
        at :attr:`shots` (``shots x amplification^2``)."""
        return self.shots * self.amplification**2

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def _zne_and_rem(technique: Technique | None) -> tuple[ZNE | None, bool]:
    from qaa_hw.mitigation.techniques import PEC, REM, ZNE, technique_parts

    if technique is None:
        return None, False
    parts = technique_parts(technique)
    if isinstance(parts.get("pec"), PEC):
        raise ConfigError("shot error of PEC is not modelled; accepted: none, zne, rem, zne+rem")
    zne = parts.get("zne")
    return (zne if isinstance(zne, ZNE) else None), isinstance(parts.get("rem"), REM)


class ShotNoiseModel:
    """The ``<Z>`` values of one compiled adapter at the ZNE scale factors, computed once
    with the simulation core; :meth:`error` prices any mitigation and shot count from them.

    Args:
        compiled: the compiled adapter (its device's noise scale is the noise).
        x: ``[B, <=2^n]`` inputs the error is averaged over.
        theta: trainable values.
        zne: the ZNE record whose scale factors and noise scaling are used (default
            Richardson at 1, 3, 5 with random folding).

    Raises:
        ConfigError: a readout other than ``z``.
    """

    def __init__(self, compiled: CompiledAdapter, x: np.ndarray, theta: np.ndarray, *,
                 zne: ZNE | None = None) -> None:
        from qaa_hw.mitigation.techniques import ZNE
        from qaa_hw.simulate import make_engine, noise_spec, simulate

        if compiled.spec.readout != "z":
            raise ConfigError(f"shot error needs readout 'z', got {compiled.spec.readout!r}")
        self.zne = zne if zne is not None else ZNE()
        base = noise_spec(compiled.device, compiled.active_qubits)
        local = [compiled.active_qubits.index(q) for q in compiled.final_layout]
        readout = base.readout.numpy()[local]  # [m, 2, 2]
        self.contrast = 1.0 - readout[:, 0, 1] - readout[:, 1, 0]
        scaling = self.zne.noise_scaling(0)
        self.values: dict[float, np.ndarray] = {}
        for s in self.zne.scale_factors:
            noise, fold = scaling.engine_setting(base, s)
            engine = make_engine("fast", compiled, noise=noise, fold=fold)
            self.values[s] = simulate(compiled, x, theta, engine=engine).expectations.numpy()

    def error(self, technique: Technique | None, shots: int) -> ShotError:
        """Standard error at ``shots`` per circuit with ``technique`` (``None``, ``ZNE`` with
        this model's scale factors and scaling, ``REM`` or ``Combined`` of them; DDD parts
        do not change the variance and are ignored).

        Raises:
            ConfigError: invalid shots, PEC, another ZNE scaling or scale factors, or a
                non-linear ZNE factory.
        """
        from qaa_hw.adapters.mitigated import extrapolation_weights

        if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
            raise ConfigError(f"shots={shots!r} is not valid; accepted: an integer >= 1")
        zne, rem = _zne_and_rem(technique)
        if zne is None:
            weights, factors = np.ones(1), [self.zne.scale_factors[0]]
        else:
            if (zne.scale_factors, zne.scaling) != (self.zne.scale_factors, self.zne.scaling):
                raise ConfigError(
                    f"ZNE scale factors {list(zne.scale_factors)} with scaling {zne.scaling!r}: "
                    f"this model holds {list(self.zne.scale_factors)} with "
                    f"{self.zne.scaling!r}")
            weights, factors = extrapolation_weights(zne), list(zne.scale_factors)
        gain = 1.0 / self.contrast if rem else np.ones_like(self.contrast)

        def var(s: float) -> np.ndarray:
            return (1.0 - np.clip(self.values[s], -1.0, 1.0) ** 2) / shots

        variance = sum(w * w * var(s) * gain**2
                       for w, s in zip(weights.tolist(), factors, strict=True))
        se = float(np.mean(np.sqrt(variance)))
        se0 = float(np.mean(np.sqrt(var(self.zne.scale_factors[0]))))
        return ShotError(shots=shots, standard_error=se, unmitigated_standard_error=se0,
                         amplification=se / se0 if se0 > 0 else math.nan,
                         weights=tuple(float(w) for w in weights))


#: Inputs each configuration's standard error is averaged over (drawn as in the sweep).
SHOT_ERROR_INPUTS = 8


@functools.lru_cache(maxsize=64)
def _model(point: SweepPoint, zne: ZNE) -> ShotNoiseModel:
    from qaa_hw.analysis.evaluate import compiled_point
    from qaa_hw.analysis.noisy_report import random_problem

    compiled = compiled_point(point)
    x, theta = random_problem(compiled, SHOT_ERROR_INPUTS, point.seed)
    return ShotNoiseModel(compiled, x, theta, zne=zne)


def row_shot_error(row: Mapping[str, Any], shots: int) -> ShotError:
    """:meth:`ShotNoiseModel.error` of a sweep row's configuration and mitigation at
    ``shots`` per circuit (the configuration is recompiled as the sweep compiled it; models
    are cached per configuration, so rows that differ in mitigation share one).

    Raises:
        ConfigError: the row's mitigation cannot be priced (PEC, a non-linear ZNE factory).
    """
    from qaa_hw.analysis.sweep_spec import SweepPoint
    from qaa_hw.mitigation.techniques import ZNE, technique_from_names, technique_parts

    names = {f.name for f in fields(SweepPoint)}
    point = SweepPoint(**{k: row[k] for k in names if k in row and row[k] is not None
                          and k != "shots"})
    options = json.loads(str(row.get("mitigation_options") or "{}"))
    mitigation = str(row.get("mitigation") or "none")
    technique = None if mitigation == "none" else technique_from_names(mitigation, options)
    zne = technique_parts(technique).get("zne") if technique is not None else None
    base = replace(point, mitigation="none", mitigation_options="{}")
    # Rows without ZNE share the model of the default ZNE (its scale factor 1 is theirs).
    return _model(base, zne if isinstance(zne, ZNE) else ZNE()).error(technique, shots)
