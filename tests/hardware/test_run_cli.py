"""``qaa_hw run``: measured vs predicted on local stand-ins, and its one-line errors (exit 2)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from qaa_hw.cli.main import main
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.model import scale_noise
from qaa_hw.hardware.calibration import save_snapshot


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("qaa_hw run: error: ") and "\n" not in err
    return err


def test_run_on_google_qvm_reports_measured_vs_predicted(tmp_path, capsys) -> None:
    out = tmp_path / "run.json"
    code = main(["run", "--backend", "google-qvm:weber", "--qubits", "3", "--inputs", "4",
                 "--shots", "1000", "--mitigation", "rem", "--tag", "t1", "--json", str(out),
                 "--save-calibration", str(tmp_path / "snapshots")])
    assert code == 0
    text = capsys.readouterr().out
    (snapshot,) = (tmp_path / "snapshots").glob("google_weber_*.yaml")
    saved = load_device(str(snapshot)).instructions["cz"]
    assert saved == load_device("google_weber").instructions["cz"]
    assert "mean |measured - predicted|" in text and "QPU time: used not reported" in text
    data = json.loads(out.read_text())
    measured, predicted = np.array(data["measured"]), np.array(data["predicted"])
    assert measured.shape == predicted.shape == (4, 3)
    assert data["mean_abs_diff"] == pytest.approx(np.abs(measured - predicted).mean())
    assert np.array(data["mitigated"]).shape == (4, 3)
    # the run job, then the two REM calibration circuits (one job each on Google)
    assert [j["inputs"] for j in data["jobs"]] == [4, 1, 1]
    assert data["jobs"][0]["tags"] == ["qaa_hw", "t1"]
    assert data["qpu_seconds_estimate"] == pytest.approx(sum(j["predicted_s"]
                                                             for j in data["jobs"]))


@pytest.mark.slow
def test_run_local_ibm_with_inputs_file(tmp_path, capsys) -> None:
    x = np.random.default_rng(0).standard_normal((3, 8))
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "run.json"
    assert main(["run", "--backend", "local:ibm_brisbane", "--qubits", "3", "--inputs",
                 str(tmp_path / "x.npy"), "--shots", "500", "--mode", "session",
                 "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert np.allclose(data["inputs"], x) and data["qpu_seconds_used"] == 0.0
    assert data["jobs"][0]["mode"] == "session"


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("nope", r"backend 'nope' is not valid; accepted: KIND:NAME"),
        ("local:ibm_brisbain", r"unknown local backend 'ibm_brisbain'; did you mean "
                               r"'ibm_brisbane'\?"),
        ("google-qvm:webr", r"unknown Google virtual processor 'webr'; accepted: .*weber"),
    ],
)
def test_unknown_backend(backend: str, message: str, capsys) -> None:
    assert main(["run", "--backend", backend, "--qubits", "3"]) == 2
    import re

    assert re.search(message, _one_line_error(capsys))


def test_no_saved_ibm_account(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.qiskit/qiskit-ibm.json
    for var in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL",
                "QISKIT_IBM_URL"):
        monkeypatch.delenv(var, raising=False)
    assert main(["run", "--backend", "ibm:ibm_torino", "--qubits", "3"]) == 2
    assert "no saved IBM Quantum account" in _one_line_error(capsys)


def test_calibration_mismatch_needs_force(tmp_path, capsys) -> None:
    weber = load_device("google_weber")
    older = replace(scale_noise(weber, 1.2), snapshot_date="2020-01-01")
    path = save_snapshot(older, tmp_path)
    args = ["run", "--backend", "google-qvm:weber", "--device", str(path), "--qubits", "3",
            "--inputs", "2", "--shots", "100"]
    assert main(args) == 2
    err = _one_line_error(capsys)
    assert "calibration" in err and "differs" in err and "pass --force" in err
    assert main([*args, "--force"]) == 0
    assert "running despite" in capsys.readouterr().out


def test_bad_inputs_and_mitigation(tmp_path, capsys) -> None:
    base = ["run", "--backend", "google-qvm:weber", "--qubits", "3"]
    assert main([*base, "--inputs", "x.txt"]) == 2
    assert "--inputs='x.txt' is not valid" in _one_line_error(capsys)
    np.save(tmp_path / "bad.npy", np.zeros((2, 8)))
    assert main([*base, "--inputs", str(tmp_path / "bad.npy")]) == 2
    assert "input row 0 is not valid" in _one_line_error(capsys)
    assert main([*base, "--mitigation", "pec"]) == 2
    assert "technique 'pec' is not offered on devices" in _one_line_error(capsys)
