"""Hardware-feasibility model: verdicts from explicit thresholds, the QPU cost of training
and generation in time and money, and the classical-surrogate comparison.

``docs/feasibility.md`` explains every number; in short:

**Verdict** of one configuration on one device (one sweep row), the worst of three checks:

=========================  ===============  ===============  ==============================
check                      feasible         marginal         why
=========================  ===============  ===============  ==============================
ESP                        >= 0.5           >= 0.1           error-mitigation sampling cost
                                                             grows ~ 1/ESP^2: <= 4x, <= 100x
coherent time / min T2     <= 0.25          <= 1.0           worst-qubit coherence
                                                             exp(-t/T2) >= 0.78, >= 0.37
error of <Z> at the        <= 0.05          <= 0.15          bias after mitigation + the
assumed shots                                                standard error at those shots
=========================  ===============  ===============  ==============================

*Coherent time* is the circuit duration without the final readout. The standard error comes
from :func:`qaa_hw.analysis.shot_noise.row_shot_error` (variance amplification of the
mitigation included).

**QPU cost** (:func:`qpu_cost`): every token through every adapted module is one circuit per
evaluation (the amplitude embedding depends on the token), so::

    modules          = layers x targets (e.g. 30 x q_proj, v_proj = 60 for SmolLM2-135M)
    evaluations      = 2 P + 1 (parameter-shift gradient of P angles + the forward value),
                       or 1 with gradient="forward"
    input gradients  = 2 A circuits (A embedding angles) per module above the lowest layer
    circuits/step    = tokens_per_step x (modules x evaluations
                                          + (layers - 1) x targets x 2 A) x circuits/call
    shot time        = circuit duration (readout included) + reset + repetition delay
    QPU s/step       = circuits/step x shots x shot time;  USD = QPU s x price per QPU-second
    s/token          = modules x circuits/call x shots x shot time   (generation)

Reset and repetition delay per family come from :func:`shot_timing` (IBM: the fake backend's
``default_rep_delay`` and median ``reset`` length).
"""

from __future__ import annotations

import functools
import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qaa_hw.analysis.advantage import Advantage
from qaa_hw.analysis.assumptions import Pricing, Thresholds, TrainingAssumptions
from qaa_hw.analysis.pareto import CODESIGN_OBJECTIVES, config_label, pareto_front
from qaa_hw.analysis.store import average_seeds
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import ConfigError

LEVELS: tuple[str, ...] = ("feasible", "marginal", "infeasible")


@dataclass(frozen=True)
class ShotTiming:
    """Time per shot beyond the circuit itself.

    Attributes:
        family: device family.
        reset_s: qubit initialisation per shot.
        rep_delay_s: repetition delay between shots.
        source: where the numbers come from.
    """

    family: str
    reset_s: float
    rep_delay_s: float
    source: str

    def shot_seconds(self, duration_s: float) -> float:
        """Per-shot time of a circuit of ``duration_s`` (readout included)."""
        return duration_s + self.reset_s + self.rep_delay_s

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


#: Per-family defaults where the device data has no number (see docs/feasibility.md).
FAMILY_TIMING: dict[str, tuple[float, float, str]] = {
    "ibm": (0.0, 250e-6, "IBM default_rep_delay 250 us (qiskit-ibm-runtime backend "
                         "configurations); reset unknown: 0"),
    "google": (0.0, 200e-6, "assumption: 200 us per shot all-in (1e6 samples in ~200 s, "
                            "Arute et al., Nature 574, 505 (2019)); no separate reset"),
    "ion": (1e-3, 0.0, "assumption: 1 ms of cooling + state preparation per shot "
                       "(trapped-ion vendors publish no per-shot overhead)"),
}
_DEFAULT_TIMING = (0.0, 250e-6, "assumption: IBM-like 250 us repetition delay, no reset")


@functools.lru_cache(maxsize=64)
def _ibm_timing(name: str) -> tuple[float, float, str] | None:
    from qaa_hw.devices.ibm import snapshot_files

    files = snapshot_files(name)
    if files is None:
        return None
    conf_path, props_path = files
    try:
        conf = json.loads(conf_path.read_text(encoding="utf-8"))
        props = json.loads(props_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rep = conf.get("default_rep_delay")
    if rep is None:
        return None
    rep_s = float(rep) * 1e-6  # IBM reports rep_delay in microseconds
    lengths = []
    for gate in props.get("gates", []):
        if gate.get("gate") == "reset":
            for par in gate.get("parameters", []):
                if par.get("name") == "gate_length":
                    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "s": 1.0}.get(
                        par.get("unit", "ns"), 1e-9)
                    lengths.append(float(par["value"]) * scale)
    reset_s = statistics.median(lengths) if lengths else 0.0
    source = (f"{conf_path.name}: default_rep_delay {float(rep):g} us; {props_path.name}: "
              f"median reset {reset_s * 1e6:.3g} us")
    return reset_s, rep_s, source


