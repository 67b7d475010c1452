"""A compiled adapter as a list of torch operations on its k active qubits.

:func:`build_program` reads ``compiled.circuit`` once: wires renumbered to the active qubits;
the ops split at the ``"qaa:ansatz"`` barrier into the state preparation (``alpha`` parameters
only) and the ansatz (``theta`` only), or, without a barrier, every gate an ``alpha`` gate
depends on along the wires moved (wire order kept) into the preparation; every parameterised
gate an ``rz`` with angle ``c0 + c1 * p`` (checked at a third point), so angles evaluate
vectorised over a batch; each gate carrying the Pauli transfer matrix of the noise that follows
it (the one :class:`~qaa_hw.simulate.noise.NoiseSpec`). With ``fold = 2k + 1`` every timed gate
G becomes ``G (G^-1 G)^k`` (Mitiq's ``fold_all``; ``G^-1`` the native pulses of the gate table
:data:`qaa_hw.circuits.gates.GATES`, ``rz`` virtual and not folded). With idle relaxation on,
the circuit is scheduled ASAP and an ``idle`` op with each idle window's relaxation is inserted
before the gate that ends the window (:func:`qaa_hw.simulate.schedule.with_idle`).

:func:`compile_steps` then turns the ops into :class:`Block` s: constant gates (with their noise)
multiplied into one Pauli transfer matrix per two-qubit gate (:func:`fuse`), each parameterised
``rz`` folded into the next (or previous) block on its wire as a rotation evaluated per input.
The engines apply about one ``16 x 16`` matrix per native two-qubit gate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from qaa_hw.circuits.gates import GATES, native_gate
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError, SimulationError
from qaa_hw.simulate.noise import NoiseSpec, ptm_matrix
from qaa_hw.simulate.schedule import asap, idle_windows, total_duration_s, with_idle

ANSATZ_BARRIER = "qaa:ansatz"
PREP_PARAMETER = "alpha"
ANSATZ_PARAMETER = "theta"
#: Name of the op that carries an idle window's relaxation.
IDLE = "idle"
_CHECK_POINT = 0.7318
_CDTYPE = torch.complex128


@dataclass(frozen=True)
class GateOp:
    """One native gate on local qubits, with the noise that follows it.

    Attributes:
        name: Qiskit name (``rz``, ``sx``, ``ecr``, ...).
        qubits: local qubits in the gate's argument order (``qubits[0]`` is the LSB).
        unitary: the ideal gate matrix; ``None`` for a parameterised ``rz``.
        noise: Pauli transfer matrix of the channel applied after the gate, or ``None``.
        param: ``(vector name, index)`` of the rz angle's parameter, or ``None``.
        c0: constant part of the rz angle.
        c1: slope of the rz angle in its parameter.
        duration_s: how long the gate (or the idle window of an ``idle`` op) lasts.
    """

    name: str
    qubits: tuple[int, ...]
    unitary: torch.Tensor | None = field(default=None, compare=False)
    noise: torch.Tensor | None = field(default=None, compare=False)
    param: tuple[str, int] | None = None
    c0: float = 0.0
    c1: float = 0.0
    duration_s: float = 0.0

    def ptm(self) -> torch.Tensor:
        """Pauli transfer matrix of the noisy gate (constant gates only)."""
        if self.unitary is None:
            raise SimulationError(f"{self.name} with parameter {self.param} has no fixed PTM")
        gate = unitary_ptm(self.unitary)
        return gate if self.noise is None else self.noise @ gate

    def angle(self, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The rz angle: scalar, or ``[B]`` when the parameter vector is batched ``[B, P]``."""
        if self.param is None:
            return torch.tensor(self.c0, dtype=torch.float64)
        name, index = self.param
        return self.c0 + self.c1 * values[name][..., index]


