"""The pass pipeline: route a logical circuit on a region, merge SWAPs, translate, optimise.

All routing and translation reuse Qiskit's passes (``SabreLayout``/``SabreSwap``, the preset
level-3 translation and optimisation stages). One pass is ours: :func:`merge_swaps`, which
removes work Qiskit cannot remove from a *parameterised* circuit:

* a SWAP next to a CNOT on the same pair (only single-qubit gates, parameterised or not, in
  between on those two wires) becomes two CNOTs (``CX(a,b)·SWAP = CX(b,a)·CX(a,b)``); Qiskit's
  block resynthesis cannot do this when a parameterised rotation sits inside the block;
* a SWAP of two qubits that no operation has touched yet is a relabelling of the initial
  layout (exact as an operator);
* with ``zero_init=True``: a SWAP between a busy qubit and one still in ``|0>`` (an ancilla or
  a logical qubit the embedding has not prepared yet) becomes two CNOTs. This is exact for
  the circuit run from ``|0...0>``, which is how every QAA circuit runs, but not as an
  operator on arbitrary inputs.

A *region* is a tuple of physical qubits; circuits here use region indices 0..m-1 and are
placed on the device at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import CXGate
from qiskit.passmanager.flow_controllers import ConditionalController
from qiskit.transpiler import CouplingMap, Layout, PassManager, Target
from qiskit.transpiler.passes import (
    ApplyLayout,
    EnlargeWithAncilla,
    FullAncillaAllocation,
    SabreLayout,
    SabreSwap,
    SetLayout,
)

from qaa_hw.devices.model import DeviceModel


@dataclass(frozen=True)
class Routed:
    """A circuit on region indices with its layouts.

    Attributes:
        circuit: circuit on ``m`` wires (region indices); SWAPs possibly present.
        initial: region index of each logical qubit at the start.
        final: region index of each logical qubit at the end.
        swaps: SWAPs the router inserted.
    """

    circuit: QuantumCircuit
    initial: tuple[int, ...]
    final: tuple[int, ...]
    swaps: int


def region_coupling(device: DeviceModel, region: Sequence[int]) -> CouplingMap:
    """Symmetric coupling map of ``region`` (indices 0..m-1 in region order)."""
    index = {q: i for i, q in enumerate(region)}
    edges = set()
    for a, b in device.directed_edges():
        if a in index and b in index:
            edges.add((index[a], index[b]))
            edges.add((index[b], index[a]))
    cmap = CouplingMap(sorted(edges))
    for i in range(len(region)):
        if i not in cmap.physical_qubits:
            cmap.add_physical_qubit(i)
    return cmap


def region_coupling_edges(num_wires: int, edges: Sequence[tuple[int, int]]) -> CouplingMap:
    """Symmetric coupling map on wires 0..m-1 from undirected ``edges``."""
    cmap = CouplingMap()
    for i in range(num_wires):
        cmap.add_physical_qubit(i)
    for a, b in edges:
        cmap.add_edge(int(a), int(b))
        cmap.add_edge(int(b), int(a))
    return cmap


def _not_routed(property_set: dict) -> bool:
    return property_set["final_layout"] is None


def route(
    logical: QuantumCircuit,
    coupling: CouplingMap,
    *,
    seed: int,
    layout: Sequence[int] | None = None,
    trials: int = 1,
    iterations: int = 2,
) -> Routed:
    """Route ``logical`` on ``coupling`` with Qiskit's Sabre passes.

    Args:
        logical: circuit on n logical qubits (1q gates, ``cx``).
        coupling: region coupling map with ``m >= n`` qubits.
        seed: Sabre seed.
        layout: region index of each logical qubit (``SabreSwap`` only); ``None`` lets
            ``SabreLayout`` choose it.
        trials: Sabre swap (and layout) trials.
        iterations: ``SabreLayout`` forward-backward iterations.

    Returns:
        The routed circuit with its layouts.
    """
    n = logical.num_qubits
    embed = [FullAncillaAllocation(coupling), EnlargeWithAncilla(), ApplyLayout()]
    if layout is None:
        passes = [
            SabreLayout(coupling, seed=seed, max_iterations=iterations, swap_trials=trials,
                        layout_trials=trials),
            ConditionalController(embed, condition=_not_routed),
        ]
    else:
        mapping = Layout({logical.qubits[i]: int(p) for i, p in enumerate(layout)})
        passes = [SetLayout(mapping), *embed,
                  SabreSwap(coupling, heuristic="decay", seed=seed, trials=trials)]
    pm = PassManager(passes)
    out = pm.run(logical)
    tl = out.layout
    initial = tuple(int(q) for q in tl.initial_index_layout(filter_ancillas=True)[:n])
    final = tuple(int(q) for q in tl.final_index_layout(filter_ancillas=True)[:n])
    swaps = sum(1 for inst in out.data if inst.operation.name == "swap")
    stripped = out.copy_empty_like()
    for inst in out.data:
        stripped.append(inst)
    stripped._layout = None  # plain physical circuit; layouts are kept in Routed
    return Routed(stripped, initial, final, swaps)


# --------------------------------------------------------------------- SWAP merging
def merge_swaps(routed: Routed, *, zero_init: bool = True) -> Routed:
    """Remove or cheapen the SWAPs of a routed circuit (see the module docstring).

    SWAPs are visited first to last and the visit restarts after every rewrite, until no
    SWAP can be rewritten.

    Returns:
        A :class:`Routed` whose ``swaps`` still counts the SWAPs the router inserted and whose
        layouts account for removed SWAPs.
    """
    qc = routed.circuit
    if "swap" not in qc.count_ops():
        return routed
    ops: list[_Entry] = [
        (inst.operation.name, inst.operation, tuple(qc.find_bit(q).index for q in inst.qubits))
        for inst in qc.data
    ]
    initial = list(routed.initial)
    changed = True
    while changed:
        changed = False
        first = _first_touch(ops, qc.num_qubits)
        for i, (name, _op, _qargs) in enumerate(ops):
            if name != "swap":
                continue
            replacement = _merge_one(ops, i, initial, first, zero_init=zero_init)
            if replacement is not None:
                ops = replacement
                changed = True
                break
    out = qc.copy_empty_like()
    for _name, op, qargs in ops:
        out.append(CXGate() if op is None else op, [out.qubits[q] for q in qargs])
    return Routed(out, tuple(initial), routed.final, routed.swaps)


#: An operation during SWAP merging: (name, Qiskit operation or None for a new CX, wires).
_Entry = tuple[str, object, tuple[int, ...]]


def _cx(a: int, b: int) -> _Entry:
    return ("cx", None, (a, b))


def _first_touch(ops: list[_Entry], num_wires: int) -> list[int]:
    """Index of the first operation on each wire (``len(ops)`` if none)."""
    first = [len(ops)] * num_wires
    for i in range(len(ops) - 1, -1, -1):
        for q in ops[i][2]:
            first[q] = i
    return first


def _merge_one(
    ops: list[_Entry], i: int, initial: list[int], first: list[int], *, zero_init: bool
) -> list[_Entry] | None:
    a, b = ops[i][2]
    swap_ab = {a: b, b: a}

    def relabel(entry: _Entry) -> _Entry:
        name, op, qargs = entry
        return name, op, tuple(swap_ab.get(q, q) for q in qargs)

    idle_a, idle_b = first[a] >= i, first[b] >= i  # untouched before the SWAP
    if idle_a and idle_b:
        # Both idle since the start: relabel the initial layout, drop the SWAP.
        for k, p in enumerate(initial):
            initial[k] = swap_ab.get(p, p)
        return [*ops[:i], *ops[i + 1:]]
    if zero_init and (idle_a or idle_b):
        busy, zero = (a, b) if idle_b else (b, a)
        return [*ops[:i], _cx(busy, zero), _cx(zero, busy), *ops[i + 1:]]
    # Backward: SWAP commutes with 1q gates by relabelling; meet a CX on the same pair.
    j = i - 1
    while j >= 0:
        name, _op, qargs = ops[j]
        if a in qargs or b in qargs:
            if len(qargs) == 1:
                j -= 1
                continue
            if name == "cx" and set(qargs) == {a, b}:
                c, t = qargs
                middle = [relabel(e) if (a in e[2] or b in e[2]) else e for e in ops[j + 1:i]]
                return [*ops[:j], _cx(t, c), _cx(c, t), *middle, *ops[i + 1:]]
            break
        j -= 1
    # Forward: meet a CX on the same pair after the SWAP.
    j = i + 1
    while j < len(ops):
        name, _op, qargs = ops[j]
        if a in qargs or b in qargs:
            if len(qargs) == 1:
                j += 1
                continue
            if name == "cx" and set(qargs) == {a, b}:
                c, t = qargs
                middle = [relabel(e) if (a in e[2] or b in e[2]) else e for e in ops[i + 1:j]]
                return [*ops[:i], *middle, _cx(c, t), _cx(t, c), *ops[j + 1:]]
            break
        j += 1
    return None


# ---------------------------------------------------------------- translation
def translate(circuit: QuantumCircuit, target: Target, *, optimization_level: int = 3
              ) -> QuantumCircuit:
    """Translate a routed circuit to the target's basis and optimise it (Qiskit stages).

    The circuit must already respect the target's coupling (any direction); the layout is
    kept trivial (no re-placement).
    """
    from qiskit.transpiler import generate_preset_pass_manager

    staged = generate_preset_pass_manager(
        optimization_level=optimization_level,
        target=target,
        initial_layout=list(range(circuit.num_qubits)),
        layout_method="trivial",
        routing_method="none",
    )
    pm = PassManager()
    for stage in (staged.translation, staged.pre_optimization, staged.optimization):
        if stage is not None:
            pm.append(stage.to_flow_controller())
    out = pm.run(circuit)
    out._layout = None
    return out


