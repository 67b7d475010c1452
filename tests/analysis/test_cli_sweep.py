"""``qaa_hw sweep`` and ``qaa_hw report`` end to end on a tiny real sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from qaa_hw.cli.main import main

SPEC = """
name: cli_tiny
devices: [ibm_torino]
qubits: [1, 2]
layers: [1]
inputs: 4
"""


def test_sweep_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "2 evaluated, 0 failed" in text
    assert (out / "results.csv").is_file() and (out / "results.parquet").is_file()
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert "0 evaluated, 0 failed, 2 already finished" in capsys.readouterr().out
    rep = tmp_path / "report"
    assert main(["report", "--devices", "ibm_torino", "--sweep", str(out), "--out", str(rep),
                 "--modules", "4"]) == 0
    text = capsys.readouterr().out
    assert "ibm_torino" in text and "report written to" in text
    assert "4 adapted modules" in (rep / "report.md").read_text()
    assert (rep / "report.html").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "{bad}"], r"bad\.yaml: qubits\[1\]: expected an integer 1\.\.16, got 'four'"),
        (["report", "--devices", "ibm_brisbain", "--out", "{tmp}"],
         r"device 1: expected a device name .*did you mean 'ibm_brisbane'"),
        (["report", "--devices", "ibm_torino", "--sweep", "{tmp}", "--out", "{tmp}"],
         r"no results\.sqlite there"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             argv: list[str], message: str) -> None:
    import re

    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: [ibm_torino]\nqubits: [2, four]\n")
    argv = [a.replace("{bad}", str(bad)).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1


@pytest.mark.slow
def test_report_without_sweep_runs_the_quick_sweep(tmp_path: Path) -> None:
    assert main(["report", "--devices", "ibm_torino", "--out", str(tmp_path), "--workers", "2",
                 "--no-progress"]) == 0
    assert (tmp_path / "sweep" / "results.sqlite").is_file()
    assert "## ibm_torino" in (tmp_path / "report.md").read_text()
