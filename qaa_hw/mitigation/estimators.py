"""The techniques as small functions over an *evaluate* strategy, all work done by Mitiq.

``evaluate(circuits) -> values`` runs Cirq circuits and returns ``[len(circuits), m]`` output
values (``m`` = n ``<Z_i>`` or the ``2^n`` probabilities). Mitiq's techniques combine *one*
expectation value at a time; here every output of a circuit comes from the same execution, so
each technique is split into Mitiq's own halves: build the circuits once
(``mitiq.zne.construct_circuits``, ``mitiq.pec.construct_circuits``,
``mitiq.ddd.construct_circuits``), evaluate them once, and combine per output (a fresh Mitiq
factory's ``run_classical(...).reduce()``, ``mitiq.pec.combine_results``,
``mitiq.ddd.combine_results``). The result equals calling ``execute_with_zne`` /
``execute_with_pec`` / ``execute_with_ddd`` once per output with a float executor
(``tests/mitigation`` checks ZNE against ``execute_with_zne``), without re-running circuits.

* :func:`zne_values`, :func:`pec_values`: outer estimators ``circuit -> values [m]``.
* :func:`ddd_evaluate`: wraps an evaluate so every circuit runs with DDD sequences in its idle
  windows (the windows come from ``grid_of``, :mod:`qaa_hw.mitigation.idle`).
* :func:`rem_inverse`, :func:`rem_correct`: Mitiq's inverse confusion matrix applied to
  measured distributions.
* :func:`pec_representations`: depolarising representations from the device's gate errors.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import cirq
import numpy as np

from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import ConfigError, SimulationError
from qaa_hw.mitigation.idle import IdleGrid, inserted_gates
from qaa_hw.mitigation.lowering import lower_operation

logger = logging.getLogger(__name__)

Evaluate = Callable[[Sequence[cirq.Circuit]], np.ndarray]


# ------------------------------------------------------------------------------ ZNE
def zne_values(
    circuit: cirq.Circuit,
    evaluate: Evaluate,
    *,
    scale_factors: Sequence[float],
    scale_noise: Callable[[Any, float], Any],
    make_factory: Callable[[], Any],
) -> tuple[np.ndarray, dict[str, Any]]:
    """Zero-noise extrapolation of every output.

    Args:
        circuit: the circuit to mitigate.
        evaluate: runs circuits, returns ``[C, m]`` values.
        scale_factors: noise scale factors (those of the factory).
        scale_noise: Mitiq folding function ``(circuit, scale_factor) -> circuit``.
        make_factory: returns a fresh Mitiq ``BatchedFactory`` over ``scale_factors``.

    Returns:
        ``(values [m], details)``; details hold the values at each scale factor.

    Raises:
        SimulationError: when Mitiq's extrapolation fails (e.g. an exponential fit).
    """
    from mitiq.zne import construct_circuits
    from mitiq.zne.inference import ExtrapolationError

    factors = [float(s) for s in scale_factors]
    scaled = evaluate(construct_circuits(circuit, factors, scale_noise))
    out = np.empty(scaled.shape[1])
    for i in range(scaled.shape[1]):
        lookup = dict(zip(factors, scaled[:, i].tolist(), strict=True))
        try:
            out[i] = make_factory().run_classical(lambda s, lookup=lookup: lookup[s]).reduce()
        except (ExtrapolationError, ValueError) as e:
            raise SimulationError(
                f"ZNE extrapolation of output {i} failed for values {scaled[:, i].tolist()} at "
                f"scale factors {factors}: {e}"
            ) from e
    return out, {"scale_factors": factors, "scaled_values": scaled.tolist()}


# ------------------------------------------------------------------------------ PEC
def _depolarizing_level(error: float, num_qubits: int, kind: str) -> float:
    """Mitiq ``noise_level`` of a depolarising channel with average infidelity ``error``."""
    d = 2**num_qubits
    if kind == "local" and num_qubits == 2:
        # two one-qubit channels of Pauli error p: total Pauli error 2p - p^2 = error (d+1)/d
        total = min(error * (d + 1) / d, 1.0)
        return 1.0 - math.sqrt(1.0 - total)
    return error * (d + 1) / d


def pec_representations(
    circuit: cirq.Circuit, device: DeviceModel, *, kind: str = "global"
) -> list[Any]:
    """Mitiq representations of every noisy gate of ``circuit`` from ``device``'s errors.

    Each operation lowering to one native pulse or two-qubit gate (``sx``, ``x``, ``ecr``,
    ``cz``, ``cx``) with a non-zero device error ``r`` on its qubits gets
    ``represent_operation_with_global_depolarizing_noise`` (``kind="global"``) or
    ``represent_operation_with_local_depolarizing_noise`` (``"local"``) at the depolarising
    level of infidelity ``r`` (:class:`~qaa_hw.mitigation.techniques.PEC`). ``rz`` is virtual
    and noiseless and gets none.

    Args:
        circuit: the circuit whose operations are represented.
        device: the restricted device (local qubit numbering).
        kind: ``"global"`` or ``"local"``.

    Returns:
        One ``OperationRepresentation`` per distinct noisy operation.

    Raises:
        ConfigError: if no operation has a gate error (e.g. a device scaled to λ = 0).
    """
    from mitiq.pec.representations import (
        represent_operation_with_global_depolarizing_noise,
        represent_operation_with_local_depolarizing_noise,
    )

    represent = (
        represent_operation_with_local_depolarizing_noise
        if kind == "local"
        else represent_operation_with_global_depolarizing_noise
    )
    has_x = "x" in device.instructions
    seen: set[cirq.Operation] = set()
    out = []
    for op in circuit.all_operations():
        if op in seen:
            continue
        seen.add(op)
        lowered = [ins for ins in lower_operation(op, has_x=has_x) if ins[0] != "rz"]
        if len(lowered) != 1:
            continue
        name, qubits, _ = lowered[0]
        per = device.instructions.get(name, {})
        props = per.get(qubits) or (per.get(qubits[::-1]) if name == "cz" else None)
        if props is None or props.error <= 0:
            continue
        level = _depolarizing_level(props.error, len(qubits), kind)
        out.append(represent(cirq.Circuit(op), level))
    if not out:
        raise ConfigError(
            f"PEC needs gate errors to build its representations, but device {device.name!r} "
            f"(noise scale {device.noise_scale:g}) has none on the gates of this circuit; "
            "use a noisy device or another technique"
        )
    return out


def pec_values(
    circuit: cirq.Circuit,
    evaluate: Evaluate,
    *,
    representations: Sequence[Any],
    num_samples: int,
    seed: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Probabilistic error cancellation of every output.

    Args:
        circuit: the circuit to mitigate.
        evaluate: runs circuits, returns ``[C, m]`` values.
        representations: from :func:`pec_representations`; operations without one (``rz``)
            are kept as they are.
        num_samples: circuits sampled (all executed).
        seed: Mitiq's ``random_state``.

    Returns:
        ``(values [m], details)``; details hold the representation's one-norm and the
        standard error of each output (``std / sqrt(num_samples)``).
    """
    from mitiq.pec import combine_results, construct_circuits

    with warnings.catch_warnings():
        # Mitiq warns once per operation without a representation: the noiseless rz gates.
        warnings.filterwarnings("ignore", message="No representation found", category=UserWarning)
        circuits, signs, norm = construct_circuits(
            circuit,
            list(representations),
            num_samples=num_samples,
            random_state=int(seed),
            full_output=True,
        )
    values = evaluate(circuits)
    out = np.array([combine_results(values[:, i], norm, signs) for i in range(values.shape[1])])
    estimators = float(norm) * np.asarray(signs, dtype=float)[:, None] * values
    stderr = estimators.std(axis=0) / math.sqrt(len(circuits))
    return out, {"norm": float(norm), "standard_error": stderr.tolist()}


