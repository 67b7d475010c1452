"""Exactness of the torch training engine against an independent Qiskit reference.

The reference is Qiskit's ``Statevector`` of the circuit built by
:func:`~qaa_hw.circuits.ansatz.build_ansatz` (itself checked gate by gate against circuits
written out with Qiskit's methods in ``tests/circuits``); the engines share nothing with it
but the gate table.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import Pauli, Statevector

from qaa_hw.circuits import gates
from qaa_hw.circuits.ansatz import build_ansatz
from qaa_hw.circuits.spec import ROTATIONS, QAASpec, entangler_pairs
from qaa_hw.errors import ConfigError, SimulationError
from qaa_hw.simulate import fused
from qaa_hw.simulate.statevector import (
    choose_method,
    simulate_qaa,
)

METHODS = ("fused", "dense", "layered")
#: METHODS plus the dense strategy's torch-built U(theta) (used for larger registers).
GRAD_METHODS = METHODS


def _qiskit_circuit(
    spec: QAASpec, theta: np.ndarray, pairs: list[tuple[int, int]]
) -> QuantumCircuit:
    """The builder's ansatz with ``pairs``, bound to ``theta`` (``spec.parameter_shape``)."""
    return build_ansatz(spec, pairs=pairs).assign_parameters(np.asarray(theta).ravel())


def _qiskit_readout(
    spec: QAASpec, x: np.ndarray, theta: np.ndarray, pairs: list[tuple[int, int]]
) -> np.ndarray:
    """Reference readout rows computed with qiskit.quantum_info only."""
    qc = _qiskit_circuit(spec, theta, pairs)
    rows = []
    for row in x:
        vec = np.zeros(spec.dim)
        vec[: row.shape[0]] = row
        norm = np.linalg.norm(vec)
        if norm == 0:
            vec[0], norm = 1.0, 1.0
        sv = Statevector(vec / norm).evolve(qc)
        if spec.readout == "probs":
            rows.append(sv.probabilities())
        else:
            n = spec.num_qubits
            labels = ["I" * (n - 1 - q) + "Z" + "I" * q for q in range(n)]
            rows.append([sv.expectation_value(Pauli(lab)).real for lab in labels])
    return np.asarray(rows, dtype=np.float64)


def _random_case(
    spec: QAASpec, batch: int, width: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g, dtype=torch.float64)
    theta = (
        torch.rand(spec.parameter_shape, generator=g, dtype=torch.float64) * 4 * np.pi - 2 * np.pi
    )
    return x, theta


CASES = [
    (n, layers, rot, ent, readout)
    for n in (1, 2, 3, 4, 5)
    for rot in ROTATIONS
    for layers in (1, 3)  # one layer: the last layer's RZ is all there is (ry_rz runs real)
    for ent in ("ring", "line", "all_to_all")
    for readout in ("z", "probs")
]


@pytest.mark.parametrize(("n", "layers", "rot", "ent", "readout"), CASES)
def test_matches_qiskit_statevector(n: int, layers: int, rot: str, ent: str, readout: str) -> None:
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rot, entangler=ent, readout=readout)  # type: ignore[arg-type]
    width = max(1, spec.dim - 1) if n > 1 else 2
    x, theta = _random_case(spec, 4, width, seed=n * 100 + layers)
    ref = _qiskit_readout(spec, x.numpy(), theta.numpy(), entangler_pairs(spec))
    for method in METHODS:
        out = simulate_qaa(spec, x, theta, method=method)
        assert out.dtype == torch.float64
        assert out.shape == (4, spec.output_dim)
        np.testing.assert_allclose(out.numpy(), ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("rot", ROTATIONS)
def test_explicit_pairs_and_native_spec(method: str, rot: str) -> None:
    pairs = [(3, 0), (1, 2), (0, 2), (2, 1)]
    spec = QAASpec(num_qubits=4, num_layers=2, rotations=rot, entangler="native", readout="probs")  # type: ignore[arg-type]
    x, theta = _random_case(spec, 3, 16, seed=7)
    ref = _qiskit_readout(spec, x.numpy(), theta.numpy(), pairs)
    out = simulate_qaa(spec, x, theta, pairs=pairs, method=method)  # type: ignore[arg-type]
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-6, rtol=0)
    native = QAASpec(
        num_qubits=4,
        num_layers=2,
        rotations=rot,
        entangler="native",
        readout="probs",
        native_pairs=tuple(pairs),
    )  # type: ignore[arg-type]
    np.testing.assert_allclose(simulate_qaa(native, x, theta).numpy(), ref, atol=1e-6, rtol=0)
    with pytest.raises(ConfigError, match="native"):
        simulate_qaa(spec, x, theta)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("rot", ["ry_rz", "rx_rz"])
