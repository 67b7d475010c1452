"""Google processors from the median calibrations shipped with ``cirq_google``.

Each processor of ``cirq_google.engine.virtual_engine_factory`` (rainbow, weber, willow_pink)
is offered as ``google_<processor_id>``. Its record combines
``cirq_google.engine.load_device_noise_properties(pid)`` (T1, Tphi, readout, Pauli errors,
gate times) with ``cirq_google.engine.create_device_from_processor_id(pid)`` (qubits and the
coupling graph).

Error conventions. Cirq reports *Pauli* errors ``p`` (probability of a non-identity Pauli
in the depolarizing picture, i.e. the process infidelity). IBM reports *average gate*
errors from randomized benchmarking. To keep the two families comparable every Google gate
error is converted to an average gate infidelity::

    r = p * d / (d + 1)        d = 2 for one-qubit gates, d = 4 for two-qubit gates

Gates. One-qubit gates are modelled as Qiskit's ``rz`` (Google's virtual Z: error 0,
duration 0), ``sx`` and ``x`` (both with the PhasedXZGate error and duration). The two-qubit
gate is ``cz`` once per coupled pair (lower index first). willow_pink is calibrated for CZ
(``CZPowGate`` errors). rainbow and weber calibrations hold only sqrt-iSWAP and Sycamore XEB
errors: a CZ runs there as Cirq's decomposition into two sqrt-iSWAPs and one-qubit gates
(:func:`cz_as_sqrt_iswap`), so their ``cz`` is *priced as that decomposition*
(:func:`priced_cz`): Pauli error ``1 - prod(1 - p_op)`` over its operations (each sqrt-iSWAP
with the pair's ``ISwapPowGate`` error, each physical one-qubit gate with its qubit's
PhasedXZ error, virtual Z free), converted with d = 4, and duration the length of its ASAP
schedule. This is what ``qaa_hw.hardware.google`` submits for every ``cz``; the pricing is
stated in ``DeviceModel.source``. (Before, ``cz`` cost one sqrt-iSWAP: about half the real
cost, so Google ESPs were optimistic.)

Names are listed without importing cirq (which takes seconds): the processor ids are read
from the ``MEDIAN_CALIBRATION_TIMESTAMPS`` literal in the factory's source.
"""

from __future__ import annotations

import ast
import datetime
import functools
import importlib.util
import logging
import statistics
import warnings
from pathlib import Path
from typing import Any

from qaa_hw.devices.model import DeviceModel, InstructionProperties, Qargs, QubitProperties
from qaa_hw.errors import DeviceError

logger = logging.getLogger(__name__)

GOOGLE_PREFIX = "google_"


def pauli_to_average_infidelity(p_pauli: float, num_qubits: int) -> float:
    """Average gate infidelity ``r = p * d / (d + 1)`` of a Pauli error, ``d = 2**num_qubits``."""
    d = 2**num_qubits
    return p_pauli * d / (d + 1)


def _factory_source() -> Path | None:
    spec = importlib.util.find_spec("cirq_google")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "engine" / "virtual_engine_factory.py"
        if path.is_file():
            return path
    return None


def _literal(tree: ast.Module, name: str) -> Any:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ):
            return ast.literal_eval(node.value)
    return None


@functools.cache
def _timestamps() -> dict[str, int]:
    """``{processor_id: median calibration timestamp in ms}`` read without importing cirq."""
    path = _factory_source()
    if path is not None:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            stamps = _literal(tree, "MEDIAN_CALIBRATION_TIMESTAMPS")
            templates = _literal(tree, "MOST_RECENT_TEMPLATES") or {}
            if isinstance(stamps, dict) and stamps:
                return {k: int(v) for k, v in sorted(stamps.items()) if k in templates}
        except (SyntaxError, ValueError) as e:  # pragma: no cover - unexpected layout
            logger.debug("cannot read %s (%s); importing cirq_google instead", path, e)
    try:
        factory = _import_factory()
    except ImportError:  # pragma: no cover - cirq_google is a hard dependency
        return {}
    return {
        k: int(v)
        for k, v in sorted(factory.MEDIAN_CALIBRATION_TIMESTAMPS.items())
        if k in factory.MOST_RECENT_TEMPLATES
    }


