"""Evaluating one sweep point: compile, simulate under noise, mitigate, collect metrics.

:func:`evaluate_point` is the default point function of :func:`qaa_hw.analysis.runner.run_sweep`
(it runs in worker processes, so it is a plain top-level function of a picklable
:class:`~qaa_hw.analysis.sweep_spec.SweepPoint`). Per point:

1. ``compile_adapter(spec, scale_noise(load_device(device), noise_scale), seed=seed)``;
2. ``evaluate_noisy(compiled, engine=..., prep_noise=..., shots=..., inputs=..., seed=seed)``:
   unmitigated absolute errors of the readout against the ideal logical circuit and the
   output-state fidelity;
3. for ``mitigation != "none"``: :func:`mitigate_outputs`, the adapter to
   :mod:`qaa_hw.mitigation` (imported lazily), on the first ``mitigation_inputs`` inputs of
   the same draw; each mitigated estimate is compared with the ideal value.

Compilations and unmitigated evaluations are cached per worker process, so the points that
differ only in their mitigation share them.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from qaa_hw.analysis.noisy_report import evaluate_noisy, random_problem
from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.errors import ConfigError
from qaa_hw.mitigation.techniques import technique_from_names

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------- mitigation adapter
def mitigator_class(name: str) -> Any:
    """:class:`qaa_hw.mitigation.api.Mitigator` (the Mitiq executors) for technique ``name``.

    Raises:
        ConfigError: it cannot be imported in this installation.
    """
    try:
        from qaa_hw.mitigation.api import Mitigator
    except ImportError as e:
        raise ConfigError(
            f"mitigation {name!r} needs qaa_hw.mitigation.api.Mitigator (the Mitiq executors), "
            f"which is missing from this installation ({e}); use mitigation: [none]"
        ) from e
    return Mitigator


def mitigate_outputs(
    compiled: Any, point: SweepPoint, x: np.ndarray, theta: np.ndarray, ideal: np.ndarray
) -> dict[str, Any]:
    """Mitigated readout of ``compiled`` on inputs ``x`` (the adapter to qaa_hw.mitigation).

    One :class:`qaa_hw.mitigation.api.Mitigator` (executor ``point.mitigation_executor``,
    ``point.shots`` per circuit, ``point.seed``) makes one estimate per input.

    Args:
        compiled: the compiled adapter.
        point: the sweep point (mitigation name, options, shots, seed, executor).
        x: ``[K, 2^n]`` inputs to mitigate.
        theta: trainable values.
        ideal: ``[K, m]`` ideal readout of those inputs (the logical circuit).

    Returns:
        ``mitigated_abs_error`` (mean over inputs and outputs), ``mitigated_abs_error_max``,
        ``unmitigated_abs_error_ref`` (one unmitigated run on the same executor, same
        inputs), ``circuits_per_estimate`` and ``shots_per_estimate`` (what the technique
        executed per adapter call, i.e. per input, all outputs included), ``overhead``
        (circuits per estimate over the one circuit of an unmitigated call),
        ``mitigation_engine`` and, for PEC, ``pec_norm`` (mean one-norm of the
        quasi-probability representation).

    Raises:
        ConfigError: the mitigation executors are missing (see :func:`mitigator_class`).
    """
    technique = technique_from_names(point.mitigation, point.options)
    mitigator = mitigator_class(point.mitigation)(
        compiled, executor=point.mitigation_executor, shots=point.shots, seed=point.seed)
    estimates = [mitigator.estimate(xi, theta, technique) for xi in x]
    mitigated = np.stack([np.asarray(e.mitigated, dtype=float) for e in estimates])
    unmitigated = np.stack([np.asarray(e.unmitigated, dtype=float) for e in estimates])
    ideal = np.asarray(ideal, dtype=float).reshape(mitigated.shape)
    circuits = float(np.mean([e.circuits for e in estimates]))
    shots = [e.total_shots for e in estimates]
    out: dict[str, Any] = {
        "mitigated_abs_error": float(np.abs(mitigated - ideal).mean()),
        "mitigated_abs_error_max": float(np.abs(mitigated - ideal).max()),
        "unmitigated_abs_error_ref": float(np.abs(unmitigated - ideal).mean()),
        "circuits_per_estimate": circuits,
        "shots_per_estimate": None if None in shots else float(np.mean(shots)),
        "overhead": circuits,
        "mitigation_engine": str(estimates[0].executor) if estimates else "",
    }
    norms = [e.details.get("norm") for e in estimates if "norm" in e.details]
    if norms:
        out["pec_norm"] = float(np.mean(norms))
    return out


# ------------------------------------------------------------------------- point function
@functools.lru_cache(maxsize=32)
def _compiled(device: str, noise_scale: float, qubits: int, layers: int, rotations: str,
              entangler: str, embedding: str, embedding_fidelity: float, readout: str,
              seed: int) -> tuple[Any, float]:
    from qaa_hw.circuits.spec import QAASpec
    from qaa_hw.compile.api import compile_adapter
    from qaa_hw.devices.catalog import load_device
    from qaa_hw.devices.model import scale_noise

    spec = QAASpec(num_qubits=qubits, num_layers=layers, rotations=rotations,
                   entangler=entangler, embedding=embedding,  # type: ignore[arg-type]
                   embedding_fidelity=embedding_fidelity, readout=readout)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    compiled = compile_adapter(spec, scale_noise(load_device(device), noise_scale), seed=seed)
    return compiled, time.perf_counter() - t0


def compiled_point(point: SweepPoint) -> Any:
    """The point's :class:`~qaa_hw.compile.compiled.CompiledAdapter` (cached per process)."""
    return _compile_point(point)[0]