def test_larger_register_and_batch_dims(method: str, rot: str) -> None:
    spec = QAASpec(num_qubits=7, num_layers=2, rotations=rot, entangler="ring")
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 100, generator=g, dtype=torch.float64)
    theta = torch.randn(spec.parameter_shape, generator=g, dtype=torch.float64)
    out = simulate_qaa(spec, x, theta, method=method)  # type: ignore[arg-type]
    assert out.shape == (2, 3, 7)
    ref = _qiskit_readout(spec, x.reshape(6, 100).numpy(), theta.numpy(), entangler_pairs(spec))
    np.testing.assert_allclose(out.reshape(6, 7).numpy(), ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize("keep_state", [True, False])
@pytest.mark.parametrize("rot", ROTATIONS)
def test_fused_many_blocks_float32_matches_float64_reference(
    rot: str, keep_state: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 75 rows: several blocks of rows and a ragged last one; n = 9 exercises the odd qubit.
    # keep_state=False: the backward recomputes the final state instead of reusing it.
    if not keep_state:
        monkeypatch.setattr(fused, "_KEEP_BYTES", 0)
    spec = QAASpec(num_qubits=9, num_layers=3, rotations=rot)  # type: ignore[arg-type]
    x64, theta64 = _random_case(spec, 75, 300, seed=11)
    x64[5] = 0.0
    ref_x, ref_t = x64.clone().requires_grad_(True), theta64.clone().requires_grad_(True)
    ref = simulate_qaa(spec, ref_x, ref_t, method="dense")
    weights = torch.randn(ref.shape, generator=torch.Generator().manual_seed(0), dtype=ref.dtype)
    (ref * weights).sum().backward()
    x32, theta32 = x64.float().requires_grad_(True), theta64.float().requires_grad_(True)
    out = simulate_qaa(spec, x32, theta32, method="fused")
    (out * weights.float()).sum().backward()
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=2e-5)
    assert x32.grad is not None and theta32.grad is not None
    assert ref_x.grad is not None and ref_t.grad is not None
    np.testing.assert_allclose(x32.grad.numpy(), ref_x.grad.numpy(), atol=1e-4)
    np.testing.assert_allclose(theta32.grad.numpy(), ref_t.grad.numpy(), atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("rot", ["ry_rz", "rx_rz"])
def test_fused_backward_can_run_twice(rot: str) -> None:
    spec = QAASpec(num_qubits=5, num_layers=2, rotations=rot)
    x, theta = _random_case(spec, 40, 32, seed=5)
    theta.requires_grad_(True)
    out = simulate_qaa(spec, x, theta, method="fused").sum()
    (first,) = torch.autograd.grad(out, theta, retain_graph=True)
    (second,) = torch.autograd.grad(out, theta)
    torch.testing.assert_close(first, second)


#: (rotations, n, layers, entangler, readout): every set, both readouts, ring and line, plus
#: one-layer circuits (ry_rz on the real path, rx_rz without any applied RZ).
GRAD_CASES = [
    (rot, n, 2, ent, readout)
    for rot in ROTATIONS
    for n, ent in ((3, "ring"), (4, "line"))
    for readout in ("z", "probs")
] + [("ry", 5, 1, "ring", "probs"), ("ry_rz", 3, 1, "ring", "z"), ("rx_rz", 3, 1, "line", "z")]


@pytest.mark.parametrize(("rot", "n", "layers", "ent", "readout"), GRAD_CASES)
def test_theta_gradient_matches_parameter_shift(
    rot: str, n: int, layers: int, ent: str, readout: str
) -> None:
    spec = QAASpec(num_qubits=n, num_layers=layers, rotations=rot, entangler=ent, readout=readout)  # type: ignore[arg-type]
    x, theta = _random_case(spec, 3, spec.dim - 1, seed=11 * n + layers)
    weights = torch.randn(
        3, spec.output_dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    # Every gate is exp(-i t P / 2) with a Pauli P: the two-term shift rule is exact.
    pairs = entangler_pairs(spec)
    w = weights.numpy()
    ref = np.zeros(spec.parameter_shape)
    for idx in itertools.product(*(range(s) for s in spec.parameter_shape)):
        plus, minus = theta.numpy().copy(), theta.numpy().copy()
        plus[idx] += np.pi / 2
        minus[idx] -= np.pi / 2
        f_plus = (_qiskit_readout(spec, x.numpy(), plus, pairs) * w).sum()
        f_minus = (_qiskit_readout(spec, x.numpy(), minus, pairs) * w).sum()
        ref[idx] = 0.5 * (f_plus - f_minus)
    for method in GRAD_METHODS:
        theta_var = theta.clone().requires_grad_(True)
        loss = (simulate_qaa(spec, x, theta_var, method=method) * weights).sum()  # type: ignore[arg-type]
        (grad,) = torch.autograd.grad(loss, theta_var)
        np.testing.assert_allclose(grad.numpy(), ref, atol=1e-8, err_msg=method)


GRADCHECK_CASES = [
    (rot, ent, readout, width)
    for rot in ROTATIONS
    for ent in ("ring", "line")
    for readout, width in (("z", 7), ("probs", 5))
]


@pytest.mark.parametrize("method", GRAD_METHODS)
@pytest.mark.parametrize(("rot", "ent", "readout", "width"), GRADCHECK_CASES)
def test_gradcheck_in_x_and_theta(
    method: str, rot: str, ent: str, readout: str, width: int
) -> None:
    chosen = method
    spec = QAASpec(num_qubits=3, num_layers=2, rotations=rot, entangler=ent, readout=readout)  # type: ignore[arg-type]
    x, theta = _random_case(spec, 3, width, seed=2)
    x.requires_grad_(True)
    theta.requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda a, b: simulate_qaa(spec, a, b, method=chosen),  # type: ignore[arg-type]
        (x, theta),
    )


@pytest.fixture
def extra_sets(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ...]]:
    """Rotation sets added to the gate table only (nothing else knows them)."""
    added = {
        "rz_ry_rx": ("rz", "ry", "rx"),  # a diagonal gate first: applied in every layer
        "ry_rz_rz": ("ry", "rz", "rz"),  # two trailing diagonal gates
        "rx": ("rx",),
    }
    for name, gate_names in added.items():
        monkeypatch.setitem(gates.ROTATION_SETS, name, gate_names)
    yield tuple(added)
    for cached in (gates.rotation_gates, gates.applied_layers, gates.runs_complex, fused._slots):
        cached.cache_clear()


@pytest.mark.parametrize("readout", ["z", "probs"])
def test_a_set_added_to_the_table_runs_in_every_strategy(
    extra_sets: tuple[str, ...], readout: str
) -> None:
    for rot in extra_sets:
        for layers in (1, 2):
            spec = QAASpec(num_qubits=3, num_layers=layers, rotations=rot, readout=readout)
            x, theta = _random_case(spec, 2, 6, seed=layers)
            ref = _qiskit_readout(spec, x.numpy(), theta.numpy(), entangler_pairs(spec))
            for method in GRAD_METHODS:
                out = simulate_qaa(spec, x, theta, method=method)  # type: ignore[arg-type]
                np.testing.assert_allclose(out.numpy(), ref, atol=1e-10, err_msg=method)
                assert torch.autograd.gradcheck(
                    lambda a, b: simulate_qaa(spec, a, b, method=method),  # type: ignore[arg-type]  # noqa: B023
                    (x.clone().requires_grad_(True), theta.clone().requires_grad_(True)),
                )


def test_fused_refuses_a_gate_without_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fused, "_KERNEL_GATES", ("ry", "rz"))
    fused._slots.cache_clear()
    spec = QAASpec(num_qubits=2, num_layers=1, rotations="rx_rz")
    try:
        with pytest.raises(SimulationError, match="gate 'rx' of rotations='rx_rz' has no fused"):
            simulate_qaa(spec, torch.ones(1, 4), torch.zeros(spec.parameter_shape), method="fused")
    finally:
        fused._slots.cache_clear()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("rot", ROTATIONS)
