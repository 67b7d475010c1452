"""compile_adapter: equivalence with the logical circuit, nativeness, ESP, errors, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator, Statevector

from qaa_hw.circuits.builder import bind, build_qaa_circuit
from qaa_hw.circuits.spec import QAASpec, entangler_pairs
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import DeviceModel, InstructionProperties, QubitProperties
from qaa_hw.errors import CompilationError, ConfigError
from tests.compile.helpers import (
    esp_by_hand,
    fidelity,
    place_state,
    reference_ansatz,
    restrict_circuit,
    ring,
)

ECR_DEVICE = "synthetic:heavy_hex:27?gate=ecr"
CX_DEVICE = "synthetic:heavy_hex:27"
GRID_DEVICE = "synthetic:grid:3x3?gate=cz"


@pytest.fixture(scope="module", params=[ECR_DEVICE, CX_DEVICE, GRID_DEVICE])
def device(request: pytest.FixtureRequest) -> DeviceModel:
    return load_device(request.param)


def _active(compiled) -> list[int]:  # type: ignore[no-untyped-def]
    return list(compiled.active_qubits)


def _check_native(compiled) -> None:  # type: ignore[no-untyped-def]
    device = compiled.device
    for inst in compiled.circuit.data:
        qargs = tuple(compiled.circuit.find_bit(q).index for q in inst.qubits)
        device.instruction(inst.operation.name, qargs)  # raises if not native
        if len(qargs) == 2:
            assert device.coupling_graph().has_edge(*qargs)


@pytest.mark.parametrize(("n", "layers", "rotations"),
                         [(2, 2, "ry"), (3, 2, "ry_rz"), (4, 1, "ry"), (4, 2, "ry_rz")])
def test_logical_route_is_operator_equivalent(device: DeviceModel, n: int, layers: int,
                                              rotations: str) -> None:
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rotations)  # type: ignore[arg-type]
    compiled = compile_adapter(spec, device, seed=3, synthesis="logical", zero_init=False)
    _check_native(compiled)
    active = _active(compiled)
    assert sorted(compiled.initial_layout) == sorted(compiled.final_layout) == active
    rng = np.random.default_rng(n)
    qaa = build_qaa_circuit(spec)
    alpha = rng.uniform(-np.pi, np.pi, len(qaa.alpha))
    theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
    physical = restrict_circuit(bind(compiled.circuit, alpha, theta), active)
    # Reference: the bound logical circuit placed on the initial layout, then the routing
    # permutation moving logical i from initial_layout[i] to final_layout[i].
    index = {q: i for i, q in enumerate(active)}
    ref = QuantumCircuit(len(active))
    ref.compose(bind(qaa.circuit, alpha, theta),
                qubits=[index[q] for q in compiled.initial_layout], inplace=True)
    where = {i: index[q] for i, q in enumerate(compiled.initial_layout)}
    for i, q in enumerate(compiled.final_layout):
        goal = index[q]
        if where[i] != goal:
            other = next((j for j, p in where.items() if p == goal), None)
            ref.swap(where[i], goal)
            if other is not None:
                where[other] = where[i]
            where[i] = goal
    assert Operator(physical).equiv(Operator(ref))


@pytest.mark.parametrize(("n", "layers", "rotations", "entangler"),
                         [(2, 1, "ry", "ring"), (3, 2, "ry", "ring"), (4, 2, "ry_rz", "ring"),
                          (4, 2, "ry", "native"), (3, 1, "ry", "all_to_all")])
def test_default_compile_prepares_the_adapter_state(device: DeviceModel, n: int, layers: int,
                                                    rotations: str, entangler: str) -> None:
    """Default (network embedding, |0> aware): the state from |0...0> equals the logical one.

    The embedding network has its own angles (``compiled.embedding.angles(x)``), so the check
    is on the prepared state (with final_layout), not on the operator.
    """
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rotations,  # type: ignore[arg-type]
                   entangler=entangler)  # type: ignore[arg-type]
    compiled = compile_adapter(spec, device, seed=1)
    _check_native(compiled)
    rng = np.random.default_rng(7 + n)
    x = rng.normal(size=2**n)
    theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
    active = _active(compiled)
    physical = Statevector(restrict_circuit(compiled.bind(x, theta), active)).data
    pairs = entangler_pairs(compiled.spec)
    if entangler == "ring":
        assert pairs == ring(n)
    logical = Statevector(x / np.linalg.norm(x)).evolve(
        reference_ansatz(n, layers, spec.rotations_per_qubit, pairs, theta)).data
    index = {q: i for i, q in enumerate(active)}
    expected = place_state(logical, [index[q] for q in compiled.final_layout], len(active))
    assert fidelity(physical, expected) > 1 - 1e-9
    np.testing.assert_allclose(physical, expected, atol=1e-8)


def _placed_ansatz(compiled, theta: np.ndarray, active: list[int]) -> Operator:  # type: ignore[no-untyped-def]
    """Logical ansatz with logical i read from initial_layout[i] and left on final_layout[i]
    (on the active qubits), written out independently of the compiler."""
    spec = compiled.spec
    layers, n, rots = spec.parameter_shape
    index = {q: i for i, q in enumerate(active)}
    qc = QuantumCircuit(len(active))
    qc.compose(reference_ansatz(n, layers, rots, entangler_pairs(spec), theta),
               qubits=[index[q] for q in compiled.initial_layout], inplace=True)
    where = {i: index[q] for i, q in enumerate(compiled.initial_layout)}
    for i, q in enumerate(compiled.final_layout):  # move logical i to final_layout[i]
        goal = index[q]
        if where[i] != goal:
            other = next((j for j, p in where.items() if p == goal), None)
            qc.swap(where[i], goal)
            if other is not None:
                where[other] = where[i]
            where[i] = goal
    return Operator(qc)


@pytest.mark.parametrize(("n", "layers", "rotations", "entangler"),
                         [(2, 2, "ry", "ring"), (3, 2, "ry_rz", "ring"), (4, 2, "ry", "ring"),
                          (4, 1, "ry", "native"), (4, 2, "ry_rz", "line")])
def test_default_compile_ansatz_segment_is_operator_equivalent(
        device: DeviceModel, n: int, layers: int, rotations: str, entangler: str) -> None:
    """Default route: circuit(alpha, theta) = A(theta) V(alpha) as operators, with A the
    logical ansatz placed from initial_layout to final_layout and V depending on alpha only.

    The embedding part V is re-synthesised (only V|0...0> is specified, see
    test_default_compile_prepares_the_adapter_state), so the check is
    U(alpha, theta) = A(theta) A(theta')^-1 U(alpha, theta') for random alpha, theta, theta'.
    """
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rotations,  # type: ignore[arg-type]
                   entangler=entangler)  # type: ignore[arg-type]
    compiled = compile_adapter(spec, device, seed=2)
    active = _active(compiled)
    rng = np.random.default_rng(100 + n)
    x = rng.normal(size=2**n)
    assert compiled.embedding is not None
    alpha = compiled.embedding.angles(x)
    for _ in range(2):
        theta, theta2 = (rng.uniform(-np.pi, np.pi, spec.num_parameters) for _ in range(2))
        u = Operator(restrict_circuit(bind(compiled.circuit, alpha, theta), active))
        u2 = Operator(restrict_circuit(bind(compiled.circuit, alpha, theta2), active))
        a, a2 = _placed_ansatz(compiled, theta, active), _placed_ansatz(compiled, theta2, active)
        assert u.equiv(u2.compose(a2.adjoint()).compose(a))


def test_esp_matches_an_independent_recomputation(device: DeviceModel) -> None:
    for spec in (QAASpec(num_qubits=3, num_layers=2), QAASpec(num_qubits=4, num_layers=1)):
        compiled = compile_adapter(spec, device, seed=0)
        expected = esp_by_hand(compiled.circuit, device, compiled.final_layout)
        assert abs(compiled.metrics.esp - expected) < 1e-12
        assert compiled.metrics.two_qubit_count == sum(
            1 for inst in compiled.circuit.data if inst.operation.num_qubits == 2)


def test_native_entangler_is_resolved_on_coupled_qubits(device: DeviceModel) -> None:
    spec = QAASpec(num_qubits=4, num_layers=2, entangler="native")
    compiled = compile_adapter(spec, device, seed=0)
    pairs = compiled.spec.native_pairs
    assert pairs is not None and len(pairs) >= 3
    graph = device.coupling_graph()
    for a, b in pairs:
        assert graph.has_edge(compiled.initial_layout[a], compiled.initial_layout[b])
    assert compiled.initial_layout == compiled.final_layout  # the ansatz needs no SWAP


def test_deterministic_for_a_seed() -> None:
    device = load_device(ECR_DEVICE)
    spec = QAASpec(num_qubits=4, num_layers=2)
    a = compile_adapter(spec, device, seed=5)
    b = compile_adapter(spec, device, seed=5)
    def ops(qc: QuantumCircuit) -> list[tuple]:
        return [(i.operation.name, [str(p) for p in i.operation.params],
                 [qc.find_bit(q).index for q in i.qubits]) for i in qc.data]

    assert ops(a.circuit) == ops(b.circuit)
    assert (a.initial_layout, a.final_layout, a.metrics) == (b.initial_layout, b.final_layout,
                                                             b.metrics)


def test_approx_spec_compiles_and_reports_its_embedding() -> None:
    device = load_device(CX_DEVICE)
    compiled = compile_adapter(QAASpec(num_qubits=3, embedding="approx"), device)
    assert compiled.embedding is not None and compiled.embedding.fidelity >= 0.99
    assert compiled.to_dict()["embedding"]["fidelity"] >= 0.99


def test_single_qubit_adapter() -> None:
    device = load_device(CX_DEVICE)
    compiled = compile_adapter(QAASpec(num_qubits=1, num_layers=2), device)
    assert compiled.metrics.two_qubit_count == 0
    x, theta = np.array([-0.3, 0.8]), np.array([0.4, -1.1])
    state = Statevector(restrict_circuit(compiled.bind(x, theta), list(compiled.final_layout)))
    ref = Statevector(x / np.linalg.norm(x)).evolve(reference_ansatz(1, 2, 1, [], theta))
    assert fidelity(state.data, ref.data) > 1 - 1e-12


def _device_without_2q() -> DeviceModel:
    qubits = tuple(QubitProperties(1e-4, 1e-4, 0.01, 0.01) for _ in range(3))
    return DeviceModel("no2q", "synthetic", qubits,
                       {"sx": {(q,): InstructionProperties(1e-4, 3e-8) for q in range(3)},
                        "rz": {(q,): InstructionProperties(0.0, 0.0) for q in range(3)}})


def test_errors() -> None:
    small = load_device("synthetic:line:3")
    with pytest.raises(CompilationError, match="needs 4 qubits but device"):
        compile_adapter(QAASpec(num_qubits=4), small)
    with pytest.raises(CompilationError, match="has no two-qubit gate"):
        compile_adapter(QAASpec(num_qubits=2), _device_without_2q())
    assert compile_adapter(QAASpec(num_qubits=1), _device_without_2q()).metrics.esp > 0
    with pytest.raises(ConfigError, match="trials=0"):
        compile_adapter(QAASpec(num_qubits=2), small, trials=0)
    with pytest.raises(ConfigError, match="synthesis='magic'"):
        compile_adapter(QAASpec(num_qubits=2), small, synthesis="magic")


def test_wide_adapter_compiles_with_the_reduced_effort() -> None:
    """n = 7 (past FULL_EFFORT_QUBITS): reduced search, native gates, the exact state; the
    full-effort settings of n <= 6 are unchanged; a time budget keeps at least one
    candidate."""
    from qaa_hw.compile.api import FULL_EFFORT_QUBITS, default_effort

    assert default_effort(6).orders == 24 + 4 * 8 and default_effort(6).refine == 8
    assert default_effort(FULL_EFFORT_QUBITS + 1).orders < default_effort(6).orders
    assert default_effort(10).trees == 0 and default_effort(10).linear_expansions == 0
    device = load_device("synthetic:heavy_hex:27")
    spec = QAASpec(num_qubits=7, num_layers=1)
    compiled = compile_adapter(spec, device, time_budget_s=1e-3)
    _check_native(compiled)
    rng = np.random.default_rng(3)
    x, theta = rng.normal(size=2**7), rng.uniform(-np.pi, np.pi, spec.num_parameters)
    active = _active(compiled)
    physical = Statevector(restrict_circuit(compiled.bind(x, theta), active)).data
    logical = Statevector(x / np.linalg.norm(x)).evolve(
        reference_ansatz(7, 1, spec.rotations_per_qubit, entangler_pairs(compiled.spec),
                         theta)).data
    index = {q: i for i, q in enumerate(active)}
    expected = place_state(logical, [index[q] for q in compiled.final_layout], len(active))
    assert fidelity(physical, expected) > 1 - 1e-8
    with pytest.raises(ConfigError, match="time_budget_s=0 is not valid"):
        compile_adapter(spec, device, time_budget_s=0)


def test_qiskit_baseline_record() -> None:
    from qaa_hw.compile.baseline import compile_with_qiskit

    device = load_device(ECR_DEVICE)
    spec = QAASpec(num_qubits=3, num_layers=1)
    base = compile_with_qiskit(spec, device, seed=0)
    assert base.method.startswith("qiskit level 3")
    assert abs(base.metrics.esp - esp_by_hand(base.circuit, device, base.final_layout)) < 1e-12
    assert len(set(base.final_layout)) == 3
    ours = compile_adapter(spec, device, seed=0)
    assert ours.metrics.esp >= base.metrics.esp