# ------------------------------------------------------------------------------ DDD
def ddd_circuits(
    circuit: cirq.Circuit,
    grid_of: Callable[[cirq.Circuit], IdleGrid],
    *,
    rule: Callable[..., Any],
    spacing: int = -1,
) -> list[cirq.Circuit]:
    """``circuit`` with Mitiq's DDD sequences in its idle windows.

    Mitiq (``mitiq.ddd.construct_circuits``) fills the slack of the marker circuit of
    ``grid_of(circuit)``; the gates it inserted are placed into ``circuit`` at their layers.

    Args:
        circuit: the circuit to pad.
        grid_of: the backend's ``idle_grid``.
        rule: a ``mitiq.ddd.rules`` function.
        spacing: the rule's ``spacing`` argument.

    Returns:
        The padded circuits (one per Mitiq trial; the built-in rules are deterministic).
    """
    from mitiq.ddd import construct_circuits

    grid = grid_of(circuit)
    trials = construct_circuits(grid.marker_circuit(), rule, {"spacing": spacing}, 1)
    return [grid.place(inserted_gates(trial)) for trial in trials]


def ddd_evaluate(
    evaluate: Evaluate,
    grid_of: Callable[[cirq.Circuit], IdleGrid],
    *,
    rule: Callable[..., Any],
    spacing: int = -1,
) -> Evaluate:
    """An evaluate that runs every circuit with DDD (:func:`ddd_circuits`) and combines the
    trials per output with ``mitiq.ddd.combine_results``."""
    from mitiq.ddd import combine_results

    def run(circuits: Sequence[cirq.Circuit]) -> np.ndarray:
        groups = [ddd_circuits(c, grid_of, rule=rule, spacing=spacing) for c in circuits]
        flat = evaluate([c for group in groups for c in group])
        rows, start = [], 0
        for group in groups:
            block = flat[start : start + len(group)]
            start += len(group)
            rows.append([combine_results(block[:, i].tolist()) for i in range(block.shape[1])])
        return np.asarray(rows, dtype=float)

    return run


