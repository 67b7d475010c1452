"""Entangler layers synthesised as linear maps: exact up to the reported layouts."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator

from qaa_hw.circuits.spec import QAASpec, entangler_pairs
from qaa_hw.compile.linear import layer_map, synthesize_ansatz, synthesize_layer
from tests.compile.helpers import reference_ansatz

SHAPES = {
    "line4": [(0, 1), (1, 2), (2, 3)],
    "star4": [(0, 1), (0, 2), (0, 3)],
    "tee5": [(0, 1), (1, 2), (2, 3), (2, 4)],
    "tee6": [(0, 1), (1, 2), (2, 3), (2, 4), (4, 5)],
}


def test_layer_map_of_a_ring() -> None:
    # ring on 3: x1 ^= x0; x2 ^= x1 (= x0^x1^x2); x0 ^= x2 (= x1^x2)
    assert layer_map(3, [(0, 1), (1, 2), (2, 0)]) == (0b110, 0b011, 0b111)


def test_layer_search_reaches_the_goal_up_to_order() -> None:
    edges = SHAPES["line4"]
    goal = layer_map(4, [(0, 1), (1, 2), (2, 3), (3, 0)])
    start = (1, 2, 4, 8)
    cnots, used, final = synthesize_layer(edges, [start], goal)  # type: ignore[misc]
    assert used == start and sorted(final) == sorted(goal)
    assert all((min(c, t), max(c, t)) in edges for c, t in cnots)
    rows = list(start)
    for c, t in cnots:
        rows[t] ^= rows[c]
    assert tuple(rows) == final


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize(("entangler", "rotations"), [("ring", "ry"), ("all_to_all", "ry_rz")])
def test_synthesised_ansatz_is_operator_equivalent(name: str, entangler: str,
                                                   rotations: str) -> None:
    edges = SHAPES[name]
    n = max(max(e) for e in edges) + 1
    spec = QAASpec(num_qubits=n, num_layers=3, entangler=entangler,  # type: ignore[arg-type]
                   rotations=rotations)  # type: ignore[arg-type]
    routed = synthesize_ansatz(spec, edges, entangler_pairs(spec))
    assert routed is not None
    circuit = routed.circuit
    assert all(tuple(sorted(circuit.find_bit(q).index for q in inst.qubits)) in edges
               for inst in circuit.data if inst.operation.num_qubits == 2)
    theta = np.random.default_rng(n).uniform(-np.pi, np.pi, spec.num_parameters)
    bound = circuit.assign_parameters(
        {p: theta[p.index] for p in circuit.parameters})
    ref = QuantumCircuit(n)
    ref.compose(reference_ansatz(n, 3, spec.rotations_per_qubit, entangler_pairs(spec), theta),
                qubits=list(routed.initial), inplace=True)
    where = dict(enumerate(routed.initial))
    for i, goal in enumerate(routed.final):
        if where[i] != goal:
            other = next(j for j, p in where.items() if p == goal)
            ref.swap(where[i], goal)
            where[other], where[i] = where[i], goal
    assert Operator(bound).equiv(Operator(ref))
