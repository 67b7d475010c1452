"""Sweep specifications: the YAML file that names a grid of adapter evaluations.

A sweep is the Cartesian product of its *axes* (every axis a list; a scalar is read as a
one-element list)::

    name: default_study
    devices: [ibm_brisbane, ibm_torino, google_weber]
    noise_scale: [0.5, 1.0, 2.0]
    qubits: [3, 4]
    layers: [1, 2]
    entangler: [ring, native]
    embedding: [exact]
    mitigation: [none, rem]
    shots: [null]              # null: exact expectation values
    seeds: [0]

plus *settings* shared by every point (``engine``, ``prep_noise``, ``inputs``, ...; see
:data:`SETTINGS`) and optional ``mitigation_options`` (keyword arguments of each technique
record in :mod:`qaa_hw.mitigation.techniques`) and ``training`` (QPU-cost assumptions,
:class:`qaa_hw.analysis.feasibility.TrainingAssumptions`). ``docs/sweeps.md`` documents every
field. Errors name the file and the field: ``analysis/x.yaml: qubits[1]: expected an integer
1..16, got 'four'``.

Each point has a stable key (:attr:`SweepPoint.key`): the first 16 hex digits of the SHA-256
of its settings as canonical JSON, so a results store recognises finished points across runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qaa_hw.analysis.assumptions import TrainingAssumptions
from qaa_hw.circuits.spec import (
    EMBEDDINGS,
    ENTANGLERS,
    MAX_LAYERS,
    MAX_QUBITS,
    READOUTS,
    ROTATIONS,
)
from qaa_hw.errors import ConfigError, did_you_mean
from qaa_hw.limits import MAX_COUNT, MAX_SHOTS, SEED_MAX, check_input_amplitudes
from qaa_hw.mitigation.techniques import EXECUTORS, ORDER, TECHNIQUES, technique_from_names
from qaa_hw.simulate.engine import PREP_NOISE_MODES
from qaa_hw.simulate.registry import noisy_engines

#: Version of the key derivation; bump it when a setting changes meaning.
KEY_VERSION = 1

#: Axes in product order (the first varies slowest): YAML name -> SweepPoint field.
AXES: dict[str, str] = {
    "devices": "device",
    "noise_scale": "noise_scale",
    "qubits": "qubits",
    "layers": "layers",
    "rotations": "rotations",
    "entangler": "entangler",
    "embedding": "embedding",
    "mitigation": "mitigation",
    "shots": "shots",
    "seeds": "seed",
}
REQUIRED_AXES: tuple[str, ...] = ("devices",)
#: Axis defaults when the file leaves them out.
AXIS_DEFAULTS: dict[str, list[Any]] = {
    "noise_scale": [1.0],
    "qubits": [4],
    "layers": [2],
    "rotations": ["ry"],
    "entangler": ["ring"],
    "embedding": ["exact"],
    "mitigation": ["none"],
    "shots": [None],
    "seeds": [0],
}
#: Settings shared by every point, with defaults.
SETTINGS: dict[str, Any] = {
    "engine": "fast",
    "prep_noise": "exact",
    "inputs": 16,
    "mitigation_inputs": 4,
    "mitigation_executor": "aer",
    "readout": "z",
    "embedding_fidelity": 0.99,
}
OTHER_KEYS: tuple[str, ...] = ("name", "description", "mitigation_options", "training")


@dataclass(frozen=True)
class SweepPoint:
    """One evaluation: a device, an adapter configuration, a mitigation and a seed.

    Attributes:
        device: catalog name.
        noise_scale: λ of :func:`qaa_hw.devices.model.scale_noise`.
        qubits: adapter qubits n.
        layers: ansatz layers L.
        rotations: a rotation set of :data:`~qaa_hw.circuits.spec.ROTATIONS` (``ry``,
            ``ry_rz``, ``rx_rz``).
        entangler: ``ring``, ``line``, ``all_to_all`` or ``native``.
        embedding: ``exact`` or ``approx``.
        mitigation: ``"none"`` or technique names joined by ``+`` (e.g. ``"zne+rem"``).
        shots: shots per circuit, ``None`` for exact expectation values.
        seed: seed of the compiler, the trainable values and the inputs.
        engine: noisy engine of the unmitigated evaluation (``fast``, ``aer``, ``cirq``).
        prep_noise: the fast engine's preparation-noise mode.
        inputs: random inputs of the unmitigated evaluation.
        mitigation_inputs: inputs (the first ones) that are also mitigated.
        mitigation_executor: ``aer`` or ``cirq``: the executor Mitiq's circuits run on.
        readout: ``z`` or ``probs``.
        embedding_fidelity: target of the ``approx`` embedding.
        mitigation_options: ``{technique: {option: value}}`` as canonical JSON text.
    """

    device: str
    noise_scale: float = 1.0
    qubits: int = 4
    layers: int = 2
    rotations: str = "ry"
    entangler: str = "ring"
    embedding: str = "exact"
    mitigation: str = "none"
    shots: int | None = None
    seed: int = 0
    engine: str = "fast"
    prep_noise: str = "exact"
    inputs: int = 16
    mitigation_inputs: int = 4
    mitigation_executor: str = "aer"
    readout: str = "z"
    embedding_fidelity: float = 0.99
    mitigation_options: str = "{}"

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain data (the columns every result row starts with)."""
        return asdict(self)

    @property
    def key(self) -> str:
        """Stable 16-hex-digit hash of the settings (see the module docstring)."""
        payload = {"key_version": KEY_VERSION, **self.to_dict()}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def options(self) -> dict[str, dict[str, Any]]:
        """``mitigation_options`` decoded."""
        return dict(json.loads(self.mitigation_options))

    def label(self) -> str:
        """Short human label for logs and progress bars."""
        shots = "exact" if self.shots is None else f"{self.shots} shots"
        return (f"{self.device} λ={self.noise_scale:g} n={self.qubits} L={self.layers} "
                f"{self.entangler}/{self.embedding} {self.mitigation} {shots} seed={self.seed}")


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: axes, shared settings, options and training assumptions.

    Attributes:
        name: sweep name (default: the file stem).
        axes: ``{YAML axis name: values}`` for every axis in :data:`AXES`.
        settings: the values of :data:`SETTINGS`.
        mitigation_options: ``{technique: {option: value}}``.
        training: raw ``training`` mapping (validated by the feasibility model).
        description: free text.
        source: where the spec came from (file path or ``"<dict>"``).
    """

    name: str
    axes: Mapping[str, tuple[Any, ...]]
    settings: Mapping[str, Any]
    mitigation_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    source: str = "<dict>"

    def points(self) -> list[SweepPoint]:
        """Every point of the grid, in product order (the first axis varies slowest)."""
        options = json.dumps(self.mitigation_options, sort_keys=True, separators=(",", ":"))
        names = list(AXES)
        out = []
        for combo in itertools.product(*(self.axes[a] for a in names)):
            values = {AXES[a]: v for a, v in zip(names, combo, strict=True)}
            out.append(SweepPoint(**values, **self.settings, mitigation_options=options))
        return out

    @property
    def size(self) -> int:
        """Number of points."""
        return math.prod(len(v) for v in self.axes.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (stored with the results)."""
        return {
            "name": self.name,
            "description": self.description,
            **{a: list(v) for a, v in self.axes.items()},
            **dict(self.settings),
            "mitigation_options": {k: dict(v) for k, v in self.mitigation_options.items()},
            "training": dict(self.training),
        }


