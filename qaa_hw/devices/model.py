"""The one device model: measured properties of a quantum processor.

A :class:`DeviceModel` stores per-qubit coherence and readout numbers and, like
Qiskit's ``Target``, an error and a duration per instruction per qubit tuple.
The coupling graph is derived from the two-qubit instructions, never stored.
Simulated noise (Aer, Cirq, our own engines) is built *from* this record.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import networkx as nx

from qaa_hw.circuits.gates import NATIVE_GATES
from qaa_hw.errors import DeviceError

#: Instruction names understood across the toolkit (Qiskit spelling; the gate table's).
ONE_QUBIT_GATES = NATIVE_GATES[1]
TWO_QUBIT_GATES = NATIVE_GATES[2]
MEASURE = "measure"
KNOWN_INSTRUCTIONS = ONE_QUBIT_GATES + TWO_QUBIT_GATES + (MEASURE,)

Qargs = tuple[int, ...]


@dataclass(frozen=True)
class QubitProperties:
    """Measured properties of one physical qubit.

    Attributes:
        t1_s: energy relaxation time in seconds (``math.inf`` for none).
        t2_s: dephasing time in seconds; physically ``t2_s <= 2 * t1_s``.
        readout_error: mean assignment error ``(p01 + p10) / 2``.
        prob_meas1_prep0: probability of reading 1 after preparing 0.
        prob_meas0_prep1: probability of reading 0 after preparing 1.
        frequency_hz: qubit frequency where the vendor reports it.
    """

    t1_s: float
    t2_s: float
    prob_meas1_prep0: float
    prob_meas0_prep1: float
    frequency_hz: float | None = None

    def __post_init__(self) -> None:
        for name in ("t1_s", "t2_s"):
            value = getattr(self, name)
            if not value > 0:
                raise DeviceError(f"{name}={value!r} must be a positive number of seconds")
        for name in ("prob_meas1_prep0", "prob_meas0_prep1"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise DeviceError(f"{name}={value!r} must be a probability in [0, 1]")
        if self.t2_s > 2 * self.t1_s * (1 + 1e-9):
            # Unphysical calibration snapshots exist; callers clamp before constructing.
            raise DeviceError(
                f"t2_s={self.t2_s!r} exceeds 2*t1_s={2 * self.t1_s!r}; T2 <= 2 T1 must hold"
            )

    @property
    def readout_error(self) -> float:
        """Mean assignment error of this qubit."""
        return 0.5 * (self.prob_meas1_prep0 + self.prob_meas0_prep1)


@dataclass(frozen=True)
class InstructionProperties:
    """Error (probability of failure) and duration of one instruction on one qubit tuple."""

    error: float
    duration_s: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.error <= 1.0:
            raise DeviceError(f"error={self.error!r} must be a probability in [0, 1]")
        if not self.duration_s >= 0.0:
            raise DeviceError(f"duration_s={self.duration_s!r} must be >= 0 seconds")


def _freeze(
    instructions: Mapping[str, Mapping[Qargs, InstructionProperties]],
) -> Mapping[str, Mapping[Qargs, InstructionProperties]]:
    return MappingProxyType(
        {name: MappingProxyType(dict(per_qargs)) for name, per_qargs in instructions.items()}
    )


@dataclass(frozen=True)
class DeviceModel:
    """A processor: qubits, native instructions and their calibration.

    Attributes:
        name: catalog name, e.g. ``"ibm_brisbane"``.
        family: ``"ibm"``, ``"google"``, ``"ion"``, ``"synthetic"`` or ``"yaml"``.
        qubits: one :class:`QubitProperties` per physical qubit, indexed 0..n-1.
        instructions: ``{name: {qargs: InstructionProperties}}``. Two-qubit entries
            define the coupling graph; direction matters (``(0, 1)`` != ``(1, 0)``).
        source: where the numbers come from (file, package, paper).
        snapshot_date: ISO date of the calibration snapshot, or ``""``.
        noise_scale: the factor λ applied by :func:`scale_noise` (1.0 = as measured).
        qubit_labels: optional vendor names of the qubits (e.g. ``"q(4,5)"`` for a Google
            grid qubit), one per qubit; ``None`` means ``"0".."n-1"``.
        coordinates: optional ``(x, y)`` plot position of each qubit (e.g. ``(col, -row)``
            on a grid); ``None`` lets plots choose a layout.
    """

    name: str
    family: str
    qubits: tuple[QubitProperties, ...]
    instructions: Mapping[str, Mapping[Qargs, InstructionProperties]] = field(hash=False)
    source: str = ""
    snapshot_date: str = ""
    noise_scale: float = 1.0
    qubit_labels: tuple[str, ...] | None = None
    coordinates: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        if not self.qubits:
            raise DeviceError(f"device {self.name!r} has no qubits")
        object.__setattr__(self, "qubits", tuple(self.qubits))
        self._check_layout()
        object.__setattr__(self, "instructions", _freeze(self.instructions))
        n = len(self.qubits)
        for name, per_qargs in self.instructions.items():
            if name not in KNOWN_INSTRUCTIONS:
                raise DeviceError(
                    f"device {self.name!r}: unknown instruction {name!r}; "
                    f"accepted: {', '.join(KNOWN_INSTRUCTIONS)}"
                )
            arity = 2 if name in TWO_QUBIT_GATES else 1
            for qargs in per_qargs:
                if len(qargs) != arity or any(not 0 <= q < n for q in qargs):
                    raise DeviceError(
                        f"device {self.name!r}: {name} on qubits {qargs} is invalid for "
                        f"{n} qubits (expects {arity} distinct indices in 0..{n - 1})"
                    )
                if arity == 2 and qargs[0] == qargs[1]:
                    raise DeviceError(f"device {self.name!r}: {name} on {qargs} repeats a qubit")
        if len(self.two_qubit_gates) > 1:
            raise DeviceError(
                f"device {self.name!r} defines several two-qubit gates {self.two_qubit_gates}; "
                "exactly one native two-qubit gate is supported"
            )

    def _check_layout(self) -> None:
        """Freeze and check the optional per-qubit labels and plot coordinates."""
        n = len(self.qubits)
        if self.qubit_labels is not None:
            labels = tuple(str(label) for label in self.qubit_labels)
            if len(labels) != n:
                raise DeviceError(
                    f"device {self.name!r}: {len(labels)} qubit_labels for {n} qubits"
                )
            object.__setattr__(self, "qubit_labels", labels)
        if self.coordinates is not None:
            coords = tuple((float(x), float(y)) for x, y in self.coordinates)
            if len(coords) != n:
                raise DeviceError(f"device {self.name!r}: {len(coords)} coordinates for {n} qubits")
            object.__setattr__(self, "coordinates", coords)

    # ----------------------------------------------------------------- structure
    @property
    def num_qubits(self) -> int:
        """Number of physical qubits."""
        return len(self.qubits)

    @property
    def basis_gates(self) -> tuple[str, ...]:
        """Native gate names (measurement excluded), in a stable order."""
        return tuple(g for g in KNOWN_INSTRUCTIONS if g in self.instructions and g != MEASURE)

    @property
    def two_qubit_gates(self) -> tuple[str, ...]:
        """Native two-qubit gate names (zero or one entry)."""
        return tuple(g for g in TWO_QUBIT_GATES if g in self.instructions)

    @property
    def two_qubit_gate(self) -> str | None:
        """The native two-qubit gate, or ``None`` for a device without couplings."""
        gates = self.two_qubit_gates
        return gates[0] if gates else None

    def directed_edges(self) -> list[tuple[int, int]]:
        """Two-qubit instruction qargs in the device's native directions."""
        gate = self.two_qubit_gate
        if gate is None:
            return []
        return sorted((int(a), int(b)) for a, b in self.instructions[gate])

    def coupling_graph(self) -> nx.Graph:
        """Undirected coupling graph; edge attribute ``error`` is the best direction's error."""
        graph: nx.Graph = nx.Graph()
        graph.add_nodes_from(range(self.num_qubits))
        gate = self.two_qubit_gate
        if gate is None:
            return graph
        for (a, b), props in self.instructions[gate].items():
            if graph.has_edge(a, b):
                graph[a][b]["error"] = min(graph[a][b]["error"], props.error)
            else:
                graph.add_edge(a, b, error=props.error, duration_s=props.duration_s)
        return graph

    # ---------------------------------------------------------------- look-ups
    def instruction(self, name: str, qargs: Qargs) -> InstructionProperties:
        """Properties of ``name`` on ``qargs``; raises :class:`DeviceError` if not native."""
        try:
            return self.instructions[name][tuple(qargs)]
        except KeyError as e:
            raise DeviceError(
                f"device {self.name!r} has no native {name!r} on qubits {tuple(qargs)}"
            ) from e

    def two_qubit_error(self, a: int, b: int) -> float:
        """Error of the native two-qubit gate on the pair, in whichever direction exists."""
        gate = self.two_qubit_gate
        if gate is None:
            raise DeviceError(f"device {self.name!r} has no two-qubit gate")
        table = self.instructions[gate]
        options = [table[q].error for q in ((a, b), (b, a)) if q in table]
        if not options:
            raise DeviceError(f"qubits {a} and {b} are not coupled on device {self.name!r}")
        return min(options)

    # ----------------------------------------------------------------- summary
    def median_error(self, name: str) -> float:
        """Median error of an instruction over all its qubit tuples (nan if absent)."""
        per = self.instructions.get(name)
        return statistics.median(p.error for p in per.values()) if per else math.nan

    def summary(self) -> dict[str, Any]:
        """One row for ``qaa_hw devices list``: medians of the calibration."""
        gate = self.two_qubit_gate
        return {
            "name": self.name,
            "family": self.family,
            "qubits": self.num_qubits,
            "two_qubit_gate": gate or "-",
            "median_2q_error": self.median_error(gate) if gate else math.nan,
            "median_t1_us": statistics.median(q.t1_s for q in self.qubits) * 1e6,
            "median_t2_us": statistics.median(q.t2_s for q in self.qubits) * 1e6,
            "median_readout_error": statistics.median(q.readout_error for q in self.qubits),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (the YAML catalog format); see ``devices/README.md``."""
        return {
            "name": self.name,
            "family": self.family,
            "source": self.source,
            "snapshot_date": self.snapshot_date,
            "noise_scale": self.noise_scale,
            "qubits": [
                {
                    "t1_us": q.t1_s * 1e6,
                    "t2_us": q.t2_s * 1e6,
                    "prob_meas1_prep0": q.prob_meas1_prep0,
                    "prob_meas0_prep1": q.prob_meas0_prep1,
                    **({"frequency_ghz": q.frequency_hz / 1e9} if q.frequency_hz else {}),
                }
                for q in self.qubits
            ],
            "instructions": {
                name: [
                    {"qubits": list(qargs), "error": p.error, "duration_ns": p.duration_s * 1e9}
                    for qargs, p in sorted(per.items())
                ]
                for name, per in self.instructions.items()
            },
            **({"qubit_labels": list(self.qubit_labels)} if self.qubit_labels else {}),
            **(
                {"coordinates": [list(xy) for xy in self.coordinates]} if self.coordinates else {}
            ),
        }


def scale_noise(device: DeviceModel, factor: float, *, readout: bool = True) -> DeviceModel:
    """Return ``device`` with every error multiplied and T1/T2 divided by ``factor`` (λ).

    λ = 0 gives a noiseless device (errors 0, T1 = T2 = inf); λ = 1 returns the
    device unchanged. Errors are clipped to 1. Scaling composes: scaling a
    device already scaled by λ1 with λ2 gives ``noise_scale = λ1 * λ2``.

    Args:
        device: the device.
        factor: λ >= 0.
        readout: also scale the readout errors. ``False`` is the physics of stretching
            every pulse by ``factor`` (gate errors and relaxation over gates and idle
            windows grow, the measurement does not); ``noise_scale`` is then unchanged.
    """
    if not (isinstance(factor, int | float) and math.isfinite(factor) and factor >= 0):
        raise DeviceError(f"noise scale {factor!r} must be a finite number >= 0")
    if factor == 1.0:
        return device

    def scale_time(t: float) -> float:
        return math.inf if factor == 0 else t / factor

    def scale_p(p: float) -> float:
        return min(1.0, p * factor)

    qubits = tuple(
        replace(
            q,
            t1_s=scale_time(q.t1_s),
            t2_s=scale_time(q.t2_s),
            prob_meas1_prep0=scale_p(q.prob_meas1_prep0) if readout else q.prob_meas1_prep0,
            prob_meas0_prep1=scale_p(q.prob_meas0_prep1) if readout else q.prob_meas0_prep1,
        )
        for q in device.qubits
    )
    instructions = {
        name: {qa: replace(p, error=scale_p(p.error)) for qa, p in per.items()}
        for name, per in device.instructions.items()
    }
    return replace(
        device,
        qubits=qubits,
        instructions=instructions,
        noise_scale=device.noise_scale * factor if readout else device.noise_scale,
    )


def restrict(device: DeviceModel, physical_qubits: tuple[int, ...] | list[int]) -> DeviceModel:
    """Sub-device on ``physical_qubits``, renumbered 0..k-1 in the order given.

    Keeps every instruction whose qubits all lie in the subset. Simulators use it to
    model only the active qubits of a compiled circuit (never a 127-qubit state).
    """
    chosen = [int(q) for q in physical_qubits]
    if len(set(chosen)) != len(chosen):
        raise DeviceError(f"physical qubits {chosen} contain duplicates")
    for q in chosen:
        if not 0 <= q < device.num_qubits:
            raise DeviceError(
                f"physical qubit {q} is not on device {device.name!r} "
                f"(qubits 0..{device.num_qubits - 1})"
            )
    index = {q: i for i, q in enumerate(chosen)}
    instructions = {
        name: {
            tuple(index[q] for q in qa): p
            for qa, p in per.items()
            if all(q in index for q in qa)
        }
        for name, per in device.instructions.items()
    }
    return replace(
        device,
        name=f"{device.name}[{','.join(map(str, chosen))}]",
        qubits=tuple(device.qubits[q] for q in chosen),
        instructions=instructions,
        qubit_labels=(
            tuple(device.qubit_labels[q] for q in chosen) if device.qubit_labels else None
        ),
        coordinates=tuple(device.coordinates[q] for q in chosen) if device.coordinates else None,
    )
