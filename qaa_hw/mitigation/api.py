"""Public entry points: :func:`mitigate`, :class:`Mitigator` and the :class:`MitigatedEstimate`.

How an estimate is made (``Mitigator.estimate``):

1. The bound physical circuit of input ``x`` (active qubits only) is converted to Cirq
   (:func:`qaa_hw.devices.cirq_convert.to_cirq_circuit`); Mitiq transforms that circuit.
2. The technique's parts are chained (:class:`~qaa_hw.mitigation.techniques.Combined`):
   REM corrects every measured distribution, DDD pads every circuit that runs, and ZNE or PEC
   (if any) build the circuits and combine their values per output; without ZNE/PEC the
   circuit itself is run once through the chain.
3. The same circuit run once on the same backend without mitigation gives ``unmitigated``;
   the noiseless simulation of the same physical circuit gives ``ideal``.

Outputs follow the adapter's readout: ``<Z_i>`` per logical qubit (``readout="z"``) or the
``2^n`` probabilities (``"probs"``). Overhead counts only the technique's circuits (the
unmitigated run is not included); ``total_shots`` is ``None`` for exact values.

For Mitiq's own entry points, :meth:`Mitigator.executor` is a Mitiq executor of one output,
e.g. ``mitiq.zne.execute_with_zne(m.circuit(x, theta), m.executor(0), ...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cirq
import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.limits import check_seed
from qaa_hw.mitigation.backends import Backend, make_backend
from qaa_hw.mitigation.estimators import (
    Evaluate,
    ddd_evaluate,
    pec_representations,
    pec_values,
    rem_correct,
    rem_inverse,
    zne_values,
)
from qaa_hw.mitigation.techniques import DDD, PEC, REM, ZNE, Technique, technique_parts
from qaa_hw.simulate.noise import NoiseSpec
from qaa_hw.simulate.results import check_shots, z_from_probabilities

logger = logging.getLogger(__name__)

#: Inputs whose bound circuits, folds and ideal outputs a :class:`Mitigator` keeps.
MEMO_SIZE = 256


@dataclass(frozen=True, eq=False)
class MitigatedEstimate:
    """One mitigated estimate of an adapter's outputs for one input (compare ``to_dict()``s:
    the arrays make field-wise ``==`` ambiguous).

    Attributes:
        technique: the technique's settings (``technique.to_dict()``).
        executor: ``"aer"`` or ``"cirq"``.
        shots: shots per circuit, ``None`` for exact values.
        mitigated: ``[m]`` mitigated outputs.
        unmitigated: ``[m]`` outputs of one unmitigated run on the same backend.
        ideal: ``[m]`` noiseless outputs of the same physical circuit.
        circuits: circuits the technique executed.
        total_shots: shots the technique used (``None`` for exact values).
        details: technique data (ZNE values per scale factor, PEC norm and standard error).
    """

    technique: dict[str, Any]
    executor: str
    shots: int | None
    mitigated: np.ndarray
    unmitigated: np.ndarray
    ideal: np.ndarray
    circuits: int
    total_shots: int | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def mitigated_error(self) -> float:
        """Mean absolute error of the mitigated outputs."""
        return float(np.abs(self.mitigated - self.ideal).mean())

    @property
    def unmitigated_error(self) -> float:
        """Mean absolute error of the unmitigated outputs."""
        return float(np.abs(self.unmitigated - self.ideal).mean())

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {
            "technique": self.technique,
            "executor": self.executor,
            "shots": self.shots,
            "mitigated": self.mitigated.tolist(),
            "unmitigated": self.unmitigated.tolist(),
            "ideal": self.ideal.tolist(),
            "mitigated_error": self.mitigated_error,
            "unmitigated_error": self.unmitigated_error,
            "circuits": self.circuits,
            "total_shots": self.total_shots,
            "details": self.details,
        }


class Mitigator:
    """Mitigated estimates of one compiled adapter on one backend (reused across inputs).

    Args:
        compiled: the compiled adapter (its device, noise scale included, defines the noise).
        executor: ``"aer"`` (:class:`~qaa_hw.mitigation.backends.AerBackend`) or ``"cirq"``.
        noise: the noise spec (``True``: the device's, idle relaxation on).
        shots: ``None`` for exact distributions, else shots per executed circuit.
        seed: seed of random folding, PEC sampling and shot sampling.
        backend: a backend already built for ``compiled`` (e.g. a device,
            :class:`qaa_hw.hardware.mitigation.DeviceBackend`); ``executor``, ``noise`` and
            ``shots`` are then the backend's own.

    Raises:
        ConfigError: unknown executor, seed outside 0..2^32-1.
        SimulationError: invalid shots.
    """

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        executor: str = "aer",
        noise: NoiseSpec | bool = True,
        shots: int | None = None,
        seed: int = 0,
        backend: Backend | None = None,
    ) -> None:
        shots = check_shots(shots)
        self.compiled = compiled
        self.seed = check_seed("seed", seed)
        self.backend: Backend = backend or make_backend(
            compiled, executor=executor, noise=noise, shots=shots, seed=seed
        )
        self._readout = compiled.spec.readout
        self._ideal: dict[bytes, np.ndarray] = {}
        self._circuits: dict[bytes, cirq.Circuit] = {}
        self._folds: dict[tuple[bytes, str, float], Any] = {}

    # ---------------------------------------------------------------- building blocks
    def circuit(self, x: np.ndarray, theta: np.ndarray) -> cirq.Circuit:
        """The bound active-qubit physical circuit of ``x`` (what Mitiq transforms)."""
        return self._bound(_input_key(x, theta), x, theta).copy()

    def _bound(self, key: bytes, x: np.ndarray, theta: np.ndarray) -> cirq.Circuit:
        """Memoised bound circuit: estimates of one input share one object, so its frozen
        form (the backend's cache key) and its folds are computed once."""
        if key not in self._circuits:
            if len(self._circuits) >= MEMO_SIZE:
                self._circuits.clear()
                self._folds.clear()
            self._circuits[key] = self.backend.bound_circuit(x, theta)
        return self._circuits[key]

    def _scale_noise(self, zne: ZNE, key: bytes) -> Callable[[Any, float], Any]:
        """``zne``'s noise scaling (a Mitiq ``scale_noise``), memoised per (input, scaling,
        scale factor): ZNE settings that differ only in the factory scale the same circuits."""
        fold = zne.noise_scaling(self.seed)

        def scale(circuit: Any, scale_factor: float) -> Any:
            memo = (key, zne.scaling, float(scale_factor))
            if memo not in self._folds:
                self._folds[memo] = fold(circuit, scale_factor)
            return self._folds[memo]

        return scale

    def outputs(self, distributions: np.ndarray) -> np.ndarray:
        """Readout values ``[C, m]`` of distributions ``[C, 2^n]``."""
        if self._readout == "z":
            probs = torch.as_tensor(np.asarray(distributions, dtype=float))
            return z_from_probabilities(probs, self.backend.num_logical).numpy()
        return np.asarray(distributions, dtype=float)

    def ideal(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Noiseless outputs ``[m]`` of the same physical circuit."""
        key = _input_key(x, theta)
        if key not in self._ideal:
            if len(self._ideal) >= MEMO_SIZE:
                self._ideal.clear()
            self._ideal[key] = self.outputs(self.backend.ideal_distribution(x, theta)[None])[0]
        return self._ideal[key].copy()

    def evaluator(self, technique: Technique | None = None) -> Evaluate:
        """``circuits -> [C, m]`` outputs on the backend, with the technique's REM and DDD parts
        (ZNE and PEC are outer estimators and are ignored here)."""
        parts = technique_parts(technique) if technique is not None else {}
        rem = parts.get("rem")
        inverse = (
            rem_inverse(self.backend.confusion, method=rem.method)
            if isinstance(rem, REM)
            else None
        )

        def evaluate(circuits: Sequence[cirq.Circuit]) -> np.ndarray:
            dists = self.backend.run(circuits)
            if inverse is not None:
                dists = rem_correct(dists, inverse)
            return self.outputs(dists)

        ddd = parts.get("ddd")
        if isinstance(ddd, DDD):
            return ddd_evaluate(
                evaluate, self.backend.idle_grid, rule=ddd.make_rule(), spacing=ddd.spacing
            )
        return evaluate

    def executor(self, output: int = 0, *, technique: Technique | None = None) -> Any:
        """A Mitiq executor ``circuit -> float``: output ``output`` of one run (float-like
        results, no Mitiq ``Observable`` needed), through the technique's REM/DDD parts."""
        evaluate = self.evaluator(technique)

        def execute(circuit: cirq.Circuit) -> float:
            return float(evaluate([circuit])[0, output])

        return execute

    # ---------------------------------------------------------------------- estimates
    def estimate(
        self, x: np.ndarray, theta: np.ndarray, technique: Technique
    ) -> MitigatedEstimate:
        """Mitigate the outputs of input ``x`` (see the module docstring).

        Raises:
            ConfigError: an invalid technique, or PEC on a device without gate errors.
            SimulationError: a failed extrapolation.
        """
        parts = technique_parts(technique)
        key = _input_key(x, theta)
        circuit = self._bound(key, x, theta)
        evaluate = self.evaluator(technique)
        backend = self.backend
        circuits0, shots0 = backend.circuits_run, backend.shots_run
        details: dict[str, Any] = {}
        zne, pec = parts.get("zne"), parts.get("pec")
        if isinstance(zne, ZNE):
            mitigated, details = zne_values(
                circuit,
                evaluate,
                scale_factors=zne.scale_factors,
                scale_noise=self._scale_noise(zne, key),
                make_factory=zne.make_factory,
            )
        elif isinstance(pec, PEC):
            representations = pec_representations(
                circuit, backend.device, kind=pec.representation
            )
            mitigated, details = pec_values(
                circuit,
                evaluate,
                representations=representations,
                num_samples=pec.num_samples,
                seed=self.seed,
            )
        else:
            mitigated = evaluate([circuit])[0]
        circuits = backend.circuits_run - circuits0
        total_shots = backend.shots_run - shots0 if backend.shots is not None else None
        unmitigated = self.outputs(backend.run([circuit]))[0]
        return MitigatedEstimate(
            technique=technique.to_dict(),
            executor=backend.name,
            shots=backend.shots,
            mitigated=np.asarray(mitigated, dtype=float),
            unmitigated=np.asarray(unmitigated, dtype=float),
            ideal=self.ideal(x, theta),
            circuits=circuits,
            total_shots=total_shots,
            details=details,
        )


def _input_key(x: np.ndarray, theta: np.ndarray) -> bytes:
    """Memo key of an input: the bytes of ``x`` and ``theta`` as float64."""
    xs = np.ascontiguousarray(x, dtype=float)
    th = np.ascontiguousarray(theta, dtype=float)
    return xs.tobytes() + b"|" + th.tobytes()


def mitigate(
    compiled: CompiledAdapter,
    x: np.ndarray,
    theta: np.ndarray,
    *,
    technique: Technique,
    executor: str = "aer",
    noise: NoiseSpec | bool = True,
    shots: int | None = None,
    seed: int = 0,
) -> MitigatedEstimate:
    """Mitigated outputs of ``compiled`` for input ``x`` and trainable values ``theta``.

    Args:
        compiled: the compiled adapter.
        x: input vector (``2^n`` entries; L2-normalised here).
        theta: trainable values.
        technique: ``ZNE(...)``, ``REM()``, ``DDD(...)``, ``PEC(...)`` or ``Combined(...)``.
        executor: ``"aer"`` or ``"cirq"``.
        noise: the noise spec (``True``: the device's, idle relaxation on).
        shots: ``None`` for exact values, else shots per executed circuit.
        seed: seed of folding, PEC sampling and shot sampling.

    Returns:
        The :class:`MitigatedEstimate`. For many inputs build one :class:`Mitigator`.
    """
    return Mitigator(compiled, executor=executor, noise=noise, shots=shots, seed=seed).estimate(
        x, theta, technique
    )