# ------------------------------------------------------------------------------- validation
def _describe(value: Any) -> str:
    return repr(value)


class _Checker:
    """Builds error messages ``<source>: <field>: expected ..., got ...``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, expected: str, value: Any, hint: str = "") -> ConfigError:
        return ConfigError(f"{self.source}: {where}: expected {expected}, got "
                           f"{_describe(value)}{hint}")

    def integer(self, where: str, value: Any, low: int, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (
            high is not None and value > high
        ):
            span = f"{low}..{high}" if high is not None else f">= {low}"
            raise self.fail(where, f"an integer {span}", value)
        return value

    def number(self, where: str, value: Any, low: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ) or value < low:
            raise self.fail(where, f"a finite number >= {low:g}", value)
        return float(value)

    def choice(self, where: str, value: Any, accepted: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in accepted:
            hint = did_you_mean(value, accepted) if isinstance(value, str) else ""
            raise self.fail(where, "one of " + ", ".join(accepted), value, hint)
        return value


def _device_name(check: _Checker, where: str, value: Any) -> str:
    from qaa_hw.devices.catalog import available_devices
    from qaa_hw.devices.ibm import canonical_ibm_name

    if not isinstance(value, str) or not value.strip():
        raise check.fail(where, "a device name (`qaa_hw devices list`)", value)
    name = value.strip()
    if (name.startswith("synthetic:") or canonical_ibm_name(name) is not None
            or name in available_devices() or Path(name).suffix in (".yaml", ".yml")):
        return name
    raise check.fail(where, "a device name (`qaa_hw devices list`)", value,
                     did_you_mean(name, available_devices()))


def check_device_name(name: Any, *, source: str, where: str) -> str:
    """Validate a device name without loading the device (errors name ``source: where``)."""
    return _device_name(_Checker(source), where, name)


def _mitigation_name(check: _Checker, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise check.fail(where, "'none' or technique names joined by '+' "
                         f"({', '.join(TECHNIQUES)})", value)
    text = value.strip().lower()
    if text == "none":
        return text
    parts = text.split("+")
    for p in parts:
        if p not in TECHNIQUES:
            raise check.fail(where, "'none' or technique names joined by '+' "
                             f"({', '.join(TECHNIQUES)})", value, did_you_mean(p, TECHNIQUES))
    if len(set(parts)) != len(parts) or ("zne" in parts and "pec" in parts):
        raise check.fail(where, "each technique at most once and not both zne and pec", value)
    return "+".join(sorted(parts, key=ORDER.index))


def _axis_validators(check: _Checker) -> dict[str, Callable[[str, Any], Any]]:
    return {
        "devices": lambda w, v: _device_name(check, w, v),
        "noise_scale": lambda w, v: check.number(w, v, 0.0),
        "qubits": lambda w, v: check.integer(w, v, 1, MAX_QUBITS),
        "layers": lambda w, v: check.integer(w, v, 1, MAX_LAYERS),
        "rotations": lambda w, v: check.choice(w, v, ROTATIONS),
        "entangler": lambda w, v: check.choice(w, v, ENTANGLERS),
        "embedding": lambda w, v: check.choice(w, v, EMBEDDINGS),
        "mitigation": lambda w, v: _mitigation_name(check, w, v),
        "shots": lambda w, v: None if v is None else check.integer(w, v, 1, MAX_SHOTS),
        "seeds": lambda w, v: check.integer(w, v, 0, SEED_MAX),
    }


def _check_options(check: _Checker, options: Any) -> dict[str, dict[str, Any]]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise check.fail("mitigation_options", "a mapping {technique: {option: value}}", options)
    out: dict[str, dict[str, Any]] = {}
    for name, opts in options.items():
        if name not in TECHNIQUES:
            raise check.fail(f"mitigation_options.{name}", "a technique name "
                             f"({', '.join(TECHNIQUES)})", name, did_you_mean(str(name),
                                                                              TECHNIQUES))
        if not isinstance(opts, Mapping):
            raise check.fail(f"mitigation_options.{name}", "a mapping {option: value}", opts)
        out[str(name)] = {str(k): v for k, v in opts.items()}
    for name, opts in out.items():
        try:
            technique_from_names(name, out)
        except ConfigError as e:
            raise ConfigError(f"{check.source}: mitigation_options.{name}: {e}") from e
        except TypeError as e:
            raise check.fail(f"mitigation_options.{name}", "options of the "
                             f"{name.upper()} record", opts, f" ({e})") from e
    return out


def parse_sweep_spec(data: Any, *, source: str = "<dict>") -> SweepSpec:
    """Validate a parsed YAML document and return the :class:`SweepSpec`.

    Args:
        data: the mapping read from the YAML file.
        source: named first in every error message (the file path).

    Raises:
        ConfigError: ``<source>: <field>[i]: expected ..., got ...`` for the first bad field.
    """
    check = _Checker(source)
    if not isinstance(data, Mapping):
        raise check.fail("top level", "a mapping of sweep fields", data)
    known = set(AXES) | set(SETTINGS) | set(OTHER_KEYS)
    for key in data:
        if key not in known:
            raise ConfigError(f"{source}: {key}: unknown field{did_you_mean(str(key), known)} "
                              f"(accepted: {', '.join(sorted(known))})")
    for axis in REQUIRED_AXES:
        if axis not in data:
            raise ConfigError(f"{source}: {axis}: required field is missing")
    validators = _axis_validators(check)
    axes: dict[str, tuple[Any, ...]] = {}
    for axis in AXES:
        raw = data.get(axis, AXIS_DEFAULTS.get(axis))
        values = list(raw) if isinstance(raw, list | tuple) else [raw]
        if not values:
            raise check.fail(axis, "a non-empty list", raw)
        checked = [validators[axis](f"{axis}[{i}]", v) for i, v in enumerate(values)]
        if len(set(checked)) != len(checked):
            raise check.fail(axis, "distinct values", raw)
        axes[axis] = tuple(checked)
    settings = dict(SETTINGS)
    for key in SETTINGS:
        if key in data:
            settings[key] = data[key]
    settings["engine"] = check.choice("engine", settings["engine"], noisy_engines())
    settings["prep_noise"] = check.choice("prep_noise", settings["prep_noise"], PREP_NOISE_MODES)
    settings["inputs"] = check.integer("inputs", settings["inputs"], 1, MAX_COUNT)
    try:
        check_input_amplitudes("inputs", settings["inputs"], max(axes["qubits"]))
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from e
    settings["mitigation_inputs"] = check.integer("mitigation_inputs",
                                                  settings["mitigation_inputs"], 1)
    if settings["mitigation_inputs"] > settings["inputs"]:
        raise check.fail("mitigation_inputs", f"at most inputs={settings['inputs']}",
                         settings["mitigation_inputs"])
    settings["mitigation_executor"] = check.choice(
        "mitigation_executor", settings["mitigation_executor"], EXECUTORS)
    settings["readout"] = check.choice("readout", settings["readout"], READOUTS)
    fid = check.number("embedding_fidelity", settings["embedding_fidelity"], 0.0)
    if not 0.0 < fid <= 1.0:
        raise check.fail("embedding_fidelity", "a number in (0, 1]", fid)
    settings["embedding_fidelity"] = fid
    name = data.get("name", Path(source).stem if source != "<dict>" else "sweep")
    if not isinstance(name, str) or not name:
        raise check.fail("name", "a non-empty string", name)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise check.fail("description", "a string", description)
    training = data.get("training") or {}
    if not isinstance(training, Mapping):
        raise check.fail("training", "a mapping of training assumptions", training)
    if training:
        try:
            TrainingAssumptions.from_mapping(training)
        except ConfigError as e:
            raise ConfigError(f"{source}: training.{e}") from e
    return SweepSpec(
        name=name, axes=axes, settings=settings,
        mitigation_options=_check_options(check, data.get("mitigation_options")),
        training=dict(training), description=description, source=source,
    )


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep YAML file (see the module docstring).

    Raises:
        ConfigError: the file is missing, not YAML, or a field is invalid.
    """
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read sweep spec: {e.strerror}") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML: {e}") from e
    return parse_sweep_spec(data, source=str(path))


def quick_spec(devices: Sequence[str], *, name: str = "quick") -> SweepSpec:
    """The small default sweep ``qaa_hw report`` runs when no ``--sweep`` is given:
    noise scale 1 and 2, n = 2..4, L = 1..2, ring and native entanglers, exact embedding,
    mitigation none and zne+rem, exact values, seed 0, 8 inputs (2 mitigated): 48 points per
    device."""
    return parse_sweep_spec({
        "name": name,
        "description": "qaa_hw report's quick default sweep",
        "devices": list(devices),
        "noise_scale": [1.0, 2.0],
        "qubits": [2, 3, 4],
        "layers": [1, 2],
        "entangler": ["ring", "native"],
        "embedding": ["exact"],
        "mitigation": ["none", "zne+rem"],
        "shots": [None],
        "seeds": [0],
        "inputs": 8,
        "mitigation_inputs": 2,
    }, source="<quick default sweep>")
