"""The noise channels Aer applies on the active qubits of a compiled adapter, as torch tensors.

Nothing here re-derives physics. The channels are read out of the very
:class:`qiskit_aer.noise.NoiseModel` that the Aer reference executor uses,
:func:`qaa_hw.devices.qiskit_convert.to_aer_noise_model` of
:func:`qaa_hw.devices.model.restrict` ``(device, active_qubits)`` (Aer's
``basic_device_gate_errors`` on our Target: per-gate depolarising composed with thermal
relaxation over the gate duration, plus an asymmetric readout error per qubit). Each
:class:`~qiskit_aer.noise.QuantumError` is converted by Qiskit (``SuperOp`` -> ``PTM``) to its
real *Pauli transfer matrix*, the representation our engines use:

    ``R[i, j] = Tr(P_i E(P_j)) / 2^m``, Paulis ordered ``I, X, Y, Z`` per qubit and
    ``i = 4 * p(qargs[1]) + p(qargs[0])`` (Qiskit's label order).

:func:`superop_matrix` gives the row-major superoperator of the same channel
(``rho'[a, b] = sum S[(a b), (c d)] rho[c, d]``) for callers who prefer it.

Readout is a classical confusion per qubit: ``readout[q][b, m] = P(measure m | state b)``,
the rows of Aer's ``ReadoutError.probabilities``. A noiseless device (``noise_scale`` 0)
yields no channels at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from qaa_hw.devices.model import DeviceModel, restrict
from qaa_hw.errors import SimulationError

logger = logging.getLogger(__name__)

ChannelKey = tuple[str, tuple[int, ...]]


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


def superop_matrix(channel: Any) -> np.ndarray:
    """Row-major superoperator ``S[(ab),(cd)]`` of a Qiskit channel or Aer ``QuantumError``.

    Args:
        channel: anything ``qiskit.quantum_info.SuperOp`` accepts (``QuantumError``,
            ``Kraus``, a gate, a unitary matrix).

    Returns:
        A complex ``(4^m, 4^m)`` array with ``rho'[a, b] = sum S[(a b), (c d)] rho[c, d]``.
    """
    from qiskit.quantum_info import SuperOp

    data = np.asarray(SuperOp(channel).data, dtype=complex)
    dim = round(float(np.sqrt(data.shape[0])))
    # Qiskit column stacking: vec index = b * dim + a  ->  reorder to a * dim + b.
    tensor = data.reshape(dim, dim, dim, dim).transpose(1, 0, 3, 2)
    return np.ascontiguousarray(tensor.reshape(dim * dim, dim * dim))


@dataclass(frozen=True)
class NoiseChannels:
    """Aer's noise on a set of physical qubits, renumbered ``0..k-1`` in the order given.

    Attributes:
        physical_qubits: the physical qubits; local index ``i`` is ``physical_qubits[i]``.
        gate_errors: ``{(gate name, local qargs): PTM}``, the channel Aer applies *after*
            that gate on those qubits, as a float64 torch Pauli transfer matrix of shape
            ``(4^m, 4^m)``. Gates absent from the map are ideal.
        readout: ``(k, 2, 2)`` float64 tensor, ``readout[i, b, m] = P(m | b)`` on local qubit i.
        noise_scale: the device's λ.
    """

    physical_qubits: tuple[int, ...]
    gate_errors: Mapping[ChannelKey, torch.Tensor] = field(hash=False)
    readout: torch.Tensor = field(hash=False, compare=False)
    noise_scale: float = 1.0

    @property
    def num_qubits(self) -> int:
        """k, the number of local qubits."""
        return len(self.physical_qubits)

    @property
    def is_ideal(self) -> bool:
        """True when no gate error exists and readout is perfect."""
        eye = torch.eye(2, dtype=self.readout.dtype).expand_as(self.readout)
        return not self.gate_errors and bool(torch.equal(self.readout, eye))

    def gate_error(self, name: str, qargs: Sequence[int]) -> torch.Tensor | None:
        """PTM of the channel Aer applies after ``name`` on local ``qargs`` (``None``: ideal)."""
        return self.gate_errors.get((name, tuple(int(q) for q in qargs)))

    def to_dict(self) -> dict[str, Any]:
        """Summary for reports: which channels exist and the readout matrices."""
        return {
            "physical_qubits": list(self.physical_qubits),
            "noise_scale": self.noise_scale,
            "gate_errors": sorted(f"{n}{list(q)}" for n, q in self.gate_errors),
            "readout": self.readout.tolist(),
        }


def device_channels(device: DeviceModel, physical_qubits: Sequence[int]) -> NoiseChannels:
    """Aer's channels on ``physical_qubits`` of ``device`` (never the whole device).

    Args:
        device: the (possibly noise-scaled) device.
        physical_qubits: the active qubits; their order defines the local numbering.

    Returns:
        The :class:`NoiseChannels`; empty gate errors and identity readout when λ = 0.

    Raises:
        SimulationError: if the noise model holds errors this engine cannot reproduce
            (all-qubit default errors, non-local errors).
    """
    from qaa_hw.devices.qiskit_convert import to_aer_noise_model

    qubits = tuple(int(q) for q in physical_qubits)
    sub = restrict(device, qubits)
    k = len(qubits)
    readout = torch.eye(2, dtype=torch.float64).repeat(k, 1, 1)
    if device.noise_scale == 0:
        return NoiseChannels(qubits, MappingProxyType({}), readout, 0.0)
    model = to_aer_noise_model(sub)
    errors, readout_errors = _noise_model_tables(model)
    gate_errors: dict[ChannelKey, torch.Tensor] = {}
    for name, per_qargs in errors.items():
        for qargs, error in per_qargs.items():
            if error.ideal():
                continue
            gate_errors[(name, tuple(qargs))] = torch.from_numpy(ptm_matrix(error))
    for qargs, error in readout_errors.items():
        if len(qargs) != 1:
            raise SimulationError(
                f"correlated readout error on qubits {qargs} is not supported by the noisy engine"
            )
        readout[qargs[0]] = torch.as_tensor(np.asarray(error.probabilities, dtype=float))
    logger.debug(
        "channels on %s: %d gate errors, readout on %d qubits",
        qubits, len(gate_errors), len(readout_errors),
    )
    return NoiseChannels(qubits, MappingProxyType(gate_errors), readout, device.noise_scale)


def _noise_model_tables(model: Any) -> tuple[dict[str, dict[tuple[int, ...], Any]], dict]:
    """Per-qubit quantum and readout errors of an Aer NoiseModel.

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
    local = {
        name: {tuple(int(q) for q in qargs): err for qargs, err in per.items()}
        for name, per in model._local_quantum_errors.items()
    }
    readout = {
        tuple(int(q) for q in qargs): err for qargs, err in model._local_readout_errors.items()
    }
    return local, readout