def _compile_point(point: SweepPoint) -> tuple[Any, float]:
    return _compiled(point.device, point.noise_scale, point.qubits, point.layers,
                     point.rotations, point.entangler, point.embedding,
                     point.embedding_fidelity, point.readout, point.seed)


def _evaluated(point: SweepPoint) -> tuple[Any, float]:
    """The unmitigated evaluation, shared by points that differ only in their mitigation."""
    return _evaluated_cached(replace(point, mitigation="none", mitigation_options="{}",
                                     mitigation_inputs=1, mitigation_executor="aer"))


@functools.lru_cache(maxsize=32)
def _evaluated_cached(point: SweepPoint) -> tuple[Any, float]:
    compiled, _ = _compile_point(point)
    t0 = time.perf_counter()
    report = evaluate_noisy(compiled, engine=point.engine, prep_noise=point.prep_noise,
                            shots=point.shots, inputs=point.inputs, seed=point.seed,
                            compare_idle=False)
    return report, time.perf_counter() - t0


def _layout_text(qubits: Any) -> str:
    return "[" + ",".join(str(int(q)) for q in qubits) + "]"


def compile_metrics(point: SweepPoint) -> dict[str, Any]:
    """Compile the point's adapter and return its cost metrics (no simulation)."""
    hits = _compiled.cache_info().hits
    compiled, seconds = _compile_point(point)
    if _compiled.cache_info().hits > hits:
        seconds = 0.0  # reused this worker's compilation of an earlier point
    m = compiled.metrics
    active = compiled.active_qubits
    t2 = min((compiled.device.qubits[q].t2_s for q in active), default=math.inf)
    return {
        "parameters": compiled.spec.num_parameters,
        "depth": m.depth, "two_qubit_depth": m.two_qubit_depth,
        "two_qubit_count": m.two_qubit_count, "one_qubit_count": m.one_qubit_count,
        "swaps": m.swaps, "duration_s": m.duration_s, "esp": m.esp,
        "duration_over_t1": m.duration_over_t1, "duration_over_t2": m.duration_over_t2,
        "min_t2_s": t2 if math.isfinite(t2) else None,
        "initial_layout": _layout_text(compiled.initial_layout),
        "final_layout": _layout_text(compiled.final_layout),
        "active_qubits": _layout_text(active),
        "compile_s": seconds,
    }


def evaluate_point(point: SweepPoint) -> dict[str, Any]:
    """Compile, simulate and mitigate one point; return its result columns.

    See the module docstring. The keys are those of
    :data:`qaa_hw.analysis.store.RESULT_COLUMNS` (a mitigated point fills the mitigation
    columns; for ``"none"`` the mitigated error is the unmitigated one and the overhead is 1).

    Raises:
        QaaHwError: the point cannot be compiled or simulated, or its mitigation is missing.
    """
    out = compile_metrics(point)
    hits = _evaluated_cached.cache_info().hits
    report, sim_seconds = _evaluated(point)
    if _evaluated_cached.cache_info().hits > hits:
        sim_seconds = 0.0  # reused this worker's evaluation of an earlier point
    err = np.abs(report.noisy - report.ideal)
    out.update({
        "output_fidelity": report.mean_fidelity,
        "output_fidelity_min": float(report.fidelity.min()),
        "abs_error": float(err.mean()),
        "abs_error_max": float(err.max()),
        "simulate_s": sim_seconds,
    })
    if point.mitigation == "none":
        out.update({
            "mitigated_abs_error": out["abs_error"],
            "mitigated_abs_error_max": out["abs_error_max"],
            "unmitigated_abs_error_ref": out["abs_error"],
            "mitigation_engine": point.engine,
            "circuits_per_estimate": 1.0,
            "shots_per_estimate": None if point.shots is None else float(point.shots),
            "overhead": 1.0,
            "mitigate_s": 0.0,
        })
        return out
    compiled, _ = _compile_point(point)
    x, theta = random_problem(compiled, point.inputs, point.seed)
    k = point.mitigation_inputs
    t0 = time.perf_counter()
    out.update(mitigate_outputs(compiled, point, x[:k], theta, report.ideal[:k]))
    out["mitigate_s"] = time.perf_counter() - t0
    return out


def clear_caches() -> None:
    """Forget cached compilations and evaluations (tests, benchmarks)."""
    _compiled.cache_clear()
    _evaluated_cached.cache_clear()