@dataclass(frozen=True)
class Program:
    """A compiled adapter as ops on its active qubits.

    Attributes:
        physical_qubits: the active qubits; local index ``i`` is ``physical_qubits[i]``.
        ops: every gate, in an order that keeps each wire's order.
        split: number of ops before the ``qaa:ansatz`` barrier. Without a barrier, the
            gates are reordered (wire order kept) so that the smallest set closed under
            wire dependencies that holds every ``alpha`` gate comes first.
        initial_local: local qubit of logical qubit i at the start.
        final_local: local qubit measured for logical qubit i.
        readout: ``(n, 2, 2)`` confusion of the measured qubits in logical order,
            ``readout[i, b, m] = P(m | b)``.
        num_alpha: length of the ``alpha`` parameter vector (embedding angles).
        num_theta: length of ``theta``.
        noisy: whether any noise channel is attached.
        fold: gate-folding factor (1: the compiled circuit).
        duration_s: scheduled duration of the circuit (0 without noise).
    """

    physical_qubits: tuple[int, ...]
    ops: tuple[GateOp, ...]
    split: int
    initial_local: tuple[int, ...]
    final_local: tuple[int, ...]
    readout: torch.Tensor = field(compare=False)
    num_alpha: int
    num_theta: int
    noisy: bool
    fold: int = 1
    duration_s: float = 0.0

    @property
    def prep(self) -> tuple[GateOp, ...]:
        """State-preparation ops (before the split)."""
        return self.ops[: self.split]

    @property
    def ansatz(self) -> tuple[GateOp, ...]:
        """Ansatz ops (after the split)."""
        return self.ops[self.split :]

    @property
    def num_qubits(self) -> int:
        """k, the number of simulated (active) qubits."""
        return len(self.physical_qubits)

    @property
    def num_logical(self) -> int:
        """n, the number of logical qubits."""
        return len(self.final_local)


def build_program(
    compiled: CompiledAdapter, noise: NoiseSpec | None, *, fold: int = 1
) -> Program:
    """Read a compiled adapter into a :class:`Program` on its active qubits.

    Args:
        compiled: the compiled adapter (physical circuit in the device basis).
        noise: the noise on ``compiled.active_qubits`` (``None``: the ideal circuit).
        fold: odd gate-folding factor (see the module docstring).

    Returns:
        The program.

    Raises:
        SimulationError: several ``qaa:ansatz`` barriers, a parameterised gate that is not an
            affine ``rz``, ``theta`` gates that the preparation depends on (or any parameter
            on the wrong side of the barrier), an instruction the engines do not simulate
            (measure, reset, delay, ...), or an even or non-integer ``fold``.
    """
    if isinstance(fold, bool) or not isinstance(fold, int) or fold < 1 or fold % 2 == 0:
        raise SimulationError(
            f"fold={fold!r} is not valid; accepted: an odd integer >= 1 (G (G^-1 G)^k)"
        )
    circuit = compiled.circuit
    active = compiled.active_qubits
    local = {p: i for i, p in enumerate(active)}
    ops: list[GateOp] = []
    split: int | None = None
    sizes = {PREP_PARAMETER: 0, ANSATZ_PARAMETER: 0}
    for inst in circuit.data:
        op = inst.operation
        qubits = tuple(local[circuit.find_bit(q).index] for q in inst.qubits)
        if op.name == "barrier":
            if op.label == ANSATZ_BARRIER:
                if split is not None:
                    raise SimulationError(
                        f"compiled circuit has several barriers labelled {ANSATZ_BARRIER!r}; "
                        "expected one between state preparation and ansatz"
                    )
                split = len(ops)
            continue
        gate = _gate_op(op, qubits, noise)
        if gate.param is not None:
            name, index = gate.param
            if name not in sizes:
                raise SimulationError(
                    f"parameter {name}[{index}] is neither {PREP_PARAMETER!r} nor "
                    f"{ANSATZ_PARAMETER!r}"
                )
            sizes[name] = max(sizes[name], index + 1)
        ops.append(gate)
    if fold > 1:
        ops, split = _folded(ops, split, fold, noise)
    duration = 0.0
    if noise is not None:
        ops, split, duration = _with_idle(ops, split, noise)
    if split is None:
        ops, split = _infer_split(ops)
    _check_sides(ops, split)
    _check_parameter_counts(compiled, sizes)
    final_local = tuple(local[q] for q in compiled.final_layout)
    if noise is not None:
        readout = noise.confusion(final_local)
    else:
        readout = torch.eye(2, dtype=torch.float64).repeat(len(final_local), 1, 1)
    return Program(
        physical_qubits=tuple(active),
        ops=tuple(ops),
        split=split,
        initial_local=tuple(local[q] for q in compiled.initial_layout),
        final_local=final_local,
        readout=readout,
        num_alpha=sizes[PREP_PARAMETER],
        num_theta=compiled.spec.num_parameters,
        noisy=noise is not None and not noise.is_ideal,
        fold=fold,
        duration_s=duration,
    )


