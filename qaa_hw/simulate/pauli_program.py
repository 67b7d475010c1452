"""Compiled exact noisy simulation: Pauli-transfer blocks as sparse operations in Numba.

:func:`run_blocks` evaluates the same blocks as :func:`qaa_hw.simulate.noisy.run_steps`
(from ``|0...0>``, forward) with the loops of :mod:`qaa_hw.simulate.pauli_kernels`: every
constant channel as a sparse transfer matrix, every input-dependent ``rz`` as a rotation of
its qubit's ``X, Y`` components, blocks of inputs processed in parallel with the inputs as the
SIMD axis. The result is exact (the same products and sums, in another order); the tests
compare it with the torch path and with Aer.

It computes values only (no autograd); callers fall back to the torch path when a gradient
with respect to ``theta`` is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from qaa_hw.simulate.numba_support import sync_numba_threads
from qaa_hw.simulate.program import Block, GateOp

#: Values below this magnitude in a transfer matrix are dropped (exact zeros up to round-off).
_ZERO = 1e-15
#: Bytes of one task's ``[4^k, G]`` state that still run fast (L2/L3 resident).
_STATE_BYTES = 1 << 22


def group_size(num_qubits: int) -> int:
    """Inputs per parallel task ``G`` (the SIMD axis): a power of two in 16..64.

    Longer rows amortise the per-entry index arithmetic of the sparse products (measured:
    64 is best at k = 6), while the state must stay in cache (16 is best at k = 8).
    """
    fit = _STATE_BYTES // ((1 << (2 * num_qubits)) * 8)
    return int(min(64, max(16, 1 << max(0, fit.bit_length() - 1))))


@dataclass(frozen=True)
class PauliProgram:
    """Flat arrays of a block sequence, as :func:`pauli_kernels.run_program` takes them.

    Attributes:
        num_qubits: k.
        params: ``(name, index)`` of each column of the per-input parameter table.
        arrays: kind, qa, qb, start, rowptr, cols, vals, column, c0, c1 (see the kernel).
    """

    num_qubits: int
    params: tuple[tuple[str, int], ...]
    arrays: tuple[np.ndarray, ...]


def build_pauli_program(blocks: tuple[Block, ...], num_qubits: int) -> PauliProgram:
    """Flatten blocks (pre-rotations, channel, post-rotations) into kernel arrays."""
    kind: list[int] = []
    qa: list[int] = []
    qb: list[int] = []
    start: list[int] = []
    column: list[int] = []
    c0: list[float] = []
    c1: list[float] = []
    rowptr: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    params: dict[tuple[str, int], int] = {}

    def rotation(qubit: int, rot: GateOp) -> None:
        assert rot.param is not None  # a parameterised rz
        kind.append(1)
        qa.append(qubit)
        qb.append(-1)
        start.append(0)
        column.append(params.setdefault(rot.param, len(params)))
        c0.append(rot.c0)
        c1.append(rot.c1)

    for block in blocks:
        for pos, rot in block.pre:
            rotation(block.qubits[pos], rot)
        mat = block.ptm.detach().cpu().numpy()
        kind.append(0)
        qa.append(block.qubits[0])
        qb.append(block.qubits[1] if len(block.qubits) == 2 else -1)
        start.append(len(rowptr))
        column.append(0)
        c0.append(0.0)
        c1.append(0.0)
        for row in mat:
            rowptr.append(len(cols))
            for j in np.flatnonzero(np.abs(row) > _ZERO):
                cols.append(int(j))
                vals.append(float(row[j]))
        rowptr.append(len(cols))
        for pos, rot in block.post:
            rotation(block.qubits[pos], rot)
    ints = [np.asarray(a, dtype=np.int64) for a in (kind, qa, qb, start, rowptr, cols)]
    floats = [np.asarray(a, dtype=np.float64) for a in (vals,)]
    rot_cols = np.asarray(column, dtype=np.int64)
    rot_c = [np.asarray(a, dtype=np.float64) for a in (c0, c1)]
    order = tuple(sorted(params, key=params.__getitem__))
    return PauliProgram(num_qubits, order, (*ints, *floats, rot_cols, *rot_c))


def run_blocks(program: PauliProgram, values: dict[str, torch.Tensor], batch: int) -> torch.Tensor:
    """Canonical Pauli vectors ``[B, 4^k]`` (float64) after the program, from ``|0...0>``.

    Args:
        program: from :func:`build_pauli_program`.
        values: parameter vectors by name; ``[B, P]`` (per input) or ``[P]`` (shared).
        batch: B.
    """
    from qaa_hw.simulate import pauli_kernels

    sync_numba_threads()
    table = np.zeros((batch, max(1, len(program.params))), dtype=np.float64)
    for col, (name, index) in enumerate(program.params):
        vec = values[name].detach().to(torch.float64).cpu()
        table[:, col] = (vec[:, index] if vec.dim() > 1 else vec[index]).numpy()
    out = np.empty((batch, 1 << (2 * program.num_qubits)), dtype=np.float64)
    pauli_kernels.run_program(*program.arrays, table, group_size(program.num_qubits), out)
    return torch.from_numpy(out)
