"""IBM devices from the calibration snapshots shipped with ``qiskit_ibm_runtime``.

Every fake backend ``fake_<x>`` of :mod:`qiskit_ibm_runtime.fake_provider` is offered under
its real name ``ibm_<x>`` (``fake_<x>`` is accepted as an alias). The device record is built
from ``backend.target`` (errors, durations, T1/T2/frequency) plus ``backend.properties()``
(asymmetric readout ``prob_meas1_prep0`` / ``prob_meas0_prep1`` and the snapshot date).

Names are resolved without importing ``qiskit_ibm_runtime``: the class of each fake backend
is read from the ``from .<dir> import <Class>`` lines of its ``fake_provider/backends``
package, so listing the catalog stays cheap and loading one device instantiates one backend.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import math
import re
import statistics
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from qaa_hw.devices.model import (
    KNOWN_INSTRUCTIONS,
    TWO_QUBIT_GATES,
    DeviceModel,
    InstructionProperties,
    Qargs,
    QubitProperties,
)
from qaa_hw.errors import DeviceError

logger = logging.getLogger(__name__)
_T = TypeVar("_T", float, None)

IBM_PREFIX = "ibm_"
FAKE_PREFIX = "fake_"

#: Legacy IBM basis (u1/u2/u3) mapped onto our names when the backend lacks the modern one:
#: u1 is a virtual Z like rz, u2 a single X90 pulse like sx, u3 two pulses (used for x).
_LEGACY_ALIASES = {"rz": "u1", "sx": "u2", "x": "u3"}
_IMPORT_LINE = re.compile(r"^from \.(\w+) import (\w+)", re.MULTILINE)


def _backends_init() -> Path | None:
    """Path of ``qiskit_ibm_runtime/fake_provider/backends/__init__.py`` without importing it."""
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "fake_provider" / "backends" / "__init__.py"
        if path.is_file():
            return path
    return None


@functools.cache
def _fake_classes() -> dict[str, str]:
    """``{"ibm_brisbane": "FakeBrisbane", ...}`` for every fake backend shipped."""
    path = _backends_init()
    found: dict[str, str] = {}
    if path is not None:
        for module, cls in _IMPORT_LINE.findall(path.read_text(encoding="utf-8")):
            found[IBM_PREFIX + module] = cls
    if found:
        return dict(sorted(found.items()))
    # Fallback (layout changed): instantiate the provider's backends once (~0.15 s).
    try:
        from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2
    except ImportError:  # pragma: no cover - qiskit_ibm_runtime is a hard dependency
        return {}
    for backend in FakeProviderForBackendV2().backends():
        found[IBM_PREFIX + backend.name.removeprefix(FAKE_PREFIX)] = type(backend).__name__
    return dict(sorted(found.items()))


def ibm_device_names() -> list[str]:
    """Catalog names (``ibm_<x>``) of every fake backend in ``qiskit_ibm_runtime``."""
    return list(_fake_classes())


def canonical_ibm_name(name: str) -> str | None:
    """``ibm_<x>`` for ``ibm_<x>`` or ``fake_<x>`` when such a fake backend exists, else None."""
    canonical = name
    if name.startswith(FAKE_PREFIX):
        canonical = IBM_PREFIX + name.removeprefix(FAKE_PREFIX)
    return canonical if canonical in _fake_classes() else None


def load_ibm_device(name: str) -> DeviceModel:
    """Build the :class:`DeviceModel` of one IBM fake backend.

    Args:
        name: ``ibm_<x>`` or its alias ``fake_<x>``, e.g. ``"ibm_brisbane"``.

    Returns:
        The device, named ``ibm_<x>``, family ``"ibm"``.

    Raises:
        DeviceError: if no fake backend of that name ships with ``qiskit_ibm_runtime``.
    """
    canonical = canonical_ibm_name(name)
    if canonical is None:
        raise DeviceError(
            f"unknown IBM device {name!r}; no such fake backend in qiskit_ibm_runtime"
        )
    class_name = _fake_classes()[canonical]
    module = importlib.import_module("qiskit_ibm_runtime.fake_provider")
    backend = getattr(module, class_name)()
    version = getattr(importlib.import_module("qiskit_ibm_runtime"), "__version__", "?")
    return device_from_backend(
        backend,
        name=canonical,
        source=f"qiskit-ibm-runtime {version} fake_provider.{class_name}",
    )


# --------------------------------------------------------------------------- conversion
def _median_or(values: Iterable[float | None], default: float) -> float:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(present) if present else default


def _positive_or(value: Any, default: _T) -> float | _T:
    """``float(value)`` when it is a positive number, else ``default``."""
    if value is None:
        return default
    value = float(value)
    return value if value > 0 and math.isfinite(value) else default


def _properties(backend: Any) -> Any:
    try:
        return backend.properties()
    except Exception:  # any backend without a properties() snapshot
        return None


def _qubit_props(props: Any, qubit: int) -> Mapping[str, Any]:
    if props is None:
        return {}
    try:
        return dict(props.qubit_property(qubit))
    except Exception:  # BackendPropertyError / KeyError: no such qubit
        return {}


def _value(entry: Any) -> float | None:
    """The number of a ``(value, date)`` property tuple, or None."""
    if entry is None:
        return None
    value = entry[0] if isinstance(entry, tuple) else entry
    return float(value) if value is not None else None


def _arity(target: Any, op: str) -> int | None:
    """Number of qubits of a target operation (None for control flow and classes)."""
    try:
        return int(target.operation_from_name(op).num_qubits)
    except (AttributeError, KeyError, TypeError):
        return None


def _collect(target: Any, op: str, n: int) -> dict[Qargs, tuple[float | None, float | None]]:
    """``{qargs: (error, duration_s)}`` of one target instruction (None where unknown)."""
    table: dict[Qargs, tuple[float | None, float | None]] = {}
    for qargs, inst in target[op].items():
        error = None if inst is None else inst.error
        duration = None if inst is None else inst.duration
        if qargs is None:  # a global (ideal) instruction: defined on every qubit
            for q in range(n):
                table[(q,)] = (error, duration)
        else:
            table[tuple(int(q) for q in qargs)] = (error, duration)
    return table


def _fill(
    op: str, table: Mapping[Qargs, tuple[float | None, float | None]], notes: list[str]
) -> dict[Qargs, InstructionProperties]:
    """Replace missing errors/durations by the device median (0 for the virtual rz)."""
    virtual = op in ("rz", "u1")
    errors = [e for e, _ in table.values()]
    durations = [d for _, d in table.values()]
    med_err = 0.0 if virtual else _median_or(errors, 0.0)
    med_dur = 0.0 if virtual else _median_or(durations, 0.0)
    for what, values, med, unit in (
        ("errors", errors, med_err, ""),
        ("durations", durations, med_dur, " s"),
    ):
        missing = sum(1 for v in values if v is None)
        if virtual or not missing:
            continue
        if missing == len(values):
            note = f"{op}: no {what} in the snapshot, set to 0"
        else:
            note = f"{op}: {missing} missing {what} set to the device median {med:.3g}{unit}"
        logger.info(note)
        notes.append(note)
    return {
        qargs: InstructionProperties(
            error=min(1.0, max(0.0, med_err if e is None else float(e))),
            duration_s=med_dur if d is None else float(d),
        )
        for qargs, (e, d) in table.items()
    }


def _one_two_qubit_gate(
    tables: dict[str, dict[Qargs, InstructionProperties]], notes: list[str]
) -> None:
    """Keep a single two-qubit gate: the one on most pairs; merge the others' extra edges.

    cx, ecr and cz are all locally equivalent to CNOT (they differ by single-qubit gates),
    so a pair calibrated only for a dropped gate is kept as the chosen gate with its own
    error and duration; dropping it would disconnect e.g. ``fake_cairo`` (cx + ecr).
    """
    present = [g for g in TWO_QUBIT_GATES if tables.get(g)]
    if len(present) <= 1:
        return
    keep = max(present, key=lambda g: (len(tables[g]), -TWO_QUBIT_GATES.index(g)))
    covered = {frozenset(qa) for qa in tables[keep]}
    for gate in present:
        if gate == keep:
            continue
        extra = {qa: p for qa, p in tables.pop(gate).items() if frozenset(qa) not in covered}
        tables[keep].update(extra)
        covered |= {frozenset(qa) for qa in extra}
        note = (
            f"several two-qubit gates: kept {keep}; {gate} dropped, its {len(extra)} pairs "
            f"without {keep} kept as {keep} (locally equivalent)"
        )
        logger.info(note)
        notes.append(note)


def _qubits(target: Any, props: Any, measure: Mapping[Qargs, Any], notes: list[str]) -> list[Any]:
    """Per-qubit T1/T2/frequency/readout with medians for gaps and T2 clamped to 2 T1."""
    n = target.num_qubits
    qprops = list(target.qubit_properties or [None] * n)
    qprops += [None] * (n - len(qprops))
    t1 = [getattr(qp, "t1", None) for qp in qprops]
    t2 = [getattr(qp, "t2", None) for qp in qprops]
    freq = [getattr(qp, "frequency", None) for qp in qprops]
    med_t1 = _median_or(t1, 100e-6)
    med_t2 = _median_or(t2, min(100e-6, 2 * med_t1))
    for label, values, med in (("T1", t1, med_t1), ("T2", t2, med_t2)):
        missing = [q for q, v in enumerate(values) if v is None or not v > 0]
        if missing:
            note = f"{label} missing on qubits {missing}: set to the device median {med:.3g} s"
            logger.info(note)
            notes.append(note)
    readout = []
    for q in range(n):
        qp = _qubit_props(props, q)
        p10 = _value(qp.get("prob_meas1_prep0"))
        p01 = _value(qp.get("prob_meas0_prep1"))
        if p10 is None or p01 is None:
            inst = measure.get((q,))
            err = inst.error if inst is not None else _value(qp.get("readout_error"))
            p10 = p01 = err
        readout.append((p10, p01))
    med_ro = _median_or((r for pair in readout for r in pair), 0.0)
    qubits = []
    for q in range(n):
        q_t1 = _positive_or(t1[q], med_t1)
        q_t2 = _positive_or(t2[q], med_t2)
        if q_t2 > 2 * q_t1:
            logger.debug("qubit %d: T2=%.3g s clamped to 2*T1=%.3g s", q, q_t2, 2 * q_t1)
            q_t2 = 2 * q_t1
        p10, p01 = (med_ro if p is None else min(1.0, max(0.0, p)) for p in readout[q])
        qubits.append(
            QubitProperties(
                t1_s=q_t1,
                t2_s=q_t2,
                prob_meas1_prep0=p10,
                prob_meas0_prep1=p01,
                frequency_hz=_positive_or(freq[q], None),
            )
        )
    return qubits


def device_from_backend(backend: Any, *, name: str | None = None, source: str = "") -> DeviceModel:
    """Convert a Qiskit ``BackendV2`` (fake or real) into a :class:`DeviceModel`.

    Instructions our model knows (sx, x, rz, id, measure, cx, ecr, cz) are kept with their
    error and duration; others (rzz, rx, delay, reset, control flow) are skipped. A missing
    error becomes 0 for the virtual rz and the device median of that gate otherwise (same for
    durations). Backends with the legacy u1/u2/u3 basis get rz/sx/x from u1/u2/u3. When a
    backend has several two-qubit gates the one on most pairs is kept (see
    :func:`_one_two_qubit_gate`). Every such adjustment is appended to ``source``.

    Args:
        backend: a ``BackendV2`` with a ``target`` (and optionally ``properties()``).
        name: catalog name; defaults to ``backend.name`` with ``fake_`` replaced by ``ibm_``.
        source: provenance text placed first in ``DeviceModel.source``.

    Returns:
        The device record, family ``"ibm"``.
    """
    target = backend.target
    props = _properties(backend)
    n = int(target.num_qubits)
    notes: list[str] = []
    names = set(target.operation_names)
    raw: dict[str, dict[Qargs, tuple[float | None, float | None]]] = {}
    for op in KNOWN_INSTRUCTIONS:
        if op in names:
            raw[op] = _collect(target, op, n)
        elif _LEGACY_ALIASES.get(op) in names:
            legacy = _LEGACY_ALIASES[op]
            raw[op] = _collect(target, legacy, n)
            notes.append(f"{op} taken from legacy {legacy}")
    skipped = sorted(op for op in names if op not in raw and _arity(target, op) == 2)
    if skipped:
        notes.append(f"two-qubit instruction(s) outside the model dropped: {', '.join(skipped)}")
    tables = {op: _fill(op, table, notes) for op, table in raw.items() if table}
    _one_two_qubit_gate(tables, notes)
    qubits = _qubits(target, props, tables.get("measure", {}), notes)
    snapshot = ""
    last_update = getattr(props, "last_update_date", None)
    if last_update is not None:
        snapshot = last_update.date().isoformat()
    device_name = name or IBM_PREFIX + str(backend.name).removeprefix(FAKE_PREFIX)
    return DeviceModel(
        name=device_name,
        family="ibm",
        qubits=tuple(qubits),
        instructions=tables,
        source="; ".join([source or f"backend {backend.name}", *notes]),
        snapshot_date=snapshot,
    )
