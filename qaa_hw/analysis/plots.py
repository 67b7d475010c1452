"""Matplotlib figures: coupling maps coloured by calibration, layouts highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import ConfigError

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def _check_path(path: str | Path) -> Path:
    out = Path(path)
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise ConfigError(
            f"plot file {str(out)!r} has suffix {out.suffix!r}; accepted: "
            + ", ".join(FIGURE_SUFFIXES)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def device_positions(device: DeviceModel) -> dict[int, tuple[float, float]]:
    """Plot coordinates: the device's own when it has them, else a seeded graph layout."""
    coords = getattr(device, "coordinates", None)
    if coords:
        return {q: (float(x), float(y)) for q, (x, y) in enumerate(coords)}
    import networkx as nx

    graph = device.coupling_graph()
    if graph.number_of_edges() == 0:
        pos = nx.circular_layout(graph)
    elif device.num_qubits <= 200:
        pos = nx.kamada_kawai_layout(graph)
    else:
        pos = nx.spring_layout(graph, seed=0, iterations=200)
    return {int(q): (float(p[0]), float(p[1])) for q, p in pos.items()}


def plot_coupling_map(
    device: DeviceModel,
    path: str | Path,
    *,
    highlight: Sequence[int] = (),
    title: str | None = None,
) -> Path:
    """Draw qubits coloured by readout error and couplings coloured by two-qubit error.

    Args:
        device: the device to draw.
        path: output file (.png, .svg or .pdf).
        highlight: physical qubits to outline (e.g. a compiled adapter's layout).
        title: figure title; defaults to the device name.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import colors
    from matplotlib.collections import LineCollection

    out = _check_path(path)
    pos = device_positions(device)
    graph = device.coupling_graph()
    size = max(5.0, min(14.0, 0.5 * device.num_qubits**0.5 * 2.2))
    fig, ax = plt.subplots(figsize=(size * 1.25, size))
    edges = list(graph.edges(data=True))
    if edges:
        errs = [max(d["error"], 1e-6) for _, _, d in edges]
        enorm = colors.LogNorm(vmin=min(errs), vmax=max(max(errs), min(errs) * 1.01))
        segs = [[pos[a], pos[b]] for a, b, _ in edges]
        lc = LineCollection(segs, cmap="viridis_r", norm=enorm, linewidths=3)
        lc.set_array(errs)
        ax.add_collection(lc)
        fig.colorbar(lc, ax=ax, label=f"{device.two_qubit_gate} error", shrink=0.7)
    ro = [max(q.readout_error, 1e-6) for q in device.qubits]
    qnorm = colors.LogNorm(vmin=min(ro), vmax=max(max(ro), min(ro) * 1.01))
    xs = [pos[q][0] for q in range(device.num_qubits)]
    ys = [pos[q][1] for q in range(device.num_qubits)]
    marked = set(highlight)
    sc = ax.scatter(
        xs,
        ys,
        c=ro,
        cmap="magma_r",
        norm=qnorm,
        s=140,
        zorder=3,
        edgecolors=["red" if q in marked else "black" for q in range(device.num_qubits)],
        linewidths=[3.0 if q in marked else 0.5 for q in range(device.num_qubits)],
    )
    fig.colorbar(sc, ax=ax, label="readout error", shrink=0.7)
    if device.num_qubits <= 160:
        for q in range(device.num_qubits):
            ax.annotate(str(q), pos[q], ha="center", va="center", fontsize=6, zorder=4)
    ax.set_title(title or f"{device.name}: coupling map ({device.num_qubits} qubits)")
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
