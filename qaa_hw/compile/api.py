"""Public entry point: :func:`compile_adapter`.

How a QAA adapter is compiled (co-design of the embedding, the layout and the routing):

1. **Shapes.** Every connected ``n``-qubit region of the device is enumerated and grouped
   by isomorphism (:func:`~qaa_hw.compile.layout.device_shapes`); a heavy-hex device has
   2-3 shapes for n = 4..6, a grid a few more.
2. **Circuits per shape**, on the shape's labels, from two synthesis routes:

   * ``network`` (exact embeddings): the amplitude embedding is synthesised *for the
     shape*, in two ways: (a) a parity network
     (:func:`~qaa_hw.compile.synthesis.synthesize_network`): every Walsh term of the tree
     is routed through coupled pairs, unprepared qubits act as relays, nothing is
     uncomputed; several variable-to-qubit assignments are tried; (b) the exact tree
     routed by ``SabreLayout`` (several seeds, SWAPs merged), which wins on shapes with a
     high-degree hub (grids), where moving qubits beats relaying parities. Either
     embedding may leave the logical qubits on any wires (the network absorbs its final
     linear map into the angles; the routed tree is relabelled by choosing its
     preparation order), so the ansatz starts from whichever layout suits it: its
     entangler layers are synthesised as linear maps up to a wire permutation
     (:mod:`qaa_hw.compile.linear`) or routed by Qiskit's ``SabreLayout`` (several seeds),
     whichever needs fewer CNOTs.
   * ``logical``: the logical circuit (:func:`~qaa_hw.circuits.builder.build_qaa_circuit`)
     routed on the shape by ``SabreLayout`` with several seeds (the only route for
     ``approx`` embeddings, and the one that is operator-equivalent to the logical circuit).

   SWAPs are then merged (:func:`~qaa_hw.compile.pipeline.merge_swaps`), and runs of
   ``ry`` rotations on a wire separated only by CNOTs onto that wire are rewritten as
   ``rz`` rotations in the ``RX(pi/2)`` frame (:func:`~qaa_hw.compile.peephole.rz_frames`;
   two ``sx`` pulses fewer per rotation where the device's CNOT needs no target dressing).
3. **Placement.** Each shape circuit is scored on every occurrence of its shape under every
   isomorphism with an estimated ESP (two-qubit errors per pair, ``sx`` errors, readout
   errors); the most promising circuits are translated once and rescored from their real
   gate counts; the best few (circuit, placement) pairs are translated to the device basis
   by Qiskit's level-3 translation and optimisation stages and priced exactly
   (:func:`~qaa_hw.compile.metrics.esp`). The best true ESP wins.

**Search effort** (:func:`default_effort`): up to n = 6 every shape gets both routes and many
orders and seeds; wider adapters (circuits grow as ``2**n``) keep the parity network on the
three best-connected shapes and the routed logical circuit on the best one, with fewer orders,
seeds and exact pricings, so that n = 8 compiles in seconds and n = 10 in tens of seconds
(``benchmarks/compile_quality.py --wide``). ``time_budget_s`` stops generating candidates
early; ``progress`` shows a bar over the shapes.

The result is parameterised by ``alpha`` (embedding) and ``theta`` (trainable): compile
once, bind per token with :meth:`~qaa_hw.compile.compiled.CompiledAdapter.bind`.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit

from qaa_hw.circuits.ansatz import build_ansatz
from qaa_hw.circuits.builder import ALPHA, build_qaa_circuit
from qaa_hw.circuits.network import NetworkEmbedding
from qaa_hw.circuits.plans import plan_embedding
from qaa_hw.circuits.spec import QAASpec, entangler_pairs
from qaa_hw.compile.compiled import CompiledAdapter, EmbeddingAngles
from qaa_hw.compile.layout import Shape, device_shapes, placement_scores, usage_profile
from qaa_hw.compile.linear import MAX_EXPANSIONS, synthesize_ansatz
from qaa_hw.compile.metrics import compute_metrics, esp
from qaa_hw.compile.peephole import rz_frames
from qaa_hw.compile.pipeline import Routed, merge_swaps, region_coupling_edges, route, translate
from qaa_hw.compile.synthesis import NETWORK_STATES, candidate_orders, synthesize_network
from qaa_hw.devices.model import DeviceModel, restrict
from qaa_hw.devices.qiskit_convert import to_target
from qaa_hw.errors import CompilationError, ConfigError
from qaa_hw.limits import check_seed

logger = logging.getLogger(__name__)

SYNTHESES = ("auto", "network", "logical")
#: Widest adapter searched with the full effort (wider ones use :func:`default_effort`'s
#: reduced search: the circuits grow as ``2**n`` and so does every step's cost).
FULL_EFFORT_QUBITS = 6


@dataclass(frozen=True)
class Effort:
    """How much of the search space :func:`compile_adapter` explores.

    Attributes:
        trials: routing seeds per shape.
        orders: variable-to-wire assignments tried per ``network`` shape.
        network_states: breadth-first search budget per rotation of the parity network
            (past it a Steiner-tree step is used, which is cheaper to find but longer).
        network_shapes: shapes (highest degree, then most couplings first) given the
            ``network`` route.
        networks: parity networks (fewest CNOTs first) combined with each ansatz routing.
        trees: routed embedding trees (best first) combined with each ansatz routing on a
            ``network`` shape (0: parity networks only).
        logical_shapes: shapes (same order) given the ``logical`` route; ``None`` = all.
        linear_expansions: A* budget per entangler layer of the linear-map synthesis
            (0 skips it).
        refine: candidates translated once to rescore their placements from exact counts.
        placements: (circuit, placement) pairs translated and priced exactly.
    """

    trials: int
    orders: int
    network_states: int
    network_shapes: int
    networks: int
    trees: int
    logical_shapes: int | None
    linear_expansions: int
    refine: int
    placements: int

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ConfigError(f"trials={self.trials!r} is not valid; accepted: an integer >= 1")
        if self.placements < 1:
            raise ConfigError(
                f"placements={self.placements!r} is not valid; accepted: an integer >= 1")


def default_trials(num_qubits: int) -> int:
    """Routing seeds per shape: more for wider adapters (compile time stays ~1 s at n=6),
    fewer again past :data:`FULL_EFFORT_QUBITS` where one routing takes seconds."""
    return {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 7: 3}.get(num_qubits, 2)


def default_effort(num_qubits: int, *, trials: int | None = None,
                   placements: int | None = None) -> Effort:
    """The search effort for an ``n``-qubit adapter.

    Up to :data:`FULL_EFFORT_QUBITS` every shape gets both routes and many orders (about
    1 s at n = 6). Wider adapters keep the routes that win there (the parity network on
    the best-connected shapes, the routed logical circuit on the two best) with fewer
    orders, seeds and exact pricings, so that n = 8 compiles in seconds and n = 10 in
    tens of seconds (``benchmarks/compile_quality.py`` measures both against Qiskit).
    """
    n = num_qubits
    count = default_trials(n) if trials is None else int(trials)
    if n <= FULL_EFFORT_QUBITS:
        return Effort(trials=count, orders=120 if n <= 5 else 24 + 4 * count,
                      network_states=NETWORK_STATES, network_shapes=8, networks=3, trees=2,
                      logical_shapes=None,
                      linear_expansions=MAX_EXPANSIONS, refine=8,
                      placements=4 if placements is None else int(placements))
    wide = n > 8
    return Effort(trials=count, orders=4 if wide else 8 if n <= 7 else 6,
                  network_states=NETWORK_STATES if n <= 7 else NETWORK_STATES // 20,
                  network_shapes=4 if n <= 7 else 3, networks=3 if n <= 7 else 2,
                  trees=0 if wide else 2,
                  logical_shapes=2 if n <= 7 else 1,
                  linear_expansions=MAX_EXPANSIONS // 4 if n <= 7 else 0,
                  refine=2 if wide else 4 if n <= 7 else 3,
                  placements=2 if placements is None and n > 7 else 3 if placements is None
                  else int(placements))


@dataclass(frozen=True)
class _Candidate:
    """A circuit on a shape's labels, ready to be placed."""

    shape: int
    circuit: QuantumCircuit
    initial: tuple[int, ...]
    final: tuple[int, ...]
    swaps: int
    embedding: EmbeddingAngles
    spec: QAASpec
    method: str

    @property
    def cost(self) -> int:
        ops = self.circuit.count_ops()
        return int(ops.get("cx", 0) + 3 * ops.get("swap", 0))


