"""Batched torch kernels in the Pauli-transfer picture (real float64) and for state vectors.

A k-qubit state is its Pauli vector ``r_P = Tr(P rho)`` (``rho = 2^-k sum_P r_P P``) stored as a
real tensor ``[B, 4, ..., 4]`` with one axis per qubit and Paulis ``I, X, Y, Z`` on each axis.
The axes may be in any qubit order; ``order[i]`` is the qubit of axis ``1 + i``. Kernels keep
tensors contiguous and move axes only when a two-qubit operator needs two axes side by side.
:func:`canonical` restores the order ``(k-1, ..., 0)`` (most significant qubit first, as in a
``2^k`` basis index with qubit q = bit q).

A channel is its Pauli transfer matrix ``R[i, j] = Tr(P_i E(P_j)) / 2^m`` with
``i = 4 * p(q1) + p(q0)`` for qubits ``(q0, q1)``. Observables use the dual normalisation:
``A = sum_P a_P P`` so that ``Tr(A rho) = sum_P a_P r_P``; the Heisenberg picture applies
``R^T`` (``adjoint=True``).
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import torch

_SIGMA = torch.stack([
    torch.eye(2, dtype=torch.complex128),
    torch.tensor([[0, 1], [1, 0]], dtype=torch.complex128),
    torch.tensor([[0, -1j], [1j, 0]], dtype=torch.complex128),
    torch.tensor([[1, 0], [0, -1]], dtype=torch.complex128),
])
_LETTERS = string.ascii_letters


def zero_pauli_state(batch: int, k: int) -> tuple[torch.Tensor, list[int]]:
    """``|0...0><0...0|``: ``r_P = 1`` for P in ``{I, Z}^k``; canonical axis order."""
    one = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    data = one
    for _ in range(k - 1):
        data = torch.outer(data, one).reshape(-1)
    data = data.reshape((1,) + (4,) * k).expand((batch,) + (4,) * k).contiguous()
    return data, list(range(k - 1, -1, -1))


def apply_matrix(
    data: torch.Tensor,
    order: list[int],
    qubits: Sequence[int],
    mat: torch.Tensor,
    *,
    adjoint: bool = False,
) -> tuple[torch.Tensor, list[int]]:
    """Apply a Pauli transfer matrix on ``qubits`` (``qubits[0]`` least significant).

    The operator's axes are moved to the end (one copy unless they are already there),
    so every application is a single (batched) matrix product on contiguous memory.

    Args:
        data: ``[B, 4, ..., 4]`` Pauli vectors (or observables) in axis order ``order``.
        order: qubit of each axis.
        qubits: one or two qubits.
        mat: ``[4^m, 4^m]`` or per-batch ``[B, 4^m, 4^m]``.
        adjoint: apply ``R^T`` (Heisenberg picture).

    Returns:
        The new (contiguous) tensor and its axis order.
    """
    batch = data.shape[0]
    m = len(qubits)
    width = 4**m
    tail = list(reversed(qubits))  # most significant first, as in the matrix index
    if order[-m:] == tail:
        new_order = order
    elif m == 2 and order[-2:] == list(qubits):  # same two axes, other order: swap the matrix
        mat = mat.reshape(*mat.shape[:-2], 4, 4, 4, 4).transpose(-4, -3).transpose(-2, -1)
        mat = mat.reshape(*mat.shape[:-4], 16, 16)
        new_order = order
    else:
        new_order = [q for q in order if q not in qubits] + tail
        perm = [0] + [1 + order.index(q) for q in new_order]
        data = data.permute(perm)
    op = mat if adjoint else mat.transpose(-1, -2)
    if mat.dim() == 2:
        out = data.reshape(-1, width) @ op
    else:
        out = torch.bmm(data.reshape(batch, -1, width), op)
    return out.reshape((batch,) + (4,) * len(order)), new_order


def canonical(data: torch.Tensor, order: list[int]) -> torch.Tensor:
    """The tensor in axis order ``(k-1, ..., 0)``."""
    k = len(order)
    target = list(range(k - 1, -1, -1))
    if order == target:
        return data
    return data.permute([0] + [1 + order.index(q) for q in target]).contiguous()


def pauli_to_operator(vec: torch.Tensor, *, state: bool) -> torch.Tensor:
    """``[B, 4, ..., 4]`` (canonical, m axes) -> ``[B, 2^m, 2^m]`` complex.

    ``state=True``: ``rho = 2^-m sum_P r_P P``; ``False``: ``A = sum_P a_P P``.
    """
    batch, m = vec.shape[0], vec.dim() - 1
    basis = _SIGMA.reshape(4, 4)  # [p, (r c)]
    t = vec.to(torch.complex128).reshape(batch, -1)
    for _ in range(m):  # contract the leading Pauli axis, append its (row, col) pair
        t = (t.reshape(batch, 4, -1).transpose(1, 2) @ basis).reshape(batch, -1)
    t = t.reshape((batch,) + (2,) * (2 * m))
    t = t.permute([0, *range(1, 2 * m, 2), *range(2, 2 * m + 1, 2)])
    out = t.reshape(batch, 1 << m, 1 << m)
    return out / (1 << m) if state else out


def operator_to_pauli(op: torch.Tensor) -> torch.Tensor:
    """``[B, 2^m, 2^m]`` -> ``r_P = Tr(P op)`` as a real ``[B, 4, ..., 4]`` (canonical)."""
    batch, dim = op.shape[0], op.shape[-1]
    m = dim.bit_length() - 1
    t = op.to(torch.complex128).reshape((batch,) + (2,) * (2 * m))
    pairs = [a for j in range(m) for a in (1 + j, 1 + m + j)]
    t = t.permute([0, *pairs]).reshape(batch, -1)
    dual = _SIGMA.transpose(1, 2).reshape(4, 4).T  # [(r c), p] = sigma[p, c, r]
    for _ in range(m):  # contract the leading (row, col) pair, append its Pauli index
        t = (t.reshape(batch, 4, -1).transpose(1, 2) @ dual).reshape(batch, -1)
    return t.real.reshape((batch,) + (4,) * m).contiguous()


def z_observables(final_local: tuple[int, ...], k: int) -> torch.Tensor:
    """``Z`` on each measured qubit as Pauli vectors ``[n, 4, ..., 4]`` (canonical order)."""
    obs = torch.zeros((len(final_local),) + (4,) * k, dtype=torch.float64)
    for i, q in enumerate(final_local):
        index = [i] + [0] * k
        index[1 + k - 1 - q] = 3
        obs[tuple(index)] = 1.0
    return obs


def projector_observables(final_local: tuple[int, ...], k: int) -> torch.Tensor:
    """``|b><b|`` on the measured qubits (identity elsewhere) for every bitstring b.

    ``|b><b| = 2^-n prod_i (I + (-1)^{b_i} Z_i)``: coefficient ``2^-n (-1)^{|b & S|}`` on the
    Pauli with Z on the subset S of measured qubits. Returns ``[2^n, 4, ..., 4]``.
    """
    n = len(final_local)
    b = torch.arange(1 << n)
    parity = torch.zeros(1 << n, 1 << n, dtype=torch.long)
    for i in range(n):
        parity ^= ((b[:, None] >> i) & 1) & ((b[None, :] >> i) & 1)
    table = (1 - 2 * parity).to(torch.float64) / (1 << n)  # [bitstring, Z-subset]
    obs = torch.zeros((1 << n,) + (4,) * k, dtype=torch.float64)
    index: list[torch.Tensor] = [b[:, None]] + [torch.zeros(1, 1, dtype=torch.long)] * k
    for i, q in enumerate(final_local):
        index[1 + k - 1 - q] = (3 * ((b >> i) & 1))[None, :]
    obs[tuple(index)] = table
    return obs


def select_qubits(vec: torch.Tensor, keep: Sequence[int], k: int) -> torch.Tensor:
    """Components with the identity on every qubit outside ``keep``, canonical ``vec``.

    Returns ``[B, 4, ..., 4]`` over ``keep`` in logical order (``keep[-1]`` first), i.e. the
    Pauli vector of the reduced state of ``keep`` (``keep[i]`` becomes qubit i).
    """
    index: list[int | slice] = [slice(None)] * (k + 1)
    for q in range(k):
        if q not in keep:
            index[1 + k - 1 - q] = 0
    sub = vec[tuple(index)]
    remaining = [q for q in range(k - 1, -1, -1) if q in keep]  # axis order of `sub`
    perm = [0] + [1 + remaining.index(q) for q in reversed(keep)]
    return sub.permute(perm)


def z_components(vec: torch.Tensor, keep: Sequence[int], k: int) -> torch.Tensor:
    """``[B, 2, ..., 2]`` (n axes, logical MSB first): components in ``{I, Z}`` on ``keep``."""
    sub = select_qubits(vec, keep, k)
    index: list[int | slice | list[int]] = [slice(None)]
    out = sub
    for axis in range(1, sub.dim()):
        index = [slice(None)] * sub.dim()
        index[axis] = [0, 3]
        out = out[tuple(index)]
    return out


def probabilities_from_z(zc: torch.Tensor) -> torch.Tensor:
    """Probabilities ``[B, 2^n]`` from ``{I, Z}`` components ``[B, 2, ..., 2]``.

    ``p(b) = 2^-n sum_S z_S (-1)^{b.S}`` (a Walsh-Hadamard transform per axis).
    """
    batch, n = zc.shape[0], zc.dim() - 1
    h = torch.tensor([[1.0, 1.0], [1.0, -1.0]], dtype=zc.dtype) / 2
    out = zc
    for axis in range(1, n + 1):
        out = torch.movedim(torch.movedim(out, axis, -1) @ h, -1, axis)
    return out.reshape(batch, 1 << n)


def apply_unitary(
    psi: torch.Tensor, mat: torch.Tensor, qubits: Sequence[int], k: int
) -> torch.Tensor:
    """Apply ``mat`` (``[2^m, 2^m]`` or ``[B, 2^m, 2^m]``) on ``qubits`` to ``psi [B, 2^k]``.

    Written as ``4^m`` element-wise multiply-adds: MKL's complex GEMM with a 2 x 2 operand
    was measured at ~16 ms per call on small batches, far slower than this.
    """
    batch, dim = psi.shape
    width = 1 << len(qubits)
    src = [1 + k - 1 - q for q in reversed(qubits)]
    dst = list(range(k + 1 - len(qubits), k + 1))
    t = torch.movedim(psi.reshape((batch,) + (2,) * k), src, dst)
    shape = t.shape
    cols = t.reshape(batch, -1, width).unbind(-1)
    coef = mat[:, None] if mat.dim() == 3 else mat  # [B, 1, w, w] broadcasts over rows
    rows = []
    for i in range(width):
        acc = coef[..., i, 0] * cols[0]
        for j in range(1, width):
            acc = acc + coef[..., i, j] * cols[j]
        rows.append(acc)
    out = torch.stack(rows, -1).reshape(shape)
    return torch.movedim(out, dst, src).reshape(batch, dim)
