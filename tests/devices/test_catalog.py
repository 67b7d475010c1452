"""Catalog names, suggestions, families and caching."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qaa_hw.devices.catalog import (
    CATALOG_DIR,
    available_devices,
    device_family,
    load_device,
)
from qaa_hw.errors import DeviceError

YAML_STEMS = sorted(p.stem for p in CATALOG_DIR.glob("*.yaml"))


def test_available_devices_lists_every_family() -> None:
    names = available_devices()
    assert len(names) == len(set(names)) == 59 + 3 + len(YAML_STEMS)
    assert {"ibm_brisbane", "ibm_torino", "google_weber", "google_willow_pink"} <= set(names)
    assert set(YAML_STEMS) <= set(names)
    assert {"ionq_aria", "quantinuum_h2"} <= set(YAML_STEMS)
    assert not any(n.startswith("fake_") or n.startswith("synthetic") for n in names)


def test_listing_imports_no_quantum_sdk() -> None:
    code = (
        "import sys; from qaa_hw.devices.catalog import available_devices, device_family;"
        "available_devices(); device_family('ibm_kyiv'); device_family('ionq_aria');"
        "print(sorted(m for m in ('qiskit', 'qiskit_ibm_runtime', 'cirq', 'cirq_google')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_device_suggests_the_closest_name() -> None:
    total = len(available_devices())
    expected = (
        rf"^unknown device 'ibm_brisbain'; did you mean 'ibm_brisbane'\? "
        rf"\(`qaa_hw devices list` shows all {total}\)$"
    )
    with pytest.raises(DeviceError, match=expected):
        load_device("ibm_brisbain")
    with pytest.raises(DeviceError, match=r"'fake_brisbain'; did you mean 'ibm_brisbane'\?"):
        load_device("fake_brisbain")
    with pytest.raises(DeviceError, match=r"^unknown device 'qpu' \(`qaa_hw devices list`"):
        device_family("qpu")


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("ibm_kyiv", "ibm"),
        ("fake_kyiv", "ibm"),
        ("google_rainbow", "google"),
        ("ionq_aria", "ion"),
        ("synthetic:line:3", "synthetic"),
    ],
)
def test_device_family(name: str, family: str) -> None:
    assert device_family(name) == family


def test_loads_are_cached_and_aliases_share_the_record() -> None:
    assert load_device("ibm_lima") is load_device("fake_lima")
    assert load_device("synthetic:line:3") is load_device("synthetic:line:3")
    assert load_device("ionq_harmony").family == "ion"


def test_load_by_path(tmp_path: Path) -> None:
    source = CATALOG_DIR / "ionq_harmony.yaml"
    path = tmp_path / "my_trap.yaml"
    path.write_text(source.read_text(encoding="utf-8").replace("name: ionq_harmony\n", ""))
    device = load_device(str(path))
    assert device.name == "my_trap"
    assert device_family(str(path)) == "ion"
