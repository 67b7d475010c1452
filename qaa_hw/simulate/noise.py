"""The noise of a compiled adapter on its device: one :class:`NoiseSpec`, built once.

Every engine, reference and mitigation path consumes this object, so "noisy" and
"unmitigated" mean the same thing everywhere:

* **Gate channels**: read out of the very :class:`qiskit_aer.noise.NoiseModel` the Aer reference
  uses, :func:`qaa_hw.devices.qiskit_convert.to_aer_noise_model` of
  :func:`qaa_hw.devices.model.restrict` ``(device, active_qubits)`` (Aer's
  ``basic_device_gate_errors`` on our Target: per-gate depolarising composed with thermal
  relaxation over the gate duration). Each :class:`~qiskit_aer.noise.QuantumError` is converted
  by Qiskit (``SuperOp`` -> ``PTM``) to its real *Pauli transfer matrix*:
  ``R[i, j] = Tr(P_i E(P_j)) / 2^m``, Paulis ``I, X, Y, Z`` per qubit and
  ``i = 4 * p(qargs[1]) + p(qargs[0])`` (Qiskit's label order).
* **Readout**: a classical confusion per qubit, ``readout[q][b, m] = P(measure m | state b)``,
  from the device's ``prob_meas1_prep0`` / ``prob_meas0_prep1`` (the numbers Aer's
  ``ReadoutError`` is built from).
* **Idle relaxation** (``idle=True``, the default): the circuit is scheduled as soon as possible
  (ASAP, :mod:`qaa_hw.simulate.schedule`) with the device's durations (``rz`` is virtual: zero
  duration), and every active qubit relaxes over every interval in which it is not driven, up to
  the end of the circuit (the measurement of all qubits at once): Aer's
  ``thermal_relaxation_error(T1, min(T2, 2 T1), t)`` at zero temperature, the channel Aer's own
  delay pass applies to a ``delay``. Intervals before a qubit's first gate are skipped: the qubit
  is still in ``|0>``, which zero-temperature relaxation leaves unchanged. ``idle=False`` gives
  the older model (idle qubits perfect) for comparison with earlier numbers.

A noiseless device (``noise_scale`` 0) yields no channels at all.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel, restrict
from qaa_hw.errors import SimulationError

logger = logging.getLogger(__name__)

ChannelKey = tuple[str, tuple[int, ...]]
#: The schedule idle windows are taken from (qubits start every gate as early as they can).
SCHEDULE = "asap"
#: Idle intervals shorter than this (seconds) are not relaxed.
MIN_IDLE_S = 1e-15


def ptm_matrix(channel: Any) -> np.ndarray:
    """Real Pauli transfer matrix ``(4^m, 4^m)`` of a Qiskit channel or Aer ``QuantumError``.

    Args:
        channel: anything ``qiskit.quantum_info.SuperOp`` accepts (``QuantumError``,
            ``Kraus``, a gate, an ``Operator``).
    """
    from qiskit.quantum_info import PTM, SuperOp

    data = np.asarray(PTM(SuperOp(channel)).data)
    if np.abs(np.imag(data)).max(initial=0.0) > 1e-12:
        raise SimulationError("channel is not Hermitian-preserving (complex Pauli transfer matrix)")
    return np.ascontiguousarray(np.real(data), dtype=float)


@dataclass(frozen=True)
class NoiseSpec:
    """The device noise on a set of physical qubits, renumbered ``0..k-1`` in the order given.

    Attributes:
        device: the restricted device (local numbering), noise scale applied.
        gate_errors: ``{(gate name, local qargs): PTM}``, the channel applied *after* that
            gate on those qubits (float64 ``(4^m, 4^m)``); gates absent from the map are ideal.
        readout: ``(k, 2, 2)`` float64, ``readout[i, b, m] = P(m | b)`` on local qubit i.
        idle: whether idle qubits relax on the scheduled idle windows.
    """

    device: DeviceModel
    gate_errors: Mapping[ChannelKey, torch.Tensor] = field(hash=False, compare=False)
    readout: torch.Tensor = field(hash=False, compare=False)
    idle: bool = True
    _relaxations: dict[tuple[int, float], Any] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )

    @property
    def num_qubits(self) -> int:
        """k, the number of local qubits."""
        return self.device.num_qubits

    @property
    def noise_scale(self) -> float:
        """The device's λ."""
        return self.device.noise_scale

    @property
    def is_ideal(self) -> bool:
        """True when no gate error exists, readout is perfect and nothing relaxes."""
        eye = torch.eye(2, dtype=self.readout.dtype).expand_as(self.readout)
        relaxes = self.idle and any(
            math.isfinite(q.t1_s) or math.isfinite(q.t2_s) for q in self.device.qubits
        )
        return not self.gate_errors and bool(torch.equal(self.readout, eye)) and not relaxes

    def gate_error(self, name: str, qargs: Sequence[int]) -> torch.Tensor | None:
        """PTM of the channel applied after ``name`` on local ``qargs`` (``None``: ideal)."""
        return self.gate_errors.get((name, tuple(int(q) for q in qargs)))

    def duration_s(self, name: str, qargs: Sequence[int]) -> float:
        """Duration of ``name`` on local ``qargs`` (``rz``: 0; ``cz`` in either direction).

        Raises:
            SimulationError: the device has no such instruction on those qubits.
        """
        qubits = tuple(int(q) for q in qargs)
        per = self.device.instructions.get(name, {})
        props = per.get(qubits)
        if props is None and name == "cz":
            props = per.get(tuple(reversed(qubits)))
        if props is None:
            if name == "rz":
                return 0.0
            raise SimulationError(
                f"device {self.device.name!r} has no {name!r} on local qubits {qubits}; the "
                "circuit must stay on the compiled device's native gates and directions"
            )
        return float(props.duration_s)

    def relaxation_error(self, qubit: int, seconds: float) -> Any:
        """Aer's ``thermal_relaxation_error`` of local ``qubit`` idling ``seconds`` (zero
        temperature, T2 truncated to 2 T1, as Aer's delay pass), or ``None`` when the qubit
        does not relax (infinite T1 and T2, or ``idle=False``)."""
        key = (int(qubit), round(float(seconds), 15))
        if key in self._relaxations:
            return self._relaxations[key]
        error = None
        props = self.device.qubits[qubit]
        if self.idle and not (math.isinf(props.t1_s) and math.isinf(props.t2_s)):
            from qiskit_aer.noise import thermal_relaxation_error

            error = thermal_relaxation_error(props.t1_s, min(props.t2_s, 2 * props.t1_s), seconds)
        self._relaxations[key] = error
        return error

    def relaxation_ptm(self, qubit: int, seconds: float) -> torch.Tensor | None:
        """PTM ``(4, 4)`` of :meth:`relaxation_error` (``None`` when nothing relaxes)."""
        error = self.relaxation_error(qubit, seconds)
        return None if error is None else torch.from_numpy(ptm_matrix(error))

    def confusion(self, local_qubits: Sequence[int]) -> torch.Tensor:
        """``(len(local_qubits), 2, 2)`` readout confusion of those qubits, in that order."""
        return self.readout[list(local_qubits)].clone()

    def stretched(self, factor: float) -> NoiseSpec:
        """Every pulse stretched by ``factor``: gate errors and relaxation (during gates and
        idle windows) scaled, readout unchanged (``scale_noise(..., readout=False)``)."""
        from qaa_hw.devices.model import scale_noise

        device = scale_noise(self.device, float(factor), readout=False)
        return noise_spec(device, range(self.num_qubits), idle=self.idle)

    def to_dict(self) -> dict[str, Any]:
        """Summary for reports: which channels exist, the readout matrices, idle relaxation."""
        return {
            "device": self.device.name,
            "noise_scale": self.noise_scale,
            "gate_errors": sorted(f"{n}{list(q)}" for n, q in self.gate_errors),
            "readout": self.readout.tolist(),
            "idle_relaxation": self.idle,
            "schedule": SCHEDULE,
        }


