"""Records produced by the compiler: a physical circuit, its layout and its metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
from qiskit.circuit import QuantumCircuit

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import CompilationError


@dataclass(frozen=True)
class CompileMetrics:
    """Cost of a physical circuit on its device.

    Attributes:
        depth: circuit depth (all gates, measurements excluded).
        two_qubit_depth: depth counting only two-qubit gates.
        two_qubit_count: number of native two-qubit gates.
        one_qubit_count: number of physical one-qubit gates (virtual ``rz`` included).
        swaps: SWAPs inserted by routing.
        duration_s: scheduled duration (ASAP), final readout included.
        esp: estimated success probability: product of (1 - error) over every
            operation, readout of the measured qubits included.
        duration_over_t1: ``duration_s`` / the smallest T1 among active qubits.
        duration_over_t2: ``duration_s`` / the smallest T2 among active qubits.
    """

    depth: int
    two_qubit_depth: int
    two_qubit_count: int
    one_qubit_count: int
    swaps: int
    duration_s: float
    esp: float
    duration_over_t1: float
    duration_over_t2: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return asdict(self)


class EmbeddingAngles(Protocol):
    """What computes the ``alpha`` values of a compiled circuit from an input vector."""

    @property
    def kind(self) -> str:
        """``"exact"`` or ``"approx"``."""
        ...

    @property
    def fidelity(self) -> float:
        """Mean embedding fidelity on its calibration set (1.0 when exact)."""
        ...

    def angles(self, x: np.ndarray) -> np.ndarray:
        """``alpha`` for one vector (1-D) or a batch (2-D)."""
        ...

    @property
    def num_angles(self) -> int:
        """Length of ``alpha``."""
        ...


@dataclass(frozen=True)
class CompiledAdapter:
    """A QAA circuit mapped onto a device.

    Attributes:
        spec: the logical specification (``native_pairs`` resolved for ``native``).
        device: the device compiled for (its ``noise_scale`` included).
        circuit: physical circuit on ``device.num_qubits`` wires, in the device's
            basis, without measurements; free parameters are the embedding angles
            and the trainable angles of the logical circuit.
        initial_layout: ``initial_layout[i]`` is the physical qubit of logical qubit i
            at the start. When the embedding was synthesised for the region (the
            ``network`` route: a :class:`~qaa_hw.circuits.network.NetworkEmbedding` or a
            routed embedding tree, see ``method``) logical qubits only exist once the
            embedding has run: this is then where the embedding leaves qubit i, i.e. where
            the ansatz starts.
        final_layout: physical qubit holding logical qubit i at the end (after SWAPs);
            readout measures these.
        metrics: see :class:`CompileMetrics`.
        method: short description of how it was compiled (for reports).
        embedding: computes the circuit's ``alpha`` values from an input vector
            (``embedding.angles(x)``); ``None`` only for records built by other tools.
    """

    spec: QAASpec
    device: DeviceModel
    circuit: QuantumCircuit
    initial_layout: tuple[int, ...]
    final_layout: tuple[int, ...]
    metrics: CompileMetrics
    method: str = "qaa_hw"
    embedding: EmbeddingAngles | None = None

    def bind(self, x: np.ndarray, theta: np.ndarray) -> QuantumCircuit:
        """The physical circuit bound to input vector ``x`` and trainable values ``theta``."""
        from qaa_hw.circuits.builder import bind

        if self.embedding is None:
            raise CompilationError(
                "this compiled adapter carries no embedding; bind alpha with "
                "qaa_hw.circuits.builder.bind"
            )
        return bind(self.circuit, self.embedding.angles(np.asarray(x, dtype=float)), theta)

    @property
    def active_qubits(self) -> tuple[int, ...]:
        """Sorted physical qubits touched by the circuit or measured."""
        used = {self.circuit.find_bit(q).index for inst in self.circuit.data for q in inst.qubits}
        return tuple(sorted(used | set(self.final_layout) | set(self.initial_layout)))

    def to_dict(self) -> dict[str, Any]:
        """Report form (no circuit; write QASM separately)."""
        return {
            "device": self.device.name,
            "noise_scale": self.device.noise_scale,
            "spec": self.spec.to_dict(),
            "method": self.method,
            "initial_layout": list(self.initial_layout),
            "final_layout": list(self.final_layout),
            "active_qubits": list(self.active_qubits),
            "metrics": self.metrics.to_dict(),
            "embedding": None if self.embedding is None else {
                "kind": self.embedding.kind,
                "fidelity": self.embedding.fidelity,
                "angles": self.embedding.num_angles,
            },
        }
