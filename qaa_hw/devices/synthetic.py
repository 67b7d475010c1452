"""Synthetic devices named by their topology and noise, e.g. ``synthetic:heavy_hex:27``.

Name grammar::

    synthetic:<topology>[?key=value&key=value...]

Topologies (``N`` qubits, at most 1024; all_to_all at most 128):

* ``line:N``       a chain 0-1-...-(N-1)
* ``ring:N``       a cycle (N >= 3)
* ``grid:RxC``     an R x C square lattice, qubit ``r*C + c``
* ``grid:N``       the first N qubits (row-major) of a ceil(sqrt(N))-column square lattice
* ``heavy_hex:N``  the first N qubits of a distance-41 heavy-hex lattice (rustworkx
  ``heavy_hex_graph``) in breadth-first order from its central 12-qubit cell (the cell's
  qubits first, in ring order); the set is always connected and ``heavy_hex:N`` is a
  sub-device of ``heavy_hex:N+1``
* ``all_to_all:N`` every pair coupled

Query keys (default in brackets; the defaults are rounded medians of IBM Eagle devices):

* ``gate`` [cx]: native two-qubit gate, one of cx, cz, ecr. cx is defined in both
  directions of each edge (same error), ecr and cz once per edge (lower index first).
* ``cx_error`` [7.5e-3] (alias ``2q_error``): mean error of the two-qubit gate.
* ``sx_error`` [2.5e-4]: mean error of sx and x (same pulse); rz is virtual (error 0, 0 ns).
* ``readout_error`` [1.5e-2]: mean readout error (p(1|0) = p(0|1)).
* ``t1_us`` [230], ``t2_us`` [150]: mean T1 and T2 in microseconds; T2 is clamped to 2*T1.
* ``cx_ns`` [660], ``sx_ns`` [60], ``measure_ns`` [1300]: durations in nanoseconds.
* ``spread`` [0.2]: relative spread (coefficient of variation) of the lognormal each
  per-qubit / per-edge value is drawn from around its mean; 0 makes every value the mean.
* ``seed`` [0]: seed of the draws. The same name always gives the same device, and the
  random pattern does not depend on the means (changing ``cx_error`` rescales the same draws).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from qaa_hw.devices.model import DeviceModel, InstructionProperties, Qargs, QubitProperties
from qaa_hw.errors import DeviceError
from qaa_hw.limits import MAX_ALL_TO_ALL_QUBITS, MAX_DEVICE_QUBITS

SYNTHETIC_PREFIX = "synthetic:"
TOPOLOGIES = ("line:N", "ring:N", "grid:N", "grid:RxC", "heavy_hex:N", "all_to_all:N")
GATES = ("cx", "cz", "ecr")
HEAVY_HEX_DISTANCE = 41  # 4161 qubits: room for a centred ball of MAX_DEVICE_QUBITS

#: Query keys and their defaults (``2q_error`` is an alias of ``cx_error``).
DEFAULTS: dict[str, Any] = {
    "gate": "cx",
    "cx_error": 7.5e-3,
    "sx_error": 2.5e-4,
    "readout_error": 1.5e-2,
    "t1_us": 230.0,
    "t2_us": 150.0,
    "cx_ns": 660.0,
    "sx_ns": 60.0,
    "measure_ns": 1300.0,
    "spread": 0.2,
    "seed": 0,
}
ALIASES = {"2q_error": "cx_error"}
_PROBABILITIES = ("cx_error", "sx_error", "readout_error")
_POSITIVE = ("t1_us", "t2_us")
_NON_NEGATIVE = ("cx_ns", "sx_ns", "measure_ns", "spread")


@dataclass(frozen=True)
class SyntheticSpec:
    """A parsed synthetic device name.

    Attributes:
        name: the name as given.
        topology: ``line``, ``ring``, ``grid``, ``heavy_hex`` or ``all_to_all``.
        num_qubits: number of qubits.
        grid_shape: ``(rows, cols)`` for ``grid``; None otherwise.
        params: every query key with its value (defaults filled in).
    """

    name: str
    topology: str
    num_qubits: int
    grid_shape: tuple[int, int] | None = None
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS), hash=False)

    @classmethod
    def from_name(cls, name: str) -> SyntheticSpec:
        """Parse ``synthetic:<topology>:<size>?key=value&...``.

        Raises:
            DeviceError: naming the unknown topology / key or the bad value, with the
                accepted ones.
        """
        if not name.startswith(SYNTHETIC_PREFIX):
            raise DeviceError(f"synthetic device {name!r} must start with {SYNTHETIC_PREFIX!r}")
        spec, _, query = name.removeprefix(SYNTHETIC_PREFIX).partition("?")
        kind, _, size = spec.partition(":")
        accepted = f"accepted: {', '.join(TOPOLOGIES)}"
        if kind not in {t.split(":")[0] for t in TOPOLOGIES}:
            raise DeviceError(f"synthetic device {name!r}: unknown topology {kind!r}; {accepted}")
        shape = None
        if kind == "grid" and "x" in size:
            rows, _, cols = size.partition("x")
            shape = (_size(name, rows, "grid rows"), _size(name, cols, "grid columns"))
            n = shape[0] * shape[1]
        else:
            n = _size(name, size, f"{kind} size")
        limit = MAX_ALL_TO_ALL_QUBITS if kind == "all_to_all" else MAX_DEVICE_QUBITS
        if n > limit or (kind == "ring" and n < 3):
            raise DeviceError(
                f"synthetic device {name!r}: {kind} needs "
                + ("3.." if kind == "ring" else "1..")
                + f"{limit} qubits, got {n}"
            )
        return cls(name, kind, n, shape, _parse_query(name, query))


def _size(name: str, text: str, what: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise DeviceError(
            f"synthetic device {name!r}: {what} {text!r} is not a positive integer "
            f"(accepted topologies: {', '.join(TOPOLOGIES)})"
        )
    return int(text)


def _parse_query(name: str, query: str) -> dict[str, Any]:
    params = dict(DEFAULTS)
    keys = ", ".join([*DEFAULTS, *ALIASES])
    for item in filter(None, query.split("&")):
        raw_key, sep, value = item.partition("=")
        key = ALIASES.get(raw_key, raw_key)
        if key not in DEFAULTS:
            raise DeviceError(
                f"synthetic device {name!r}: unknown key {raw_key!r}; accepted: {keys}"
            )
        if not sep:
            raise DeviceError(f"synthetic device {name!r}: key {raw_key!r} needs a value")
        params[key] = _parse_value(name, raw_key, key, value)
    return params


def _parse_value(name: str, raw_key: str, key: str, value: str) -> Any:
    def bad(expected: str) -> DeviceError:
        return DeviceError(
            f"synthetic device {name!r}: {raw_key}={value!r}: expected {expected}"
        )

    if key == "gate":
        if value not in GATES:
            raise bad(f"one of {', '.join(GATES)}")
        return value
    if key == "seed":
        if not value.isdigit():
            raise bad("a non-negative integer")
        return int(value)
    try:
        x = float(value)
    except ValueError:
        x = math.nan
    if key in _PROBABILITIES and not 0.0 <= x <= 1.0:
        raise bad("a probability in [0, 1]")
    if key in _POSITIVE and not (x > 0 and math.isfinite(x)):
        raise bad("a positive number")
    if key in _NON_NEGATIVE and not (x >= 0 and math.isfinite(x)):
        raise bad("a number >= 0")
    return x


# -------------------------------------------------------------------- topologies
Edges = list[tuple[int, int]]
Coords = list[tuple[float, float]] | None


def _circle(n: int) -> list[tuple[float, float]]:
    return [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i in range(n)]


def _line(n: int) -> tuple[Edges, Coords]:
    return [(i, i + 1) for i in range(n - 1)], [(float(i), 0.0) for i in range(n)]


def _ring(n: int) -> tuple[Edges, Coords]:
    return [(i, (i + 1) % n) for i in range(n)], _circle(n)


def _grid(n: int, shape: tuple[int, int] | None) -> tuple[Edges, Coords]:
    cols = shape[1] if shape else math.ceil(math.sqrt(n))
    edges = []
    for q in range(n):
        c = q % cols
        if c + 1 < cols and q + 1 < n:
            edges.append((q, q + 1))
        if q + cols < n:
            edges.append((q, q + cols))
    return edges, [(float(q % cols), -float(q // cols)) for q in range(n)]


@functools.cache
def _heavy_hex_order() -> tuple[tuple[int, ...], frozenset[tuple[int, int]]]:
    """BFS order from the centre of a big heavy-hex lattice, and its edges."""
    import rustworkx as rx

    lattice = rx.generators.heavy_hex_graph(HEAVY_HEX_DISTANCE)
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(range(len(lattice)))
    graph.add_edges_from((min(a, b), max(a, b)) for a, b in lattice.edge_list())

    def farthest(src: int) -> int:
        dist = nx.single_source_shortest_path_length(graph, src)
        return max(sorted(dist), key=lambda v: dist[v])

    u = farthest(0)
    v = farthest(u)
    path = nx.shortest_path(graph, u, v)
    centre = path[len(path) // 2]
    # Start from the shortest cycle (a hexagon of the lattice) through the centre so that
    # small patches contain whole cells, as on real heavy-hex chips.
    others = graph.subgraph(node for node in graph if node != centre)
    nbs = sorted(graph.neighbors(centre))
    rings = [
        [centre, *nx.shortest_path(others, a, b)]
        for i, a in enumerate(nbs)
        for b in nbs[i + 1 :]
        if nx.has_path(others, a, b)
    ]
    order = min(rings, key=len) if rings else [centre]
    seen = set(order)
    for node in order:  # grows while iterating: a breadth-first search
        for nb in sorted(graph.neighbors(node)):
            if nb not in seen:
                seen.add(nb)
                order.append(nb)
    return tuple(order), frozenset((int(a), int(b)) for a, b in graph.edges)


def _heavy_hex(n: int) -> tuple[Edges, Coords]:
    order, lattice_edges = _heavy_hex_order()
    index = {q: i for i, q in enumerate(order[:n])}
    edges = sorted(
        (min(index[a], index[b]), max(index[a], index[b]))
        for a, b in lattice_edges
        if a in index and b in index
    )
    return edges, None


def _all_to_all(n: int) -> tuple[Edges, Coords]:
    return [(a, b) for a in range(n) for b in range(a + 1, n)], _circle(n)


_BUILDERS: dict[str, Callable[[int], tuple[Edges, Coords]]] = {
    "line": _line,
    "ring": _ring,
    "heavy_hex": _heavy_hex,
    "all_to_all": _all_to_all,
}


# ------------------------------------------------------------------------ device
def load_synthetic_device(name: str) -> DeviceModel:
    """Build the synthetic device ``name`` (see the module docstring for the grammar).

    Raises:
        DeviceError: for an unknown topology or key, or a bad value.
    """
    return build_synthetic_device(SyntheticSpec.from_name(name))


def build_synthetic_device(spec: SyntheticSpec) -> DeviceModel:
    """Build the device described by a parsed :class:`SyntheticSpec`."""
    import numpy as np

    n, p = spec.num_qubits, spec.params
    if spec.topology == "grid":
        edges, coords = _grid(n, spec.grid_shape)
    else:
        edges, coords = _BUILDERS[spec.topology](n)
    rng = np.random.default_rng(p["seed"])
    # Standard-normal draws in a fixed order, independent of the means (see docstring).
    z_t1, z_t2, z_ro, z_sx = (rng.standard_normal(n) for _ in range(4))
    z_2q = rng.standard_normal(len(edges))
    spread = float(p["spread"])

    def draw(mean: float, z: float, cap: float = math.inf) -> float:
        if spread == 0 or mean == 0:
            return min(mean, cap)
        sigma = math.sqrt(math.log1p(spread**2))
        return min(cap, mean * math.exp(sigma * z - sigma**2 / 2))

    qubits = []
    for q in range(n):
        t1 = draw(p["t1_us"], z_t1[q]) / 1e6
        t2 = min(draw(p["t2_us"], z_t2[q]) / 1e6, 2 * t1)
        ro = draw(p["readout_error"], z_ro[q], 1.0)
        qubits.append(QubitProperties(t1_s=t1, t2_s=t2, prob_meas1_prep0=ro, prob_meas0_prep1=ro))
    sx: dict[Qargs, InstructionProperties] = {
        (q,): InstructionProperties(draw(p["sx_error"], z_sx[q], 1.0), p["sx_ns"] / 1e9)
        for q in range(n)
    }
    gate = p["gate"]
    two_q: dict[Qargs, InstructionProperties] = {}
    for (a, b), z in zip(edges, z_2q, strict=True):
        props = InstructionProperties(draw(p["cx_error"], z, 1.0), p["cx_ns"] / 1e9)
        two_q[(a, b)] = props
        if gate == "cx":
            two_q[(b, a)] = props
    instructions: dict[str, dict[Qargs, InstructionProperties]] = {
        "rz": {(q,): InstructionProperties(0.0, 0.0) for q in range(n)},
        "sx": sx,
        "x": dict(sx),
        "measure": {
            (q,): InstructionProperties(qubits[q].readout_error, p["measure_ns"] / 1e9)
            for q in range(n)
        },
    }
    if two_q:
        instructions[gate] = two_q
    means = ", ".join(f"{k}={p[k]}" for k in DEFAULTS if k not in ("gate", "spread", "seed"))
    return DeviceModel(
        name=spec.name,
        family="synthetic",
        qubits=tuple(qubits),
        instructions=instructions,
        source=(
            f"synthetic {spec.topology} topology, {n} qubits, native {gate}; means {means}; "
            f"lognormal spread {spread}, seed {p['seed']}"
        ),
        coordinates=tuple(coords) if coords is not None else None,
    )
