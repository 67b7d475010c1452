"""The ``fused`` strategy: the whole circuit per block of rows in compiled, cache-resident loops.

``dense`` does ``6 B 2^n d`` FLOPs per training step, ``layered`` about ``6 B 2^n 2^(n/2)`` but
streams the ``[2^n, B]`` state through memory several times per layer. ``fused`` does the
minimum: ``3 B 2^n`` FLOPs per gate forward (one 2x2 rotation per amplitude pair), with a block
of ``G`` rows held in the CPU cache from the embedding to the readout, and a backward that
undoes every gate instead of storing per-gate activations. The forward keeps only the final
state (``B 2^n`` values) for the backward, up to ``_KEEP_BYTES``; beyond that the backward
recomputes it and memory stays ``O(B (d + n))``. The loops are compiled with Numba
(:mod:`qaa_hw.simulate.fused_kernels`) and run in parallel over blocks on the CPU (on the
calling thread for small calls).

Used for CPU tensors whenever Numba is importable (``method="auto"``); ``dense`` and
``layered`` remain for other devices. Exact: the tests compare it with Qiskit's
``Statevector`` and the gradient with the parameter-shift rule.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import Tensor

from qaa_hw.circuits.gates import GATES, applied_layers, rotation_gates
from qaa_hw.errors import SimulationError
from qaa_hw.simulate.numba_support import sync_numba_threads
from qaa_hw.simulate.torch_ops import CircuitPlan

#: Bytes of one ``[2^n, G]`` block buffer; a block's six buffers then fit the L2 cache.
_BLOCK_BYTES = 1 << 17


#: Amplitude updates per call (rows x 2^n x gates) below which one thread is faster: waking
#: the thread pool costs more than the work.
_PARALLEL_WORK = 1 << 17
#: Largest final-state copy the forward keeps for the backward (bytes); above it the
#: backward recomputes the state (memory O(B d) instead of O(B 2^n)).
_KEEP_BYTES = 1 << 23


def _use_threads(batch: int, group: int, num_qubits: int, num_layers: int) -> bool:
    """Whether to run the blocks on the thread pool (more than one block, enough work)."""
    work = batch * (1 << num_qubits) * num_qubits * num_layers
    return torch.get_num_threads() > 1 and batch > group and work >= _PARALLEL_WORK


def block_rows(num_qubits: int, itemsize: int) -> int:
    """Rows per block ``G``: a power of two in 8..64 that keeps a block in the L2 cache, up to
    256 for n <= 4 (short passes, where the loop overhead per qubit dominates)."""
    fit = _BLOCK_BYTES // ((1 << num_qubits) * itemsize)
    cap = 256 if num_qubits <= 4 else 64
    return int(min(cap, max(8, 1 << max(0, fit.bit_length() - 1))))


def _kernels() -> Any:
    from qaa_hw.simulate import fused_kernels

    return fused_kernels


#: Gates the kernels implement, in the order of their ids in the circuit tuple.
_KERNEL_GATES = ("ry", "rz", "rx")
_KERNEL_IDS = np.array([GATES[name].kernel_id for name in _KERNEL_GATES], dtype=np.int64)


@functools.lru_cache(maxsize=64)
def _slots(rotations: str, num_layers: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], int]:
    """Kernel id and applied layers of each slot, the diagonal slots, the first complex slot.

    The first complex slot is the number of slots when no applied gate is complex.

    Raises:
        SimulationError: a gate of the set has no fused kernel.
    """
    gates = rotation_gates(rotations)
    for gate in gates:
        if gate.name not in _KERNEL_GATES:
            raise SimulationError(
                f"gate {gate.name!r} of rotations={rotations!r} has no fused kernel; "
                f"accepted: {', '.join(_KERNEL_GATES)} (use method='dense' or 'layered')"
            )
    applied = applied_layers(rotations, num_layers)
    cplx = [k for k, g in enumerate(gates) if not g.real and applied[k] > 0]
    kinds = np.array([g.kernel_id for g in gates], dtype=np.int64)
    diagonal = tuple(k for k, g in enumerate(gates) if g.diagonal)
    return kinds, np.array(applied, dtype=np.int64), diagonal, cplx[0] if cplx else len(gates)


def _circuit(
    theta: Tensor, plan: CircuitPlan, rotations: str, z_readout: bool, dtype: torch.dtype
) -> tuple[Any, ...]:
    """The kernels' circuit tuple (see :func:`qaa_hw.simulate.fused_kernels.forward`).

    Cosines and sines of half of every angle (``[r, L, n]``); for each diagonal slot its
    layers' phases: basis state ``k`` gets ``exp(-i/2 sum_q phi[l, q] z_q(k))``, stored as
    cosine and sine ``[r, L, 2^n]`` (``[r, L, 0]`` when the set has no diagonal gate; the
    entries of other slots are left unset).
    Arrays are in ``dtype`` (the rows' precision).
    """
    kinds, applied, diagonal, first_cplx = _slots(rotations, theta.shape[0])
    src, inv, _ = plan.constant("numpy", torch.float64)
    zsign = plan.constant("zsign", dtype).numpy()
    half = 0.5 * theta.detach().cpu().to(torch.float64).numpy().transpose(2, 0, 1)
    cos = np.ascontiguousarray(np.cos(half), dtype=zsign.dtype)  # [r, L, n]
    sin = np.ascontiguousarray(np.sin(half), dtype=zsign.dtype)
    pc = ps = np.empty((*half.shape[:2], 0), dtype=zsign.dtype)
    if diagonal:  # (the other slots' entries are never read)
        pc = np.empty((*half.shape[:2], zsign.shape[0]), dtype=zsign.dtype)
        ps = np.empty_like(pc)
        zsign_t = plan.constant("zsign_t", torch.float64).numpy()
        for k in diagonal:
            phase = half[k] @ zsign_t
            pc[k] = np.cos(phase)
            ps[k] = np.sin(-phase)
    use_im = first_cplx < kinds.shape[0]
    group = block_rows(plan.num_qubits, zsign.itemsize)
    return (kinds, applied, cos, sin, -sin, pc, ps, first_cplx, _KERNEL_IDS, src, inv, zsign,
            z_readout, use_im, group)


class FusedQAA(torch.autograd.Function):
    """``readout(U(theta) x / ||x||)`` for CPU rows ``x [B, d]``, with its exact backward.

    ``forward(x, theta, plan, rotations, z_readout, keep_state)``: ``theta [L, n, r]`` the
    angles of the rotation set ``rotations`` (its last layer's trailing diagonal gates are
    not applied: they change no readout); ``z_readout`` selects Z expectations (else
    probabilities); ``keep_state`` keeps the final state for a backward. All-zero rows are
    embedded as ``|0...0>``.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        theta: Tensor,
        plan: CircuitPlan,
        rotations: str,
        z_readout: bool,
        keep_state: bool,
    ) -> Tensor:
        kernels = _kernels()
        sync_numba_threads()
        x_c = x.detach().contiguous()
        x_np = x_c.numpy()
        circuit = _circuit(theta, plan, rotations, z_readout, x.dtype)
        use_im, group = circuit[-2], circuit[-1]
        dim = 1 << plan.num_qubits
        width = plan.num_qubits if z_readout else dim
        out = np.empty((x_np.shape[0], width), dtype=x_np.dtype)
        blocks = -(-x_np.shape[0] // group)
        parts = 2 if use_im else 1
        kept = blocks * group * dim * x_np.itemsize * parts
        keep_shape = (blocks, dim, group)
        if not keep_state or kept > _KEEP_BYTES:
            keep_shape = (0, 0, 0)
        keep = np.empty(keep_shape, dtype=x_np.dtype)
        keep_im = np.empty(keep_shape if use_im else (0, 0, 0), dtype=x_np.dtype)
        parallel = _use_threads(x_np.shape[0], group, plan.num_qubits, theta.shape[0])
        (kernels.forward if parallel else kernels.forward_serial)(x_np, circuit, out, keep, keep_im)
        ctx.save_for_backward(x_c)
        ctx.setup = (circuit, keep, keep_im)
        ctx.theta_meta = (theta.shape, theta.dtype, theta.device)
        return torch.from_numpy(out)

    @staticmethod
    def backward(
        ctx: Any, grad: Tensor
    ) -> tuple[Tensor | None, Tensor | None, None, None, None, None]:
        (x_c,) = ctx.saved_tensors
        circuit, keep, keep_im = ctx.setup
        group = circuit[-1]
        kernels = _kernels()
        sync_numba_threads()
        x_np = x_c.numpy()
        grad_np = grad.detach().to(x_c.dtype).contiguous().numpy()
        batch = x_np.shape[0]
        blocks = max(1, (batch + group - 1) // group)
        shape, dtype, device = ctx.theta_meta
        grad_x = np.empty_like(x_np)
        parts = np.zeros((blocks, *shape), dtype=np.float64)
        parallel = _use_threads(batch, group, shape[1], shape[0])
        (kernels.backward if parallel else kernels.backward_serial)(
            x_np, grad_np, circuit, grad_x, parts, keep, keep_im
        )
        grad_theta = torch.from_numpy(parts.sum(axis=0))
        grad_theta = grad_theta.to(dtype=dtype, device=device)
        need_x, need_theta = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        return (
            torch.from_numpy(grad_x) if need_x else None,
            grad_theta if need_theta else None,
            None,
            None,
            None,
            None,
        )


def simulate_fused(
    x: Tensor, theta: Tensor, plan: CircuitPlan, *, rotations: str, z_readout: bool
) -> Tensor:
    """Readout of the QAA circuit for CPU rows ``x [B, d]`` (see :class:`FusedQAA`).

    The caller checks the device (:func:`qaa_hw.simulate.statevector.simulate_qaa` raises a
    ``SimulationError`` for other devices).
    """
    # Inside forward the grad mode is always off and needs_input_grad ignores no_grad, so
    # whether a backward can follow is decided here.
    keep_state = torch.is_grad_enabled() and (x.requires_grad or theta.requires_grad)
    out: Tensor = FusedQAA.apply(x, theta, plan, rotations, z_readout, keep_state)
    return out
