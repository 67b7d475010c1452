"""Read and write devices as YAML files (the format of ``DeviceModel.to_dict()``).

The full form lists every qubit and every instruction on every qubit tuple; units are in the
key names (``t1_us``, ``t2_us``, ``frequency_ghz``, ``duration_ns``). A compact form describes
uniform devices such as ion traps in a few lines::

    name: my_trap
    family: ion
    num_qubits: 25
    coupling: all_to_all          # or a list of [control, target] pairs
    defaults:
      qubit: {t1_us: 1.0e7, t2_us: 1.0e6, readout_error: 0.004}
      instructions:
        rz: {error: 0, duration_ns: 0}
        sx: {error: 5.0e-4, duration_ns: 135000}
        x: {error: 5.0e-4, duration_ns: 135000}
        measure: {duration_ns: 300000}   # error defaults to each qubit's readout error
        cx: {error: 4.0e-3, duration_ns: 600000}

``devices/README.md`` documents every field. Entries of ``qubits:`` and ``instructions:``
override the defaults. Every problem is reported as ``<file>: <field path>: <why>``, e.g.
``devices/ionq_aria.yaml: qubits[3].t1_us: expected a positive number, got -5``.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from qaa_hw.devices.model import (
    KNOWN_INSTRUCTIONS,
    MEASURE,
    TWO_QUBIT_GATES,
    DeviceModel,
    InstructionProperties,
    Qargs,
    QubitProperties,
)
from qaa_hw.errors import DeviceError
from qaa_hw.files import write_text_atomic
from qaa_hw.limits import MAX_ALL_TO_ALL_QUBITS, MAX_DEVICE_FILE_BYTES, MAX_DEVICE_QUBITS

TOP_LEVEL_KEYS = (
    "name",
    "family",
    "source",
    "snapshot_date",
    "noise_scale",
    "num_qubits",
    "qubits",
    "coupling",
    "defaults",
    "instructions",
    "qubit_labels",
    "coordinates",
)
QUBIT_KEYS = ("t1_us", "t2_us", "prob_meas1_prep0", "prob_meas0_prep1", "readout_error")
QUBIT_OPTIONAL_KEYS = ("frequency_ghz",)
INSTRUCTION_KEYS = ("error", "duration_ns")
ALL_TO_ALL = "all_to_all"


class _Reader:
    """Typed field access that names the file and field path in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, path: str, why: str) -> DeviceError:
        return DeviceError(f"{self.origin}: {path}: {why}")

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping, got {_show(value)}")
        return value

    def keys(self, value: Mapping[str, Any], path: str, accepted: tuple[str, ...]) -> None:
        for key in value:
            if key not in accepted:
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(where, f"unknown field; accepted: {', '.join(accepted)}")

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, str):  # YAML 1.1 reads "5e-3" as a string
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(path, f"expected a number, got {_show(value)}")
        return float(value)

    def positive(self, value: Any, path: str) -> float:
        x = self.number_or(value, path, "expected a positive number")
        if not x > 0:
            raise self.fail(path, f"expected a positive number, got {_show(value)}")
        return x

    def non_negative(self, value: Any, path: str) -> float:
        x = self.number_or(value, path, "expected a number >= 0")
        if not (x >= 0 and math.isfinite(x)):
            raise self.fail(path, f"expected a number >= 0, got {_show(value)}")
        return x

    def probability(self, value: Any, path: str) -> float:
        x = self.number_or(value, path, "expected a probability in [0, 1]")
        if not 0.0 <= x <= 1.0:
            raise self.fail(path, f"expected a probability in [0, 1], got {_show(value)}")
        return x

    def number_or(self, value: Any, path: str, expected: str) -> float:
        try:
            return self.number(value, path)
        except DeviceError:
            raise self.fail(path, f"{expected}, got {_show(value)}") from None

    def count(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(path, f"expected a positive integer, got {_show(value)}")
        return value

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, datetime.date):  # YAML reads 2024-01-31 as a date
            return value.isoformat()
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_show(value)}")
        return value


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


# ------------------------------------------------------------------------ qubits
def _qubit(
    r: _Reader, entry: Mapping[str, Any], defaults: Mapping[str, Any], path: str
) -> QubitProperties:
    """One qubit from its entry merged over the defaults (paths point at the source)."""

    def get(key: str) -> tuple[Any, str] | None:
        if key in entry:
            return entry[key], f"{path}.{key}"
        if key in defaults:
            return defaults[key], f"defaults.qubit.{key}"
        return None

    def required(key: str) -> tuple[Any, str]:
        found = get(key)
        if found is None:
            raise r.fail(f"{path}.{key}", "missing required field")
        return found

    t1 = r.positive(*required("t1_us"))
    t2_value, t2_path = required("t2_us")
    t2 = r.positive(t2_value, t2_path)
    if t2 > 2 * t1 * (1 + 1e-9):
        raise r.fail(t2_path, f"T2 must not exceed 2*T1 = {2 * t1:g} us, got {_show(t2_value)}")
    readout = get("readout_error")
    probs = []
    for key in ("prob_meas1_prep0", "prob_meas0_prep1"):
        found = get(key) or readout
        if found is None:
            raise r.fail(f"{path}.{key}", "missing required field (or give readout_error)")
        probs.append(r.probability(*found))
    freq = get("frequency_ghz")
    return QubitProperties(
        t1_s=t1 / 1e6,
        t2_s=t2 / 1e6,
        prob_meas1_prep0=probs[0],
        prob_meas0_prep1=probs[1],
        frequency_hz=r.positive(*freq) * 1e9 if freq is not None else None,
    )


