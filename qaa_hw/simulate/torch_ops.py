"""Low-level PyTorch kernels of the training statevector engine.

Everything here is exact linear algebra on the conventions of :mod:`qaa_hw.circuits.spec`
(qubit ``q`` is bit ``q`` of the basis index). The public entry points live in
:mod:`qaa_hw.simulate.statevector`; this module holds the pieces they are made of:

* :func:`layer_gates` turns ``theta[L, n, r]`` into the per-qubit 2x2 matrices (the
  rotation set's gates from :mod:`qaa_hw.circuits.gates`, multiplied);
* :func:`kron_qubits` builds the Kronecker product of a run of 2x2 gates
  (``G[m-1] ⊗ ... ⊗ G[0]``, qubit 0 least significant);
* :class:`CircuitPlan` holds the index tensors fixed by the entangler (the CNOT layer is a
  permutation of basis states, applied as a gather);
* :func:`dense_unitary` and :func:`apply_layers` are the two exact evaluation strategies:
  build ``U(theta)`` and do one batch matmul, or apply each layer to the batch as two small
  matmuls over a split of the qubits plus one row gather.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from qaa_hw.circuits.gates import applied_layers, rotation_gates


@dataclass(frozen=True)
class CircuitPlan:
    """Index tensors of one (qubit count, entangler pairs) combination, on one device.

    Attributes:
        num_qubits: n.
        src: ``[2^n]`` int64; after one CNOT layer, amplitude ``j`` is old amplitude ``src[j]``.
        inv: ``[2^n]`` int64; the inverse permutation (``inv[src[j]] == j``).
        zsign: ``[2^n, n]`` float64 with ``zsign[i, q] = 1 - 2 * bit_q(i)``.
        zsign_before_perm: ``zsign[inv]``; Z readout taken before the last CNOT layer.
    """

    num_qubits: int
    src: Tensor
    inv: Tensor
    zsign: Tensor
    zsign_before_perm: Tensor
    _derived: dict[tuple[str, torch.dtype], Any] = field(
        default_factory=dict, compare=False, repr=False
    )

    def constant(self, name: str, dtype: torch.dtype) -> Any:
        """A derived constant, computed once per ``(name, dtype)`` and cached.

        Names: ``"zsign"`` and ``"zsign_t"`` (``[n, D]``), ``"zsign2"`` (``[2D, n]``, the
        Z signs of stacked real and imaginary parts), ``"two_zsign_t"`` / ``"two_zsign2_t"``
        (``2 Z^T``), ``"zsign_before_perm_t"`` (``[n, D]``); ``"numpy"`` (dtype ignored):
        ``(src, inv, zsign[src])`` as NumPy arrays.
        """
        key = (name, dtype)
        if key not in self._derived:
            self._derived[key] = self._make(name, dtype)
        return self._derived[key]

    def _make(self, name: str, dtype: torch.dtype) -> Any:
        if name == "numpy":
            src = self.src.cpu().numpy()
            return src, self.inv.cpu().numpy(), self.zsign.cpu().numpy()[src]
        z = self.zsign.to(dtype)
        table = {
            "zsign": lambda: z,
            "zsign_t": lambda: z.t().contiguous(),
            "zsign2": lambda: torch.cat((z, z), dim=0),
            "two_zsign_t": lambda: (2.0 * z).t().contiguous(),
            "two_zsign2_t": lambda: (2.0 * torch.cat((z, z), dim=0)).t().contiguous(),
            "zsign_before_perm_t": lambda: self.zsign_before_perm.to(dtype).t().contiguous(),
        }
        if name not in table:
            raise KeyError(f"unknown plan constant {name!r}; known: {', '.join(table)}")
        return table[name]()


def cnot_layer_permutation(num_qubits: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """``f`` with ``CNOTs |i> = |f[i]>`` for every basis index ``i`` of ``num_qubits`` qubits,
    the CNOT ``(control, target)`` pairs of one layer applied in order."""
    idx = torch.arange(1 << num_qubits, dtype=torch.int64)
    for control, target in pairs:
        idx = idx ^ (((idx >> control) & 1) << target)
    return [int(v) for v in idx.tolist()]


@functools.lru_cache(maxsize=256)
def circuit_plan(
    num_qubits: int, pairs: tuple[tuple[int, int], ...], device: str = "cpu"
) -> CircuitPlan:
    """The cached (read-only) :class:`CircuitPlan` of ``num_qubits`` and one layer's CNOT
    ``pairs`` (in order), its index tensors on ``device``."""
    dim = 1 << num_qubits
    forward = torch.tensor(cnot_layer_permutation(num_qubits, pairs), dtype=torch.int64)
    src = torch.empty(dim, dtype=torch.int64)
    src[forward] = torch.arange(dim, dtype=torch.int64)
    bits = (torch.arange(dim)[:, None] >> torch.arange(num_qubits)) & 1
    zsign = (1 - 2 * bits).to(torch.float64)
    return CircuitPlan(
        num_qubits=num_qubits,
        src=src.to(device),
        inv=forward.to(device),
        zsign=zsign.to(device),
        zsign_before_perm=zsign[forward].to(device),
    )


class _RowPermute(torch.autograd.Function):
    """``x.index_select(0, src)`` whose backward is a gather by the inverse permutation.

    The default backward of ``index_select`` is a scatter-add; for a bijection a gather with
    the inverse permutation is the same result and several times faster.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, src: Tensor, inv: Tensor) -> Tensor:
        ctx.save_for_backward(inv)
        return x.index_select(0, src)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (inv,) = ctx.saved_tensors
        return grad.index_select(0, inv), None, None