def shot_timing(device: DeviceModel) -> ShotTiming:
    """Reset and repetition delay per shot for a device (see :data:`FAMILY_TIMING`)."""
    if device.family == "ibm":
        found = _ibm_timing(device.name)
        if found is not None:
            return ShotTiming(device.family, *found)
    reset, rep, source = FAMILY_TIMING.get(device.family, _DEFAULT_TIMING)
    return ShotTiming(device.family, reset, rep, source)


def coherent_duration(row: Mapping[str, Any], device: DeviceModel) -> float:
    """Circuit duration without the final readout (the longest measure of the readout qubits)."""
    final = json.loads(str(row.get("final_layout") or "[]"))
    measure = device.instructions.get("measure", {})
    readout = max((measure[(q,)].duration_s for q in final if (q,) in measure), default=0.0)
    return max(0.0, float(row["duration_s"]) - readout)


@dataclass(frozen=True)
class Verdict:
    """Verdict of one configuration.

    Attributes:
        level: ``feasible``, ``marginal`` or ``infeasible`` (the worst check).
        checks: ``{check: level}`` for ``esp``, ``coherence`` and ``error``.
        reasons: one sentence per check with the number and the threshold.
    """

    level: str
    checks: Mapping[str, str]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"level": self.level, "checks": dict(self.checks), "reasons": list(self.reasons)}


def _level_high(value: float, feasible: float, marginal: float) -> str:
    return "feasible" if value >= feasible else "marginal" if value >= marginal else "infeasible"


def _level_low(value: float, feasible: float, marginal: float) -> str:
    return "feasible" if value <= feasible else "marginal" if value <= marginal else "infeasible"


def judge(row: Mapping[str, Any], device: DeviceModel,
          thresholds: Thresholds | None = None) -> Verdict:
    """Verdict of a sweep row with its ``standard_error`` at ``shots_per_call`` (see the
    module docstring and :func:`with_shot_error`)."""
    th = thresholds or Thresholds()
    esp = float(row["esp"])
    coherent = coherent_duration(row, device)
    t2 = row.get("min_t2_s")
    ratio = 0.0 if not t2 else coherent / float(t2)
    bias = float(row["mitigated_abs_error"])
    se = float(row["standard_error"])
    err = bias + se
    checks = {
        "esp": _level_high(esp, th.esp_feasible, th.esp_marginal),
        "coherence": _level_low(ratio, th.t2_feasible, th.t2_marginal),
        "error": _level_low(err, th.error_feasible, th.error_marginal),
    }
    mitigation = row.get("mitigation", "none")
    reasons = (
        f"ESP {esp:.3f} ({checks['esp']}: feasible >= {th.esp_feasible:g}, marginal >= "
        f"{th.esp_marginal:g})",
        f"coherent time {coherent * 1e6:.3g} us = {ratio:.3f} x min T2 of the active qubits "
        f"({checks['coherence']}: feasible <= {th.t2_feasible:g}, marginal <= "
        f"{th.t2_marginal:g})",
        f"mean |error| of the readout with mitigation '{mitigation}' at "
        f"{int(row['shots_per_call'])} shots per circuit: bias {bias:.4f} + standard error "
        f"{se:.4f} = {err:.4f} ({checks['error']}: feasible <= {th.error_feasible:g}, "
        f"marginal <= {th.error_marginal:g})",
    )
    level = max(checks.values(), key=LEVELS.index)
    return Verdict(level, checks, reasons)


def embedding_angles(row: Mapping[str, Any]) -> int:
    """Embedding angles ``A`` of a row's adapter (``2^n - 1`` for the exact embedding)."""
    return _embedding_angles(int(row["qubits"]), str(row.get("embedding") or "exact"),
                             float(row.get("embedding_fidelity") or 0.99))


@functools.lru_cache(maxsize=64)
def _embedding_angles(qubits: int, embedding: str, fidelity: float) -> int:
    if embedding == "exact":
        return (1 << qubits) - 1
    from qaa_hw.circuits.plans import plan_embedding
    from qaa_hw.circuits.spec import QAASpec

    spec = QAASpec(num_qubits=qubits, embedding=embedding,  # type: ignore[arg-type]
                   embedding_fidelity=fidelity)
    return int(plan_embedding(spec).num_angles)


