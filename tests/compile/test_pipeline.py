"""Pipeline pieces: SWAP merging, translation with parameters, network synthesis."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import Operator, Statevector

from qaa_hw.circuits.builder import bind, build_qaa_circuit
from qaa_hw.circuits.network import NetworkEmbedding
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.layout import device_shapes
from qaa_hw.compile.pipeline import Routed, merge_swaps, region_coupling, route, translate
from qaa_hw.compile.synthesis import candidate_orders, synthesize_network
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import restrict
from qaa_hw.devices.qiskit_convert import to_target
from qaa_hw.errors import CompilationError, ConfigError


def _with_final_permutation(qc: QuantumCircuit, initial: tuple, final: tuple) -> QuantumCircuit:
    """qc preceded by nothing and followed by SWAPs moving wire initial[i] -> final[i]."""
    out = qc.copy()
    where = dict(enumerate(initial))
    for i, goal in enumerate(final):
        if where[i] != goal:
            other = next((j for j, p in where.items() if p == goal), None)
            out.swap(where[i], goal)
            if other is not None:
                where[other] = where[i]
            where[i] = goal
    return out


def test_merge_swaps_is_exact() -> None:
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(3)
    qc.ry(0.3, 0)
    qc.cx(0, 1)
    qc.ry(a, 1)
    qc.rz(b, 0)
    qc.swap(0, 1)  # backward merge with cx(0, 1) through parameterised 1q gates
    qc.cx(1, 2)
    qc.swap(2, 1)
    qc.ry(a, 2)
    qc.cx(1, 2)  # (the swap above merges backward with the first cx(1, 2))
    routed = Routed(qc, (0, 1, 2), (0, 1, 2), swaps=2)
    merged = merge_swaps(routed, zero_init=False)
    assert merged.circuit.count_ops().get("swap", 0) == 0
    assert merged.circuit.count_ops()["cx"] == 5  # 2 + 2 merged pairs + the last cx
    values = {a: 0.7, b: -1.2}
    assert Operator(merged.circuit.assign_parameters(values)).equiv(
        Operator(qc.assign_parameters(values)))


def test_merge_swaps_initial_relabel_and_zero_state() -> None:
    qc = QuantumCircuit(3)
    qc.swap(0, 1)  # both idle: relabelling of the initial layout
    qc.ry(0.4, 0)
    qc.cx(0, 1)
    qc.swap(1, 2)  # qubit 2 still |0>: two CNOTs with zero_init
    qc.ry(0.9, 2)
    routed = Routed(qc, (0, 1), (0, 2), swaps=2)
    exact = merge_swaps(routed, zero_init=False)
    assert exact.initial == (1, 0)
    assert exact.circuit.count_ops().get("swap", 0) == 1
    # initial relabelling: the merged circuit on the relabelled layout equals the original
    perm = QuantumCircuit(3)
    perm.swap(0, 1)
    assert Operator(perm.compose(exact.circuit)).equiv(Operator(qc))
    zero = merge_swaps(routed, zero_init=True)
    assert zero.circuit.count_ops().get("swap", 0) == 0
    np.testing.assert_allclose(Statevector(zero.circuit).data, Statevector(qc).data, atol=1e-12)


def test_binding_after_compiling_equals_compiling_after_binding() -> None:
    device = load_device("synthetic:heavy_hex:27?gate=ecr")
    spec = QAASpec(num_qubits=4, num_layers=2, rotations="ry_rz")
    qaa = build_qaa_circuit(spec)
    region = device_shapes(device, 4)[0].placements[0]
    sub = restrict(device, region)
    routed = route(qaa.circuit, region_coupling(device, region), seed=0)
    rng = np.random.default_rng(0)
    alpha = rng.normal(size=len(qaa.alpha))
    theta = rng.normal(size=spec.num_parameters)
    compiled_then_bound = bind(translate(routed.circuit, to_target(sub)), alpha, theta)
    bound_then_compiled = translate(bind(routed.circuit, alpha, theta), to_target(sub))
    assert Operator(compiled_then_bound).equiv(Operator(bound_then_compiled))
    placed = QuantumCircuit(len(region))
    placed.compose(bind(qaa.circuit, alpha, theta), qubits=list(routed.initial), inplace=True)
    logical = _with_final_permutation(placed, routed.initial, routed.final)
    assert Operator(compiled_then_bound).equiv(Operator(logical))


def test_merge_swaps_forward() -> None:
    a = Parameter("a")
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.h(1)
    qc.swap(0, 1)
    qc.ry(a, 0)
    qc.cx(0, 1)
    merged = merge_swaps(Routed(qc, (0, 1), (1, 0), swaps=1), zero_init=False)
    assert dict(merged.circuit.count_ops()) == {"h": 2, "ry": 1, "cx": 2}
    assert Operator(merged.circuit.assign_parameters({a: 0.3})).equiv(
        Operator(qc.assign_parameters({a: 0.3})))


SHAPES = {
    "star": (4, [(0, 1), (0, 2), (0, 3)]),
    "line5": (5, [(0, 1), (1, 2), (2, 3), (3, 4)]),
    "tee6": (6, [(0, 1), (1, 2), (2, 3), (2, 4), (4, 5)]),
    "grid6": (6, [(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5)]),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_network_synthesis_is_exact_and_native(name: str) -> None:
    n, edges = SHAPES[name]
    graph = nx.Graph(edges)
    rng = np.random.default_rng(1)
    for var_wire in candidate_orders(graph, limit=3, seed=0):
        try:
            ops = synthesize_network(n, edges, var_wire)
        except CompilationError:
            continue
        assert all(graph.has_edge(a, b) for kind, a, b in ops if kind == "cx")
        logical_wire = tuple(int(w) for w in rng.permutation(n))
        net = NetworkEmbedding(n, tuple(ops), var_wire, logical_wire)
        assert net.num_angles == 2**n - 1
        x = rng.normal(size=2**n)
        state = Statevector(net.circuit(net.angles(x))).data
        expected = np.zeros(2**n)
        for i in range(2**n):
            expected[sum(((i >> q) & 1) << logical_wire[q] for q in range(n))] = x[i]
        np.testing.assert_allclose(state, expected / np.linalg.norm(x), atol=1e-10)


@pytest.mark.parametrize("name", ["line5", "tee6"])
def test_network_steiner_fallback_is_exact_and_native(name: str) -> None:
    """With a breadth-first budget too small for any step, every rotation is reached by the
    Steiner-tree step; the network still prepares the exact state on coupled pairs only."""
    n, edges = SHAPES[name]
    graph = nx.Graph(edges)
    rng = np.random.default_rng(2)
    built = 0
    for var_wire in candidate_orders(graph, limit=4, seed=0):
        try:
            ops = synthesize_network(n, edges, var_wire, max_states=1)
        except CompilationError:
            continue
        built += 1
        assert all(graph.has_edge(a, b) for kind, a, b in ops if kind == "cx")
        net = NetworkEmbedding(n, tuple(ops), var_wire, tuple(range(n)))
        x = rng.normal(size=2**n)
        state = Statevector(net.circuit(net.angles(x))).data
        np.testing.assert_allclose(state, x / np.linalg.norm(x), atol=1e-10)
    assert built >= 2


def test_steiner_step_reaches_the_chosen_goal() -> None:
    """The CNOT list of one Steiner step puts a goal term on the target wire, randomised."""
    from qaa_hw.compile.synthesis import _steiner

    for trial in range(300):
        rng = np.random.default_rng(trial)
        n = int(rng.integers(3, 8))
        graph = nx.random_labeled_tree(n, seed=trial)
        rows = [int(v) for v in rng.integers(0, 64, n)]
        w = int(rng.integers(n))
        goals = {int(v) for v in rng.integers(0, 64, 5)}
        ops = _steiner(rows, graph, w, goals, lambda m: m)
        if ops is None:
            continue
        for u, v in ops:
            assert graph.has_edge(u, v) and u != w
            rows[v] ^= rows[u]
        assert rows[w] in goals


def test_network_validation() -> None:
    with pytest.raises(ConfigError, match="never rotated"):
        NetworkEmbedding(2, (("ry", 0, 0),), (0, 1), (0, 1))
    with pytest.raises(ConfigError, match="while its variable"):
        NetworkEmbedding(2, (("ry", 0, 0), ("cx", 0, 1), ("ry", 0, 0), ("ry", 1, 1),
                             ("ry", 1, 1)), (0, 1), (0, 1))


def test_vectorised_placement_scores_match_the_reference() -> None:
    from qaa_hw.compile.layout import estimate_log_esp, placement_scores, usage_profile

    device = load_device("synthetic:heavy_hex:27?gate=ecr")
    shape = device_shapes(device, 4)[0]
    ops = [("cx", (0, 1)), ("ry", (1,)), ("swap", (1, 2)), ("sx", (3,)), ("cx", (2, 3))]
    profile = usage_profile(ops, (0, 3))
    scores = placement_scores(device, shape, profile)
    for i in (0, len(shape.placements) // 2, len(shape.placements) - 1):
        assert scores[i] == pytest.approx(estimate_log_esp(device, profile, shape.placements[i]))
