"""Numba kernel of the exact noisy engines: a Pauli-transfer program run on blocks of inputs.

The program is a flat list of operations on the Pauli vector ``r`` of ``k`` qubits
(``4^k`` reals, index ``sum_q p_q 4^q`` with ``p = 0, 1, 2, 3`` for ``I, X, Y, Z``, qubit 0
least significant, the canonical order of :mod:`qaa_hw.simulate.kernels`):

* ``kind 0``: a constant one- or two-qubit channel, its Pauli transfer matrix stored sparse
  (CSR rows); ``r' = R r`` on the qubits' digits. Fused noisy native gates are Clifford
  signed permutations times nearly diagonal noise channels, so a ``16 x 16`` block has a
  few dozen non-zeros, not 256 (``benchmarks/noisy_eval.py`` reports the mean);
* ``kind 1``: ``rz(c0 + c1 p)`` on one qubit, ``p`` a per-input parameter: rotates the
  ``X, Y`` components, ``(x, y) -> (c x - s y, s x + c y)``.

Each parallel task runs the whole program on ``G`` inputs at once, stored ``[4^k, G]`` so that
the inputs are the contiguous SIMD axis, and writes the final Pauli vectors out.

Only :mod:`qaa_hw.simulate.pauli_program` calls this; it builds and checks the arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_JIT = {"cache": True, "fastmath": True, "nogil": True, "boundscheck": False}


@njit(**_JIT)
def _zero_state(state):
    """``|0...0><0...0|``: ``r_P = 1`` for every ``P`` in ``{I, Z}^k``, else 0."""
    state[:] = 0.0
    dim = state.shape[0]
    for idx in range(dim):
        rest = idx
        keep = True
        while rest > 0:
            digit = rest & 3
            if digit == 1 or digit == 2:
                keep = False
                break
            rest >>= 2
        if keep:
            state[idx, :] = 1.0


@njit(**_JIT)
def _rotate(state, qubit, c, s):
    """``rz`` on ``qubit`` with per-input ``c, s`` (``[G]``)."""
    dim, width = state.shape
    stride = 1 << (2 * qubit)
    for high in range(0, dim, 4 * stride):
        for low in range(stride):
            ix = high + low + stride
            iy = ix + stride
            for g in range(width):
                x, y = state[ix, g], state[iy, g]
                state[ix, g] = c[g] * x - s[g] * y
                state[iy, g] = s[g] * x + c[g] * y


@njit(**_JIT)
def _channel_1q(state, qubit, rowptr, cols, vals, tmp):
    """Sparse ``4 x 4`` transfer matrix on ``qubit``."""
    dim, width = state.shape
    stride = 1 << (2 * qubit)
    for high in range(0, dim, 4 * stride):
        for low in range(stride):
            base = high + low
            for r in range(4):
                for g in range(width):
                    tmp[r, g] = 0.0
                for e in range(rowptr[r], rowptr[r + 1]):
                    v = vals[e]
                    src = base + cols[e] * stride
                    for g in range(width):
                        tmp[r, g] += v * state[src, g]
            for r in range(4):
                dst = base + r * stride
                for g in range(width):
                    state[dst, g] = tmp[r, g]


@njit(**_JIT)
def _channel_2q(state, q0, q1, rowptr, cols, vals, tmp, offsets):
    """Sparse ``16 x 16`` transfer matrix on ``(q0, q1)`` (``q0`` the low matrix digit)."""
    dim, width = state.shape
    s0 = 1 << (2 * q0)
    s1 = 1 << (2 * q1)
    lo, hi = min(s0, s1), max(s0, s1)
    for j in range(16):
        offsets[j] = (j & 3) * s0 + (j >> 2) * s1
    for top in range(0, dim, 4 * hi):
        for mid in range(0, hi, 4 * lo):
            for low in range(lo):
                base = top + mid + low
                for r in range(16):
                    for g in range(width):
                        tmp[r, g] = 0.0
                    for e in range(rowptr[r], rowptr[r + 1]):
                        v = vals[e]
                        src = base + offsets[cols[e]]
                        for g in range(width):
                            tmp[r, g] += v * state[src, g]
                for r in range(16):
                    dst = base + offsets[r]
                    for g in range(width):
                        state[dst, g] = tmp[r, g]


@njit(parallel=True, **_JIT)
def run_program(kind, qa, qb, start, rowptr, cols, vals, column, c0, c1, params, group, out):
    """Final Pauli vectors ``out[b]`` (``[B, 4^k]``) of ``|0><0|`` through the program.

    Operation ``i``: ``kind[i]`` (0 channel, 1 rotation) on qubits ``qa[i]`` (and ``qb[i]``,
    -1 for one qubit). Channels: rows ``rowptr[start[i] : start[i] + m + 1]`` (``m`` = 4 or
    16) index ``cols`` / ``vals``. Rotations: angle ``c0[i] + c1[i] * params[b, column[i]]``.
    """
    batch, dim = out.shape
    blocks = (batch + group - 1) // group
    for blk in prange(blocks):
        row0 = blk * group
        rows = min(group, batch - row0)
        state = np.empty((dim, group), np.float64)
        tmp = np.empty((16, group), np.float64)
        offsets = np.empty(16, np.int64)
        c = np.empty(group, np.float64)
        s = np.empty(group, np.float64)
        _zero_state(state)
        for i in range(kind.shape[0]):
            if kind[i] == 1:
                for g in range(group):
                    angle = c0[i]
                    if g < rows:
                        angle += c1[i] * params[row0 + g, column[i]]
                    c[g] = np.cos(angle)
                    s[g] = np.sin(angle)
                _rotate(state, qa[i], c, s)
            else:
                p = start[i]
                if qb[i] < 0:
                    _channel_1q(state, qa[i], rowptr[p : p + 5], cols, vals, tmp)
                else:
                    _channel_2q(state, qa[i], qb[i], rowptr[p : p + 17], cols, vals, tmp, offsets)
        for g in range(rows):
            for idx in range(dim):
                out[row0 + g, idx] = state[idx, g]