def _folded(
    ops: Sequence[GateOp], split: int | None, fold: int, noise: NoiseSpec | None
) -> tuple[list[GateOp], int | None]:
    """Every timed gate G replaced by ``G (G^-1 G)^k``, ``fold = 2k + 1``."""
    out: list[GateOp] = []
    new_split = None
    for position, op in enumerate(ops):
        if position == split:
            new_split = len(out)
        out.append(op)
        if op.name == IDLE or GATES[op.name].virtual:
            continue
        inverse = [
            op if name == op.name else _constant_rz(op.qubits, angle, noise)
            for name, angle in GATES[op.name].inverse
        ]
        for _ in range(fold // 2):
            out += inverse
            out.append(op)
    if split is not None and new_split is None:
        new_split = len(out)
    return out, new_split


def _with_idle(
    ops: Sequence[GateOp], split: int | None, noise: NoiseSpec
) -> tuple[list[GateOp], int | None, float]:
    """Insert the relaxation of every idle window (see the module docstring)."""
    timed = [(op.name, op.qubits) for op in ops]
    slots = asap(timed, noise.duration_s, noise.num_qubits)
    windows = idle_windows(timed, slots, noise.num_qubits) if noise.idle else []
    eye = torch.eye(2, dtype=_CDTYPE)
    relax = {
        w: GateOp(IDLE, (w.qubit,), eye, ptm, duration_s=w.seconds)
        for w in windows
        if (ptm := noise.relaxation_ptm(w.qubit, w.seconds)) is not None
    }
    out = with_idle(ops, list(relax), relax.__getitem__)
    if split is not None:  # the idle ops before the first ansatz gate belong to the ansatz
        split += sum(1 for w in relax if w.before < split)
    return out, split, total_duration_s(slots)


def _infer_split(ops: Sequence[GateOp]) -> tuple[list[GateOp], int]:
    """Without a barrier: move every gate that some alpha gate depends on (along the wires),
    and the alpha gates themselves, to the front; they form the preparation.

    A reverse pass marks a gate as preparation if it uses ``alpha`` or shares a wire with a
    later preparation gate. Reordering keeps every wire's order, so the circuit is unchanged.
    """
    wires: set[int] = set()
    prep = [False] * len(ops)
    for position in range(len(ops) - 1, -1, -1):
        gate = ops[position]
        if (gate.param is not None and gate.param[0] == PREP_PARAMETER) or wires & set(gate.qubits):
            prep[position] = True
            wires.update(gate.qubits)
    front = [g for g, p in zip(ops, prep, strict=True) if p]
    back = [g for g, p in zip(ops, prep, strict=True) if not p]
    return front + back, len(front)


def _check_sides(ops: Sequence[GateOp], split: int) -> None:
    for position, gate in enumerate(ops):
        if gate.param is None:
            continue
        expected = PREP_PARAMETER if position < split else ANSATZ_PARAMETER
        if gate.param[0] != expected:
            part = "state preparation" if expected == PREP_PARAMETER else "ansatz"
            raise SimulationError(
                f"{gate.param[0]}[{gate.param[1]}] is part of the {part} (split by the "
                f"{ANSATZ_BARRIER!r} barrier, or by wire dependencies without one); only "
                f"{expected!r} parameters may appear there"
            )


def _check_parameter_counts(compiled: CompiledAdapter, sizes: Mapping[str, int]) -> None:
    expected = compiled.spec.num_parameters
    if sizes[ANSATZ_PARAMETER] > expected:
        raise SimulationError(
            f"circuit uses theta[{sizes[ANSATZ_PARAMETER] - 1}] but the spec has only "
            f"{expected} trainable parameters"
        )


def _constant_rz(qubits: tuple[int, ...], value: float, noise: NoiseSpec | None) -> GateOp:
    phase = torch.tensor([-0.5j * value, 0.5j * value], dtype=_CDTYPE).exp()
    error = noise.gate_error("rz", qubits) if noise is not None else None
    return GateOp("rz", qubits, torch.diag(phase), error, None, value, 0.0)


def _gate_op(op: object, qubits: tuple[int, ...], noise: NoiseSpec | None) -> GateOp:
    from qiskit.circuit import ParameterExpression

    name: str = op.name  # type: ignore[attr-defined]
    params = list(op.params)  # type: ignore[attr-defined]
    try:
        gate = native_gate(name)
    except ConfigError as e:
        raise SimulationError(f"{e} (the engines run compiled circuits without measurements "
                              "or delays)") from None
    error = noise.gate_error(name, qubits) if noise is not None else None
    duration = noise.duration_s(name, qubits) if noise is not None else 0.0
    if name == "rz":
        angle = params[0]
        if isinstance(angle, ParameterExpression) and angle.parameters:
            param, c0, c1 = _affine(angle)
            vector = getattr(param, "vector", None)
            if vector is None:
                raise SimulationError(f"rz parameter {param} is not part of a ParameterVector")
            index = int(param.index)  # type: ignore[attr-defined]
            return GateOp(name, qubits, None, error, (vector.name, index), c0, c1)
        return _constant_rz(qubits, float(angle), noise)
    if any(isinstance(p, ParameterExpression) and p.parameters for p in params):
        raise SimulationError(
            f"parameterised {name!r} gate found; after transpilation only rz may carry "
            "parameters"
        )
    matrix = torch.tensor(gate.matrix(), dtype=_CDTYPE)
    return GateOp(name, qubits, matrix, error, duration_s=duration)


def _affine(expr: object) -> tuple[object, float, float]:
    params = list(expr.parameters)  # type: ignore[attr-defined]
    if len(params) != 1:
        raise SimulationError(
            f"rz angle {expr} depends on {len(params)} parameters; expected exactly one"
        )
    p = params[0]

    def at(value: float) -> float:
        return float(expr.bind({p: value}))  # type: ignore[attr-defined]

    c0 = at(0.0)
    c1 = at(1.0) - c0
    probe = at(_CHECK_POINT)
    if not math.isclose(probe, c0 + c1 * _CHECK_POINT, rel_tol=1e-9, abs_tol=1e-9):
        raise SimulationError(f"rz angle {expr} is not an affine function of {p}")
    return p, c0, c1


# ------------------------------------------------------------------------------- fusion
def unitary_ptm(u: torch.Tensor) -> torch.Tensor:
    """Pauli transfer matrix ``R[i, j] = Tr(P_i U P_j U^dagger) / d`` of a unitary (Qiskit's
    ``PTM``, the conversion the noise spec uses for its channels)."""
    from qiskit.quantum_info import Operator

    return torch.from_numpy(ptm_matrix(Operator(u.numpy())))


def rotation_ptm(angle: torch.Tensor) -> torch.Tensor:
    """PTM of ``rz(angle)``: ``[4, 4]``, or ``[B, 4, 4]`` for an angle of shape ``[B]``."""
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(c), torch.zeros_like(c)
    rows = [
        torch.stack((one, zero, zero, zero), -1),
        torch.stack((zero, c, -s, zero), -1),
        torch.stack((zero, s, c, zero), -1),
        torch.stack((zero, zero, zero, one), -1),
    ]
    return torch.stack(rows, -2)


@dataclass(frozen=True)
class MatStep:
    """A constant channel on one or two qubits (``qubits[0]`` least significant)."""

    qubits: tuple[int, ...]
    ptm: torch.Tensor = field(compare=False)


#: A fused step: a constant channel, or a parameterised ``rz`` (a :class:`GateOp`).
Step = MatStep | GateOp


@dataclass(frozen=True)
class Block:
    """One matrix application: a constant channel with rz rotations folded in.

    The block's matrix is ``post[-1] ... post[0] @ ptm @ pre[-1] ... pre[0]`` (rotations
    lifted to the block's qubits); it is per input (``[B, 4^m, 4^m]``) when a rotation
    angle depends on the batched ``alpha``.

    Attributes:
        qubits: one or two local qubits (``qubits[0]`` least significant).
        ptm: the constant part.
        pre: ``(position, rotation)`` applied before ``ptm``, in order.
        post: ``(position, rotation)`` applied after ``ptm``, in order.
    """

    qubits: tuple[int, ...]
    ptm: torch.Tensor = field(compare=False)
    pre: tuple[tuple[int, GateOp], ...] = ()
    post: tuple[tuple[int, GateOp], ...] = ()

    def batched(self, values: Mapping[str, torch.Tensor]) -> bool:
        """Whether a rotation angle depends on a batched parameter vector ``[B, P]``."""
        return any(rot.angle(values).dim() > 0 for _, rot in self.pre + self.post)

    def matrix(self, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The block's PTM for these parameter values."""
        m = len(self.qubits)
        out = self.ptm
        for pos, rot in self.pre:
            out = out @ _lift(rotation_ptm(rot.angle(values)), pos, m)
        for pos, rot in self.post:
            out = _lift(rotation_ptm(rot.angle(values)), pos, m) @ out
        return out


@dataclass
class _Open:
    qubits: tuple[int, ...]
    mats: list[torch.Tensor]


def _lift(ptm: torch.Tensor, pos: int, m: int) -> torch.Tensor:
    """A one-qubit PTM (``[4, 4]`` or ``[B, 4, 4]``) on position ``pos`` of an m-qubit block."""
    if m == 1:
        return ptm
    eye = torch.eye(4, dtype=ptm.dtype)
    lead = ptm.shape[:-2]
    if pos == 0:  # kron(I, R): out[a, b, c, d] = I[a, c] R[b, d]
        out = eye[:, None, :, None] * ptm[..., None, :, None, :]
    else:  # kron(R, I): out[a, b, c, d] = R[a, c] I[b, d]
        out = ptm[..., :, None, :, None] * eye[:, None, :]
    return out.reshape(*lead, 16, 16)


def fuse(ops: Sequence[GateOp]) -> tuple[Step, ...]:
    """Group constant gates into one- and two-qubit channels, preserving the order per wire.

    A constant one-qubit gate joins the last step on its wire if that step is a two-qubit
    channel; otherwise it waits for the wire's next two-qubit gate (or the next rotation, or
    the end) and is emitted with it. Parameterised rz gates stay :class:`GateOp` s (their
    noise, if any, becomes a constant gate that follows).
    """
    steps: list[_Open | GateOp] = []
    last: dict[int, int | None] = {}
    pending: dict[int, list[torch.Tensor]] = {}

    def flush(q: int) -> None:
        waiting = pending.pop(q, [])
        if waiting:
            steps.append(_Open((q,), waiting))
            last[q] = None  # a one-qubit block is not extended (keeps blocks two-qubit)

    for op in ops:
        if op.param is not None:
            q = op.qubits[0]
            flush(q)
            steps.append(op)
            last[q] = None
            if op.noise is not None:
                pending[q] = [op.noise]
            continue
        ptm = op.ptm()
        if len(op.qubits) == 1:
            q = op.qubits[0]
            index = last.get(q)
            if index is not None:
                block = steps[index]
                assert isinstance(block, _Open)
                block.mats.append(_lift(ptm, block.qubits.index(q), len(block.qubits)))
            else:
                pending.setdefault(q, []).append(ptm)
            continue
        qubits = tuple(op.qubits)
        mats = [_lift(p, j, 2) for j, q in enumerate(qubits) for p in pending.pop(q, [])]
        mats.append(ptm)
        steps.append(_Open(qubits, mats))
        for q in qubits:
            last[q] = len(steps) - 1
    for q in sorted(pending):
        flush(q)
    out: list[Step] = []
    for step in steps:
        if isinstance(step, GateOp):
            out.append(step)
            continue
        total = step.mats[0]
        for mat in step.mats[1:]:
            total = mat @ total
        out.append(MatStep(step.qubits, total.contiguous()))
    return tuple(out)


def compile_steps(ops: Sequence[GateOp]) -> tuple[Block, ...]:
    """:func:`fuse`, then fold every rotation into a neighbouring block on its wire.

    A rotation joins the next block on its qubit (applied before it) or, failing that, the
    previous one (applied after it); rotations on a qubit without any block get an identity
    block. Only steps on other qubits are crossed, so the circuit is unchanged.
    """
    qubits: list[tuple[int, ...]] = []
    ptms: list[torch.Tensor] = []
    pre: list[list[tuple[int, GateOp]]] = []
    post: list[list[tuple[int, GateOp]]] = []
    last: dict[int, int] = {}
    waiting: dict[int, list[GateOp]] = {}
    for step in fuse(ops):
        if isinstance(step, GateOp):
            waiting.setdefault(step.qubits[0], []).append(step)
            continue
        qubits.append(step.qubits)
        ptms.append(step.ptm)
        pre.append([(step.qubits.index(q), r) for q in step.qubits for r in waiting.pop(q, [])])
        post.append([])
        for q in step.qubits:
            last[q] = len(qubits) - 1
    for q, rots in sorted(waiting.items()):
        if q in last:  # nothing touches q after its last block: rotate after it
            post[last[q]] += [(qubits[last[q]].index(q), r) for r in rots]
        else:
            qubits.append((q,))
            ptms.append(torch.eye(4, dtype=torch.float64))
            pre.append([(0, r) for r in rots])
            post.append([])
    return tuple(
        Block(qs, ptm, tuple(before), tuple(after))
        for qs, ptm, before, after in zip(qubits, ptms, pre, post, strict=True)
    )