# ------------------------------------------------------------------------------ REM
def rem_inverse(confusion: np.ndarray, *, method: str = "tensored") -> np.ndarray:
    """Mitiq's inverse confusion matrix for our logical-order distributions.

    Args:
        confusion: ``[n, 2, 2]`` with ``confusion[i, b, m] = P(m | b)`` for logical qubit i.
        method: ``"tensored"`` (``generate_tensored_inverse_confusion_matrix`` of the
            per-qubit matrices) or ``"uniform"`` (``generate_inverse_confusion_matrix`` with
            the mean flip probabilities).

    Returns:
        ``[2^n, 2^n]``, to multiply a distribution indexed with bit i = logical qubit i.
    """
    from mitiq.rem import (
        generate_inverse_confusion_matrix,
        generate_tensored_inverse_confusion_matrix,
    )

    n = confusion.shape[0]
    if method == "uniform":
        p0 = float(confusion[:, 0, 1].mean())
        p1 = float(confusion[:, 1, 0].mean())
        return np.asarray(generate_inverse_confusion_matrix(n, p0, p1), dtype=float)
    # Mitiq's matrices are [measured, prepared] and its bitstrings put the first factor's
    # qubit first (most significant): logical n-1 .. 0 for our index order.
    per_qubit = [np.asarray(confusion[i].T) for i in reversed(range(n))]
    return np.asarray(generate_tensored_inverse_confusion_matrix(n, per_qubit), dtype=float)


def rem_correct(distributions: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Apply ``inverse`` to each measured distribution (rows) and project the rows that leave
    the simplex onto the closest distribution (``closest_positive_distribution``).

    This is the arithmetic of ``mitiq.rem.mitigate_measurements`` without its last step,
    which resamples bitstrings with the global, unseeded ``numpy.random`` (a second round of
    shot noise, and none of our exact distributions would stay exact).
    """
    from mitiq.rem.inverse_confusion_matrix import closest_positive_distribution

    out = np.asarray(distributions, dtype=float) @ inverse.T
    for j, row in enumerate(out):
        if row.min() < -1e-12:
            out[j] = closest_positive_distribution(row)
    return out