def test_zero_row_embeds_ground_state(method: str, dtype: torch.dtype, rot: str) -> None:
    spec = QAASpec(num_qubits=4, num_layers=2, rotations=rot, readout="z")  # type: ignore[arg-type]
    x, theta = _random_case(spec, 3, 12, seed=4)
    x[1] = 0.0
    x = x.to(dtype).requires_grad_(True)
    theta = theta.to(dtype).requires_grad_(True)
    out = simulate_qaa(spec, x, theta, method=method)  # type: ignore[arg-type]
    e0 = torch.zeros(1, 12, dtype=dtype)
    e0[0, 0] = 1.0
    ref = simulate_qaa(spec, e0, theta.detach(), method=method)  # type: ignore[arg-type]
    torch.testing.assert_close(out[1:2].detach(), ref)
    out.sum().backward()
    assert x.grad is not None and theta.grad is not None
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    assert torch.isfinite(theta.grad).all()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("rot", ["ry_rz", "rx_rz"])
def test_float32_follows_input_dtype(method: str, rot: str) -> None:
    spec = QAASpec(num_qubits=5, num_layers=3, rotations=rot, readout="probs")
    x, theta = _random_case(spec, 5, 32, seed=9)
    out64 = simulate_qaa(spec, x, theta, method=method)  # type: ignore[arg-type]
    out32 = simulate_qaa(spec, x.float(), theta, method=method)  # type: ignore[arg-type]
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out32.double(), out64, atol=1e-5, rtol=0)


