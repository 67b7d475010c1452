"""CLI behaviour: output of the device commands and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qaa_hw.cli.main import main


def test_devices_list_shows_every_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "list", "--family", "google"]) == 0
    out = capsys.readouterr().out
    assert "google_weber" in out and "google_rainbow" in out
    assert "ibm_brisbane" not in out


def test_devices_show_writes_plot_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png, js = tmp_path / "map.png", tmp_path / "dev.json"
    assert main(["devices", "show", "ionq_aria", "--plot", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "25 qubits" in out
    assert png.stat().st_size > 1000
    assert json.loads(js.read_text())["name"] == "ionq_aria"


def test_unknown_device_is_one_line_with_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "show", "ibm_brisbain"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "did you mean 'ibm_brisbane'" in err


def test_bad_plot_suffix_names_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "show", "ionq_aria", "--plot", str(tmp_path / "map.jpg")]) == 2
    assert "suffix '.jpg'" in capsys.readouterr().err


def test_error_exit_code_without_traceback_in_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qaa_hw.cli.main", "devices", "show", "synthetic:moebius:5"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "moebius" in proc.stderr


def test_invalid_option_value_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compile", "--device", "ibm_brisbane", "--qubits", "0"])
    assert exc.value.code == 2
    assert "--qubits=0 is not valid" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["compile", "--device", "ibm_torino", "--time-budget", "0"])
    assert exc.value.code == 2
    assert "--time-budget=0.0 is not valid; accepted: a finite number > 0" in \
        capsys.readouterr().err
