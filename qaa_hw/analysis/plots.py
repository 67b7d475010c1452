"""Matplotlib figures: coupling maps coloured by calibration, layouts highlighted, and the
sweep plots (noise scaling, compiled cost, ESP, co-design Pareto view)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qaa_hw.analysis.assumptions import Thresholds
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import ConfigError
from qaa_hw.files import atomic_path, check_output_file

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path: str | Path) -> Path:
    """A figure path: suffix in :data:`FIGURE_SUFFIXES`, folder created and writable.

    Raises:
        ConfigError: another suffix, or a path that cannot be written.
    """
    out = Path(path)
    if out.suffix.lower() not in FIGURE_SUFFIXES:
        raise ConfigError(
            f"plot file {str(out)!r} has suffix {out.suffix!r}; accepted: "
            + ", ".join(FIGURE_SUFFIXES)
        )
    return check_output_file(out, what="plot file")


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
    formats: Sequence[str] = (),
) -> Path:
    """Draw qubits coloured by readout error and couplings coloured by two-qubit error.

    Args:
        device: the device to draw.
        path: output file (.png, .svg or .pdf).
        highlight: physical qubits to outline (e.g. a compiled adapter's layout).
        title: figure title; defaults to the device name.
        formats: extra suffixes (e.g. ``(".svg",)``) to save the same figure to as well.

    Returns:
        The written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import colors
    from matplotlib.collections import LineCollection

    out = check_plot_path(path)
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
    for p in [out, *(check_plot_path(out.with_suffix(f)) for f in formats if f != out.suffix)]:
        _savefig(fig, p, dpi=120)
    plt.close(fig)
    return out


# --------------------------------------------------------------------------- sweep plots
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _savefig(fig: Any, path: Path, *, dpi: int) -> None:
    """Save reproducibly (no date in SVG/PDF metadata, fixed SVG element ids) and
    atomically (a failed save leaves no truncated file)."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "qaa_hw"}), atomic_path(
        path, what="plot file"
    ) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lower().lstrip("."),
                    metadata={"Date": None} if path.suffix in (".svg", ".pdf") else None)


def _save(fig: Any, path: str | Path, formats: Sequence[str]) -> list[Path]:
    """Save ``fig`` to ``path`` and to the same stem with each extra suffix in ``formats``."""
    plt = _pyplot()
    out = check_plot_path(path)
    written = [out]
    for suffix in formats:
        extra = check_plot_path(out.with_suffix(suffix))
        if extra != out:
            written.append(extra)
    fig.tight_layout()
    for p in written:
        _savefig(fig, p, dpi=100)
    plt.close(fig)
    return written


def _mean_by(rows: Sequence[Mapping[str, Any]], keys: Sequence[str],
             value: str) -> dict[tuple[Any, ...], float]:
    """Mean of ``value`` per distinct combination of ``keys`` (rows missing it skipped)."""
    groups: dict[tuple[Any, ...], list[float]] = {}
    for r in rows:
        v = r.get(value)
        if v is None or r.get("status", "ok") != "ok":
            continue
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(float(v))
    return {k: sum(v) / len(v) for k, v in groups.items()}


def _devices(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(r["device"]) for r in rows))


def _reference_scale(rows: Sequence[Mapping[str, Any]]) -> float:
    scales = {float(r["noise_scale"]) for r in rows}
    return min(scales, key=lambda s: (abs(s - 1.0), s)) if scales else 1.0


def plot_noise_scaling(rows: Sequence[Mapping[str, Any]], path: str | Path, *,
                       formats: Sequence[str] = ()) -> list[Path]:
    """Output fidelity (per qubit count) and mitigated output error (per mitigation) vs the
    noise scale λ, one column per device; each line is a mean over the other settings.

    Returns:
        The written files (``path`` and one per extra suffix in ``formats``).
    """
    plt = _pyplot()
    devices = _devices(rows)
    if not devices:
        raise ConfigError("no rows to plot")
    fig, axes = plt.subplots(2, len(devices), figsize=(4.2 * len(devices), 6.4), squeeze=False,
                             sharex=True)
    fid = _mean_by(rows, ("device", "qubits", "noise_scale"), "output_fidelity")
    err = _mean_by(rows, ("device", "mitigation", "noise_scale"), "mitigated_abs_error")
    for col, dev in enumerate(devices):
        top, bottom = axes[0][col], axes[1][col]
        for n in sorted({k[1] for k in fid if k[0] == dev}):
            pts = sorted((k[2], v) for k, v in fid.items() if k[0] == dev and k[1] == n)
            top.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"n={n}")
        for m in sorted({k[1] for k in err if k[0] == dev}):
            pts = sorted((k[2], v) for k, v in err.items() if k[0] == dev and k[1] == m)
            bottom.plot([p[0] for p in pts], [p[1] for p in pts], marker="s", label=m,
                        linestyle="--" if m == "none" else "-")
        top.set_title(dev)
        top.set_ylabel("output-state fidelity")
        bottom.set_ylabel("mean |error| of readout")
        bottom.set_xlabel("noise scale λ")
        top.grid(alpha=0.3)
        bottom.grid(alpha=0.3)
        top.legend(fontsize=7)
        bottom.legend(fontsize=7, title="mitigation", title_fontsize=7)
    return _save(fig, path, formats)


def plot_cost_vs_qubits(rows: Sequence[Mapping[str, Any]], path: str | Path, *,
                        formats: Sequence[str] = ()) -> list[Path]:
    """Compiled depth and two-qubit count vs adapter qubits, one line per device and layer
    count (noise scale closest to 1; mean over the other settings)."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    scale = _reference_scale(rows)
    chosen = [r for r in rows if float(r["noise_scale"]) == scale]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    styles = ["-", "--", ":", "-."]
    for ax, metric, label in ((axes[0], "depth", "circuit depth"),
                              (axes[1], "two_qubit_count", "two-qubit gates")):
        data = _mean_by(chosen, ("device", "layers", "qubits"), metric)
        layers = sorted({k[1] for k in data})
        for i, dev in enumerate(_devices(chosen)):
            for j, L in enumerate(layers):
                pts = sorted((k[2], v) for k, v in data.items() if k[0] == dev and k[1] == L)
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                            color=f"C{i}", linestyle=styles[j % len(styles)],
                            label=f"{dev} L={L}")
        ax.set_xlabel("adapter qubits n")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle(f"compiled cost per device (noise scale {scale:g})", fontsize=10)
    return _save(fig, path, formats)