def _validate(spec: QAASpec, device: DeviceModel, synthesis: str) -> None:
    if synthesis not in SYNTHESES:
        raise ConfigError(f"synthesis={synthesis!r} is not valid; accepted: {', '.join(SYNTHESES)}")
    n = spec.num_qubits
    if n > device.num_qubits:
        raise CompilationError(
            f"the adapter needs {n} qubits but device {device.name!r} has only "
            f"{device.num_qubits}"
        )
    if n > 1 and device.two_qubit_gate is None:
        raise CompilationError(
            f"device {device.name!r} has no two-qubit gate; an adapter with {n} qubits needs "
            "entangling gates (use --qubits 1 or another device)"
        )


def native_layout(shape_graph: nx.Graph) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Native entangler on a shape: a ring if the shape has a Hamiltonian cycle, else a line
    if it has a Hamiltonian path, else a depth-first spanning tree.

    Returns:
        ``(pairs, wire_of)``: CNOT pairs on logical qubits and the shape label of each
        logical qubit (logical qubits are numbered along the ring/line/DFS order).
    """
    n = shape_graph.number_of_nodes()
    if n == 1:
        return (), (0,)
    best_path: list[int] | None = None
    nodes = sorted(shape_graph.nodes)

    def extend(path: list[int]) -> list[int] | None:
        nonlocal best_path
        if len(path) == n:
            if best_path is None:
                best_path = list(path)
            return list(path) if shape_graph.has_edge(path[-1], path[0]) else None
        for v in sorted(shape_graph.neighbors(path[-1])):
            if v not in path:
                found = extend([*path, v])
                if found is not None:
                    return found
        return None

    for start in nodes:
        cycle = extend([start])
        if cycle is not None and n > 2:
            pairs = [(i, i + 1) for i in range(n - 1)] + [(n - 1, 0)]
            return tuple(pairs), tuple(cycle)
    if best_path is not None:
        return tuple((i, i + 1) for i in range(n - 1)), tuple(best_path)
    root = max(nodes, key=lambda v: (shape_graph.degree[v], -v))
    order = list(nx.dfs_preorder_nodes(shape_graph, root))
    index = {v: i for i, v in enumerate(order)}
    tree_pairs = sorted((index[a], index[b]) for a, b in nx.dfs_edges(shape_graph, root))
    return tuple(tree_pairs), tuple(order)


def _ansatz_routings(
    spec: QAASpec, shape: Shape, seeds: Sequence[int], *, linear_expansions: int
) -> list[tuple[Routed, QAASpec, str]]:
    """Routed ansatz circuits on a shape (best first), the spec they implement, a label."""
    n = spec.num_qubits
    graph = shape.graph()
    if spec.entangler == "native":
        pairs, wire_of = native_layout(graph)
        resolved = replace(spec, native_pairs=pairs)
        ansatz = build_ansatz(resolved)
        placed = QuantumCircuit(n)
        placed.compose(ansatz, qubits=list(wire_of), inplace=True)
        return [(Routed(placed, wire_of, wire_of, 0), resolved, "native ansatz")]
    ansatz = build_ansatz(spec)
    if n == 1 or ansatz.count_ops().get("cx", 0) == 0:
        return [(Routed(ansatz.copy(), tuple(range(n)), tuple(range(n)), 0), spec, "ansatz")]
    coupling = region_coupling_edges(n, shape.edges)
    routed = []
    linear = (synthesize_ansatz(spec, shape.edges, entangler_pairs(spec),
                                max_expansions=linear_expansions)
              if linear_expansions > 0 else None)
    if linear is not None:
        routed.append((_two_qubit_cost(linear.circuit), -1, linear,
                       "entanglers synthesised as linear maps"))
    for s in seeds:
        r = route(ansatz, coupling, seed=s, trials=2)
        m = merge_swaps(r, zero_init=False)
        routed.append((_two_qubit_cost(m.circuit), s, r, f"Sabre-routed ansatz (seed {s})"))
    routed.sort(key=lambda t: (t[0], t[1]))
    unique: list[tuple[Routed, QAASpec, str]] = []
    seen: set[tuple[int, ...]] = set()
    for _, _, r, label in routed:
        if r.initial not in seen:
            seen.add(r.initial)
            unique.append((r, spec, label))
    return unique[:2]


def _two_qubit_cost(circuit: QuantumCircuit) -> int:
    ops = circuit.count_ops()
    return int(ops.get("cx", 0) + 3 * ops.get("swap", 0))


def _network_embeddings(
    n: int, shape: Shape, *, order_limit: int, max_states: int, seed: int, deadline: float
) -> list[tuple[int, tuple[int, ...], list]]:
    """Embedding networks synthesised on a shape: ``(cnots, var_wire, ops)``, best first
    (orders are tried until ``deadline``, a :func:`time.monotonic` value, once one worked)."""
    embeddings: list[tuple[int, tuple[int, ...], list]] = []
    for var_wire in candidate_orders(shape.graph(), limit=order_limit, seed=seed):
        if embeddings and time.monotonic() > deadline:
            break
        try:
            ops = synthesize_network(n, shape.edges, var_wire, max_states=max_states)
        except CompilationError:
            continue
        embeddings.append((sum(1 for op in ops if op[0] == "cx"), var_wire, ops))
    embeddings.sort(key=lambda e: (e[0], e[1]))
    return embeddings


def _routed_trees(spec: QAASpec, shape: Shape, *, seeds: Sequence[int], zero_init: bool
                  ) -> list[tuple[int, Routed]]:
    """The exact embedding tree (default order) routed on a shape by Sabre, SWAPs merged:
    ``(cost, routed)`` best first, one per distinct circuit."""
    n = spec.num_qubits
    plan = plan_embedding(spec)
    tree = QuantumCircuit(n)
    plan.append_to(tree, ParameterVector(ALPHA, plan.num_angles))
    coupling = region_coupling_edges(n, shape.edges)
    found: dict[tuple, tuple[int, Routed]] = {}
    for s in seeds:
        r = route(tree, coupling, seed=s, trials=2)
        m = merge_swaps(r, zero_init=zero_init)
        m = Routed(m.circuit, m.initial, m.final, r.swaps)
        found.setdefault(tuple(_ops(m.circuit)), (_two_qubit_cost(m.circuit), m))
    return sorted(found.values(), key=lambda t: t[0])


def _network_candidates(
    spec: QAASpec, shape_index: int, shape: Shape, *, seeds: Sequence[int], effort: Effort,
    seed: int, zero_init: bool, deadline: float,
) -> list[_Candidate]:
    """Embedding synthesised for the shape, then the ansatz from wherever it leaves the
    logical qubits: a parity network (:func:`synthesize_network`) or the exact tree routed
    by Sabre, relabelled so that its variables land where the ansatz routing starts."""
    n = spec.num_qubits
    embeddings = _network_embeddings(n, shape, order_limit=effort.orders,
                                     max_states=effort.network_states, seed=seed,
                                     deadline=deadline)
    trees = (_routed_trees(spec, shape, seeds=seeds, zero_init=zero_init)
             if effort.trees else [])
    default_order = plan_embedding(spec).order
    out = []
    for routed, resolved, label in _ansatz_routings(
            spec, shape, seeds, linear_expansions=effort.linear_expansions):
        start = {lab: q for q, lab in enumerate(routed.initial)}  # label -> logical qubit
        parts: list[tuple[QuantumCircuit, EmbeddingAngles, int, str]] = []
        for cnots, var_wire, ops in embeddings[:effort.networks]:
            net = NetworkEmbedding(n, tuple(ops), var_wire, routed.initial)
            qc = QuantumCircuit(n)
            net.append_to(qc, ParameterVector(ALPHA, net.num_angles))
            parts.append((qc, net, 0, f"network embedding ({cnots} CNOTs, variable wires "
                                      f"{list(var_wire)})"))
        for cost, tree in trees[:effort.trees]:
            # Variable k of the routed tree ends on label tree.final[default_order[k]]; the
            # plan whose variable k is the logical qubit the ansatz starts there is the same
            # circuit (the tree's gates only depend on the variables).
            order = tuple(start[tree.final[default_order[k]]] for k in range(n))
            parts.append((tree.circuit, plan_embedding(spec, order=order), tree.swaps,
                          f"routed embedding tree ({cost} CNOTs, order {list(order)})"))
        for circuit, embedding, swaps, what in parts:
            qc = circuit.copy()
            qc.compose(routed.circuit, inplace=True)
            merged = merge_swaps(Routed(qc, routed.initial, routed.final, routed.swaps),
                                 zero_init=zero_init)
            out.append(_Candidate(
                shape_index, merged.circuit, merged.initial, merged.final,
                routed.swaps + swaps, embedding, resolved, f"{what} + {label}",
            ))
    return out


def _logical_candidates(
    spec: QAASpec, shape_index: int, shape: Shape, *, seeds: Sequence[int], zero_init: bool,
    embedding_order: Sequence[int] | None,
) -> list[_Candidate]:
    n = spec.num_qubits
    resolved = spec
    fixed: tuple[int, ...] | None = None
    if spec.entangler == "native":
        pairs, fixed = native_layout(shape.graph())
        resolved = replace(spec, native_pairs=pairs)
    plan = plan_embedding(resolved, order=embedding_order)
    qaa = build_qaa_circuit(resolved, pairs=resolved.native_pairs, plan=plan)
    if n == 1:
        return [_Candidate(shape_index, qaa.circuit.copy(), (0,), (0,), 0, plan, resolved,
                           "logical circuit")]
    coupling = region_coupling_edges(n, shape.edges)
    out = []
    for s in seeds:
        r = route(qaa.circuit, coupling, seed=s, trials=2, layout=fixed)
        m = merge_swaps(r, zero_init=zero_init)
        out.append(_Candidate(shape_index, m.circuit, m.initial, m.final, r.swaps, plan,
                              resolved, f"logical circuit, Sabre seed {s}"))
        if fixed is not None:
            break  # the layout is fixed by the native pairs; one routing suffices
    return out


def compile_adapter(
    spec: QAASpec,
    device: DeviceModel,
    *,
    seed: int = 0,
    trials: int | None = None,
    optimization_level: int = 3,
    synthesis: str = "auto",
    zero_init: bool = True,
    placements: int | None = None,
    embedding_order: Sequence[int] | None = None,
    time_budget_s: float | None = None,
    progress: bool = False,
) -> CompiledAdapter:
    """Compile a QAA adapter for a device (noise-aware layout, routing and synthesis).

    What the result equals (``U`` = the physical circuit on the active qubits, bound to
    ``alpha = compiled.embedding.angles(x)`` and ``theta``):

    * default (``synthesis="auto"`` or ``"network"``): the state preparation is
      re-synthesised, so only its action on ``|0...0>`` is defined:
      ``U |0...0> = A(theta) |x>`` with logical qubit ``i`` read on ``final_layout[i]``.
      The ansatz part is exact as an operator: ``U(alpha, theta) = A(theta) V(alpha)``
      where ``A`` is the logical ansatz taking logical qubit ``i`` from
      ``initial_layout[i]`` (where the embedding leaves it) to ``final_layout[i]``, and
      ``V`` depends on ``alpha`` only (``tests/compile/test_compile.py`` checks both).
    * ``synthesis="logical"`` with ``zero_init=False``: ``U`` equals the logical circuit
      (:func:`~qaa_hw.circuits.builder.build_qaa_circuit` with ``embedding_order``) as an
      operator, logical qubit ``i`` starting on ``initial_layout[i]`` and ending on
      ``final_layout[i]`` (Qiskit ``Operator.equiv``). With ``zero_init=True`` SWAPs next
      to unused qubits are cheapened, which is exact only from ``|0...0>``.

    Args:
        spec: the adapter; ``entangler="native"`` is resolved on the chosen qubits.
        device: the target device (its calibration drives every choice).
        seed: seed of every randomised step; equal seeds give identical results.
        trials: routing seeds per shape (default :func:`default_trials`).
        optimization_level: Qiskit optimisation level of the translation stages (0-3).
        synthesis: ``"network"`` (embedding synthesised for the region: parity network or
            routed tree, then the ansatz from where it leaves the qubits), ``"logical"``
            (route the logical circuit) or ``"auto"`` (both; the best ESP wins).
        zero_init: let SWAP merging use that qubits start in ``|0>`` (exact for the circuit
            run from ``|0...0>``; set ``False`` for a circuit equal to the logical one as an
            operator, which only the ``logical`` route provides).
        placements: (circuit, placement) pairs translated and priced exactly (default
            per :func:`default_effort`).
        embedding_order: tree order of the ``logical`` route's embedding (default per spec).
        time_budget_s: stop generating candidates once this many seconds have passed (the
            shapes are visited best first and at least one candidate is always built; the
            translation and exact pricing of the best ones come on top); ``None``: no limit.
        progress: show a tqdm bar over the shapes on stderr.

    Returns:
        The :class:`~qaa_hw.compile.compiled.CompiledAdapter` with the best ESP found.

    Raises:
        CompilationError: the device is too small, has no two-qubit gate for ``n > 1``, or
            has no connected region of ``n`` qubits.
        ConfigError: a seed outside ``0..2^32-1`` or a time budget that is not positive.
    """
    _validate(spec, device, synthesis)
    seed = check_seed("seed", seed)
    if time_budget_s is not None and not time_budget_s > 0:
        raise ConfigError(
            f"time_budget_s={time_budget_s!r} is not valid; accepted: a number > 0 or None")
    n = spec.num_qubits
    effort = default_effort(n, trials=trials, placements=placements)
    deadline = math.inf if time_budget_s is None else time.monotonic() + time_budget_s
    seeds = [seed * 7919 + i for i in range(effort.trials)]
    shapes = device_shapes(device, n)
    if not shapes:
        raise CompilationError(
            f"device {device.name!r} has no connected region of {n} qubits"
        )
    approx = plan_embedding(spec).kind != "exact"
    use_network = synthesis in ("auto", "network") and not approx and n > 1
    # A native entangler is only native where the network route starts the ansatz.
    use_logical = (synthesis == "logical" or not use_network
                   or (synthesis == "auto" and spec.entangler != "native"))
    # Embedding networks profit most from a high-degree node (it hosts the largest
    # multiplexor), then from more couplings.
    ranked = sorted(
        range(len(shapes)),
        key=lambda i: (-max(dict(shapes[i].graph().degree).values(), default=0),
                       -len(shapes[i].edges), i),
    )
    network_shapes = set(ranked[:effort.network_shapes]) if use_network else set()
    logical_shapes = (set(ranked[:effort.logical_shapes]) if effort.logical_shapes is not None
                      else set(range(len(shapes)))) if use_logical else set()
    # Full effort keeps the device's shape order; a reduced one visits the best shapes first
    # so that a time budget cuts the least promising ones.
    visit = ([i for i in range(len(shapes)) if i in network_shapes | logical_shapes]
             if n <= FULL_EFFORT_QUBITS else
             [i for i in ranked if i in network_shapes | logical_shapes])
    pool: list[_Candidate] = []
    for index in _progress(visit, progress, f"compiling n={n} on {device.name}"):
        if pool and time.monotonic() > deadline:
            logger.info("time budget of %s s reached; %d candidates", time_budget_s, len(pool))
            break
        shape = shapes[index]
        if index in network_shapes:
            pool.extend(_network_candidates(spec, index, shape, seeds=seeds, effort=effort,
                                            seed=seed, zero_init=zero_init,
                                            deadline=deadline))
        if index in logical_shapes:
            pool.extend(_logical_candidates(spec, index, shape, seeds=seeds,
                                            zero_init=zero_init,
                                            embedding_order=embedding_order))
    return _place_best(pool, shapes, device, effort=effort,
                       optimization_level=optimization_level)


def _progress(items: list[int], enabled: bool, desc: str) -> Iterable[int]:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="shape", leave=False, file=sys.stderr)


def _ops(circuit: QuantumCircuit) -> list[tuple[str, tuple[int, ...]]]:
    return [(inst.operation.name, tuple(circuit.find_bit(q).index for q in inst.qubits))
            for inst in circuit.data]


def _place_best(
    pool: list[_Candidate], shapes: Sequence[Shape], device: DeviceModel, *, effort: Effort,
    optimization_level: int,
) -> CompiledAdapter:
    """Pick (candidate, placement) by estimated then exact ESP (see the module docstring).

    Stage 1 scores every placement of every candidate from its logical-level operation
    counts. Stage 2 translates the best ``effort.refine`` candidates once (on their best
    placement) and rescores all their placements from the translated counts. Stage 3
    translates the ``effort.placements`` best (candidate, placement) pairs and prices them
    exactly.
    """
    rough: list[tuple[float, int]] = []
    for ci, cand in enumerate(pool):
        scores = placement_scores(device, shapes[cand.shape],
                                  usage_profile(_ops(cand.circuit), cand.final))
        best = float(np.max(scores)) if len(scores) else -math.inf
        if math.isfinite(best):
            rough.append((best, ci))
    if not rough:
        raise CompilationError(f"no placement of the adapter fits device {device.name!r}")
    rough.sort(key=lambda t: (-t[0], t[1]))
    scored: list[tuple[float, int, tuple[int, ...]]] = []
    placements = effort.placements
    for _, ci in rough[:effort.refine]:
        cand = pool[ci]
        shape = shapes[cand.shape]
        first = placement_scores(device, shape, usage_profile(_ops(cand.circuit), cand.final))
        region = shape.placements[int(np.argmax(first))]
        physical = translate(rz_frames(cand.circuit), to_target(restrict(device, region)),
                             optimization_level=optimization_level)
        profile = usage_profile(_ops(physical), cand.final, translated=True)
        scores = placement_scores(device, shape, profile)
        for pi in np.argsort(-scores, kind="stable")[:placements]:
            if math.isfinite(scores[pi]):
                scored.append((float(scores[pi]), ci, shape.placements[int(pi)]))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    best_result: tuple[float, _Candidate, tuple[int, ...], QuantumCircuit] | None = None
    for _, ci, placement in scored[:placements]:
        cand = pool[ci]
        sub = restrict(device, placement)
        physical = translate(rz_frames(cand.circuit), to_target(sub),
                             optimization_level=optimization_level)
        value = esp(physical, sub, cand.final)
        if best_result is None or value > best_result[0]:
            best_result = (value, cand, placement, physical)
    assert best_result is not None
    _, cand, placement, physical = best_result
    full = QuantumCircuit(device.num_qubits, name=f"qaa_{device.name}")
    full.compose(physical, qubits=list(placement), inplace=True)
    initial = tuple(placement[q] for q in cand.initial)
    final = tuple(placement[q] for q in cand.final)
    metrics = compute_metrics(full, device, final, swaps=cand.swaps)
    logger.info("compiled on %s: ESP %.4f, %d two-qubit gates (%s)", list(placement),
                metrics.esp, metrics.two_qubit_count, cand.method)
    return CompiledAdapter(
        spec=cand.spec, device=device, circuit=full, initial_layout=initial,
        final_layout=final, metrics=metrics, method=f"qaa_hw: {cand.method}",
        embedding=cand.embedding,
    )
