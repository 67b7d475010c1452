"""The QAA adapter specification: what circuit an adapter runs.

Conventions shared by every builder and simulator in qaa_hw:

* Qubit ``q`` is bit ``q`` of the basis-state index (Qiskit's little-endian order):
  amplitude ``x[i]`` of the embedded vector sits on basis state ``|i>``.
* One layer = the gates of the rotation set on every qubit (gate ``k`` of the set with
  angle ``theta[l, q, k]``, in the set's order: ``RY`` for ``ry``, ``RY`` then ``RZ`` for
  ``ry_rz``, ``RX`` then ``RZ`` for ``rx_rz``; see :mod:`qaa_hw.circuits.gates`), followed
  by CNOTs on :func:`entangler_pairs` in that order (control first).
* Parameters are ordered ``theta[layer, qubit, rotation]`` and flattened C-style.
* ``z`` readout returns ``<Z_q>`` for q = 0..n-1; ``probs`` returns the 2^n
  basis-state probabilities.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from qaa_hw.circuits.gates import ROTATION_SETS
from qaa_hw.errors import ConfigError
from qaa_hw.limits import check_float, check_int

#: A rotation set name, validated against :data:`~qaa_hw.circuits.gates.ROTATION_SETS`.
Rotations = str
Entangler = Literal["ring", "line", "all_to_all", "native"]
Embedding = Literal["exact", "approx"]
Readout = Literal["z", "probs"]

#: Rotation set names, from the gate table (:data:`~qaa_hw.circuits.gates.ROTATION_SETS`).
ROTATIONS: tuple[str, ...] = tuple(ROTATION_SETS)
ENTANGLERS: tuple[str, ...] = ("ring", "line", "all_to_all", "native")
EMBEDDINGS: tuple[str, ...] = ("exact", "approx")
READOUTS: tuple[str, ...] = ("z", "probs")

MAX_QUBITS = 16
#: Ansatz layers (the compiled circuit's size grows linearly with them).
MAX_LAYERS = 64


def _check_choice(field_name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{field_name}={value!r} is not valid; accepted: {', '.join(choices)}")


@dataclass(frozen=True)
class QAASpec:
    """What a QAA adapter circuit is made of.

    Attributes:
        num_qubits: n; the embedded vector has 2^n amplitudes.
        num_layers: L >= 1 rotation + entangler layers.
        rotations: rotation set applied per qubit per layer, one of :data:`ROTATIONS`
            (``"ry"``, ``"ry_rz"``, ``"rx_rz"``).
        entangler: ``"ring"``, ``"line"``, ``"all_to_all"`` or ``"native"`` (only pairs
            coupled on the target device; resolved by the compiler into ``native_pairs``).
        embedding: ``"exact"`` amplitude preparation or ``"approx"`` low-depth preparation.
        embedding_fidelity: target mean state fidelity of the ``approx`` embedding.
        readout: ``"z"`` expectations or basis ``"probs"``.
        native_pairs: logical CNOT pairs for the ``native`` entangler, once resolved.
    """

    num_qubits: int = 4
    num_layers: int = 2
    rotations: Rotations = "ry"
    entangler: Entangler = "ring"
    embedding: Embedding = "exact"
    embedding_fidelity: float = 0.99
    readout: Readout = "z"
    native_pairs: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        check_int("qubits", self.num_qubits, 1, MAX_QUBITS)
        check_int("layers", self.num_layers, 1, MAX_LAYERS)
        _check_choice("rotations", self.rotations, tuple(ROTATION_SETS))
        _check_choice("entangler", self.entangler, ENTANGLERS)
        _check_choice("embedding", self.embedding, EMBEDDINGS)
        _check_choice("readout", self.readout, READOUTS)
        check_float("embedding_fidelity", self.embedding_fidelity, 0.0, 1.0, low_open=True)
        if self.native_pairs is not None:
            pairs = tuple((int(a), int(b)) for a, b in self.native_pairs)
            for a, b in pairs:
                if a == b or not (0 <= a < self.num_qubits and 0 <= b < self.num_qubits):
                    raise ConfigError(
                        f"native pair {(a, b)} is not valid for {self.num_qubits} qubits"
                    )
            object.__setattr__(self, "native_pairs", pairs)

    @property
    def dim(self) -> int:
        """Hilbert-space dimension 2^n."""
        return 1 << self.num_qubits

    @property
    def rotations_per_qubit(self) -> int:
        """Gates (angles) per qubit per layer: the length of the rotation set."""
        return len(ROTATION_SETS[self.rotations])

    @property
    def num_parameters(self) -> int:
        """Trainable circuit parameters: n * L * rotations_per_qubit."""
        return self.num_qubits * self.num_layers * self.rotations_per_qubit

    @property
    def parameter_shape(self) -> tuple[int, int, int]:
        """``(layers, qubits, rotations_per_qubit)``."""
        return (self.num_layers, self.num_qubits, self.rotations_per_qubit)

    @property
    def output_dim(self) -> int:
        """Length of the readout vector: n for ``z``, 2^n for ``probs``."""
        return self.num_qubits if self.readout == "z" else self.dim

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON reports and result rows."""
        return {
            "num_qubits": self.num_qubits,
            "num_layers": self.num_layers,
            "rotations": self.rotations,
            "entangler": self.entangler,
            "embedding": self.embedding,
            "embedding_fidelity": self.embedding_fidelity,
            "readout": self.readout,
            "native_pairs": [list(p) for p in self.native_pairs] if self.native_pairs else None,
        }


def entangler_pairs(spec: QAASpec) -> list[tuple[int, int]]:
    """CNOT (control, target) pairs of one entangling layer, in application order.

    * ``line``: (0,1), (1,2), ..., (n-2, n-1)
    * ``ring``: ``line`` plus (n-1, 0) when n > 2
    * ``all_to_all``: every (i, j) with i < j, lexicographic
    * ``native``: ``spec.native_pairs`` (the compiler resolves them from the device)
    """
    n = spec.num_qubits
    if spec.entangler == "line":
        return [(q, q + 1) for q in range(n - 1)]
    if spec.entangler == "ring":
        pairs = [(q, q + 1) for q in range(n - 1)]
        if n > 2:
            pairs.append((n - 1, 0))
        return pairs
    if spec.entangler == "all_to_all":
        return list(itertools.combinations(range(n), 2))
    if spec.native_pairs is None:
        raise ConfigError(
            "entangler='native' needs a device: compile the spec for a device first "
            "(the compiler fills native_pairs from the coupling map)"
        )
    return list(spec.native_pairs)


def resolve_pairs(
    spec: QAASpec, pairs: Sequence[tuple[int, int]] | None = None
) -> tuple[tuple[int, int], ...]:
    """The CNOT ``(control, target)`` pairs of one layer: ``pairs`` if given (validated),
    else :func:`~qaa_hw.circuits.spec.entangler_pairs`.

    Raises:
        ConfigError: a pair out of range or with control == target; ``entangler='native'``
            without ``native_pairs`` and no ``pairs``.
    """
    if pairs is None:
        return tuple(entangler_pairs(spec))
    n = spec.num_qubits
    out = []
    for pair in pairs:
        a, b = (int(v) for v in pair)
        if a == b or not (0 <= a < n and 0 <= b < n):
            raise ConfigError(
                f"entangler pair {(a, b)} is not valid for {n} qubits; accepted: "
                f"0 <= control != target < {n}"
            )
        out.append((a, b))
    return tuple(out)
