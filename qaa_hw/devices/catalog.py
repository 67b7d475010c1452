"""The device catalog: one name -> one :class:`DeviceModel`.

Names:

* ``ibm_<x>`` — every fake backend of ``qiskit_ibm_runtime`` (alias ``fake_<x>``);
* ``google_<pid>`` — every processor of ``cirq_google``'s virtual engine factory;
* ``<stem>`` — every ``devices/<stem>.yaml`` file of this repository;
* ``synthetic:<topology>?<key=value&...>`` — generated devices (never enumerated);
* a path to a ``.yaml``/``.yml`` file — loaded as is (not cached).

Listing names and asking a name's family import no quantum SDK. Loaded devices are cached
(devices are frozen, so sharing them is safe).
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from qaa_hw.devices.google import GOOGLE_PREFIX, google_device_names, load_google_device
from qaa_hw.devices.ibm import FAKE_PREFIX, canonical_ibm_name, ibm_device_names, load_ibm_device
from qaa_hw.devices.model import DeviceModel
from qaa_hw.devices.synthetic import SYNTHETIC_PREFIX, load_synthetic_device
from qaa_hw.devices.yaml_io import load_yaml_device
from qaa_hw.errors import DeviceError, did_you_mean

#: Folder of the YAML catalog files (``devices/`` at the repository root).
CATALOG_DIR = Path(__file__).resolve().parents[2] / "devices"
_YAML_SUFFIXES = (".yaml", ".yml")


def _yaml_files() -> dict[str, Path]:
    if not CATALOG_DIR.is_dir():
        return {}
    return {
        p.stem: p
        for p in sorted(CATALOG_DIR.iterdir())
        if p.suffix in _YAML_SUFFIXES and p.is_file()
    }


def available_devices() -> list[str]:
    """Every catalog name: IBM, then Google, then YAML devices (synthetic ones are not listed)."""
    return [*ibm_device_names(), *google_device_names(), *_yaml_files()]


def _is_path(name: str) -> bool:
    return name.endswith(_YAML_SUFFIXES) and Path(name).is_file()


def _unknown(name: str) -> DeviceError:
    names = available_devices()
    probe = name
    if name.startswith(FAKE_PREFIX):  # suggest the canonical ibm_ spelling
        probe = "ibm_" + name.removeprefix(FAKE_PREFIX)
    hint = did_you_mean(probe, names, n=1)
    return DeviceError(
        f"unknown device {name!r}{hint} (`qaa_hw devices list` shows all {len(names)})"
    )


def device_family(name: str) -> str:
    """Family of a catalog name without loading it (``ibm``, ``google``, ``synthetic``, or
    the ``family`` field of a YAML file, ``yaml`` if absent).

    Raises:
        DeviceError: for an unknown name (with a did-you-mean suggestion).
    """
    if name.startswith(SYNTHETIC_PREFIX):
        return "synthetic"
    if canonical_ibm_name(name) is not None:
        return "ibm"
    if name.startswith(GOOGLE_PREFIX) and name in google_device_names():
        return "google"
    path = _yaml_files().get(name) or (Path(name) if _is_path(name) else None)
    if path is None:
        raise _unknown(name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise DeviceError(f"{path}: cannot read device file: {e}") from e
    family = data.get("family", "yaml") if isinstance(data, dict) else "yaml"
    return str(family)


def load_device(name: str) -> DeviceModel:
    """Load a device by catalog name (see the module docstring), cached per name.

    Args:
        name: e.g. ``"ibm_brisbane"``, ``"fake_brisbane"``, ``"google_weber"``,
            ``"ionq_aria"``, ``"synthetic:heavy_hex:27?cx_error=5e-3"`` or a YAML path.

    Returns:
        The frozen device record.

    Raises:
        DeviceError: ``unknown device 'ibm_brisbain'; did you mean 'ibm_brisbane'?
            (`qaa_hw devices list` shows all N)``, or the loader's validation error.
    """
    name = name.strip()
    canonical = canonical_ibm_name(name)
    if canonical is not None:
        return _load_cached(canonical)
    if name in _yaml_files() or name.startswith(SYNTHETIC_PREFIX):
        return _load_cached(name)
    if name.startswith(GOOGLE_PREFIX) and name in google_device_names():
        return _load_cached(name)
    if _is_path(name):
        return load_yaml_device(name)
    raise _unknown(name)


@functools.lru_cache(maxsize=128)
def _load_cached(name: str) -> DeviceModel:
    if name.startswith(SYNTHETIC_PREFIX):
        return load_synthetic_device(name)
    if name.startswith(GOOGLE_PREFIX) and name in google_device_names():
        return load_google_device(name)
    yaml_path = _yaml_files().get(name)
    if yaml_path is not None:
        return load_yaml_device(yaml_path)
    return load_ibm_device(name)


def clear_cache() -> None:
    """Forget loaded devices (e.g. after editing a file in ``devices/``)."""
    _load_cached.cache_clear()