def _qubits(r: _Reader, data: Mapping[str, Any]) -> list[QubitProperties]:
    defaults = r.mapping(data.get("defaults", {}) or {}, "defaults")
    r.keys(defaults, "defaults", ("qubit", "instructions"))
    qdefaults = r.mapping(defaults.get("qubit", {}) or {}, "defaults.qubit")
    r.keys(qdefaults, "defaults.qubit", QUBIT_KEYS + QUBIT_OPTIONAL_KEYS)
    entries = data.get("qubits")
    n = r.count(data["num_qubits"], "num_qubits") if "num_qubits" in data else None
    size = n if n is not None else len(entries) if isinstance(entries, list) else 0
    limit = MAX_ALL_TO_ALL_QUBITS if data.get("coupling") == ALL_TO_ALL else MAX_DEVICE_QUBITS
    if size > limit:
        where = "num_qubits" if n is not None else "qubits"
        kind = "an all_to_all device" if limit == MAX_ALL_TO_ALL_QUBITS else "a device"
        raise r.fail(where, f"{size} qubits is more than {kind} may have; accepted: 1..{limit} "
                            "(the cap of synthetic devices)")
    if entries is None:
        if n is None:
            raise r.fail("qubits", "missing required field (or give num_qubits and defaults)")
        entries = [{}] * n
    if not isinstance(entries, list) or not entries:
        raise r.fail("qubits", f"expected a non-empty list, got {_show(entries)}")
    if n is not None and n != len(entries):
        raise r.fail("num_qubits", f"{n} does not match the {len(entries)} entries of qubits")
    qubits = []
    for i, raw in enumerate(entries):
        entry = r.mapping(raw or {}, f"qubits[{i}]")
        r.keys(entry, f"qubits[{i}]", QUBIT_KEYS + QUBIT_OPTIONAL_KEYS)
        qubits.append(_qubit(r, entry, qdefaults, f"qubits[{i}]"))
    return qubits


# ------------------------------------------------------------------ instructions
def _props(
    r: _Reader, entry: Mapping[str, Any], path: str, default_error: float | None = None
) -> InstructionProperties:
    r.keys(entry, path, INSTRUCTION_KEYS)
    if "error" in entry:
        error = r.probability(entry["error"], f"{path}.error")
    elif default_error is not None:
        error = default_error
    else:
        raise r.fail(f"{path}.error", "missing required field")
    if "duration_ns" not in entry:
        raise r.fail(f"{path}.duration_ns", "missing required field")
    duration = r.non_negative(entry["duration_ns"], f"{path}.duration_ns")
    return InstructionProperties(error=error, duration_s=duration / 1e9)


def _check_name(r: _Reader, name: Any, path: str) -> str:
    if name not in KNOWN_INSTRUCTIONS:
        raise r.fail(
            path, f"unknown instruction {name!r}; accepted: {', '.join(KNOWN_INSTRUCTIONS)}"
        )
    return str(name)


def _qargs(r: _Reader, value: Any, path: str, name: str, n: int) -> Qargs:
    arity = 2 if name in TWO_QUBIT_GATES else 1
    if isinstance(value, int) and not isinstance(value, bool) and arity == 1:
        value = [value]
    if not isinstance(value, list) or len(value) != arity:
        raise r.fail(path, f"{name} expects a list of {arity} qubit index(es), got {_show(value)}")
    for q in value:
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q < n:
            raise r.fail(path, f"qubit index {_show(q)} is out of range 0..{n - 1}")
    if arity == 2 and value[0] == value[1]:
        raise r.fail(path, f"{name} on {value} repeats a qubit")
    return tuple(value)


def _coupling(r: _Reader, value: Any, gate: str, n: int) -> list[Qargs]:
    if value == ALL_TO_ALL:
        symmetric = gate == "cz"
        return [(a, b) for a in range(n) for b in range(n) if a != b and (a < b or not symmetric)]
    if not isinstance(value, list):
        raise r.fail("coupling", f"expected '{ALL_TO_ALL}' or a list of pairs, got {_show(value)}")
    return [_qargs(r, pair, f"coupling[{i}]", gate, n) for i, pair in enumerate(value)]


