"""The ``dense`` strategy as one autograd node with a hand-written backward.

For small registers the cost of a training step is dominated by the number of tensor
operations (and autograd nodes), not by arithmetic: ``U(theta)`` is a 16x16 matrix for four
qubits. This module evaluates the batch part (the matmul with ``U`` and the readout) in one
:class:`torch.autograd.Function` whose backward is written out: ``A = x @ W`` with
``W = U^T`` (or ``[Re U; Im U]^T`` for complex circuits), ``out = (A * A) @ Z / ||x||^2``; the
backward is three small matmuls and two fused element-wise passes. ``U(theta)`` itself
(:func:`~qaa_hw.simulate.torch_ops.dense_unitary`) is built on a detached copy of ``theta`` and
differentiated by autograd in the backward.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from qaa_hw.circuits.gates import runs_complex
from qaa_hw.simulate.torch_ops import CircuitPlan, dense_unitary, layer_gates


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
        with torch.enable_grad():
            leaf = theta.detach().to(x.dtype).requires_grad_(True)
            u_t = dense_unitary(layer_gates(leaf, rotations), plan, columns=width)
            w_graph = torch.cat((u_t.real, u_t.imag), dim=0).t() if cplx else u_t.t()
        w = w_graph.detach()
        ctx.graph = (leaf, w_graph)
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
            leaf, w_graph = ctx.graph
            # retain: the outer graph may be walked again (e.g. retain_graph=True)
            (grad_theta,) = torch.autograd.grad(w_graph, leaf, grad_w, retain_graph=True)
            grad_theta = grad_theta.to(dtype=ctx.theta_dtype, device=x.device)
        return grad_x, grad_theta, None, None, None, None