def shots_per_call(row: Mapping[str, Any], training: TrainingAssumptions) -> int:
    """Shots per circuit: the row's own, else the training assumption's."""
    return int(row["shots"]) if row.get("shots") else training.shots


def judge_cost(row: Mapping[str, Any], thresholds: Thresholds | None = None) -> Verdict:
    """Cost verdict of a row with :func:`qpu_cost` columns: the worse of QPU time per epoch
    and QPU time per 1,000 generated tokens (money is that time x the price)."""
    th = thresholds or Thresholds()
    epoch_h = float(row["qpu_h_per_epoch"])
    gen_s = float(row["s_per_1k_tokens"])
    checks = {
        "epoch": _level_low(epoch_h, th.epoch_h_feasible, th.epoch_h_marginal),
        "generation": _level_low(gen_s, th.tokens_1k_s_feasible, th.tokens_1k_s_marginal),
    }
    reasons = (
        f"training: {format_hours(epoch_h)} of QPU time per epoch, USD "
        f"{float(row['usd_per_epoch']):,.0f} ({checks['epoch']}: feasible <= "
        f"{format_hours(th.epoch_h_feasible)}, marginal <= {format_hours(th.epoch_h_marginal)})",
        f"generation: {gen_s:.3g} s of QPU time per 1,000 tokens, USD "
        f"{float(row['usd_per_1k_tokens']):,.2f} ({checks['generation']}: feasible <= "
        f"{th.tokens_1k_s_feasible:g} s, marginal <= {th.tokens_1k_s_marginal:g} s)",
    )
    return Verdict(max(checks.values(), key=LEVELS.index), checks, reasons)


def qpu_cost(row: Mapping[str, Any], timing: ShotTiming,
             training: TrainingAssumptions | None = None,
             pricing: Pricing | None = None) -> dict[str, float]:
    """QPU cost of training and generation with a sweep row's configuration.

    Returns:
        ``shot_s``, ``shots``, ``evaluations``, ``input_gradient_circuits_per_step``,
        ``circuits_per_step``, ``circuits_per_token``, ``qpu_s_per_step``,
        ``qpu_h_per_epoch``, ``usd_per_epoch``, ``s_per_token``, ``s_per_1k_tokens``,
        ``usd_per_1k_tokens`` (see the module docstring).
    """
    tr = training or TrainingAssumptions()
    price = (pricing or Pricing()).usd_per_qpu_s
    shots = shots_per_call(row, tr)
    per_estimate = float(row.get("circuits_per_estimate") or 1.0)
    params = int(row["parameters"])
    evaluations = 2 * params + 1 if tr.gradient == "parameter_shift" else 1
    shot_s = timing.shot_seconds(float(row["duration_s"]))
    inputs = tr.tokens_per_step * tr.input_gradient_modules * 2 * embedding_angles(row) \
        * per_estimate
    per_step = tr.tokens_per_step * tr.modules * evaluations * per_estimate + inputs
    per_token = tr.modules * per_estimate
    step_s = per_step * shots * shot_s
    token_s = per_token * shots * shot_s
    return {
        "shot_s": shot_s,
        "shots": float(shots),
        "evaluations": float(evaluations),
        "input_gradient_circuits_per_step": float(inputs),
        "circuits_per_step": per_step,
        "circuits_per_token": per_token,
        "qpu_s_per_step": step_s,
        "qpu_h_per_epoch": step_s * tr.steps_per_epoch / 3600.0,
        "usd_per_epoch": step_s * tr.steps_per_epoch * price,
        "s_per_token": token_s,
        "s_per_1k_tokens": 1000.0 * token_s,
        "usd_per_1k_tokens": 1000.0 * token_s * price,
    }


ShotErrorFn = Callable[[Mapping[str, Any], int], Any]


def with_shot_error(row: Mapping[str, Any], training: TrainingAssumptions,
                    shot_error: ShotErrorFn | None = None) -> dict[str, Any]:
    """``row`` with ``shots_per_call``, ``standard_error``, ``shot_amplification``,
    ``shots_for_equal_error`` and ``error_with_shots`` (bias + standard error).

    Args:
        row: a sweep row (``mitigated_abs_error`` is the bias).
        training: the shots assumption.
        shot_error: ``(row, shots) -> ShotError`` (default
            :func:`qaa_hw.analysis.shot_noise.row_shot_error`, the simulation core).
    """
    if shot_error is None:
        from qaa_hw.analysis.shot_noise import row_shot_error

        shot_error = row_shot_error
    shots = shots_per_call(row, training)
    err = shot_error(row, shots)
    return {**row, "shots_per_call": shots, "standard_error": err.standard_error,
            "shot_amplification": err.amplification,
            "shots_for_equal_error": err.shots_for_equal_error(),
            "error_with_shots": float(row["mitigated_abs_error"]) + err.standard_error}