def _instructions(
    r: _Reader, data: Mapping[str, Any], qubits: list[QubitProperties]
) -> dict[str, dict[Qargs, InstructionProperties]]:
    n = len(qubits)
    tables: dict[str, dict[Qargs, InstructionProperties]] = {}
    defaults = r.mapping(
        (data.get("defaults") or {}).get("instructions", {}) or {}, "defaults.instructions"
    )
    two_q = [g for g in defaults if g in TWO_QUBIT_GATES]
    if "coupling" in data and len(two_q) != 1:
        raise r.fail("coupling", "needs exactly one two-qubit gate in defaults.instructions")
    for raw_name, raw in defaults.items():
        path = f"defaults.instructions.{raw_name}"
        name = _check_name(r, raw_name, path)
        entry = r.mapping(raw, path)
        if name in TWO_QUBIT_GATES:
            if "coupling" not in data:
                raise r.fail(path, "a default two-qubit gate needs `coupling` (all_to_all/pairs)")
            props = _props(r, entry, path)
            tables[name] = {qa: props for qa in _coupling(r, data["coupling"], name, n)}
        elif name == MEASURE and "error" not in entry:
            tables[name] = {
                (q,): _props(r, entry, path, default_error=qubits[q].readout_error)
                for q in range(n)
            }
        else:
            props = _props(r, entry, path)
            tables[name] = {(q,): props for q in range(n)}
    explicit = r.mapping(data.get("instructions", {}) or {}, "instructions")
    for raw_name, entries in explicit.items():
        name = _check_name(r, raw_name, f"instructions.{raw_name}")
        if not isinstance(entries, list):
            raise r.fail(f"instructions.{name}", f"expected a list, got {_show(entries)}")
        table = tables.setdefault(name, {})
        for i, raw in enumerate(entries):
            path = f"instructions.{name}[{i}]"
            entry = dict(r.mapping(raw, path))
            if "qubits" not in entry:
                raise r.fail(f"{path}.qubits", "missing required field")
            qargs = _qargs(r, entry.pop("qubits"), f"{path}.qubits", name, n)
            table[qargs] = _props(r, entry, path)
    return tables


# ------------------------------------------------------------------------ public
def device_from_dict(
    data: Mapping[str, Any], *, origin: str = "<dict>", default_name: str = "device"
) -> DeviceModel:
    """Build a device from plain data (full or compact YAML form).

    Args:
        data: the parsed YAML mapping.
        origin: text naming the source in error messages (usually the file path).
        default_name: device name when ``data`` has no ``name`` (the file stem).

    Returns:
        The validated device.

    Raises:
        DeviceError: ``"<origin>: <field path>: <why>"`` for the first problem found.
    """
    r = _Reader(origin)
    data = r.mapping(data, "<top level>")
    r.keys(data, "", TOP_LEVEL_KEYS)
    qubits = _qubits(r, data)
    instructions = _instructions(r, data, qubits)
    labels = data.get("qubit_labels")
    if labels is not None and (not isinstance(labels, list) or len(labels) != len(qubits)):
        raise r.fail("qubit_labels", f"expected a list of {len(qubits)} names")
    coords = data.get("coordinates")
    if coords is not None:
        if not isinstance(coords, list) or len(coords) != len(qubits):
            raise r.fail("coordinates", f"expected a list of {len(qubits)} [x, y] pairs")
        for i, xy in enumerate(coords):
            if not isinstance(xy, list) or len(xy) != 2:
                raise r.fail(f"coordinates[{i}]", f"expected [x, y], got {_show(xy)}")
            for v in xy:
                r.number(v, f"coordinates[{i}]")
    scale = data.get("noise_scale", 1.0)
    try:
        return DeviceModel(
            name=r.text(data.get("name", default_name), "name"),
            family=r.text(data.get("family", "yaml"), "family"),
            qubits=tuple(qubits),
            instructions=instructions,
            source=r.text(data.get("source", ""), "source"),
            snapshot_date=r.text(data.get("snapshot_date", ""), "snapshot_date"),
            noise_scale=r.non_negative(scale, "noise_scale"),
            qubit_labels=tuple(str(x) for x in labels) if labels is not None else None,
            coordinates=(
                tuple((float(x), float(y)) for x, y in coords) if coords is not None else None
            ),
        )
    except DeviceError as e:
        if str(e).startswith(f"{origin}: "):
            raise
        raise DeviceError(f"{origin}: {e}") from e


def load_yaml_device(path: str | Path) -> DeviceModel:
    """Load a device from a YAML file (name defaults to the file stem).

    Raises:
        DeviceError: the file is missing, is not valid YAML, or fails validation; the
            message names the file and the field.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_DEVICE_FILE_BYTES:
            raise DeviceError(f"{path}: device file of {path.stat().st_size:,} bytes is larger "
                              f"than the accepted {MAX_DEVICE_FILE_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DeviceError(f"{path}: cannot read device file ({e.strerror or e})") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise DeviceError(f"{path}: invalid YAML{where}: {problem}") from e
    if data is None:
        raise DeviceError(f"{path}: empty device file")
    return device_from_dict(data, origin=str(path), default_name=path.stem)


def dump_yaml_device(device: DeviceModel, path: str | Path) -> None:
    """Write ``device.to_dict()`` as YAML; :func:`load_yaml_device` reads it back."""
    text = yaml.safe_dump(device.to_dict(), sort_keys=False, default_flow_style=None, width=100)
    write_text_atomic(path, text, what="device file")
