"""IBM devices from the calibration snapshots shipped with ``qiskit_ibm_runtime``.

Every fake backend ``fake_<x>`` of :mod:`qiskit_ibm_runtime.fake_provider` is offered under
its real name ``ibm_<x>`` (``fake_<x>`` is accepted as an alias).

Nothing here imports ``qiskit_ibm_runtime`` (about 0.5 s): names come from the
``from .<dir> import <Class>`` lines of its ``fake_provider/backends`` package (found with
:func:`importlib.util.find_spec`), and :func:`device_from_snapshot` builds a device straight
from the ``conf_<x>.json``/``props_<x>.json`` files next to each fake backend, following
``qiskit_ibm_runtime``'s own conversion to a ``Target``. :func:`device_from_backend` (a live
``BackendV2``: ``backend.target`` plus ``backend.properties()``) stays the reference; the
tests check that both give equal devices.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
#: ``{qargs: (error, duration_s)}`` of one instruction, None where the snapshot has no number.
_Raw = dict[Qargs, tuple[float | None, float | None]]

IBM_PREFIX = "ibm_"
FAKE_PREFIX = "fake_"

#: Legacy IBM basis (u1/u2/u3) mapped onto our names when the backend lacks the modern one:
#: u1 is a virtual Z like rz, u2 a single X90 pulse like sx, u3 two pulses (used for x).
_LEGACY_ALIASES = {"rz": "u1", "sx": "u2", "x": "u3"}
_IMPORT_LINE = re.compile(r"^from \.(\w+) import (\w+)", re.MULTILINE)
_FILENAME = re.compile(r"^\s*(conf|props)_filename\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)

#: Two-qubit gates of Qiskit's standard gate mapping (the arity a ``Target`` would report).
_STANDARD_TWO_QUBIT = frozenset({
    "ch", "cp", "crx", "cry", "crz", "cs", "csdg", "csx", "cu", "cu1", "cu3", "cx", "cy", "cz",
    "dcx", "ecr", "iswap", "rxx", "ryy", "rzx", "rzz", "swap", "xx_minus_yy", "xx_plus_yy",
})
#: Instructions every ``Target`` converted by ``qiskit_ibm_runtime`` carries.
_REQUIRED = ("measure", "delay", "reset")
#: SI prefixes, as ``qiskit.utils.units.apply_prefix`` reads them.
_PREFIXES = {"f": -15, "p": -12, "n": -9, "u": -6, "µ": -6, "m": -3, "k": 3, "M": 6, "G": 9,
             "T": 12, "P": 15}


@functools.cache
def _package_root() -> Path | None:
    """Folder of the ``qiskit_ibm_runtime`` package, found without importing it."""
    spec = importlib.util.find_spec("qiskit_ibm_runtime")
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(root) / "fake_provider" / "backends" / "__init__.py").is_file():
            return Path(root)
    return None


def _backends_dir() -> Path | None:
    root = _package_root()
    return None if root is None else root / "fake_provider" / "backends"


@functools.cache
def _fake_backends() -> dict[str, tuple[str, str]]:
    """``{"ibm_brisbane": ("brisbane", "FakeBrisbane"), ...}``: snapshot folder and class."""
    folder = _backends_dir()
    found: dict[str, tuple[str, str]] = {}
    if folder is not None:
        text = (folder / "__init__.py").read_text(encoding="utf-8")
        for module, cls in _IMPORT_LINE.findall(text):
            found[IBM_PREFIX + module] = (module, cls)
    if found:
        return dict(sorted(found.items()))
    # Fallback (layout changed): instantiate the provider's backends once (~0.15 s).
    try:
        from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2
    except ImportError:  # pragma: no cover - qiskit_ibm_runtime is a hard dependency
        return {}
    for backend in FakeProviderForBackendV2().backends():
        short = backend.name.removeprefix(FAKE_PREFIX)
        found[IBM_PREFIX + short] = (short, type(backend).__name__)
    return dict(sorted(found.items()))


def ibm_device_names() -> list[str]:
    """Catalog names (``ibm_<x>``) of every fake backend in ``qiskit_ibm_runtime``."""
    return list(_fake_backends())


def canonical_ibm_name(name: str) -> str | None:
    """``ibm_<x>`` for ``ibm_<x>`` or ``fake_<x>`` when such a fake backend exists, else None."""
    canonical = name
    if name.startswith(FAKE_PREFIX):
        canonical = IBM_PREFIX + name.removeprefix(FAKE_PREFIX)
    return canonical if canonical in _fake_backends() else None


def _runtime_version() -> str:
    """``qiskit_ibm_runtime.__version__`` (its ``VERSION.txt``) without importing it."""
    root = _package_root()
    path = None if root is None else root / "VERSION.txt"
    return path.read_text(encoding="utf-8").strip() if path and path.is_file() else "?"


def snapshot_files(name: str) -> tuple[Path, Path] | None:
    """``(conf, props)`` JSON files of fake backend ``name`` (``ibm_<x>``), if shipped.

    The file names come from the ``conf_filename``/``props_filename`` attributes in the
    fake backend's module source (``cambridge`` ships two property files), defaulting to
    ``conf_<x>.json``/``props_<x>.json``.
    """
    folder, base = _backends_dir(), _fake_backends().get(name)
    if folder is None or base is None:
        return None
    where = folder / base[0]
    names = {"conf": f"conf_{base[0]}.json", "props": f"props_{base[0]}.json"}
    for module in sorted(where.glob("*.py")):
        for kind, filename in _FILENAME.findall(module.read_text(encoding="utf-8")):
            names[kind] = filename
    conf, props = where / names["conf"], where / names["props"]
    return (conf, props) if conf.is_file() and props.is_file() else None


def load_ibm_device(name: str) -> DeviceModel:
    """Build the :class:`DeviceModel` of one IBM fake backend from its snapshot files.

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
    class_name = _fake_backends()[canonical][1]
    source = f"qiskit-ibm-runtime {_runtime_version()} fake_provider.{class_name}"
    files = snapshot_files(canonical)
    if files is not None:
        try:
            conf = json.loads(files[0].read_text(encoding="utf-8"))
            props = json.loads(files[1].read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DeviceError(f"{canonical}: cannot read snapshot {files}: {e}") from e
        return device_from_snapshot(conf, props, name=canonical, source=source)
    # Fallback (files moved): instantiate the fake backend (imports qiskit_ibm_runtime).
    module = importlib.import_module("qiskit_ibm_runtime.fake_provider")
    return device_from_backend(getattr(module, class_name)(), name=canonical, source=source)


# ----------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class _Calibration:
    """What the device record is built from, whatever the origin (target or JSON).

    Attributes:
        num_qubits: qubits of the backend.
        names: instruction names of the backend's ``Target``.
        table: ``{qargs: (error, duration_s)}`` of one instruction (None where unknown).
        arity: qubits of one instruction (None for control flow).
        coherence: ``(T1, T2, frequency)`` per qubit in SI units (None where unknown).
        qubit: a qubit's property snapshot (name -> value or ``(value, date)``).
        snapshot_date: ISO date of the calibration ("" if unknown).
    """

    num_qubits: int
    names: frozenset[str]
    table: Callable[[str], _Raw]
    arity: Callable[[str], int | None]
    coherence: Sequence[tuple[float | None, float | None, float | None]]
    qubit: Callable[[int], Mapping[str, Any]]
    snapshot_date: str


def _median_or(values: Iterable[float | None], default: float) -> float:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(present) if present else default


def _positive_or(value: Any, default: _T) -> float | _T:
    """``float(value)`` when it is a positive number, else ``default``."""
    if value is None:
        return default
    value = float(value)
    return value if value > 0 and math.isfinite(value) else default


def _value(entry: Any) -> float | None:
    """The number of a ``(value, date)`` property tuple (or a bare number), or None."""
    if entry is None:
        return None
    value = entry[0] if isinstance(entry, tuple) else entry
    return float(value) if value is not None else None


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


def _qubits(cal: _Calibration, measure: Mapping[Qargs, Any], notes: list[str]) -> list[Any]:
    """Per-qubit T1/T2/frequency/readout with medians for gaps and T2 clamped to 2 T1."""
    n = cal.num_qubits
    coherence = list(cal.coherence) + [(None, None, None)] * (n - len(cal.coherence))
    t1 = [c[0] for c in coherence]
    t2 = [c[1] for c in coherence]
    freq = [c[2] for c in coherence]
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
        qp = cal.qubit(q)
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


def _assemble(cal: _Calibration, *, name: str, source: str) -> DeviceModel:
    """The device record from a calibration (rules in :func:`device_from_backend`)."""
    notes: list[str] = []
    raw: dict[str, _Raw] = {}
    for op in KNOWN_INSTRUCTIONS:
        if op in cal.names:
            raw[op] = cal.table(op)
        elif _LEGACY_ALIASES.get(op) in cal.names:
            legacy = _LEGACY_ALIASES[op]
            raw[op] = cal.table(legacy)
            notes.append(f"{op} taken from legacy {legacy}")
    skipped = sorted(op for op in cal.names if op not in raw and cal.arity(op) == 2)
    if skipped:
        notes.append(f"two-qubit instruction(s) outside the model dropped: {', '.join(skipped)}")
    tables = {op: _fill(op, table, notes) for op, table in raw.items() if table}
    _one_two_qubit_gate(tables, notes)
    qubits = _qubits(cal, tables.get("measure", {}), notes)
    return DeviceModel(
        name=name,
        family="ibm",
        qubits=tuple(qubits),
        instructions=tables,
        source="; ".join([source, *notes]),
        snapshot_date=cal.snapshot_date,
    )


# ------------------------------------------------------------------ from a BackendV2
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


def _arity(target: Any, op: str) -> int | None:
    """Number of qubits of a target operation (None for control flow and classes)."""
    try:
        return int(target.operation_from_name(op).num_qubits)
    except (AttributeError, KeyError, TypeError):
        return None


def _collect(target: Any, op: str, n: int) -> _Raw:
    """``{qargs: (error, duration_s)}`` of one target instruction (None where unknown)."""
    table: _Raw = {}
    for qargs, inst in target[op].items():
        error = None if inst is None else inst.error
        duration = None if inst is None else inst.duration
        if qargs is None:  # a global (ideal) instruction: defined on every qubit
            for q in range(n):
                table[(q,)] = (error, duration)
        else:
            table[tuple(int(q) for q in qargs)] = (error, duration)
    return table


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
    qprops = list(target.qubit_properties or [])
    last_update = getattr(props, "last_update_date", None)
    cal = _Calibration(
        num_qubits=n,
        names=frozenset(target.operation_names),
        table=lambda op: _collect(target, op, n),
        arity=lambda op: _arity(target, op),
        coherence=[(getattr(qp, "t1", None), getattr(qp, "t2", None),
                    getattr(qp, "frequency", None)) for qp in qprops],
        qubit=lambda q: _qubit_props(props, q),
        snapshot_date="" if last_update is None else last_update.date().isoformat(),
    )
    device_name = name or IBM_PREFIX + str(backend.name).removeprefix(FAKE_PREFIX)
    return _assemble(cal, name=device_name, source=source or f"backend {backend.name}")


# -------------------------------------------------------------- from snapshot JSON
def _apply_prefix(value: Any, unit: str | None) -> Any:
    """``qiskit.utils.units.apply_prefix`` (value in SI units; ``"ns"`` -> seconds)."""
    if value is None or not unit or len(unit) == 1:
        return value
    try:
        pow10 = _PREFIXES[unit[0]]
    except KeyError as e:
        raise DeviceError(f"calibration snapshot: unknown unit {unit!r}") from e
    return value / pow(10, -pow10) if pow10 < 0 else value * pow(10, pow10)


def _nduvs(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{name: value}`` (SI units) of a list of name/date/unit/value records."""
    return {str(e["name"]): _apply_prefix(e.get("value"), e.get("unit")) for e in entries}


def _iso_date(text: Any) -> str:
    if not text:
        return ""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return str(text)[:10]


def device_from_snapshot(
    conf: Mapping[str, Any], props: Mapping[str, Any] | None, *, name: str, source: str
) -> DeviceModel:
    """The :class:`DeviceModel` of a backend from its configuration and properties JSON.

    Reads what ``qiskit_ibm_runtime`` would turn into ``backend.target`` (its
    ``convert_to_target``): instructions are the ``basis_gates`` plus measure/delay/reset;
    an instruction's qubit tuples come from its ``coupling_map`` in ``conf["gates"]`` and
    from the properties' ``gates`` (``gate_error``, ``gate_length``); measure takes each
    qubit's ``readout_error``/``readout_length``; faulty qubits and gates (``operational``
    false) are left out; an instruction with neither is defined on every qubit with
    unknown numbers. Then the rules of :func:`device_from_backend` apply.

    Args:
        conf: the ``conf_<x>.json`` content (``n_qubits``, ``basis_gates``, ``gates``).
        props: the ``props_<x>.json`` content (``qubits``, ``gates``, ``last_update_date``),
            or None.
        name: catalog name of the device.
        source: provenance text placed first in ``DeviceModel.source``.

    Returns:
        The device record, family ``"ibm"``.
    """
    n = int(conf["n_qubits"])
    configs = {str(g["name"]): g for g in conf.get("gates", [])}
    names = set(conf.get("basis_gates", [])) | set(_REQUIRED)
    qubit_data = [_nduvs(q) for q in (props or {}).get("qubits", [])]
    gate_data: dict[str, dict[Qargs, dict[str, Any]]] = {}
    for gate in (props or {}).get("gates", []):
        per = gate_data.setdefault(str(gate["gate"]), {})
        per[tuple(int(q) for q in gate["qubits"])] = _nduvs(gate.get("parameters", []))
    faulty = {q for q, d in enumerate(qubit_data)
              if "operational" in d and not bool(d["operational"])}

    def table(op: str) -> _Raw:
        found: _Raw | None = None
        if coupling := configs.get(op, {}).get("coupling_map"):
            found = {tuple(int(q) for q in qa): (None, None) for qa in coupling}
        if props is not None and op == "measure":
            found = {(q,): (d.get("readout_error"), d.get("readout_length"))
                     for q, d in enumerate(qubit_data[:n]) if q not in faulty}
        elif props is not None and op in gate_data:
            for qargs, params in gate_data[op].items():
                if faulty.intersection(qargs) or not bool(params.get("operational", True)):
                    if found is not None:
                        found.pop(qargs, None)
                    continue
                if found is None:
                    found = {}
                found[qargs] = (params.get("gate_error"), params.get("gate_length"))
        if found is None and op in _REQUIRED:
            found = {(q,): (None, None) for q in range(n) if q not in faulty}
        if found is None:  # a global instruction: every qubit, numbers unknown
            found = {(q,): (None, None) for q in range(n)}
        return found

    def arity(op: str) -> int | None:
        if op in _STANDARD_TWO_QUBIT:
            return 2
        coupling = configs.get(op, {}).get("coupling_map")
        return len(coupling[0]) if coupling else None

    cal = _Calibration(
        num_qubits=n,
        names=frozenset(names),
        table=table,
        arity=arity,
        coherence=[(d.get("T1"), d.get("T2"), d.get("frequency")) for d in qubit_data],
        qubit=lambda q: qubit_data[q] if q < len(qubit_data) else {},
        snapshot_date=_iso_date((props or {}).get("last_update_date")),
    )
    return _assemble(cal, name=name, source=source)