@dataclass(frozen=True)
class DeviceAssessment:
    """Feasibility of a device for QAA adapters, from the sweep rows of that device.

    Attributes:
        device: device name.
        noise_scale: the noise scale the assessment uses (1.0 when the sweep has it).
        level: the verdict of the recommended configuration (the best verdict reached).
        reasons: the recommended configuration's reasons.
        recommended: the recommended row (with ``verdict`` and cost columns), or None.
        largest_feasible: the feasible row with the most qubits, then layers, or None.
        rows: every assessed row with ``verdict``, ``checks`` and cost columns.
        front: the Pareto-optimal rows (see :mod:`qaa_hw.analysis.pareto`).
        timing: the per-shot timing used.
        training: the training assumptions used.
        thresholds: the thresholds used.
        pricing: the QPU price used.
        advantage: the recommended configuration's QPU against classical-surrogate time per
            token, or None when not measured.
    """

    device: str
    noise_scale: float
    level: str
    reasons: tuple[str, ...]
    recommended: Mapping[str, Any] | None
    largest_feasible: Mapping[str, Any] | None
    rows: Sequence[Mapping[str, Any]]
    front: Sequence[Mapping[str, Any]]
    timing: ShotTiming
    training: TrainingAssumptions
    thresholds: Thresholds
    pricing: Pricing
    advantage: Advantage | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "device": self.device, "noise_scale": self.noise_scale, "level": self.level,
            "reasons": list(self.reasons),
            "recommended": None if self.recommended is None else dict(self.recommended),
            "largest_feasible": (None if self.largest_feasible is None
                                 else dict(self.largest_feasible)),
            "front": [dict(r) for r in self.front], "timing": self.timing.to_dict(),
            "training": self.training.to_dict(), "thresholds": self.thresholds.to_dict(),
            "pricing": self.pricing.to_dict(),
            "advantage": None if self.advantage is None else self.advantage.to_dict(),
        }


def assess_device(
    rows: Sequence[Mapping[str, Any]],
    device: DeviceModel,
    *,
    thresholds: Thresholds | None = None,
    training: TrainingAssumptions | None = None,
    pricing: Pricing | None = None,
    shot_error: ShotErrorFn | None = None,
    advantage: bool = True,
) -> DeviceAssessment:
    """Verdict, recommended and largest feasible configuration of ``device`` from sweep rows.

    Only successful rows of the device at the noise scale closest to 1 are used, averaged
    over seeds (:func:`average_seeds`); each gets its standard error at the assumed shots
    (:func:`with_shot_error`, ``shot_error`` as there) and its cost (:func:`qpu_cost`). The
    recommended configuration is, among the rows with the best verdict reached, the one with
    the most trainable parameters (ties: fewer QPU seconds per token, then lower error at
    the assumed shots): the largest adapter the hardware supports at that verdict, at the
    lowest cost. With ``advantage``, the classical surrogate of the recommended configuration
    is timed (:mod:`qaa_hw.analysis.advantage`).

    Raises:
        ConfigError: the sweep has no successful row for the device.
    """
    th = thresholds or Thresholds()
    tr = training or TrainingAssumptions()
    price = pricing or Pricing()
    mine = [r for r in rows if r.get("device") == device.name and r.get("status", "ok") == "ok"]
    if not mine:
        raise ConfigError(f"the sweep has no successful point for device {device.name!r}")
    scale = min({float(r["noise_scale"]) for r in mine}, key=lambda s: (abs(s - 1.0), s))
    timing = shot_timing(device)
    assessed = []
    for r in average_seeds([r for r in mine if float(r["noise_scale"]) == scale]):
        r = with_shot_error(r, tr, shot_error)
        v = judge(r, device, th)
        row = {**r, **qpu_cost(r, timing, tr, price), "verdict": v.level,
               "checks": dict(v.checks), "reasons": list(v.reasons)}
        cost = judge_cost(row, th)
        row.update(cost_verdict=cost.level, cost_checks=dict(cost.checks),
                   cost_reasons=list(cost.reasons))
        assessed.append(row)
    best = min(LEVELS.index(r["verdict"]) for r in assessed)
    top = [r for r in assessed if LEVELS.index(r["verdict"]) == best]
    recommended = min(top, key=lambda r: (-int(r["parameters"]), float(r["s_per_token"]),
                                         float(r["error_with_shots"])))
    feasible = [r for r in assessed if r["verdict"] == "feasible"]
    largest = (max(feasible, key=lambda r: (int(r["qubits"]), int(r["layers"]),
                                            int(r["parameters"]),
                                            -float(r["error_with_shots"])))
               if feasible else None)
    front = pareto_front(assessed, CODESIGN_OBJECTIVES)
    return DeviceAssessment(
        device=device.name, noise_scale=scale, level=recommended["verdict"],
        reasons=tuple(recommended["reasons"]), recommended=recommended,
        largest_feasible=largest, rows=assessed, front=front, timing=timing, training=tr,
        thresholds=th, pricing=price,
        advantage=measure_advantage(recommended, device.name, tr) if advantage else None,
    )


