"""Hardware-feasibility reports: one self-contained HTML file and a Markdown twin.

:func:`build_report` takes tidy sweep rows (:meth:`qaa_hw.analysis.store.ResultStore.rows`),
assesses each requested device (:func:`qaa_hw.analysis.feasibility.assess_device`), draws the
plots (PNG and SVG under ``out/plots/``) and writes

* ``report.html``: every plot embedded as a ``data:image/png;base64`` URI, inline CSS, no
  external resource, so the file can be mailed or opened offline;
* ``report.md``: the same text and tables, images linked as ``plots/<name>.png``;
* ``assessment.json``: the assessments as data.

One section per device: the circuit verdict and the cost verdict with their reasons, the
advantage check (classical surrogate against QPU time per token), recommended and largest
feasible configuration, the paper's configuration (n = 10, no down-projection) when asked
for, the cost table of the Pareto-optimal configurations, the coupling map with the
recommended layout and the co-design (Pareto) plot. With a fine-tuning results store, a
section "Task quality against noise" (table and plot).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qaa_hw.analysis.assumptions import Pricing, Thresholds, TrainingAssumptions
from qaa_hw.analysis.feasibility import (
    DeviceAssessment,
    ShotErrorFn,
    assess_device,
    assess_spec,
    format_hours,
)
from qaa_hw.analysis.pareto import config_label
from qaa_hw.analysis.task_quality import QualityRow, quality_table
from qaa_hw.errors import ConfigError, QaaHwError
from qaa_hw.files import write_text_atomic

logger = logging.getLogger(__name__)

#: Columns of the per-device cost table: (row key, header, format).
COST_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("config", "configuration", "s"),
    ("verdict", "circuit verdict", "s"),
    ("cost_verdict", "cost verdict", "s"),
    ("parameters", "params", "d"),
    ("mitigated_abs_error", "bias", ".4f"),
    ("standard_error", "std. error", ".4f"),
    ("error_with_shots", "|err| at shots", ".4f"),
    ("esp", "ESP", ".3f"),
    ("two_qubit_count", "2q gates", ".0f"),
    ("duration_s", "duration (us)", "us"),
    ("circuits_per_estimate", "circuits/call", ".3g"),
    ("circuits_per_step", "circuits/step", ".3g"),
    ("shots_for_equal_error", "shots for unmitigated σ", ".3g"),
    ("qpu_h_per_epoch", "QPU time/epoch", "h"),
    ("usd_per_epoch", "USD/epoch", ",.0f"),
    ("s_per_1k_tokens", "QPU s/1k tokens", ".3g"),
    ("usd_per_1k_tokens", "USD/1k tokens", ",.2f"),
)
#: Columns of the paper-configuration table: (row key, header, format).
PAPER_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("config", "configuration", "s"),
    ("verdict", "circuit verdict", "s"),
    ("cost_verdict", "cost verdict", "s"),
    ("parameters", "params", "d"),
    ("esp", "ESP", ".3g"),
    ("two_qubit_count", "2q gates", ".0f"),
    ("duration_s", "duration (us)", "us"),
    ("qpu_h_per_epoch", "QPU time/epoch", "h"),
    ("usd_per_epoch", "USD/epoch", ",.0f"),
    ("s_per_1k_tokens", "QPU s/1k tokens", ".3g"),
    ("usd_per_1k_tokens", "USD/1k tokens", ",.2f"),
    ("compile_s", "compile (s)", ".3g"),
)


@dataclass(frozen=True)
class ReportFiles:
    """Files written by :func:`build_report`."""

    html: Path
    markdown: Path
    assessment: Path
    plots: tuple[Path, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"html": str(self.html), "markdown": str(self.markdown),
                "assessment": str(self.assessment), "plots": [str(p) for p in self.plots]}


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    if spec == "s":
        return str(value)
    if spec == "us":
        return f"{float(value) * 1e6:.3g}"
    if spec == "h":
        return format_hours(float(value))
    if spec == "d":
        return str(int(value))
    return format(float(value), spec)


def _cost_rows(assessment: DeviceAssessment) -> list[dict[str, Any]]:
    """The Pareto front, with the recommended row first when it is not on it."""
    rows = list(assessment.front)
    rec = assessment.recommended
    if rec is not None and all(r is not rec for r in rows):
        rows.insert(0, rec)
    out = []
    for r in rows:
        cells = {k: _fmt(r.get(k) if k != "config" else config_label(r), f)
                 for k, _, f in COST_COLUMNS}
        if rec is not None and r is rec:
            cells["config"] += " (recommended)"
        out.append(cells)
    return out


def _config_table(row: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if row is None:
        return [("-", "none")]
    return [
        ("qubits n", str(row["qubits"])), ("layers L", str(row["layers"])),
        ("rotations", str(row.get("rotations", "ry"))), ("entangler", str(row["entangler"])),
        ("embedding", str(row["embedding"])), ("mitigation", str(row["mitigation"])),
        ("trainable parameters", str(int(row["parameters"]))),
        ("ESP", f"{float(row['esp']):.3f}"),
        ("duration", f"{float(row['duration_s']) * 1e6:.3g} us"),
        ("output fidelity", f"{float(row['output_fidelity']):.3f}"),
        ("mean |error| (unmitigated, mitigated)",
         f"{float(row['abs_error']):.4f}, {float(row['mitigated_abs_error']):.4f}"),
        (f"mean |error| at {int(row['shots_per_call'])} shots (bias + standard error)",
         f"{float(row['mitigated_abs_error']):.4f} + {float(row['standard_error']):.4f} = "
         f"{float(row['error_with_shots']):.4f} (shot noise x{float(row['shot_amplification']):.3g}"
         " from mitigation)"),
        ("physical qubits", str(row.get("active_qubits", "-"))),
        ("circuits per training step", f"{float(row['circuits_per_step']):.4g} (input "
         f"gradients: {float(row['input_gradient_circuits_per_step']):.4g})"),
        ("QPU time per epoch", format_hours(float(row["qpu_h_per_epoch"]))),
        ("money per epoch", f"USD {float(row['usd_per_epoch']):,.0f}"),
        ("QPU seconds per generated token", f"{float(row['s_per_token']):.3g}"),
        ("money per 1,000 generated tokens", f"USD {float(row['usd_per_1k_tokens']):,.2f}"),
    ]


@dataclass
class _Section:
    device: str
    assessment: DeviceAssessment | None
    error: str
    plots: list[tuple[str, Path]]
    paper: Mapping[str, Any] | None = None


def _device_plots(assessment: DeviceAssessment, plot_dir: Path) -> list[tuple[str, Path]]:
    from qaa_hw.analysis.plots import plot_coupling_map, plot_pareto
    from qaa_hw.devices.catalog import load_device

    device = load_device(assessment.device)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in assessment.device)
    rec = assessment.recommended
    active = json.loads(str(rec.get("active_qubits") or "[]")) if rec else []
    coupling = plot_coupling_map(
        device, plot_dir / f"coupling_{safe}.png", highlight=active, formats=(".svg",),
        title=f"{device.name}: recommended layout {active} (red outline)")
    pareto = plot_pareto(assessment.rows, assessment.front, rec, plot_dir / f"pareto_{safe}.png",
                         title=f"{device.name}: co-design view (noise scale "
                               f"{assessment.noise_scale:g})", formats=(".svg",))[0]
    return [("coupling map with the recommended layout", coupling),
            ("co-design view: error vs parameters vs QPU time", pareto)]


def _data_uri(path: Path) -> str:
    kind = "svg+xml" if path.suffix == ".svg" else "png"
    return f"data:image/{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1150px;
color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f2f2f2}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}
.feasible{background:#2e7d32}.marginal{background:#ef8f00}.infeasible{background:#c62828}
.none{background:#777}
code{background:#f5f5f5;padding:0 3px}
"""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in headers) + " |",
             "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


