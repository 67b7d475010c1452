"""Embedding circuits given as CNOT/RY networks on physical wires (compiler output).

The compiler (:mod:`qaa_hw.compile.synthesis`) prepares the same binary tree of
uniformly controlled RY rotations as :mod:`qaa_hw.circuits.embedding`, but routes every
Walsh term through the device's coupling graph: CNOTs may run between any coupled wires
(except *from* the wire of the variable being prepared), so control values travel to the
target through intermediate wires, including wires whose qubit is not prepared yet (they
hold ``|0>`` and act as relays). No CNOT is ever undone: each wire ends up holding a GF(2)
linear combination of the tree's variables, and that final linear map, together with the
choice of which wire carries which logical qubit at the end, is absorbed into the angles.

Bookkeeping: variable ``k`` (``k = 0..n-1``, preparation order) lives on wire ``var_wire[k]``.
While variable ``k`` is prepared, its wire holds ``x_k XOR (S . x)`` for some subset ``S`` of
earlier variables, and ``RY(a)`` there applies the Walsh term ``exp(-i a Y_k Z_S / 2)``. The
network is exact when every subset ``S`` of ``{0..k-1}`` occurs once for every ``k``. Angles
come from the tree fitted to the target state with its basis relabelled by the final linear
map (see :meth:`NetworkEmbedding.fit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit

from qaa_hw.circuits.embedding import EmbeddingPlan, Multiplexor, angles_via_fit, normalise
from qaa_hw.errors import ConfigError

#: One network operation: ``("cx", control_wire, target_wire)`` or ``("ry", k, wire)``
#: (an RY on the wire of variable ``k``; its angle is the next entry of ``alpha``).
NetOp = tuple[str, int, int]


@dataclass(frozen=True)
class NetworkEmbedding:
    """An amplitude embedding as a routed CNOT/RY network.

    Attributes:
        num_qubits: n (wires = logical qubits; the network uses no ancillas).
        ops: the network in time order (see :data:`NetOp`).
        var_wire: wire of tree variable ``k``.
        logical_wire: wire that holds logical qubit ``q`` (bit ``q`` of the vector index)
            when the embedding ends.
        kind: ``"exact"`` or ``"approx"``.
        fidelity: mean fidelity on the calibration set (1.0 when exact).
        calibration: description of the input distribution for ``fidelity``.
    """

    num_qubits: int
    ops: tuple[NetOp, ...]
    var_wire: tuple[int, ...]
    logical_wire: tuple[int, ...]
    kind: str = "exact"
    fidelity: float = 1.0
    calibration: str = "any input (exact)"

    def __post_init__(self) -> None:
        n = self.num_qubits
        for name in ("var_wire", "logical_wire"):
            value = tuple(int(w) for w in getattr(self, name))
            if sorted(value) != list(range(n)):
                raise ConfigError(f"{name}={list(value)} is not a permutation of 0..{n - 1}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "ops", tuple((str(a), int(b), int(c)) for a, b, c in self.ops))
        _ = self._analysis  # validate now

    # ------------------------------------------------------------------ analysis
    @cached_property
    def _analysis(self) -> tuple[EmbeddingPlan, np.ndarray]:
        """(tree plan in the variable basis, final wire rows as bit masks over variables)."""
        n = self.num_qubits
        wire_var = {w: k for k, w in enumerate(self.var_wire)}
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for i, (kind, a, b) in enumerate(self.ops):
            if kind == "ry":
                if not 0 <= a < n or b != self.var_wire[a]:
                    raise ConfigError(f"operation {i}: RY of variable {a} on wire {b} "
                                      f"(variable wires: {list(self.var_wire)})")
                first.setdefault(a, i)
                last[a] = i
            elif kind != "cx":
                raise ConfigError(f"operation {i}: unknown network operation {kind!r}")
            elif a == b or not (0 <= a < n and 0 <= b < n):
                raise ConfigError(f"operation {i}: invalid CNOT wires ({a}, {b})")
        for k in range(n):
            if k not in first:
                raise ConfigError(f"variable {k} is never rotated")
            if k and first[k] < last[k - 1]:
                raise ConfigError(f"variable {k} starts before variable {k - 1} is finished")
        rows = [0] * n  # content of each wire over prepared variables
        masks: list[list[int]] = [[] for _ in range(n)]
        for i, (kind, a, b) in enumerate(self.ops):
            if kind == "cx":
                k = wire_var[a]
                if first[k] <= i <= last[k]:
                    raise ConfigError(f"operation {i}: CNOT from wire {a} while its variable "
                                      f"{k} is being prepared")
                rows[b] ^= rows[a]
                continue
            k = a
            if i == first[k]:
                rows[b] |= 1 << k
            masks[k].append(rows[b] & ~(1 << k))
        muxes = []
        for k in range(n):
            if len(set(masks[k])) != len(masks[k]):
                raise ConfigError(f"variable {k} repeats a Walsh term")
            muxes.append(Multiplexor(k, tuple(range(k)), tuple(masks[k]), closed=True))
        plan = EmbeddingPlan(n, tuple(muxes), kind=self.kind)
        return plan, np.array(rows, dtype=np.int64)

    @property
    def tree(self) -> EmbeddingPlan:
        """The variable-basis tree (its masks are the Walsh terms in network order)."""
        return self._analysis[0]

    @cached_property
    def _gather(self) -> np.ndarray:
        """Index into the logical vector for every variable-basis index."""
        n = self.num_qubits
        rows = self._analysis[1]
        x = np.arange(1 << n)
        index = np.zeros(1 << n, dtype=np.int64)
        wire_logical = {w: q for q, w in enumerate(self.logical_wire)}
        for w in range(n):
            parity = np.zeros(1 << n, dtype=np.int64)
            for k in range(n):
                if rows[w] >> k & 1:
                    parity ^= (x >> k) & 1
            index |= parity << wire_logical[w]
        return index

    @property
    def num_angles(self) -> int:
        """Length of ``alpha``."""
        return sum(1 for op in self.ops if op[0] == "ry")

    @property
    def num_cnots(self) -> int:
        """CNOTs of the network."""
        return sum(1 for op in self.ops if op[0] == "cx")

    # ------------------------------------------------------------------- angles
    def fit(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Angles (B, num_angles) and achieved fidelities (B,) for a batch of vectors."""
        states = normalise(np.asarray(x, dtype=float), self.num_qubits)
        return self.tree.fit(states[:, self._gather])

    def angles(self, x: np.ndarray) -> np.ndarray:
        """Embedding angles for one vector (1-D) or a batch (2-D)."""
        return angles_via_fit(self.fit, x)

    # ------------------------------------------------------------------ circuit
    def append_to(self, qc: QuantumCircuit, alpha: Sequence, wires: Sequence[int] | None = None
                  ) -> None:
        """Append the network to ``qc``; wire ``w`` is ``qc.qubits[wires[w]]``."""
        if len(alpha) != self.num_angles:
            raise ConfigError(f"alpha has {len(alpha)} entries; the network needs "
                              f"{self.num_angles}")
        place = list(range(self.num_qubits)) if wires is None else [int(w) for w in wires]
        i = 0
        for kind, a, b in self.ops:
            if kind == "cx":
                qc.cx(place[a], place[b])
            else:
                qc.ry(alpha[i], place[b])
                i += 1

    def circuit(self, alpha: ParameterVector | Sequence | None = None) -> QuantumCircuit:
        """The network on ``num_qubits`` wires (``alpha`` defaults to parameters)."""
        if alpha is None:
            alpha = ParameterVector("alpha", self.num_angles)
        qc = QuantumCircuit(self.num_qubits, name="embedding")
        self.append_to(qc, alpha)
        return qc