def resolve_noise(compiled: CompiledAdapter, noise: NoiseSpec | bool) -> NoiseSpec | None:
    """An engine's ``noise`` argument: a spec (checked against the adapter), ``True`` (the
    device noise of ``compiled``, idle relaxation on) or ``False`` (ideal: ``None``)."""
    if isinstance(noise, NoiseSpec):
        if noise.num_qubits != len(compiled.active_qubits):
            raise SimulationError(
                f"the noise spec covers {noise.num_qubits} qubits; the adapter has "
                f"{len(compiled.active_qubits)} active qubits"
            )
        return noise
    return noise_spec(compiled.device, compiled.active_qubits) if noise else None


def noise_spec(
    device: DeviceModel, physical_qubits: Sequence[int], *, idle: bool = True
) -> NoiseSpec:
    """The :class:`NoiseSpec` of ``device`` on ``physical_qubits`` (never the whole device).

    Args:
        device: the (possibly noise-scaled) device.
        physical_qubits: the active qubits; their order defines the local numbering.
        idle: relax idle qubits on the scheduled idle windows (default).

    Raises:
        SimulationError: if the Aer noise model holds errors the engines cannot reproduce
            (all-qubit default errors, non-local errors).
    """
    from qaa_hw.devices.qiskit_convert import to_aer_noise_model

    qubits = tuple(int(q) for q in physical_qubits)
    sub = restrict(device, qubits)
    readout = torch.tensor(
        [[[1 - q.prob_meas1_prep0, q.prob_meas1_prep0],
          [q.prob_meas0_prep1, 1 - q.prob_meas0_prep1]] for q in sub.qubits],
        dtype=torch.float64,
    )
    if device.noise_scale == 0:
        return NoiseSpec(sub, MappingProxyType({}), readout, idle)
    errors = _noise_model_errors(to_aer_noise_model(sub))
    gate_errors: dict[ChannelKey, torch.Tensor] = {}
    for name, per_qargs in errors.items():
        for qargs, error in per_qargs.items():
            if not error.ideal():
                gate_errors[(name, tuple(qargs))] = torch.from_numpy(ptm_matrix(error))
    logger.debug("noise on %s: %d gate errors, idle relaxation %s", qubits, len(gate_errors), idle)
    return NoiseSpec(sub, MappingProxyType(gate_errors), readout, idle)


def _noise_model_errors(model: Any) -> dict[str, dict[tuple[int, ...], Any]]:
    """Per-qubit quantum errors of an Aer NoiseModel.

    ``NoiseModel`` has no public accessor for its error tables; ``to_dict`` would lose the
    error objects, so this reads the documented-in-source attributes and checks that
    nothing else (defaults on all qubits, non-local errors) is present.
    """
    if getattr(model, "_default_quantum_errors", None):
        raise SimulationError(
            "the Aer noise model has all-qubit quantum errors; the noisy engine supports "
            "only per-qubit errors (as built by to_aer_noise_model)"
        )
    if getattr(model, "_default_readout_error", None) is not None:
        raise SimulationError("the Aer noise model has an all-qubit readout error")
    if getattr(model, "_nonlocal_quantum_errors", None):
        raise SimulationError("the Aer noise model has non-local quantum errors")
    return {
        name: {tuple(int(q) for q in qargs): err for qargs, err in per.items()}
        for name, per in model._local_quantum_errors.items()
    }