def _import_factory() -> Any:
    """Import cirq_google quietly (google.api_core warns about Python 3.11 at import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import cirq_google.engine.virtual_engine_factory as factory
    return factory


def google_device_names() -> list[str]:
    """Catalog names ``google_<processor_id>`` of the processors cirq_google ships."""
    return [GOOGLE_PREFIX + pid for pid in _timestamps()]


def load_google_device(name: str) -> DeviceModel:
    """Build the :class:`DeviceModel` of one Google processor (see the module docstring).

    Args:
        name: ``google_<processor_id>``, e.g. ``"google_weber"``.

    Returns:
        The device, family ``"google"``, with grid labels ``"q(row,col)"`` and plot
        coordinates ``(col, -row)``.

    Raises:
        DeviceError: if cirq_google ships no such processor.
    """
    pid = name.removeprefix(GOOGLE_PREFIX)
    if not name.startswith(GOOGLE_PREFIX) or pid not in _timestamps():
        raise DeviceError(
            f"unknown Google device {name!r}; cirq_google ships "
            + ", ".join(google_device_names())
        )
    _import_factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import cirq
        import cirq_google
        from cirq_google.engine import (
            create_device_from_processor_id,
            load_device_noise_properties,
        )
    origin = (f"cirq-google {cirq_google.__version__} virtual_engine_factory median "
              f"calibration of {pid!r} (cirq {cirq.__version__})")
    return google_device_from_properties(
        GOOGLE_PREFIX + pid, load_device_noise_properties(pid),
        create_device_from_processor_id(pid), _timestamps()[pid], origin=origin,
    )


def google_device_from_properties(name: str, noise: Any, device: Any, timestamp_ms: int, *,
                                  origin: str) -> DeviceModel:
    """The :class:`DeviceModel` of a Google processor from its noise properties (a
    ``GoogleNoiseProperties``: the median calibration's, or a live calibration's through
    ``cirq_google.noise_properties_from_calibration``) and its ``cirq.Device`` (qubits and
    couplings), with the conversions of the module docstring.

    Args:
        name: catalog name, e.g. ``"google_weber"``.
        noise: the noise properties.
        device: the processor's device (``processor.get_device()``).
        timestamp_ms: calibration time in milliseconds (the snapshot date).
        origin: provenance placed first in ``DeviceModel.source``.
    """
    grid = sorted(device.metadata.qubit_set)
    index = {q: i for i, q in enumerate(grid)}
    notes: list[str] = []
    qubits = _qubits(grid, noise, notes)
    times = {gate.__name__: float(ns) for gate, ns in noise.gate_times_ns.items()}
    pauli: dict[tuple[str, tuple[Any, ...]], float] = {
        (op_id.gate_type.__name__, tuple(op_id.qubits)): float(p)
        for op_id, p in noise.gate_pauli_errors.items()
    }
    one_q = _one_qubit(grid, pauli, times, notes)
    has_cz = any(gate == "CZPowGate" for gate, _ in pauli)
    gate2 = "CZPowGate" if has_cz else "ISwapPowGate"
    two_q = _two_qubit(device.metadata.nx_graph.edges, index, pauli, gate2, notes)
    dur2 = times.get(gate2, times.get("CZPowGate", times.get("FSimGate", 0.0))) / 1e9
    cz: dict[Qargs, InstructionProperties] = {
        qa: InstructionProperties(err, dur2) for qa, err in two_q.items()
    }
    if not has_cz:
        cz = {
            qa: priced_cz(InstructionProperties(err, dur2), one_q[(qa[0],)], one_q[(qa[1],)])
            for qa, err in two_q.items()
        }
    measure_s = times.get("MeasurementGate", 0.0) / 1e9
    instructions: dict[str, dict[Qargs, InstructionProperties]] = {
        "rz": {(i,): InstructionProperties(0.0, 0.0) for i in range(len(grid))},
        "sx": one_q,
        "x": dict(one_q),
        "measure": {
            (i,): InstructionProperties(q.readout_error, measure_s) for i, q in enumerate(qubits)
        },
        "cz": cz,
    }
    date = datetime.datetime.fromtimestamp(timestamp_ms / 1000, tz=datetime.UTC).date()
    date_text = date.isoformat()
    if has_cz:
        conversion = "cz error = CZPowGate Pauli error x 4/5"
    else:
        conversion = (
            "cz is PRICED as its sqrt-iSWAP decomposition (this calibration holds no CZ data): "
            f"{sqrt_iswaps_per_cz()} sqrt-iSWAPs (per-pair ISwapPowGate XEB Pauli error) + "
            "the decomposition's one-qubit gates (PhasedXZ error), Pauli errors composed, x 4/5; "
            "duration = its ASAP schedule"
        )
    source = f"{origin}; 1q error = PhasedXZGate Pauli error x 2/3; {conversion}"
    return DeviceModel(
        name=name,
        family="google",
        qubits=tuple(qubits),
        instructions=instructions,
        source="; ".join([source, *notes]),
        snapshot_date=date_text,
        qubit_labels=tuple(f"q({q.row},{q.col})" for q in grid),
        coordinates=tuple((float(q.col), float(-q.row)) for q in grid),
    )


def _median_fill(values: dict[Any, float], keys: list[Any], what: str, notes: list[str]) -> None:
    """Give keys missing from ``values`` the median of the others, noting it."""
    missing = [k for k in keys if k not in values]
    if not missing:
        return
    if not values:
        raise DeviceError(f"Google calibration has no {what} at all")
    med = statistics.median(values.values())
    for k in missing:
        values[k] = med
    note = f"{what} missing on {len(missing)} qubit(s)/pair(s): set to the median {med:.3g}"
    logger.info(note)
    notes.append(note)


def _qubits(grid: list[Any], noise: Any, notes: list[str]) -> list[QubitProperties]:
    t1 = {q: float(v) for q, v in noise.t1_ns.items() if q in set(grid) and v > 0}
    tphi = {q: float(v) for q, v in noise.tphi_ns.items() if q in set(grid) and v > 0}
    ro0 = {q: float(v[0]) for q, v in noise.readout_errors.items()}
    ro1 = {q: float(v[1]) for q, v in noise.readout_errors.items()}
    _median_fill(t1, grid, "T1", notes)
    _median_fill(tphi, grid, "Tphi", notes)
    _median_fill(ro0, grid, "readout p(1|0)", notes)
    _median_fill(ro1, grid, "readout p(0|1)", notes)
    qubits = []
    for q in grid:
        t1_s = t1[q] / 1e9
        t2_s = 1.0 / (1.0 / (2.0 * t1_s) + 1.0 / (tphi[q] / 1e9))
        qubits.append(
            QubitProperties(
                t1_s=t1_s,
                t2_s=t2_s,
                prob_meas1_prep0=ro0[q],
                prob_meas0_prep1=ro1[q],
            )
        )
    return qubits


def _one_qubit(
    grid: list[Any],
    pauli: dict[tuple[str, tuple[Any, ...]], float],
    times: dict[str, float],
    notes: list[str],
) -> dict[Qargs, InstructionProperties]:
    errors = {q: p for q in grid if (p := pauli.get(("PhasedXZGate", (q,)))) is not None}
    _median_fill(errors, grid, "PhasedXZGate error", notes)
    duration = times.get("PhasedXZGate", 0.0) / 1e9
    return {
        (i,): InstructionProperties(pauli_to_average_infidelity(errors[q], 1), duration)
        for i, q in enumerate(grid)
    }


def _two_qubit(
    edges: Any,
    index: dict[Any, int],
    pauli: dict[tuple[str, tuple[Any, ...]], float],
    gate: str,
    notes: list[str],
) -> dict[Qargs, float]:
    pairs: dict[Qargs, float] = {}
    missing: list[Qargs] = []
    for a, b in edges:
        qa = (min(index[a], index[b]), max(index[a], index[b]))
        p = pauli.get((gate, (a, b)), pauli.get((gate, (b, a))))
        if p is None:
            missing.append(qa)
        else:
            pairs[qa] = pauli_to_average_infidelity(p, 2)
    _median_fill(pairs, missing, f"{gate} error", notes)
    return dict(sorted(pairs.items()))


# ------------------------------------------------------------ CZ from sqrt-iSWAP
@functools.cache
def cz_as_sqrt_iswap() -> tuple[Any, ...]:
    """Cirq's decomposition of CZ on ``LineQubit(0), LineQubit(1)`` into sqrt-iSWAPs and
    one-qubit gates (``cirq.two_qubit_matrix_to_sqrt_iswap_operations``)."""
    _import_factory()
    import cirq

    a, b = cirq.LineQubit.range(2)
    return tuple(cirq.two_qubit_matrix_to_sqrt_iswap_operations(a, b, cirq.unitary(cirq.CZ)))


def sqrt_iswaps_per_cz() -> int:
    """Number of sqrt-iSWAPs in :func:`cz_as_sqrt_iswap` (2)."""
    return sum(1 for op in cz_as_sqrt_iswap() if len(op.qubits) == 2)


def _is_virtual(op: Any) -> bool:
    import cirq

    return isinstance(op.gate, cirq.ZPowGate)


def priced_cz(
    sqrt_iswap: InstructionProperties,
    one_a: InstructionProperties,
    one_b: InstructionProperties,
) -> InstructionProperties:
    """A CZ priced as :func:`cz_as_sqrt_iswap` on a pair.

    Args:
        sqrt_iswap: the pair's sqrt-iSWAP (average infidelity, d = 4) and duration.
        one_a: one-qubit gate (average infidelity, d = 2) and duration on the first qubit.
        one_b: the same on the second qubit.

    Returns:
        Average infidelity of the composed Pauli errors (``1 - prod(1 - p_op)``, d = 4) and the
        ASAP-scheduled duration of the decomposition (virtual Z free and instantaneous).
    """
    one = (one_a, one_b)
    keep = 1.0
    clock = [0.0, 0.0]
    for op in cz_as_sqrt_iswap():
        wires = [q.x for q in op.qubits]
        if len(wires) == 2:
            keep *= 1 - sqrt_iswap.error * 5 / 4
            start = max(clock)
            clock = [start + sqrt_iswap.duration_s] * 2
        elif not _is_virtual(op):
            q = wires[0]
            keep *= 1 - one[q].error * 3 / 2
            clock[q] += one[q].duration_s
    return InstructionProperties(pauli_to_average_infidelity(1 - keep, 2), max(clock))