def measure_advantage(row: Mapping[str, Any], device: str,
                      training: TrainingAssumptions) -> Advantage:
    """Time the classical surrogate of a row's configuration (its exact-embedding twin when
    the row's embedding is approximate, which has no quadratic form) against the row's QPU
    seconds per token."""
    from dataclasses import fields, replace

    from qaa_hw.analysis.advantage import surrogate_seconds_per_call
    from qaa_hw.analysis.evaluate import compiled_point
    from qaa_hw.analysis.noisy_report import random_problem
    from qaa_hw.analysis.sweep_spec import SweepPoint

    names = {f.name for f in fields(SweepPoint)}
    point = SweepPoint(**{k: row[k] for k in names if k in row and row[k] is not None})
    compiled = compiled_point(replace(point, embedding="exact", mitigation="none",
                                      mitigation_options="{}", shots=None))
    _, theta = random_problem(compiled, 1, point.seed)
    per_call = surrogate_seconds_per_call(compiled, theta)
    return Advantage(device=device, config=config_label(row), modules=training.modules,
                     classical_s_per_token=per_call * training.modules,
                     qpu_s_per_token=float(row["s_per_token"]))


def format_hours(hours: float) -> str:
    """Human text for a QPU time in hours."""
    if not math.isfinite(hours):
        return "-"
    if hours >= 24 * 365:
        return f"{hours / (24 * 365):.3g} years"
    if hours >= 48:
        return f"{hours / 24:.3g} days"
    if hours >= 1:
        return f"{hours:.3g} h"
    return f"{hours * 60:.3g} min"


def assess_spec(spec: Any, device: DeviceModel, *, training: TrainingAssumptions | None = None,
                pricing: Pricing | None = None, thresholds: Thresholds | None = None,
                time_budget_s: float | None = None) -> dict[str, Any]:
    """Compile ``spec`` for ``device`` and judge it without a sweep: ESP, coherence and cost
    (no mitigation); the error check is left out (an exact noisy simulation at this size is
    not run), so the circuit verdict is the worse of ESP and coherence.

    Returns:
        A row-like mapping with the metrics, :func:`qpu_cost` columns, ``verdict``,
        ``reasons``, ``cost_verdict``, ``cost_reasons`` and ``compile_s``.
    """
    import time

    from qaa_hw.compile.api import compile_adapter

    th = thresholds or Thresholds()
    t0 = time.perf_counter()
    compiled = compile_adapter(spec, device, time_budget_s=time_budget_s)
    m = compiled.metrics
    t2 = min(device.qubits[q].t2_s for q in compiled.active_qubits)
    row: dict[str, Any] = {
        "device": device.name, "qubits": spec.num_qubits, "layers": spec.num_layers,
        "rotations": spec.rotations, "entangler": spec.entangler, "embedding": spec.embedding,
        "mitigation": "none", "parameters": spec.num_parameters, "esp": m.esp,
        "two_qubit_count": m.two_qubit_count, "duration_s": m.duration_s, "min_t2_s": t2,
        "final_layout": json.dumps(list(compiled.final_layout)), "circuits_per_estimate": 1.0,
        "compile_s": time.perf_counter() - t0, "method": compiled.method,
    }
    row.update(qpu_cost(row, shot_timing(device), training, pricing))
    coherent = coherent_duration(row, device)
    checks = {"esp": _level_high(m.esp, th.esp_feasible, th.esp_marginal),
              "coherence": _level_low(coherent / t2, th.t2_feasible, th.t2_marginal)}
    row["verdict"] = max(checks.values(), key=LEVELS.index)
    row["reasons"] = [
        f"ESP {m.esp:.3g} ({checks['esp']})",
        f"coherent time {coherent * 1e6:.3g} us = {coherent / t2:.3f} x min T2 "
        f"({checks['coherence']})", "output error not simulated at this size"]
    cost = judge_cost(row, th)
    row.update(cost_verdict=cost.level, cost_reasons=list(cost.reasons))
    return row