def test_choose_method_fused_on_cpu_else_the_cost_model() -> None:
    assert choose_method(QAASpec(num_qubits=4), 4096, 16) == "fused"
    assert choose_method(QAASpec(num_qubits=4), 4096, 16, "meta") == "dense"
    assert choose_method(QAASpec(num_qubits=10), 4096, 1024, "meta") == "layered"


def test_fused_refuses_non_cpu_tensors() -> None:
    spec = QAASpec(num_qubits=2)
    x = torch.ones(2, 4, device="meta")
    with pytest.raises(SimulationError, match="method='fused' needs CPU tensors"):
        simulate_qaa(spec, x, torch.zeros(spec.parameter_shape, device="meta"), method="fused")


def test_errors_name_the_argument() -> None:
    spec = QAASpec(num_qubits=2)
    theta = torch.zeros(spec.parameter_shape)
    with pytest.raises(SimulationError, match="5 features"):
        simulate_qaa(spec, torch.ones(2, 5), theta)
    with pytest.raises(SimulationError, match="theta shape"):
        simulate_qaa(spec, torch.ones(2, 4), torch.zeros(3))
    with pytest.raises(SimulationError, match="dtype"):
        simulate_qaa(spec, torch.ones(2, 4, dtype=torch.int64), theta)
    with pytest.raises(SimulationError, match="method='fast'"):
        simulate_qaa(spec, torch.ones(2, 4), theta, method="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"entangler pair \(0, 0\) is not valid for 2 qubits"):
        simulate_qaa(spec, torch.ones(2, 4), theta, pairs=[(0, 0)])