def plot_esp_vs_layers(rows: Sequence[Mapping[str, Any]], path: str | Path, *,
                       formats: Sequence[str] = ()) -> list[Path]:
    """Estimated success probability vs ansatz layers, one line per device and qubit count
    (noise scale closest to 1), with the feasibility thresholds as dashed lines."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    scale = _reference_scale(rows)
    chosen = [r for r in rows if float(r["noise_scale"]) == scale]
    data = _mean_by(chosen, ("device", "qubits", "layers"), "esp")
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    styles = ["-", "--", ":", "-."]
    qubits = sorted({k[1] for k in data})
    for i, dev in enumerate(_devices(chosen)):
        for j, n in enumerate(qubits):
            pts = sorted((k[2], v) for k, v in data.items() if k[0] == dev and k[1] == n)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=f"C{i}",
                        linestyle=styles[j % len(styles)], label=f"{dev} n={n}")
    th = Thresholds()
    ax.axhline(th.esp_feasible, color="green", linestyle=":", linewidth=1)
    ax.axhline(th.esp_marginal, color="orange", linestyle=":", linewidth=1)
    ax.set_xlabel("ansatz layers L")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("ESP")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f"ESP vs layers (noise scale {scale:g}; dotted: feasibility thresholds)",
                 fontsize=9)
    return _save(fig, path, formats)


def plot_pareto(rows: Sequence[Mapping[str, Any]], front: Sequence[Mapping[str, Any]],
                recommended: Mapping[str, Any] | None, path: str | Path, *,
                title: str = "", formats: Sequence[str] = ()) -> list[Path]:
    """Co-design view: output error at the assumed shots (bias + standard error) vs
    trainable parameters, coloured by QPU seconds per generated token (edge colour:
    verdict); Pareto-optimal points outlined and labelled, the recommended point starred.

    Args:
        rows: assessed rows (``s_per_token`` and ``verdict`` columns,
            see :func:`qaa_hw.analysis.feasibility.assess_device`).
        front: the Pareto-optimal rows.
        recommended: the recommended row, or None.
        path: output file.
        title: figure title.
        formats: extra suffixes to save too.
    """
    from matplotlib import colors

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.6))
    cost = [max(float(r["s_per_token"]), 1e-9) for r in rows]
    norm = colors.LogNorm(vmin=min(cost), vmax=max(max(cost), min(cost) * 1.01))
    edge = {"feasible": "green", "marginal": "orange", "infeasible": "red"}
    sc = ax.scatter([r["parameters"] for r in rows], [r["error_with_shots"] for r in rows],
                    c=cost, cmap="viridis", norm=norm, s=36, alpha=0.85,
                    edgecolors=[edge.get(str(r.get("verdict")), "black") for r in rows],
                    linewidths=1.2, zorder=3)
    fig.colorbar(sc, ax=ax, label="QPU seconds per generated token")
    labels: dict[tuple[float, float], list[str]] = {}
    for r in front:
        xy = (float(r["parameters"]), round(float(r["error_with_shots"]), 4))
        text = f"n{r['qubits']}L{r['layers']} {r['entangler']} {r['mitigation']}"
        if text not in labels.setdefault(xy, []):
            labels[xy].append(text)
    if labels:
        ax.scatter([xy[0] for xy in labels], [xy[1] for xy in labels], marker="D", s=90,
                   facecolors="none", edgecolors="black", linewidths=1.0, zorder=4,
                   label="Pareto-optimal")
    for i, (xy, texts) in enumerate(sorted(labels.items())):
        ax.annotate(", ".join(texts), xy, fontsize=6, xytext=(6, 2 + 8 * (i % 3)),
                    textcoords="offset points", alpha=0.85)
    if recommended is not None:
        ax.scatter([recommended["parameters"]], [recommended["error_with_shots"]],
                   marker="*", s=320, color="gold", edgecolors="black", zorder=5,
                   label="recommended")
    th = Thresholds()
    top = max([float(r["error_with_shots"]) for r in rows] + [0.0]) * 1.15
    ax.axhline(th.error_feasible, color="green", linestyle=":", linewidth=1)
    if top > th.error_marginal:
        ax.axhline(th.error_marginal, color="orange", linestyle=":", linewidth=1)
    ax.set_ylim(0, max(top, th.error_feasible * 1.2))
    ax.margins(x=0.2)
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("mean |error| after mitigation, at the assumed shots")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or "co-design view (edge colour: verdict)", fontsize=9)
    return _save(fig, path, formats)


def plot_quality_vs_shots(table: Sequence[Mapping[str, Any]], path: str | Path, *,
                          formats: Sequence[str] = ()) -> list[Path]:
    """Test loss of the fine-tuned adapter against shots per circuit, one line per (model,
    device, noise scale, mitigation); exact values drawn as a dotted horizontal line.

    Args:
        table: rows of :func:`qaa_hw.analysis.task_quality.quality_table`.
        path: output file.
        formats: extra suffixes to save too.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    keys = sorted({(r["model"], r["device"], r["noise_scale"], r["mitigation"]) for r in table})
    for i, key in enumerate(keys):
        group = [r for r in table if (r["model"], r["device"], r["noise_scale"],
                                      r["mitigation"]) == key]
        finite = sorted((r["shots"], r["loss"]) for r in group if r["shots"] is not None)
        label = f"{key[0]} {key[1]} λ={key[2]:g} {key[3]}"
        color = f"C{i % 10}"
        if finite:
            ax.plot([s for s, _ in finite], [v for _, v in finite], "o-", color=color,
                    label=label)
        for r in group:
            if r["shots"] is None:
                ax.axhline(r["loss"], color=color, linestyle=":", linewidth=1,
                           label=None if finite else f"{label} (exact)")
    ax.set_xscale("log")
    ax.set_xlabel("shots per circuit and token (dotted: exact values)")
    ax.set_ylabel("test loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("task quality against shot noise", fontsize=9)
    return _save(fig, path, formats)
