"""Exact, differentiable statevector simulation of QAA circuits: the training engine.

Model (:mod:`qaa_hw.circuits.spec`): a row ``x`` of length ``d <= 2^n`` is zero-padded,
L2-normalised and amplitude-embedded; each layer applies the rotation set's gates
(:mod:`qaa_hw.circuits.gates`) on every qubit, then the CNOTs of
:func:`~qaa_hw.circuits.spec.entangler_pairs`; the readout is ``<Z_q>`` per qubit or the ``2^n``
basis probabilities. Gradients flow to the angles and to the inputs.

Three exact strategies, chosen per call by :func:`choose_method` (or forced with ``method=``):
``"fused"`` (compiled loops over cache-resident blocks of rows, :mod:`~qaa_hw.simulate.fused`;
the CPU default), ``"dense"`` (one batch matmul with ``U(theta)``,
:mod:`~qaa_hw.simulate.torch_dense`) and ``"layered"`` (two small matmuls per layer over a split
of the qubits, :func:`~qaa_hw.simulate.torch_ops.apply_layers`).

The last layer's trailing diagonal gates are never applied
(:func:`~qaa_hw.circuits.gates.applied_layers`: they change no readout, their gradient is
exactly zero); a circuit runs on the complex path only when an applied gate is complex
(:func:`~qaa_hw.circuits.gates.runs_complex`). Normalisation is folded into the readout (both
readouts are quadratic in the state). All-zero rows are embedded as ``|0...0>``, with the
finite gradient of the function at ``e_0``. Memory: ``fused`` keeps only the inputs; the torch
strategies keep a few ``[B, 2^n]`` activations (one set per layer for ``layered``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, get_args

import torch
from torch import Tensor

from qaa_hw.circuits.ansatz import resolve_pairs
from qaa_hw.circuits.gates import runs_complex
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.errors import ConfigError, SimulationError
from qaa_hw.simulate.engine import Capabilities, Engine
from qaa_hw.simulate.fused import simulate_fused
from qaa_hw.simulate.numba_support import numba_available
from qaa_hw.simulate.results import Result, z_from_probabilities
from qaa_hw.simulate.torch_dense import DenseQAA
from qaa_hw.simulate.torch_ops import (
    CircuitPlan,
    apply_layers,
    circuit_plan,
    embed_basis_major,
    layer_gates,
    squared_matmul,
)

if TYPE_CHECKING:
    from qaa_hw.compile.compiled import CompiledAdapter

logger = logging.getLogger(__name__)

Method = Literal["auto", "dense", "layered", "fused"]
METHODS: tuple[str, ...] = get_args(Method)

__all__ = [
    "METHODS",
    "Method",
    "StatevectorEngine",
    "choose_method",
    "simulate_qaa",
]


def choose_method(
    spec: QAASpec, batch: int, width: int, device: torch.device | str = "cpu"
) -> Literal["dense", "layered", "fused"]:
    """The faster exact strategy for one call: ``fused`` on the CPU with Numba (the fastest on
    every configuration of ``benchmarks/simulators.py``), otherwise the cheaper of ``dense``
    (one matmul forward, two backward, ``6 B d 2^n``, plus building ``U`` for n > 6) and
    ``layered`` (``6 B 2^n L (2^k + 2^(n-k))`` plus ``(8 L + 6)`` memory passes over the
    state) under a cost model fitted on a 2-core CPU (``_PEAK_FLOPS``; complex products count
    4 real ones), ``batch`` rows of ``width`` features on ``device``.
    """
    if torch.device(device).type == "cpu" and numba_available():
        return "fused"
    n, num_layers, dim = spec.num_qubits, spec.num_layers, spec.dim
    is_complex = runs_complex(spec.rotations, num_layers)
    parts = 2.0 if is_complex else 1.0
    cplx = 4.0 if is_complex else 1.0
    dense = 6.0 * batch * width * dim * parts
    if n > 6:
        dense += 6.0 * (num_layers - 1) * dim**3 * cplx
    dense = dense / _PEAK_FLOPS + _DENSE_OVERHEAD_S
    k = n // 2
    flops = 6.0 * batch * dim * num_layers * ((1 << k) + (dim >> k)) * cplx
    passes = (8.0 * num_layers + 6.0) * batch * dim * parts * _PASS_FLOPS
    layered = _LAYERED_PENALTY * (flops + passes) / _PEAK_FLOPS
    layered += _LAYERED_OVERHEAD_S * num_layers
    return "dense" if dense <= layered else "layered"


_PEAK_FLOPS = 150e9  # sgemm FLOP/s of the reference machine
_PASS_FLOPS = 34.0  # one read+write pass over an element, in sgemm-FLOP equivalents
_LAYERED_PENALTY = 1.7
_DENSE_OVERHEAD_S = 4e-4
_LAYERED_OVERHEAD_S = 2.5e-4


def _check_inputs(spec: QAASpec, x: Tensor, theta: Tensor) -> None:
    if x.dtype not in (torch.float32, torch.float64):
        raise SimulationError(
            f"x dtype {x.dtype} is not supported; accepted: torch.float32, torch.float64 "
            "(cast the input, e.g. x.float())"
        )
    if x.dim() < 1:
        raise SimulationError("x must have at least one dimension (the feature axis)")
    if x.shape[-1] > spec.dim or x.shape[-1] < 1:
        raise SimulationError(
            f"x has {x.shape[-1]} features; a {spec.num_qubits}-qubit embedding takes 1..{spec.dim}"
        )
    if tuple(theta.shape) != spec.parameter_shape:
        raise SimulationError(
            f"theta shape {tuple(theta.shape)} does not match spec.parameter_shape "
            f"{spec.parameter_shape} (layers, qubits, rotations per qubit)"
        )


def _zero_rows_as_ground(rows: Tensor, sq: Tensor) -> Tensor | None:
    """``rows`` with every all-zero row replaced by ``e_0``, or ``None`` if there is none."""
    if bool(sq.all()):
        return None
    zero = sq == 0
    fix = zero.to(rows.dtype)[:, None]
    return torch.cat((rows[:, :1] + fix, rows[:, 1:]), dim=1)


def _simulate_dense(spec: QAASpec, x: Tensor, theta: Tensor, plan: CircuitPlan) -> Tensor:
    with torch.no_grad():
        sq = torch.linalg.vecdot(x, x)
    fixed = _zero_rows_as_ground(x, sq)
    if fixed is not None:
        return _simulate_dense(spec, fixed, theta, plan)
    out: Tensor = DenseQAA.apply(x, theta, sq, plan, spec.rotations, spec.readout == "z")
    return out


def _simulate_layered(spec: QAASpec, x: Tensor, theta: Tensor, plan: CircuitPlan) -> Tensor:
    state, sq = embed_basis_major(x, spec.dim)  # [D, B], [B]
    fixed = _zero_rows_as_ground(x, sq)
    if fixed is not None:
        return _simulate_layered(spec, fixed, theta, plan)
    gates = layer_gates(theta, spec.rotations)
    complex_path = gates.is_complex()
    if complex_path:
        state = state.to(gates.dtype)
    z_mode = spec.readout == "z"
    state = apply_layers(state, gates, plan, low_qubits=spec.num_qubits // 2, last_perm=not z_mode)
    if z_mode:
        zsign_t = plan.constant("zsign_before_perm_t", x.dtype)  # [n, D]
        if complex_path:
            parts = torch.view_as_real(state).reshape(spec.dim, -1)  # [D, 2B]
            z = squared_matmul(parts, zsign_t, weights_left=True).unflatten(1, (-1, 2)).sum(-1)
        else:
            z = squared_matmul(state, zsign_t, weights_left=True)
        return (z / sq).t()
    probs = torch.view_as_real(state).square().sum(-1) if complex_path else state.square()
    return (probs / sq).t().contiguous()


def simulate_qaa(
    spec: QAASpec,
    x: Tensor,
    theta: Tensor,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
    method: Method = "auto",
) -> Tensor:
    """Exact batched readout of the QAA circuit, differentiable in ``theta`` and ``x``.

    Args:
        spec: the circuit specification (qubits, layers, rotations, entangler, readout).
        x: ``[..., d]`` float32/float64 rows, ``d <= 2^n`` (zero-padded and normalised here).
        theta: ``spec.parameter_shape`` angles; cast to ``x.dtype``.
        pairs: CNOT ``(control, target)`` pairs overriding the spec's entangler.
        method: ``"fused"``, ``"dense"``, ``"layered"`` or ``"auto"`` (:func:`choose_method`);
            all agree up to rounding.

    Returns:
        ``[..., n]`` Z expectations or ``[..., 2^n]`` probabilities, in ``x.dtype``.

    Raises:
        SimulationError: bad dtype or shapes, invalid pairs or method.
    """
    _check_inputs(spec, x, theta)
    if method not in METHODS:
        raise SimulationError(f"method={method!r} is not valid; accepted: {', '.join(METHODS)}")
    lead = x.shape[:-1]
    rows = x.reshape(-1, x.shape[-1])
    theta = theta.to(dtype=x.dtype)
    plan = circuit_plan(spec.num_qubits, resolve_pairs(spec, pairs), str(x.device))
    if method == "auto":
        chosen = choose_method(spec, rows.shape[0], rows.shape[1], rows.device)
    else:
        chosen = method
    if chosen == "fused":
        if rows.device.type != "cpu" or not numba_available():
            raise SimulationError(
                f"method='fused' needs CPU tensors and Numba (x is on {rows.device}; "
                f"numba installed: {numba_available()}); use method='dense' or 'layered'"
            )
        z_readout = spec.readout == "z"
        out = simulate_fused(rows, theta, plan, rotations=spec.rotations, z_readout=z_readout)
    elif chosen == "dense":
        out = _simulate_dense(spec, rows, theta, plan)
    else:
        out = _simulate_layered(spec, rows, theta, plan)
    return out.reshape(*lead, out.shape[-1])


class StatevectorEngine(Engine):
    """The ideal logical circuit on the differentiable training engine
    (:func:`qaa_hw.simulate.statevector.simulate_qaa`; its strategies fused, dense and
    layered are chosen by ``method``). No noise, no compilation: the reference the noisy
    engines are compared with.

    Args:
        compiled: the compiled adapter (only its spec is used).
        noise: must be ``False`` or ``None`` (this engine is ideal).
        method: the training strategy (``"auto"``: chosen by the tensor's device).
    """

    capabilities = Capabilities(noisy=False, gradient=True, batched=True)

    def __init__(self, compiled: CompiledAdapter, *, noise: Any = False,
                 method: Method = "auto") -> None:
        if noise not in (False, None):
            raise ConfigError("the statevector engine is ideal; give noise=False")
        self.compiled = compiled
        self.noise = None
        self.method = method

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """Ideal ``<Z_i>`` (and the distribution when asked or the readout is ``probs``)."""
        if density_matrices:
            raise ConfigError("the statevector engine returns no density matrices")
        spec = self.compiled.spec
        xs = torch.as_tensor(x, dtype=torch.float64)
        xs = xs[None] if xs.dim() == 1 else xs
        th = torch.as_tensor(theta, dtype=torch.float64).reshape(spec.parameter_shape)
        if not distribution and spec.readout == "z":
            return Result(simulate_qaa(spec, xs, th, method=self.method))
        probs = simulate_qaa(replace(spec, readout="probs"), xs, th, method=self.method)
        return Result(z_from_probabilities(probs, spec.num_qubits), probs)
