"""The gate table: the ansatz's rotations and the devices' native gates, read everywhere.

Each :class:`Gate` declares what the circuit builders, the Qiskit and Cirq conversions, the
mitigation lowering and the engines need: its matrix, its derivative rule, whether it keeps
real states real, the Qiskit and Cirq gates that build it, the native pulses of its inverse
(gate folding), and the id the Numba kernels dispatch on. A rotation set
(:data:`ROTATION_SETS`) names the gates applied, in order, to every qubit of a layer; slot
``k`` of the set takes the angles ``theta[:, :, k]``. :data:`NATIVE_GATES` are the
instructions a device may have (Qiskit spelling); ``rz`` is virtual (a frame change: no
duration, not folded).

Rotations are Pauli rotations ``R_G(t) = exp(-i t G / 2) = cos(t/2) I + sin(t/2) K`` with
``K = -i G``, so ``dR_G/dt = K R_G / 2`` (the adjoint backward of the fused kernels reads the
gradient off ``K``; the torch strategies differentiate :meth:`Gate.torch_matrix`).

A new rotation set of these gates is one entry of :data:`ROTATION_SETS`: the spec, the
circuit builders, the CLI choices and every training strategy read it from here. A new
rotation gate is a :class:`Gate` record; the ``dense`` and ``layered`` strategies need
nothing else, the ``fused`` one a Numba kernel for its ``kernel_id``. The tables are read
once per name (the lookups below are cached): they are fixed at import.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from qaa_hw.errors import ConfigError

if TYPE_CHECKING:
    from qiskit.circuit import Gate as QiskitGate
    from torch import Tensor

Array = NDArray[Any]

_PAULI: dict[str, Array] = {
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
_EYE = np.eye(2)
_EYE.flags.writeable = False


@dataclass(frozen=True)
class Gate:
    """One gate of the ansatz.

    Attributes:
        name: Qiskit instruction name (``"ry"``, ``"cx"``, ...).
        num_qubits: qubits it acts on.
        generator: Pauli ``G`` of a rotation ``exp(-i t G / 2)`` (``"X"``, ``"Y"``,
            ``"Z"``), ``None`` for a fixed gate.
        real: the matrix is real for every angle (real states stay real).
        qiskit_class: name of its class in ``qiskit.circuit.library`` (imported on use, so
            the training engines do not import Qiskit).
        kernel_id: small integer the fused Numba kernels dispatch on (ansatz gates only).
        native: a device instruction (the compiler's basis).
        inverse: native pulses ``(name, rz angle)`` whose product is the gate's inverse, as
            gate folding appends them (``sx^-1 = rz(pi) sx rz(pi)``); empty for ``rz``, which
            is virtual and never folded, and for gates that are not native.
    """

    name: str
    num_qubits: int
    generator: str | None
    real: bool
    qiskit_class: str
    kernel_id: int | None = None
    native: bool = False
    inverse: tuple[tuple[str, float], ...] = ()

    def qiskit(self, *params: Any) -> QiskitGate:
        """The Qiskit gate with ``params`` (the angle of a rotation; none for a fixed gate)."""
        from qiskit.circuit import library

        gate: QiskitGate = getattr(library, self.qiskit_class)(*params)
        return gate

    def cirq(self, *params: float) -> Any:
        """The Cirq gate with ``params`` (rotations take their angle in radians)."""
        if self.generator is not None:
            import cirq

            rotation = {"X": cirq.rx, "Y": cirq.ry, "Z": cirq.rz}[self.generator]
            return rotation(*params)
        return _cirq_fixed_gates()[self.name]

    @property
    def virtual(self) -> bool:
        """A native frame change: no pulse, no duration, never folded."""
        return self.native and self.diagonal

    @property
    def diagonal(self) -> bool:
        """The matrix is diagonal for every angle (a phase per basis state)."""
        return self.generator == "Z"

    @functools.cached_property
    def step(self) -> Array:
        """``K = -i G`` (2x2, read-only; real for real gates): ``dR/dt = K R / 2``."""
        if self.generator is None:
            raise ConfigError(f"gate {self.name!r} has no angle; accepted: a rotation")
        k = -1j * _PAULI[self.generator]
        out: Array = k.real.copy() if self.real else k
        out.flags.writeable = False
        return out

    def matrix(self, theta: Any = None) -> Array:
        """The matrix at ``theta`` (NumPy; ``[..., 2, 2]`` for an array of angles).

        Fixed gates take no angle and return their ``2^k x 2^k`` matrix (qubit 0 the least
        significant bit of the index, as in Qiskit).
        """
        if self.generator is None:
            return np.asarray(self.qiskit().to_matrix())
        half = 0.5 * np.asarray(theta, dtype=np.float64)[..., None, None]
        return np.cos(half) * _EYE + np.sin(half) * self.step

    def torch_matrix(self, theta: Tensor) -> Tensor:
        """The matrices ``[..., 2, 2]`` of a tensor of angles, differentiable (torch).

        Real for real gates, else complex of ``theta``'s precision.
        """
        import torch

        dtype = theta.dtype if self.real else theta.dtype.to_complex()
        k = torch.tensor(self.step, dtype=dtype, device=theta.device)
        eye = torch.eye(2, dtype=theta.dtype, device=theta.device)
        half = 0.5 * theta[..., None, None]
        return torch.cos(half) * eye + torch.sin(half) * k


def _self_inverse(name: str) -> tuple[tuple[str, float], ...]:
    return ((name, 0.0),)


#: Every gate by name: the ansatz's (``cx`` is its fixed entangler) and the native ones.
GATES: dict[str, Gate] = {
    g.name: g
    for g in (
        Gate("ry", 1, "Y", True, "RYGate", 0),
        Gate("rz", 1, "Z", False, "RZGate", 1, native=True),
        Gate("rx", 1, "X", False, "RXGate", 2),
        Gate("sx", 1, None, False, "SXGate", native=True,
             inverse=(("rz", math.pi), ("sx", 0.0), ("rz", math.pi))),
        Gate("x", 1, None, True, "XGate", native=True, inverse=_self_inverse("x")),
        Gate("id", 1, None, True, "IGate", native=True, inverse=_self_inverse("id")),
        Gate("cx", 2, None, True, "CXGate", 3, native=True, inverse=_self_inverse("cx")),
        Gate("ecr", 2, None, True, "ECRGate", native=True, inverse=_self_inverse("ecr")),
        Gate("cz", 2, None, True, "CZGate", native=True, inverse=_self_inverse("cz")),
    )
}

#: Device instructions by arity, in the order the toolkit prefers them.
NATIVE_GATES: dict[int, tuple[str, ...]] = {
    arity: tuple(g.name for g in GATES.values() if g.native and g.num_qubits == arity)
    for arity in (1, 2)
}


def native_gate(name: str) -> Gate:
    """The native gate ``name``.

    Raises:
        ConfigError: ``name`` is not a device instruction.
    """
    gate = GATES.get(name)
    if gate is None or not gate.native:
        accepted = ", ".join(NATIVE_GATES[1] + NATIVE_GATES[2])
        raise ConfigError(f"gate {name!r} is not a native instruction; accepted: {accepted}")
    return gate


@functools.cache
def _cirq_fixed_gates() -> dict[str, Any]:
    import cirq

    from qaa_hw.devices.cirq_convert import ECRGate

    return {"sx": cirq.X**0.5, "x": cirq.X, "id": cirq.I, "cx": cirq.CNOT, "cz": cirq.CZ,
            "ecr": ECRGate()}

#: Rotation sets: the gates applied, in order, to every qubit of every layer.
ROTATION_SETS: dict[str, tuple[str, ...]] = {
    "ry": ("ry",),
    "ry_rz": ("ry", "rz"),
    "rx_rz": ("rx", "rz"),
}


@functools.cache
def rotation_gates(rotations: str) -> tuple[Gate, ...]:
    """The gates of rotation set ``rotations``, in application order.

    Raises:
        ConfigError: unknown rotation set.
    """
    if rotations not in ROTATION_SETS:
        raise ConfigError(
            f"rotations={rotations!r} is not valid; accepted: {', '.join(ROTATION_SETS)}"
        )
    return tuple(GATES[name] for name in ROTATION_SETS[rotations])


@functools.cache
def applied_layers(rotations: str, num_layers: int) -> tuple[int, ...]:
    """Per slot of the set, the number of leading layers whose gate the engines apply.

    The trailing diagonal gates of the last layer are never applied: a diagonal followed by
    the CNOT permutation is a diagonal after it, which changes no readout (both readouts are
    basis probabilities), so their angles have exactly zero gradient. Every other slot is
    applied in all ``num_layers`` layers.
    """
    gates = rotation_gates(rotations)
    out = [num_layers] * len(gates)
    for k in range(len(gates) - 1, -1, -1):
        if not gates[k].diagonal:
            break
        out[k] = num_layers - 1
    return tuple(out)


@functools.cache
def runs_complex(rotations: str, num_layers: int) -> bool:
    """Whether the applied gates (:func:`applied_layers`) can make a real state complex."""
    gates = rotation_gates(rotations)
    return any(
        not g.real and layers > 0
        for g, layers in zip(gates, applied_layers(rotations, num_layers), strict=True)
    )
