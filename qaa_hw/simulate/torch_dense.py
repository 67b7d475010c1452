"""The ``dense`` strategy as one autograd node with a hand-written backward.

For small registers the cost of a training step is dominated by the number of tensor
operations (and autograd nodes), not by arithmetic: ``U(theta)`` is a 16x16 matrix for four
qubits. This module evaluates the whole circuit (``theta -> U``, the batch matmul and the
readout) in one :class:`torch.autograd.Function` whose backward is written out:

* batch part: ``A = x @ W`` with ``W = U^T`` (or ``[Re U; Im U]^T`` for complex circuits),
  ``out = (A * A) @ Z / ||x||^2``; the backward is three small matmuls and two fused
  element-wise passes;
* circuit part: ``U = M_{L-1} ... M_0`` with ``M_l = P K_l``, ``K_l`` the Kronecker
  product of the layer's per-qubit gates (each the product of the rotation set's gates,
  matrices and derivatives from :mod:`qaa_hw.circuits.gates`; real unless a gate is
  complex). These are at most ``2^n x 2^n`` matrices of a few hundred entries for the usual
  ``n``, where every torch call costs microseconds of fixed overhead, so ``U`` and its
  gradient are computed with NumPy in float64 (more exact than needed) and only the batch
  part runs in torch.

Everything is exact; ``tests/simulate/test_statevector.py`` checks the gradient against the
parameter-shift rule and finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from qaa_hw.circuits.gates import applied_layers, rotation_gates, runs_complex
from qaa_hw.simulate.torch_ops import CircuitPlan, dense_unitary, layer_gates

Array = NDArray[Any]


@dataclass
class _UnitaryCache:
    """What the backward of :func:`unitary_numpy` needs."""

    slots: list[tuple[int, Array, Array]]  # (slot k, its gates [L, n, 2, 2], K = -iG)
    prefix_gates: list[Array]  # [L, n, 2, 2] products of the slots' gates up to each slot
    partial: list[Array]  # partial Kronecker products of the per-qubit layer gates
    applied: tuple[int, ...]  # layers applied per slot
    layers: Array  # [L, D, D] M_l = P K_l
    prefix: list[Array]  # M_l ... M_0[:, :d]
    num_slots: int


def _conj(a: Array) -> Array:
    return a.conj() if np.iscomplexobj(a) else a


def _kron_forward(gates: Array) -> list[Array]:
    """Partial Kronecker products ``[G_0, G_1 ⊗ G_0, ..., G_{n-1} ⊗ ... ⊗ G_0]`` per layer."""
    out = [gates[:, 0]]
    for q in range(1, gates.shape[1]):
        g, k = gates[:, q], out[-1]
        size = k.shape[-1]
        out.append(
            (g[:, :, None, :, None] * k[:, None, :, None, :]).reshape(-1, 2 * size, 2 * size)
        )
    return out


def _kron_backward(grad: Array, gates: Array, partial: list[Array]) -> Array:
    """``[L, n, 2, 2]`` gradient of every gate from ``grad`` on the full Kronecker product.

    Gradients of complex arrays are ``dL/dRe + i dL/dIm`` (so a factor enters conjugated).
    """
    num_layers, n = gates.shape[0], gates.shape[1]
    if np.iscomplexobj(gates):
        gates, partial = gates.conj(), [p.conj() for p in partial[:-1]]
    grads = [grad] * n
    for q in range(n - 1, 0, -1):
        size = partial[q - 1].shape[-1]
        g5 = grad.reshape(num_layers, 2, size, 2, size)
        grads[q] = (g5 * partial[q - 1][:, None, :, None, :]).sum(axis=(2, 4))
        grad = (g5 * gates[:, q, :, None, :, None]).sum(axis=(1, 3))
    grads[0] = grad
    return np.stack(grads, axis=1)


def unitary_numpy(
    theta: Array, plan: CircuitPlan, *, rotations: str, width: int
) -> tuple[Array, _UnitaryCache]:
    """First ``width`` columns of the circuit unitary, in float64/complex128.

    The gates that change no readout (the last layer's trailing diagonal gates,
    :func:`~qaa_hw.circuits.gates.applied_layers`) are left out; their gradient is zero.

    Args:
        theta: ``[L, n, r]`` float64 angles.
        plan: the entangler plan (its index tensors are read on the CPU).
        rotations: the rotation set.
        width: number of columns kept (the input length d).

    Returns:
        ``(U[:, :width], cache)``; ``U`` is real when every applied gate is real.
    """
    num_layers = theta.shape[0]
    applied = applied_layers(rotations, num_layers)
    slots: list[tuple[int, Array, Array]] = []
    prefix_gates: list[Array] = []
    for k, gate in enumerate(rotation_gates(rotations)):
        if applied[k] == 0:
            continue
        angles = theta[..., k].copy()
        angles[applied[k] :] = 0.0
        m = gate.matrix(angles)
        slots.append((k, m, gate.step))
        prefix_gates.append(m if not prefix_gates else m @ prefix_gates[-1])
    if not prefix_gates:  # nothing applied (a set of diagonal gates, one layer)
        prefix_gates.append(np.broadcast_to(np.eye(2), (*theta.shape[:2], 2, 2)))
    partial = _kron_forward(prefix_gates[-1])
    src = plan.constant("numpy", torch.float64)[0]
    layers = partial[-1][:, src]  # P K_l
    prefix = [layers[0][:, :width]]
    for layer in layers[1:]:
        prefix.append(layer @ prefix[-1])
    cache = _UnitaryCache(
        slots, prefix_gates, partial, applied, layers, prefix, theta.shape[-1]
    )
    return prefix[-1], cache


def unitary_numpy_backward(grad_u: Array, cache: _UnitaryCache, plan: CircuitPlan) -> Array:
    """Gradient ``[L, n, r]`` of the angles from the gradient of ``U[:, :width]``.

    Args:
        grad_u: ``[D, width]``; for a complex ``U``, ``dL/dRe U + i dL/dIm U``.
        cache: from :func:`unitary_numpy`.
        plan: the same plan.

    Returns:
        float64 gradient; zero for the gates left out.
    """
    layers, prefix = cache.layers, cache.prefix
    grad_m = np.zeros_like(layers)
    for idx in range(len(prefix) - 1, 0, -1):
        grad_m[idx] = grad_u @ _conj(prefix[idx - 1]).swapaxes(-1, -2)
        grad_u = _conj(layers[idx]).T @ grad_u
    grad_m[0, :, : grad_u.shape[1]] = grad_u
    inv = plan.constant("numpy", torch.float64)[1]
    gates = cache.prefix_gates[-1]
    # grad of the per-qubit layer gates G = m_{s-1} ... m_0, then of each slot's angle:
    # dG/dt_j = S_j (K_j / 2) P_j with P_j = m_j ... m_0 and S_j = m_{s-1} ... m_{j+1}.
    grad_after = _kron_backward(grad_m[:, inv], gates, cache.partial)  # S_j^H grad_G
    num_layers, n = gates.shape[0], gates.shape[1]
    grad_theta = np.zeros((num_layers, n, cache.num_slots))
    for j in range(len(cache.slots) - 1, -1, -1):
        k, m, step = cache.slots[j]
        h = grad_after @ _conj(cache.prefix_gates[j]).swapaxes(-1, -2)
        grad_theta[..., k] = 0.5 * np.einsum("...ab,ab->...", _conj(h), step).real
        grad_theta[cache.applied[k] :, :, k] = 0.0
        if j > 0:
            grad_after = _conj(m).swapaxes(-1, -2) @ grad_after
    return grad_theta


class DenseQAA(torch.autograd.Function):
    """``out = readout(x @ U(theta)^T) / ||x||^2`` with a fused, hand-written backward.

    ``forward(x, theta, sq, plan, rotations, z_readout)``: ``x [B, d]`` with no all-zero
    row, ``theta [L, n, r]``, ``sq = (x * x).sum(1)`` (not differentiated through autograd:
    its gradient is added here), ``plan`` the entangler plan, ``rotations`` the rotation set,
    ``z_readout`` Z expectations (else probabilities). The output has ``x``'s dtype.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        theta: Tensor,
        sq: Tensor,
        plan: CircuitPlan,
        rotations: str,
        z_readout: bool,
    ) -> Tensor:
        width = x.shape[1]
        cplx = runs_complex(rotations, theta.shape[0])
        if _use_numpy(plan.num_qubits, cplx):
            theta_np = theta.detach().cpu().numpy().astype(np.float64)
            u, cache = unitary_numpy(theta_np, plan, rotations=rotations, width=width)
            w_np = np.concatenate((u.real, u.imag), axis=0).T if cplx else u.T  # [d, D']
            w = torch.from_numpy(np.ascontiguousarray(w_np, dtype=_NUMPY_DTYPE[x.dtype]))
            w = w.to(x.device)
            ctx.cache = cache
        else:
            # Larger U: build it with torch autograd on a detached copy of theta (kept in
            # ctx), so the backward is one autograd.grad call on this small graph.
            with torch.enable_grad():
                leaf = theta.detach().to(x.dtype).requires_grad_(True)
                gates = layer_gates(leaf, rotations)
                u_t = dense_unitary(gates, plan, columns=width)
                w_graph = torch.cat((u_t.real, u_t.imag), dim=0).t() if cplx else u_t.t()
            w = w_graph.detach()
            ctx.cache = (leaf, w_graph)
        amps = x @ w  # [B, D']
        dim = plan.zsign.shape[0]
        if z_readout:
            zsign_t = plan.constant("zsign2" if cplx else "zsign", x.dtype).t()
            # (Z^T @ (A^2)^T)^T runs faster than A^2 @ Z for the skinny Z.
            out = torch.mm(zsign_t, amps.square().t()).t().div_(sq[:, None])
        else:
            probs = amps.square()
            if cplx:
                probs = probs[:, :dim] + probs[:, dim:]
            out = probs.div_(sq[:, None])
        ctx.save_for_backward(x, sq, amps, w, out)
        ctx.plan = plan
        ctx.cplx = cplx
        ctx.z_readout = z_readout
        ctx.theta_dtype = theta.dtype
        return out

    @staticmethod
    def backward(
        ctx: Any, grad: Tensor
    ) -> tuple[Tensor | None, Tensor | None, None, None, None, None]:
        x, sq, amps, w, out = ctx.saved_tensors
        need_x, need_theta = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        scaled = grad / sq[:, None]
        if ctx.z_readout:
            two_zt = ctx.plan.constant("two_zsign2_t" if ctx.cplx else "two_zsign_t", x.dtype)
            grad_amps = torch.mm(scaled, two_zt).mul_(amps)
        else:
            g2 = 2.0 * scaled
            if ctx.cplx:
                g2 = torch.cat((g2, g2), dim=1)
            grad_amps = g2.mul_(amps)
        grad_x = None
        if need_x:
            # d(out)/d(sq) = -out / sq: the normalisation's share of the gradient.
            grad_sq = torch.linalg.vecdot(scaled, out)[:, None]
            grad_x = torch.addcmul(torch.mm(grad_amps, w.t()), x, grad_sq, value=-2.0)
        grad_theta = None
        if need_theta:
            grad_w = x.t() @ grad_amps  # [d, D']
            if isinstance(ctx.cache, _UnitaryCache):
                grad_np = grad_w.cpu().numpy().astype(np.float64)
                dim = ctx.cache.layers.shape[-1]
                re, im = grad_np[:, :dim].T, grad_np[:, dim:].T
                grad_u = re + 1j * im if ctx.cplx else grad_np.T
                grad_theta = torch.from_numpy(unitary_numpy_backward(grad_u, ctx.cache, ctx.plan))
            else:
                leaf, w_graph = ctx.cache
                # retain: the outer graph may be walked again (e.g. retain_graph=True)
                (grad_theta,) = torch.autograd.grad(w_graph, leaf, grad_w, retain_graph=True)
            grad_theta = grad_theta.to(dtype=ctx.theta_dtype, device=x.device)
        return grad_x, grad_theta, None, None, None, None


def _use_numpy(num_qubits: int, cplx: bool) -> bool:
    """NumPy for matrices small enough that its BLAS stays single-threaded.

    (A second thread pool next to torch's would oversubscribe the cores.)
    """
    return num_qubits <= (_NUMPY_MAX_QUBITS - 1 if cplx else _NUMPY_MAX_QUBITS)


_NUMPY_MAX_QUBITS = 6
_NUMPY_DTYPE: dict[torch.dtype, type] = {torch.float32: np.float32, torch.float64: np.float64}