def permute_rows(x: Tensor, src: Tensor, inv: Tensor) -> Tensor:
    """Rows of ``x`` reordered by the permutation ``src`` (``out[j] = x[src[j]]``; ``inv`` its
    inverse), differentiable with respect to ``x``."""
    out: Tensor = _RowPermute.apply(x, src, inv)
    return out


class _SquaredMatmul(torch.autograd.Function):
    """``w @ (a * a)`` (``weights_left``) or ``(a * a) @ w`` with a one-pass backward.

    Autograd's own backward of ``a * a`` makes two products and a sum; here the factor 2 is
    folded into the small matrix and the gradient is ``a * (2 w^T @ g)``, done in place.
    """

    @staticmethod
    def forward(ctx: Any, a: Tensor, w: Tensor, weights_left: bool) -> Tensor:
        ctx.save_for_backward(a, w)
        ctx.weights_left = weights_left
        sq = a.square()
        return w @ sq if weights_left else sq @ w

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        a, w = ctx.saved_tensors
        two_w = 2.0 * w
        grad_sq = two_w.t() @ grad if ctx.weights_left else grad @ two_w.t()
        return grad_sq.mul_(a), None, None


def squared_matmul(a: Tensor, w: Tensor, *, weights_left: bool) -> Tensor:
    """``w @ a**2`` (``weights_left=True``) or ``a**2 @ w`` for real amplitudes ``a`` and
    constant weights ``w`` (Z signs), differentiable in ``a`` only."""
    out: Tensor = _SquaredMatmul.apply(a, w, weights_left)
    return out