class _Writer:
    """Accumulates the same content as HTML and Markdown."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.html: list[str] = []
        self.md: list[str] = []

    def heading(self, level: int, text: str, badge: str | None = None) -> None:
        extra = f' <span class="badge {badge}">{badge}</span>' if badge else ""
        self.html.append(f"<h{level}>{html.escape(text)}{extra}</h{level}>")
        self.md.append("#" * level + " " + text + (f" — **{badge}**" if badge else ""))

    def para(self, text: str) -> None:
        self.html.append(f"<p>{html.escape(text)}</p>")
        self.md.append(text)

    def bullets(self, items: Sequence[str]) -> None:
        self.html.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items)
                         + "</ul>")
        self.md.append("\n".join(f"- {i}" for i in items))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.html.append(_html_table(headers, rows))
        self.md.append(_md_table(headers, rows))

    def image(self, caption: str, path: Path) -> None:
        self.html.append(f'<figure><img src="{_data_uri(path)}" alt="{html.escape(caption)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        rel = path.relative_to(self.out_dir).as_posix()
        self.md.append(f"![{caption}]({rel})")


def _assumptions(w: _Writer, training: TrainingAssumptions, thresholds: Thresholds,
                 pricing: Pricing, sections: Sequence[_Section], shots_note: str) -> None:
    w.heading(2, "Assumptions")
    w.para("Verdict thresholds (docs/feasibility.md explains each number): feasible needs ESP "
           f">= {thresholds.esp_feasible:g}, coherent time <= {thresholds.t2_feasible:g} x min "
           f"T2 and mean |error| <= {thresholds.error_feasible:g}; marginal needs ESP >= "
           f"{thresholds.esp_marginal:g}, <= {thresholds.t2_marginal:g} x T2 and |error| <= "
           f"{thresholds.error_marginal:g}; anything worse is infeasible. The error is the "
           "bias after mitigation plus the standard error of the estimate at the assumed "
           "shots (the mitigation's variance amplification included). Cost verdict: "
           f"feasible needs <= {format_hours(thresholds.epoch_h_feasible)} of QPU time per "
           f"epoch and <= {thresholds.tokens_1k_s_feasible:g} s per 1,000 generated tokens; "
           f"marginal <= {format_hours(thresholds.epoch_h_marginal)} and <= "
           f"{thresholds.tokens_1k_s_marginal:g} s.")
    grad = ("parameter-shift gradients (2P + 1 circuits per token and module)"
            if training.gradient == "parameter_shift" else "forward passes only")
    inputs = (f"input gradients for the {training.input_gradient_modules} modules above the "
              "lowest layer (2 circuits per embedding angle)"
              if training.input_gradient_modules else "no input gradients")
    w.para(f"Training: {training.tokens_per_step} tokens per step, {training.modules} adapted "
           f"modules ({training.layers} layers x {training.targets} targets), "
           f"{training.steps_per_epoch} steps per epoch, {grad}, {inputs}, "
           f"{training.shots} shots per circuit for exact sweep points ({shots_note}). "
           "Generation: one adapter call per token and module. Queueing and job latency are "
           f"not included. Price: USD {pricing.usd_per_qpu_s:g} per QPU-second "
           f"({pricing.source}).")
    rows = [[s.device, s.assessment.timing.family,
             f"{s.assessment.timing.reset_s * 1e6:.3g}",
             f"{s.assessment.timing.rep_delay_s * 1e6:.3g}", s.assessment.timing.source]
            for s in sections if s.assessment is not None]
    if rows:
        w.table(["device", "family", "reset (us)", "rep. delay (us)", "source"], rows)


def _quality_section(w: _Writer, quality: Sequence[QualityRow], plot_dir: Path,
                     plots: list[tuple[str, Path]]) -> None:
    from qaa_hw.analysis.plots import plot_quality_vs_shots

    table = quality_table(quality)
    w.heading(2, "Task quality against noise")
    w.para("The fine-tuned adapter evaluated under each device's noise (fine-tuning results "
           "store; means over seeds). Shots are per circuit and token; 'exact' are exact "
           "expectation values.")

    def cell(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    w.table(["model", "device", "noise scale", "mitigation", "shots", "seeds", "test loss",
             "ROUGE-L", "BERTScore"],
            [[r["model"], r["device"], f"{r['noise_scale']:g}", r["mitigation"],
              "exact" if r["shots"] is None else str(r["shots"]), str(r["seeds"]),
              cell(r["loss"], ".4f"), cell(r["rouge_l"], ".4f"), cell(r["bertscore"], ".4f")]
             for r in table])
    path = plot_quality_vs_shots(table, plot_dir / "quality_vs_shots.png", formats=(".svg",))[0]
    w.image("task quality (test loss) against shots per circuit", path)
    plots.append(("task quality against shots", path))


def build_report(
    rows: Sequence[Mapping[str, Any]],
    devices: Sequence[str],
    out_dir: str | Path,
    *,
    thresholds: Thresholds | None = None,
    training: TrainingAssumptions | None = None,
    pricing: Pricing | None = None,
    title: str = "QAA hardware-feasibility report",
    sweep_note: str = "",
    shots_note: str = "user value",
    failures: Sequence[Mapping[str, Any]] = (),
    quality: Sequence[QualityRow] = (),
    paper: Any = None,
    paper_time_budget_s: float | None = 20.0,
    shot_error: ShotErrorFn | None = None,
    advantage: bool = True,
) -> ReportFiles:
    """Assess ``devices`` from sweep ``rows`` and write the HTML and Markdown reports.

    Args:
        rows: tidy sweep rows (failed rows are ignored except in the failure list).
        devices: device names, one section each, in this order.
        out_dir: output folder (``report.html``, ``report.md``, ``assessment.json``,
            ``plots/``).
        thresholds: verdict thresholds (default :class:`Thresholds`).
        training: QPU-cost assumptions (default :class:`TrainingAssumptions`).
        pricing: QPU price (default :class:`Pricing`).
        title: report title.
        sweep_note: one sentence on where the rows come from.
        shots_note: where ``training.shots`` comes from (user value, fine-tuning study).
        failures: failed points to list (``ResultStore.failures()``).
        quality: rows of a fine-tuning results store
            (:func:`qaa_hw.analysis.task_quality.load_quality_store`); empty: no task-quality
            section.
        paper: a :class:`~qaa_hw.circuits.spec.QAASpec` compiled and judged on every device
            next to the recommended configuration (:func:`assess_spec`), or None.
        paper_time_budget_s: compile time budget of ``paper``.
        shot_error: see :func:`~qaa_hw.analysis.feasibility.with_shot_error`.
        advantage: time the classical surrogate of each recommended configuration.

    Raises:
        ConfigError: no device names, or no successful row at all.
    """
    from qaa_hw.analysis.plots import plot_cost_vs_qubits, plot_esp_vs_layers, plot_noise_scaling
    from qaa_hw.devices.catalog import load_device

    if not devices:
        raise ConfigError("report: no devices given")
    th = thresholds or Thresholds()
    tr = training or TrainingAssumptions()
    price = pricing or Pricing()
    out = Path(out_dir)
    plot_dir = out / "plots"
    ok = [r for r in rows if r.get("status", "ok") == "ok" and r.get("device") in devices]
    if not ok:
        raise ConfigError(f"report: the sweep has no successful point for {', '.join(devices)}")
    sections: list[_Section] = []
    for name in devices:
        try:
            assessment = assess_device(ok, load_device(name), thresholds=th, training=tr,
                                       pricing=price, shot_error=shot_error,
                                       advantage=advantage)
            paper_row = (assess_spec(paper, load_device(name), training=tr, pricing=price,
                                     thresholds=th, time_budget_s=paper_time_budget_s)
                         if paper is not None else None)
            sections.append(_Section(name, assessment, "", _device_plots(assessment, plot_dir),
                                     paper_row))
        except QaaHwError as e:
            sections.append(_Section(name, None, str(e), []))
    global_plots = [
        ("fidelity and output error vs noise scale",
         plot_noise_scaling(ok, plot_dir / "noise_scaling.png", formats=(".svg",))[0]),
        ("depth and two-qubit gates vs qubits",
         plot_cost_vs_qubits(ok, plot_dir / "cost_vs_qubits.png", formats=(".svg",))[0]),
        ("ESP vs layers", plot_esp_vs_layers(ok, plot_dir / "esp_vs_layers.png",
                                             formats=(".svg",))[0]),
    ]
    w = _Writer(out)
    w.heading(1, title)
    w.para(f"Generated {time.strftime('%Y-%m-%d')} by qaa_hw from {len(ok)} successful sweep "
           f"points{'; ' + sweep_note if sweep_note else ''}.")
    w.heading(2, "Summary")
    summary = []
    for s in sections:
        a = s.assessment
        if a is None or a.recommended is None:
            summary.append([s.device, "no data", "-", s.error, "-", "-", "-", "-", "-", "-"])
            continue
        rec = a.recommended
        summary.append([
            s.device, a.level, str(rec["cost_verdict"]), config_label(rec),
            config_label(a.largest_feasible) if a.largest_feasible else "none",
            format_hours(float(rec["qpu_h_per_epoch"])), f"{float(rec['usd_per_epoch']):,.0f}",
            f"{float(rec['s_per_1k_tokens']):.3g}", f"{float(rec['usd_per_1k_tokens']):,.2f}",
            f"{a.advantage.qpu_over_classical:.3g}x" if a.advantage else "-"])
    w.table(["device", "circuit verdict", "cost verdict", "recommended", "largest feasible",
             "QPU time/epoch", "USD/epoch", "QPU s/1k tokens", "USD/1k tokens",
             "QPU / classical time per token"], summary)
    _assumptions(w, tr, th, price, sections, shots_note)
    for s in sections:
        a = s.assessment
        w.heading(2, s.device, badge=a.level if a else "none")
        if a is None:
            w.para(f"No assessment: {s.error}")
            continue
        best = a.recommended
        assert best is not None
        w.para(f"Assessed at noise scale {a.noise_scale:g} over {len(a.rows)} configurations "
               f"({sum(r['verdict'] == 'feasible' for r in a.rows)} feasible, "
               f"{sum(r['verdict'] == 'marginal' for r in a.rows)} marginal). Circuit verdict "
               "of the recommended configuration:")
        w.bullets(list(a.reasons))
        w.para(f"Cost verdict of the recommended configuration: {best['cost_verdict']}.")
        w.bullets(list(best["cost_reasons"]))
        if a.advantage is not None:
            w.para("Advantage check: " + a.advantage.sentence())
        w.heading(3, "Recommended configuration")
        w.table(["setting", "value"], [list(p) for p in _config_table(a.recommended)])
        largest = a.largest_feasible
        w.para("Largest feasible configuration: "
               + (config_label(largest) + f" ({int(largest['parameters'])} parameters, mean "
                  f"|error| {float(largest['mitigated_abs_error']):.4f})" if largest
                  else "none (no configuration passes every feasible threshold)."))
        if s.paper is not None:
            w.heading(3, "The paper's configuration")
            p = {**s.paper, "config": config_label(s.paper)}
            w.table([h for _, h, _ in PAPER_COLUMNS],
                    [[_fmt(p.get(k), f) for k, _, f in PAPER_COLUMNS]])
            w.bullets([str(r) for r in p["reasons"]] + [str(r) for r in p["cost_reasons"]])
        w.heading(3, "QPU cost of the Pareto-optimal configurations")
        crow = _cost_rows(a)
        w.table([h for _, h, _ in COST_COLUMNS], [[r[k] for k, _, _ in COST_COLUMNS]
                                                  for r in crow])
        for caption, path in s.plots:
            w.image(f"{s.device}: {caption}", path)
    if quality:
        _quality_section(w, quality, plot_dir, global_plots)
    w.heading(2, "Sweep plots")
    for caption, path in global_plots:
        w.image(caption, path)
    if failures:
        w.heading(2, "Failed points")
        w.table(["key", "device", "qubits", "layers", "mitigation", "error"],
                [[str(f["key"]), str(f.get("device")), str(f.get("qubits")),
                  str(f.get("layers")), str(f.get("mitigation")), str(f.get("error"))]
                 for f in failures])
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "report.html"
    write_text_atomic(
        html_path, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(w.html) + "\n</body></html>\n")
    md_path = out / "report.md"
    write_text_atomic(md_path, "\n\n".join(w.md) + "\n")
    json_path = out / "assessment.json"
    write_text_atomic(json_path, json.dumps(
        [s.assessment.to_dict() if s.assessment else {"device": s.device, "error": s.error}
         for s in sections], indent=1, default=str) + "\n")
    plots = tuple(p for _, p in global_plots) + tuple(p for s in sections for _, p in s.plots)
    return ReportFiles(html_path, md_path, json_path, plots)
