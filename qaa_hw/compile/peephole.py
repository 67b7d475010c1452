"""Single-qubit rewrites of a parameterised circuit before translation (exact as operators).

Qiskit's one-qubit optimisation (``Optimize1qGatesDecomposition``) only merges runs of
*bound* gates between two-qubit gates, and each parameterised ``ry`` is translated on its own
to ``sx``-``rz(theta)``-``sx`` (two ``sx`` pulses, each priced by ESP). :func:`rz_frames`
removes most of those pulses from uniformly controlled rotations (the embedding's
multiplexors): on a wire, a run of ``ry`` rotations separated only by CNOTs that *target*
that wire is conjugated into the frame ``S = RX(pi/2)``::

    RY(a) = S^dagger RZ(a) S,    S^dagger CX(c -> w) S = CX(c -> w)   (X_w commutes with S)

so the run becomes ``S, rz(a1), cx, rz(a2), cx, ..., S^dagger``: two fixed ``rx`` gates (which
the translation merges with their neighbours) instead of two pulses per rotation, and the
angles stay single-parameter ``rz`` s, which the simulators require.
"""

from __future__ import annotations

import math
from collections import defaultdict

from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import RXGate, RZGate

#: Gates that commute with RX on a wire (besides ``cx`` with that wire as target).
_X_LIKE = frozenset({"x", "rx", "sx", "sxdg"})


def rz_frames(circuit: QuantumCircuit, *, min_rotations: int = 2) -> QuantumCircuit:
    """Rewrite runs of ``ry`` and CNOT targets on each wire in the ``RX(pi/2)`` frame.

    Args:
        circuit: a circuit of ``ry``/``rz``/``cx`` (other gates end a run).
        min_rotations: only runs with at least this many ``ry`` gates are rewritten (a lone
            ``ry`` costs the same either way).

    Returns:
        A new circuit, equal to ``circuit`` as an operator.
    """
    ops = [(inst.operation, tuple(circuit.find_bit(q).index for q in inst.qubits))
           for inst in circuit.data]
    on_wire: dict[int, list[int]] = defaultdict(list)
    for i, (_, qargs) in enumerate(ops):
        for q in qargs:
            on_wire[q].append(i)
    before: dict[int, list[int]] = defaultdict(list)  # op index -> wires opening a frame
    after: dict[int, list[int]] = defaultdict(list)  # op index -> wires closing a frame
    to_rz: set[int] = set()
    for w, positions in on_wire.items():
        run: list[int] = []
        for i in [*positions, -1]:
            if i >= 0 and _in_frame(ops[i], w):
                run.append(i)
                continue
            rotations = [j for j in run if ops[j][0].name == "ry"]
            if len(rotations) >= min_rotations:
                # open just before the first rotation, close just after the last one
                before[rotations[0]].append(w)
                after[rotations[-1]].append(w)
                to_rz.update(rotations)
            run = []
    out = circuit.copy_empty_like()
    for i, (op, qargs) in enumerate(ops):
        for w in before.get(i, ()):
            out.append(RXGate(math.pi / 2), [w])
        if i in to_rz:
            out.append(RZGate(op.params[0]), list(qargs))
        else:
            out.append(op, list(qargs))
        for w in after.get(i, ()):
            out.append(RXGate(-math.pi / 2), [w])
    return out


def _in_frame(entry: tuple, wire: int) -> bool:
    op, qargs = entry
    name = op.name
    if len(qargs) == 1:
        return name == "ry" or name in _X_LIKE
    return name == "cx" and qargs[1] == wire