class _EmbedBasisMajor(torch.autograd.Function):
    """``x[B, d]`` -> basis-major, zero-padded ``[dim, B]`` state, and ``||x||^2`` per row.

    Returning both from one node lets the backward write the input gradient in one
    contiguous pass (``g_state[:d]^T + 2 x g_sq``) instead of adding a transposed tensor.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int) -> tuple[Tensor, Tensor]:
        ctx.save_for_backward(x)
        batch, width = x.shape
        state = x.new_zeros(dim, batch)
        state[:width].copy_(x.t())
        return state, (x * x).sum(dim=1)

    @staticmethod
    def backward(ctx: Any, grad_state: Tensor, grad_sq: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
        torch.addcmul(grad_state[: x.shape[1]].t(), x, grad_sq[:, None], value=2.0, out=out)
        return out, None


def embed_basis_major(x: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """``(state, sq)`` for rows ``x [B, d]``, ``d <= dim``: the zero-padded transpose
    ``state [dim, B]`` (``state[:d] = x^T``) and ``sq[b] = ||x[b]||^2``."""
    state, sq = _EmbedBasisMajor.apply(x, dim)
    return state, sq


def layer_gates(theta: Tensor, rotations: str) -> Tensor:
    """Per-qubit 2x2 gate of every layer: the product of the rotation set's gates.

    Gate ``k`` of the set (:func:`~qaa_hw.circuits.gates.rotation_gates`) takes the angles
    ``theta[..., k]`` and acts after gates ``0..k-1``. The gates that change no readout are
    left out (:func:`~qaa_hw.circuits.gates.applied_layers`: the
    trailing diagonal gates of the last layer); their gradient is exactly zero.

    Args:
        theta: ``[L, n, r]`` angles.
        rotations: the rotation set.

    Returns:
        ``[L, n, 2, 2]``: real when every applied gate is real, else complex.
    """
    num_layers = theta.shape[0]
    applied = applied_layers(rotations, num_layers)
    out: Tensor | None = None
    for k, gate in enumerate(rotation_gates(rotations)):
        layers = applied[k]
        if layers == 0:
            continue
        angles = theta[..., k]
        if layers < num_layers:
            keep = torch.ones(num_layers, 1, dtype=theta.dtype, device=theta.device)
            keep[layers:] = 0.0
            angles = angles * keep
        m = gate.torch_matrix(angles)
        if out is None:
            out = m
        else:
            dtype = torch.promote_types(m.dtype, out.dtype)
            out = m.to(dtype) @ out.to(dtype)
    if out is None:  # nothing applied (a set of diagonal gates, one layer)
        eye = torch.eye(2, dtype=theta.dtype, device=theta.device)
        return eye.expand(*theta.shape[:2], 2, 2)
    return out


def kron_qubits(gates: Tensor) -> Tensor:
    """Kronecker product ``G[m-1] ⊗ ... ⊗ G[0]`` over the qubit axis.

    Args:
        gates: ``[..., m, 2, 2]`` with ``m >= 1``; index ``0`` acts on the least
            significant bit.

    Returns:
        ``[..., 2^m, 2^m]``.
    """
    out = gates[..., 0, :, :]
    for q in range(1, gates.shape[-3]):
        g = gates[..., q, :, :]
        size = out.shape[-1]
        out = (g[..., :, None, :, None] * out[..., None, :, None, :]).reshape(
            *out.shape[:-2], 2 * size, 2 * size
        )
    return out


def dense_unitary(gates: Tensor, plan: CircuitPlan, columns: int | None = None) -> Tensor:
    """The circuit unitary ``U = P K_L ... P K_1`` (or its first ``columns`` columns).

    Args:
        gates: ``[L, n, 2, 2]`` from :func:`layer_gates`.
        plan: the entangler's :class:`CircuitPlan`.
        columns: keep only ``U[:, :columns]`` (inputs shorter than 2^n never touch the rest).

    Returns:
        ``[2^n, columns]`` real or complex, following ``gates``.
    """
    layers = kron_qubits(gates)[:, plan.src]  # P K_l for every layer at once
    out = layers[0] if columns is None else layers[0][:, :columns]
    for layer in layers[1:]:
        out = layer @ out
    return out


def split_factors(gates: Tensor, low_qubits: int) -> tuple[Tensor | None, Tensor]:
    """Per-layer Kronecker factors over the low ``k`` and the high ``n - k`` qubits.

    Args:
        gates: ``[L, n, 2, 2]``.
        low_qubits: k in ``0..n-1``; 0 gives a single full factor.

    Returns:
        ``(low, high)``: ``[L, 2^k, 2^k]`` (``None`` when k = 0) and ``[L, 2^(n-k), 2^(n-k)]``.
    """
    high = kron_qubits(gates[:, low_qubits:])
    low = kron_qubits(gates[:, :low_qubits]) if low_qubits > 0 else None
    return low, high


def apply_layers(
    state: Tensor, gates: Tensor, plan: CircuitPlan, *, low_qubits: int, last_perm: bool
) -> Tensor:
    """Apply every layer to a basis-major batch ``state[2^n, B]``.

    Each rotation layer is ``K = K_high ⊗ K_low``; with the state viewed as
    ``[2^(n-k), 2^k, B]`` it is one batched matmul over the low index and one matmul over the
    high index, so a layer costs ``2 B 2^n (2^k + 2^(n-k))`` multiply-adds instead of
    ``2 B 4^n``. The CNOT layer is a row gather of contiguous rows of length B.

    Args:
        state: ``[2^n, B]`` real or complex (same dtype as ``gates``).
        gates: ``[L, n, 2, 2]`` from :func:`layer_gates`.
        plan: the entangler's :class:`CircuitPlan`.
        low_qubits: k, the split point (0: one ``2^n x 2^n`` matmul per layer).
        last_perm: apply the last CNOT layer (skip it when the readout absorbs it).

    Returns:
        ``[2^n, B]`` final (or pre-last-CNOT) state.
    """
    dim, batch = state.shape
    low, high = split_factors(gates, low_qubits)
    n_low = 1 << low_qubits
    n_high = dim // n_low
    num_layers = gates.shape[0]
    for layer in range(num_layers):
        if low is not None:
            state = torch.bmm(
                low[layer].expand(n_high, n_low, n_low), state.view(n_high, n_low, batch)
            )
        state = (high[layer] @ state.reshape(n_high, n_low * batch)).view(dim, batch)
        if last_perm or layer < num_layers - 1:
            state = permute_rows(state, plan.src, plan.inv)
    return state
