"""Hardware-feasibility model: verdicts from explicit thresholds, and the QPU cost of training.

``docs/feasibility.md`` explains every number; in short:

**Verdict** of one configuration on one device (one sweep row), the worst of three checks:

=========================  ===============  ===============  ==============================
check                      feasible         marginal         why
=========================  ===============  ===============  ==============================
ESP                        >= 0.5           >= 0.1           error-mitigation sampling cost
                                                             grows ~ 1/ESP^2: <= 4x, <= 100x
coherent time / min T2     <= 0.25          <= 1.0           worst-qubit coherence
                                                             exp(-t/T2) >= 0.78, >= 0.37
mitigated |error| of <Z>   <= 0.05          <= 0.15          vs 1k-shot noise (~0.03):
                                                             below, ~ shot noise; above, 5x
=========================  ===============  ===============  ==============================

*Coherent time* is the circuit duration without the final readout.

**QPU cost** (:func:`qpu_cost`): every token through every adapted module is one circuit per
evaluation (the amplitude embedding depends on the token), so::

    circuits/step  = tokens_per_step x modules x evaluations x circuits_per_estimate
    evaluations    = 2 P + 1 (parameter-shift gradient of P angles + the forward value),
                     or 1 with gradient="forward"
    shot time      = circuit duration (readout included) + reset + repetition delay
    QPU s/step     = circuits/step x shots x shot time
    QPU h/epoch    = QPU s/step x steps_per_epoch / 3600
    s/token        = modules x circuits_per_estimate x shots x shot time   (generation)

Reset and repetition delay per family come from :func:`shot_timing` (IBM: the fake backend's
``default_rep_delay`` and median ``reset`` length).
"""

from __future__ import annotations

import functools
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qaa_hw.analysis.assumptions import Thresholds, TrainingAssumptions
from qaa_hw.analysis.pareto import CODESIGN_OBJECTIVES, pareto_front
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
    """Verdict of a sweep row (see the module docstring)."""
    th = thresholds or Thresholds()
    esp = float(row["esp"])
    coherent = coherent_duration(row, device)
    t2 = row.get("min_t2_s")
    ratio = 0.0 if not t2 else coherent / float(t2)
    err = float(row["mitigated_abs_error"])
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
        f"mean |error| of the readout with mitigation '{mitigation}' {err:.4f} "
        f"({checks['error']}: feasible <= {th.error_feasible:g}, marginal <= "
        f"{th.error_marginal:g})",
    )
    level = max(checks.values(), key=LEVELS.index)
    return Verdict(level, checks, reasons)


def qpu_cost(row: Mapping[str, Any], timing: ShotTiming,
             training: TrainingAssumptions | None = None) -> dict[str, float]:
    """QPU cost of training and generation with a sweep row's configuration.

    Returns:
        ``shot_s``, ``shots``, ``evaluations``, ``circuits_per_step``, ``circuits_per_token``,
        ``qpu_s_per_step``, ``qpu_h_per_epoch``, ``s_per_token`` (see the module docstring).
    """
    tr = training or TrainingAssumptions()
    shots = int(row["shots"]) if row.get("shots") else tr.shots
    per_estimate = float(row.get("circuits_per_estimate") or 1.0)
    params = int(row["parameters"])
    evaluations = 2 * params + 1 if tr.gradient == "parameter_shift" else 1
    shot_s = timing.shot_seconds(float(row["duration_s"]))
    per_step = tr.tokens_per_step * tr.modules * evaluations * per_estimate
    per_token = tr.modules * per_estimate
    step_s = per_step * shots * shot_s
    return {
        "shot_s": shot_s,
        "shots": float(shots),
        "evaluations": float(evaluations),
        "circuits_per_step": per_step,
        "circuits_per_token": per_token,
        "qpu_s_per_step": step_s,
        "qpu_h_per_epoch": step_s * tr.steps_per_epoch / 3600.0,
        "s_per_token": per_token * shots * shot_s,
    }


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
        }


def assess_device(
    rows: Sequence[Mapping[str, Any]],
    device: DeviceModel,
    *,
    thresholds: Thresholds | None = None,
    training: TrainingAssumptions | None = None,
) -> DeviceAssessment:
    """Verdict, recommended and largest feasible configuration of ``device`` from sweep rows.

    Only successful rows of the device at the noise scale closest to 1 are used, averaged
    over seeds (:func:`average_seeds`). The
    recommended configuration is, among the rows with the best verdict reached, the one with
    the most trainable parameters (ties: fewer QPU seconds per token, then lower mitigated
    error): the largest adapter the hardware supports at that verdict, at the lowest cost.

    Raises:
        ConfigError: the sweep has no successful row for the device.
    """
    th = thresholds or Thresholds()
    tr = training or TrainingAssumptions()
    mine = [r for r in rows if r.get("device") == device.name and r.get("status", "ok") == "ok"]
    if not mine:
        raise ConfigError(f"the sweep has no successful point for device {device.name!r}")
    scale = min({float(r["noise_scale"]) for r in mine}, key=lambda s: (abs(s - 1.0), s))
    timing = shot_timing(device)
    assessed = []
    for r in average_seeds([r for r in mine if float(r["noise_scale"]) == scale]):
        v = judge(r, device, th)
        row = {**r, **qpu_cost(r, timing, tr), "verdict": v.level,
               "checks": dict(v.checks), "reasons": list(v.reasons)}
        assessed.append(row)
    best = min(LEVELS.index(r["verdict"]) for r in assessed)
    top = [r for r in assessed if LEVELS.index(r["verdict"]) == best]
    recommended = min(top, key=lambda r: (-int(r["parameters"]), float(r["s_per_token"]),
                                         float(r["mitigated_abs_error"])))
    feasible = [r for r in assessed if r["verdict"] == "feasible"]
    largest = (max(feasible, key=lambda r: (int(r["qubits"]), int(r["layers"]),
                                            int(r["parameters"]),
                                            -float(r["mitigated_abs_error"])))
               if feasible else None)
    front = pareto_front(assessed, CODESIGN_OBJECTIVES)
    return DeviceAssessment(
        device=device.name, noise_scale=scale, level=recommended["verdict"],
        reasons=tuple(recommended["reasons"]), recommended=recommended,
        largest_feasible=largest, rows=assessed, front=front, timing=timing, training=tr,
        thresholds=th,
    )


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
