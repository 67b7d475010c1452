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

from typing import Any

import numpy as np
import torch
from torch import Tensor

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
    """Rows per block ``G``: a power of two, smaller for larger registers.

    8..64 rows (measured best for n = 6..10); up to 256 for n <= 4, where a pass over a
    block is so short that the loop overhead per qubit dominates.
    """
    fit = _BLOCK_BYTES // ((1 << num_qubits) * itemsize)
    cap = 256 if num_qubits <= 4 else 64
    return int(min(cap, max(8, 1 << max(0, fit.bit_length() - 1))))


def _kernels() -> Any:
    from qaa_hw.simulate import fused_kernels

    return fused_kernels


def _angles(
    theta: Tensor, zsign: np.ndarray, with_rz: bool, dtype: np.dtype[Any]
) -> tuple[np.ndarray, ...]:
    """``cos, sin`` of half the ``RY`` angles (``[L, n]``) and the ``RZ`` layers' phases.

    The ``RZ`` layer of layer ``l`` multiplies basis state ``k`` by
    ``exp(-i/2 sum_q phi[l, q] z_q(k))``; returned as its cosine and sine, ``[L, 2^n]``
    (zero angles when ``with_rz`` is false).
    """
    half = 0.5 * theta.detach().cpu().to(torch.float64).numpy()
    ry = half[..., 0]
    phase = -(half[..., 1] @ zsign.T) if with_rz else np.zeros((ry.shape[0], zsign.shape[0]))
    return tuple(
        np.ascontiguousarray(a, dtype=dtype)
        for a in (np.cos(ry), np.sin(ry), np.cos(phase), np.sin(phase))
    )


class FusedQAA(torch.autograd.Function):
    """``readout(U(theta) x / ||x||)`` for CPU rows ``x [B, d]``, with its exact backward.

    ``forward(x, theta, plan, with_rz, z_readout, keep_state)``: ``theta [L, n, r]``;
    ``with_rz`` applies ``RZ(theta[..., 1])`` in every layer but the last; ``z_readout``
    selects Z expectations (else probabilities); ``keep_state`` keeps the final state for a
    backward. All-zero rows are embedded as ``|0...0>``.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        theta: Tensor,
        plan: CircuitPlan,
        with_rz: bool,
        z_readout: bool,
        keep_state: bool,
    ) -> Tensor:
        kernels = _kernels()
        sync_numba_threads()
        x_c = x.detach().contiguous()
        x_np = x_c.numpy()
        src, inv, _ = plan.constant("numpy", torch.float64)
        zsign = plan.constant("zsign", x.dtype).numpy()
        cy, sy, pc, ps = _angles(theta, zsign, with_rz, x_np.dtype)
        rz_layers = theta.shape[0] - 1 if with_rz else 0
        width = plan.num_qubits if z_readout else zsign.shape[0]
        out = np.empty((x_np.shape[0], width), dtype=x_np.dtype)
        group = block_rows(plan.num_qubits, x_np.itemsize)
        blocks = -(-x_np.shape[0] // group)
        parts = 2 if with_rz else 1
        kept = blocks * group * zsign.shape[0] * x_np.itemsize * parts
        keep_shape = (blocks, zsign.shape[0], group)
        if not keep_state or kept > _KEEP_BYTES:
            keep_shape = (0, 0, 0)
        keep = np.empty(keep_shape, dtype=x_np.dtype)
        keep_im = np.empty(keep_shape if with_rz else (0, 0, 0), dtype=x_np.dtype)
        circuit = (cy, sy, -sy, pc, ps, rz_layers, src, inv, zsign, z_readout, with_rz, group)
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
        parts = np.zeros((blocks, shape[0], shape[1], 2), dtype=np.float64)
        parallel = _use_threads(batch, group, shape[1], shape[0])
        (kernels.backward if parallel else kernels.backward_serial)(
            x_np, grad_np, circuit, grad_x, parts, keep, keep_im
        )
        grad_theta = torch.from_numpy(parts.sum(axis=0)[..., : shape[2]].copy())
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
    x: Tensor, theta: Tensor, plan: CircuitPlan, *, with_rz: bool, z_readout: bool
) -> Tensor:
    """Readout of the QAA circuit for CPU rows ``x [B, d]`` (see :class:`FusedQAA`).

    The caller checks the device (:func:`qaa_hw.simulate.statevector.simulate_qaa` raises a
    ``SimulationError`` for other devices).
    """
    # Inside forward the grad mode is always off and needs_input_grad ignores no_grad, so
    # whether a backward can follow is decided here.
    keep_state = torch.is_grad_enabled() and (x.requires_grad or theta.requires_grad)
    out: Tensor = FusedQAA.apply(x, theta, plan, with_rz, z_readout, keep_state)
    return out
