"""Noise-aware placement: which physical qubits an adapter uses, and in which roles.

The compiler works on *shapes*: connected induced subgraphs of the device's coupling graph
with ``n`` nodes, grouped by isomorphism. A circuit is synthesised once per shape (on the
shape's own node labels 0..n-1) and then placed on every occurrence of that shape in the
device, under every isomorphism, scored by an estimated ESP from the device calibration
(:func:`estimate_log_esp`); the best few placements are translated and priced exactly.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from qaa_hw.compile.metrics import readout_error
from qaa_hw.devices.model import DeviceModel

#: Cap on the connected regions enumerated to discover shapes.
MAX_SUBSETS = 200_000


@dataclass(frozen=True)
class Shape:
    """An isomorphism class of connected ``n``-qubit regions of a device.

    Attributes:
        edges: edges of the representative, on labels 0..n-1.
        placements: for each occurrence and isomorphism, ``placement[label]`` = physical qubit.
    """

    edges: tuple[tuple[int, int], ...]
    placements: tuple[tuple[int, ...], ...]

    @property
    def num_qubits(self) -> int:
        """Number of nodes."""
        return len(self.placements[0]) if self.placements else 0

    def graph(self) -> nx.Graph:
        """The representative as a networkx graph."""
        g: nx.Graph = nx.Graph()
        g.add_nodes_from(range(self.num_qubits))
        g.add_edges_from(self.edges)
        return g


def _connected_subsets(graph: nx.Graph, size: int, limit: int) -> Iterator[frozenset[int]]:
    """Connected node subsets of ``graph`` with ``size`` nodes (ESU enumeration)."""
    nodes = sorted(graph.nodes)
    count = 0
    for v in nodes:
        stack: list[tuple[frozenset[int], frozenset[int]]] = [
            (frozenset([v]), frozenset(u for u in graph.neighbors(v) if u > v))
        ]
        while stack:
            sub, ext = stack.pop()
            if len(sub) == size:
                yield sub
                count += 1
                if count >= limit:
                    return
                continue
            remaining = set(ext)
            while remaining:
                w = remaining.pop()
                neigh = {
                    u for u in graph.neighbors(w)
                    if u > v and u not in sub and all(u not in graph[s] for s in sub)
                    and u not in ext
                }
                stack.append((sub | {w}, frozenset(remaining | neigh)))


def _invariant(graph: nx.Graph, subset: frozenset[int]) -> tuple:
    """Isomorphism invariant of an induced subgraph (degrees and neighbour degrees)."""
    deg = {v: sum(1 for u in graph.neighbors(v) if u in subset) for v in subset}
    return tuple(sorted(
        (deg[v], tuple(sorted(deg[u] for u in graph.neighbors(v) if u in subset)))
        for v in subset
    ))


@functools.lru_cache(maxsize=32)
def device_shapes(device: DeviceModel, size: int) -> tuple[Shape, ...]:
    """All shapes of ``size`` connected qubits on ``device`` with all their placements.

    Regions are enumerated exhaustively (ESU) and grouped by an isomorphism invariant; the
    placements of each shape (every occurrence under every isomorphism) come from
    rustworkx's VF2 induced-subgraph matcher. Cached per device; shapes with more couplings
    come first.
    """
    import rustworkx as rx

    graph = device.coupling_graph()
    reps: dict[tuple, frozenset[int]] = {}
    for count, subset in enumerate(_connected_subsets(graph, size, MAX_SUBSETS)):
        reps.setdefault(_invariant(graph, subset), subset)
        del count
    big: rx.PyGraph = rx.PyGraph()
    big.add_nodes_from(list(range(device.num_qubits)))
    big.add_edges_from_no_data([(int(a), int(b)) for a, b in graph.edges])
    shapes = []
    for subset in reps.values():
        order = sorted(subset)
        relabel = {q: i for i, q in enumerate(order)}
        edges = tuple(sorted(
            (min(relabel[a], relabel[b]), max(relabel[a], relabel[b]))
            for a, b in graph.subgraph(subset).edges
        ))
        small: rx.PyGraph = rx.PyGraph()
        small.add_nodes_from(list(range(size)))
        small.add_edges_from_no_data(list(edges))
        placements = []
        for mapping in rx.vf2_mapping(big, small, subgraph=True, induced=True, id_order=True):
            inverse = {label: phys for phys, label in mapping.items()}
            placements.append(tuple(inverse[i] for i in range(size)))
        shapes.append(Shape(edges, tuple(sorted(placements))))
    shapes.sort(key=lambda s: (-len(s.edges), -len(s.placements), s.edges))
    return tuple(shapes)


@dataclass(frozen=True)
class UsageProfile:
    """Operation counts of a shape-level circuit, for fast placement scoring.

    Attributes:
        two_qubit: count of two-qubit gates per undirected label pair.
        one_qubit: estimated physical single-qubit gates per label.
        readout: labels measured at the end.
    """

    two_qubit: tuple[tuple[tuple[int, int], int], ...]
    one_qubit: tuple[tuple[int, int], ...]
    readout: tuple[int, ...]


def usage_profile(
    ops: Sequence[tuple[str, tuple[int, ...]]], readout: Sequence[int], *,
    translated: bool = False,
) -> UsageProfile:
    """Counts from ``(name, labels)`` operations.

    Args:
        ops: the circuit's operations on shape labels.
        readout: labels measured at the end.
        translated: the circuit is in the device basis (``sx``/``x`` counted one each);
            otherwise physical pulses are estimated (2 per ``ry``, 1 per two-qubit gate).
    """
    two: Counter[tuple[int, int]] = Counter()
    one: Counter[int] = Counter()
    for name, qargs in ops:
        if len(qargs) == 2:
            pair = (min(qargs), max(qargs))
            two[pair] += 3 if name == "swap" else 1
            if not translated:
                one[qargs[1]] += 1  # direction/basis changes cost about one sx
        elif name in ("sx", "x"):
            one[qargs[0]] += 1
        elif name in ("ry", "rx", "h", "u", "u3") and not translated:
            one[qargs[0]] += 2
    return UsageProfile(tuple(sorted(two.items())), tuple(sorted(one.items())),
                        tuple(int(q) for q in readout))


def estimate_log_esp(device: DeviceModel, profile: UsageProfile,
                     placement: Sequence[int]) -> float:
    """Estimated ``log ESP`` of a profiled circuit placed with ``placement[label] = qubit``.

    Returns ``-inf`` if a used pair is not coupled on the device.
    """
    gate = device.two_qubit_gate
    table = device.instructions.get(gate, {}) if gate else {}
    total = 0.0
    for (a, b), count in profile.two_qubit:
        pa, pb = placement[a], placement[b]
        options = [table[q].error for q in ((pa, pb), (pb, pa)) if q in table]
        if not options:
            return -math.inf
        total += count * math.log1p(-min(min(options), 0.999999))
    sx = device.instructions.get("sx", {})
    for label, count in profile.one_qubit:
        props = sx.get((placement[label],))
        if props is not None:
            total += count * math.log1p(-min(props.error, 0.999999))
    for label in profile.readout:
        total += math.log1p(-min(readout_error(device, placement[label]), 0.999999))
    return total


def placement_scores(device: DeviceModel, shape: Shape, profile: UsageProfile) -> np.ndarray:
    """:func:`estimate_log_esp` for every placement of ``shape`` (vectorised)."""
    tables = _log_tables(device)
    two, one, ro = tables
    placements = np.asarray(shape.placements, dtype=np.int64)
    total = np.zeros(len(placements))
    for (a, b), count in profile.two_qubit:
        total += count * two[placements[:, a], placements[:, b]]
    for label, count in profile.one_qubit:
        total += count * one[placements[:, label]]
    for label in profile.readout:
        total += ro[placements[:, label]]
    return total


@functools.lru_cache(maxsize=32)
def _log_tables(device: DeviceModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log(1 - error) tables: two-qubit (best direction, -inf if uncoupled), sx, readout."""
    nq = device.num_qubits
    two = np.full((nq, nq), -np.inf)
    gate = device.two_qubit_gate
    if gate is not None:
        for (a, b), props in device.instructions[gate].items():
            value = math.log1p(-min(props.error, 0.999999))
            two[a, b] = max(two[a, b], value)
            two[b, a] = max(two[b, a], value)
    one = np.zeros(nq)
    for (q,), props in device.instructions.get("sx", {}).items():
        one[q] = math.log1p(-min(props.error, 0.999999))
    ro = np.array([math.log1p(-min(readout_error(device, q), 0.999999)) for q in range(nq)])
    return two, one, ro
