"""Connectivity-aware synthesis of the amplitude embedding (a CNOT/RY parity network).

Given a small coupling graph (a *shape*: the induced subgraph of the physical qubits an
adapter will use) and an assignment of the tree's variables to its nodes, build a
:class:`~qaa_hw.circuits.network.NetworkEmbedding` that only uses coupled pairs.

Variable ``k`` needs one RY for each of its Walsh terms ``S`` (all subsets of the earlier
variables for an exact embedding). The RY for ``S`` must run while the wire of ``k`` holds
``x_k XOR S.x``; a CNOT ``u -> w`` XORs the content of wire ``u`` into wire ``w``. The
synthesiser walks greedily: from the current wire contents it searches breadth-first
(fewest CNOTs, CNOTs from the wire being prepared excluded) for the nearest content of the
target wire that is a Walsh term not visited yet, emits those CNOTs and the RY, and repeats.
Ties go to the term with the smallest Gray-code rank, with the variables that sit closest to
the target as the lowest bits (they change most often). Nothing is uncomputed: the final
linear map of the wires is absorbed into the angles.

Wires whose variable is not prepared yet hold ``|0>`` and serve as relays for free.

On wide shapes (n >= 8) the breadth-first search runs out of budget when the nearest new term
needs many CNOTs; the step then accumulates a set of wires into the target along the
breadth-first tree rooted at it (:func:`_steiner`), which is longer but found at once.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Sequence

import networkx as nx

from qaa_hw.circuits.network import NetOp
from qaa_hw.errors import CompilationError

logger = logging.getLogger(__name__)

#: Default breadth-first search budget (states) per rotation.
NETWORK_STATES = 20_000


def _gray_rank(mask: int) -> int:
    rank = 0
    while mask:
        rank ^= mask
        mask >>= 1
    return rank


def _remap(mask: int, bit_of: Sequence[int]) -> int:
    return sum(1 << bit_of[j] for j in range(len(bit_of)) if mask >> j & 1)


def synthesize_network(
    num_wires: int,
    edges: Iterable[tuple[int, int]],
    var_wire: Sequence[int],
    *,
    kept: Sequence[Iterable[int]] | None = None,
    max_depth: int = 10,
    max_states: int = NETWORK_STATES,
) -> list[NetOp]:
    """Greedy parity-network synthesis of the embedding tree on a coupling graph.

    Args:
        num_wires: n wires (one per variable; no ancillas).
        edges: undirected coupled pairs of wires.
        var_wire: wire of variable ``k`` (preparation order).
        kept: Walsh terms to visit per variable (bit masks over earlier variables);
            ``None`` = all (exact embedding).
        max_depth: longest CNOT sequence searched between two rotations.
        max_states: breadth-first search budget per step; past it the step falls back to
            a Steiner-tree accumulation (:func:`_steiner`).

    Returns:
        Network operations for :class:`~qaa_hw.circuits.network.NetworkEmbedding`.

    Raises:
        CompilationError: if the graph is disconnected or a term cannot be reached.
    """
    ctx = _Context(num_wires, edges, max_depth, max_states)
    rows = [0] * num_wires
    ops: list[NetOp] = []
    for k in range(num_wires):
        need = None if kept is None else {int(m) for m in kept[k]}
        step, rows = ctx.variable(k, var_wire, rows, need)
        ops.extend(step)
    return ops


class _Context:
    """Graph data shared by the synthesis steps of one shape."""

    def __init__(self, n: int, edges: Iterable[tuple[int, int]], max_depth: int,
                 max_states: int) -> None:
        graph: nx.Graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(edges)
        if n > 1 and not nx.is_connected(graph):
            raise CompilationError(f"coupling graph on {n} wires is not connected")
        self.n = n
        self.graph = graph
        self.arcs = sorted([(a, b) for a, b in graph.edges] + [(b, a) for a, b in graph.edges])
        self.distance = dict(nx.all_pairs_shortest_path_length(graph))
        self.max_depth = max_depth
        self.max_states = max_states

    def variable(
        self, k: int, var_wire: Sequence[int], rows: list[int], need: set[int] | None
    ) -> tuple[list[NetOp], list[int]]:
        """Operations preparing variable ``k`` on ``var_wire[k]``, and the new wire rows."""
        rows = list(rows)
        w = var_wire[k]
        goals = set(range(1 << k)) if need is None else need
        # Gray-code bit priority: the variables nearest to w are the lowest bits.
        by_distance = sorted(range(k), key=lambda j: (self.distance[w][var_wire[j]], -j))
        bit_of = [0] * k
        for rank, j in enumerate(by_distance):
            bit_of[j] = rank

        def priority(mask: int) -> int:
            return _gray_rank(_remap(mask, bit_of))

        ops: list[NetOp] = []
        visited: set[int] = set()
        if rows[w] in goals:
            ops.append(("ry", k, w))
            visited.add(rows[w])
        while len(visited) < len(goals):
            path = _search(rows, self.arcs, w, goals - visited, priority, self.max_depth,
                           self.max_states)
            if path is None:
                path = _steiner(rows, self.graph, w, goals - visited, priority)
            if path is None:
                raise CompilationError(
                    f"embedding synthesis: no CNOT sequence of length <= {self.max_depth} "
                    f"reaches a new Walsh term of variable {k} on wire {w}"
                )
            for u, v in path:
                ops.append(("cx", u, v))
                rows[v] ^= rows[u]
            ops.append(("ry", k, w))
            visited.add(rows[w])
        rows[w] |= 1 << k
        return ops, rows


def _search(
    rows: list[int],
    arcs: list[tuple[int, int]],
    w: int,
    goals: set[int],
    priority: object,
    max_depth: int,
    max_states: int,
) -> list[tuple[int, int]] | None:
    """Breadth-first search for the fewest CNOTs that put a goal term on wire ``w``.

    States are the wire contents packed into one integer (``bits`` bits per wire).
    """
    bits = max(1, max(rows).bit_length(), max(goals).bit_length())
    mask = (1 << bits) - 1
    start = 0
    for v, row in enumerate(rows):
        start |= row << (v * bits)
    parent: dict[int, tuple[int, int] | None] = {start: None}
    frontier = [start]
    usable = [(u * bits, v * bits, u, v) for u, v in arcs if u != w]
    shift_w = w * bits
    for _ in range(max_depth):
        found: list[int] = []
        nxt: list[int] = []
        for state in frontier:
            for su, sv, u, v in usable:
                src = (state >> su) & mask
                if not src:
                    continue
                key = state ^ (src << sv)
                if key in parent:
                    continue
                parent[key] = (state, u * 65536 + v)
                if v == w and (key >> shift_w) & mask in goals:
                    found.append(key)
                else:
                    nxt.append(key)
        if found:
            best = min(found, key=lambda s: priority((s >> shift_w) & mask))  # type: ignore[operator]
            path: list[tuple[int, int]] = []
            node = best
            while (entry := parent[node]) is not None:
                node, arc = entry
                path.append(divmod(arc, 65536))
            return path[::-1]
        if len(parent) > max_states or not nxt:
            return None
        frontier = nxt
    return None


def _steiner(
    rows: list[int], graph: nx.Graph, w: int, goals: set[int], priority: object
) -> list[tuple[int, int]] | None:
    """Fallback when the breadth-first search runs out of budget (wide shapes): XOR the
    contents of a wire set ``R`` into ``w`` through the breadth-first tree rooted at ``w``.

    Every ``R`` (subset of the other wires) whose XOR gives a new goal is priced: a
    pre-pass ``s -> child`` for each non-zero relay ``s`` on the tree, deepest first (so
    that its own content cancels), then one ``child -> parent`` CNOT per tree edge,
    deepest first. The cheapest ``R`` wins (ties by ``priority``).
    """
    parent = dict(nx.bfs_predecessors(graph, w))
    depth = nx.single_source_shortest_path_length(graph, w)
    others = [v for v in sorted(graph.nodes) if v != w]
    best: tuple[int, int, list[tuple[int, int]]] | None = None
    for subset in range(1, 1 << len(others)):
        members = [others[i] for i in range(len(others)) if subset >> i & 1]
        value = rows[w]
        for v in members:
            value ^= rows[v]
        if value not in goals:
            continue
        tree: set[int] = set()
        for v in members:
            while v != w and v not in tree:
                tree.add(v)
                v = parent[v]
        relays = [v for v in tree if v not in members and rows[v]]
        cost = len(tree) + len(relays)
        key = (cost, priority(value))  # type: ignore[operator]
        if best is not None and key >= best[:2]:
            continue
        child: dict[int, int] = {}
        for v in sorted(tree, key=lambda u: (depth[u], u)):
            child.setdefault(parent[v], v)
        # Deepest relays first: a relay pushes its own content before its parent's arrives.
        ops = [(s, child[s]) for s in sorted(relays, key=lambda u: (-depth[u], u))]
        ops += [(v, parent[v]) for v in sorted(tree, key=lambda u: (-depth[u], u))]
        best = (key[0], key[1], ops)
    return None if best is None else best[2]


def candidate_orders(
    graph: nx.Graph, *, limit: int, seed: int = 0
) -> list[tuple[int, ...]]:
    """Variable-to-wire assignments worth trying on a shape (``var_wire`` tuples).

    All ``n!`` assignments when there are at most ``limit``; otherwise assignments that put
    the last variables (the biggest multiplexors) on the best-connected nodes, then random
    ones with the last variable on one of the two most central nodes (seeded).
    """
    import random

    nodes = sorted(graph.nodes)
    n = len(nodes)
    if math.factorial(n) <= limit:
        return [tuple(p) for p in itertools.permutations(nodes)]
    closeness = nx.closeness_centrality(graph)
    score = {v: (graph.degree[v], closeness[v]) for v in nodes}
    central = sorted(nodes, key=lambda v: score[v], reverse=True)
    out: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    for last in central[:3]:
        dist = nx.single_source_shortest_path_length(graph, last)
        for prev in sorted(graph.neighbors(last), key=lambda v: score[v], reverse=True):
            rest = sorted((v for v in nodes if v not in (last, prev)),
                          key=lambda v: (-dist[v], score[v]))
            cand = (*rest, prev, last)
            if cand not in seen:
                seen.add(cand)
                out.append(cand)
    rng = random.Random(seed)
    attempts = 0
    while len(out) < limit and attempts < 50 * limit:
        attempts += 1
        last = central[rng.randrange(min(2, n))]
        perm = [v for v in nodes if v != last]
        rng.shuffle(perm)
        cand = (*perm, last)
        if cand not in seen:
            seen.add(cand)
            out.append(cand)
    return out[:limit]
