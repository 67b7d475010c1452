"""Every command, bad input: exit code 2, exactly one line on stderr, naming the value.

Each case is ``(argv, message)``; ``{name}`` in argv is a path of the ``inputs`` fixture
(conftest.py). The cases fail before any heavy work (no compilation, no training).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import subprocess_env

from qaa_hw.cli.main import main

SEED_RANGE = r"accepted: an integer 0\.\.4294967295"
BRISBANE = ["--device", "ibm_brisbane"]

CASES: list[tuple[list[str], str]] = [
    # top level and argparse's own errors
    ([], r"^qaa_hw: error: the following arguments are required: COMMAND"),
    (["frobnicate"], r"invalid choice: 'frobnicate'"),
    (["--verbose=3"], r"ignored explicit argument '3'"),
    # devices
    (["devices"], r"^qaa_hw devices: error: the following arguments are required: ACTION"),
    (["devices", "show"], r"^qaa_hw devices show: error: .*required: name"),
    (["devices", "list", "--bogus"], r"unrecognized arguments: --bogus"),
    (["devices", "show", "ibm_brisbain"], r"did you mean 'ibm_brisbane'"),
    (["devices", "show", "ionq_aria", "--plot", "{tmp}/map.jpg"], r"suffix '\.jpg'"),
    (["devices", "show", "ionq_aria", "--json", "{tmp}"], r"--json file .*is a folder"),
    (["devices", "show", "ionq_aria", "--plot", "{file}/map.png"],
     r"plot file .*a_file\.txt' is a file, not a folder"),
    (["devices", "list", "--json", "/proc/qaa_hw/rows.json"], r"cannot create folder '/proc"),
    (["devices", "show", "{big_device}"],
     r"num_qubits: 100000 qubits is more than an all_to_all device may have; accepted: 1\.\.128"),
    (["devices", "show", "{wide_device}"], r"200 qubits .*accepted: 1\.\.128"),
    (["devices", "show", "{huge_line}"], r"5000 qubits is more than a device may have; "
                                         r"accepted: 1\.\.1024"),
    (["devices", "show", "synthetic:ring:5000"], r"needs 3\.\.1024 qubits, got 5000"),
    (["devices", "show", "synthetic:all_to_all:500"], r"needs 1\.\.128 qubits, got 500"),
    (["devices", "show", "{missing}"], r"unknown device .*missing\.yaml"),
    # compile
    (["compile"], r"^qaa_hw compile: error: the following arguments are required: --device"),
    (["compile", *BRISBANE, "--seed", "-1"], rf"--seed=-1 is not valid; {SEED_RANGE}"),
    (["compile", *BRISBANE, "--seed", "4294967296"], rf"--seed=4294967296 .*{SEED_RANGE}"),
    (["compile", *BRISBANE, "--seed", "abc"], r"--seed='abc' is not an integer"),
    (["compile", *BRISBANE, "--qubits", "0"], r"--qubits=0 is not valid; .*1\.\.16"),
    (["compile", *BRISBANE, "--qubits", "17"], r"--qubits=17 is not valid; .*1\.\.16"),
    (["compile", *BRISBANE, "--layers", "0"], r"--layers=0 is not valid; .*1\.\.64"),
    (["compile", *BRISBANE, "--layers", "65"], r"--layers=65 is not valid; .*1\.\.64"),
    (["compile", *BRISBANE, "--embedding-fidelity", "0"], r"--embedding-fidelity=0\.0 .*> 0"),
    (["compile", *BRISBANE, "--embedding-fidelity", "1.5"], r"<= 1"),
    (["compile", *BRISBANE, "--embedding-fidelity", "nan"], r"=nan is not valid; .*finite"),
    (["compile", *BRISBANE, "--noise-scale", "-1"], r"--noise-scale=-1\.0 .*>= 0"),
    (["compile", *BRISBANE, "--noise-scale", "inf"], r"--noise-scale=inf .*finite"),
    (["compile", *BRISBANE, "--rotations", "rz"], r"argument --rotations: invalid choice"),
    (["compile", *BRISBANE, "--entangler", "star"], r"argument --entangler: invalid choice"),
    (["compile", *BRISBANE, "--qasm", "/proc/qaa_hw/x.qasm"], r"--qasm file .*cannot create"),
    (["compile", *BRISBANE, "--qasm", "{tmp}"], r"--qasm file .*is a folder, not a file"),
    (["compile", *BRISBANE, "--plot", "{tmp}/map.gif"], r"suffix '\.gif'"),
    (["compile", *BRISBANE, "--plot", "/proc/qaa_hw/map.png"], r"plot file .*cannot create"),
    (["compile", *BRISBANE, "--json", "{file}/r.json"], r"a_file\.txt' is a file, not a folder"),
    (["compile", "--device", "ibm_brisbain"], r"did you mean 'ibm_brisbane'"),
    (["compile", "--device", "{big_device}"], r"100000 qubits is more than"),
    # simulate
    (["simulate", *BRISBANE, "--seed", "-1"], rf"--seed=-1 is not valid; {SEED_RANGE}"),
    (["simulate", *BRISBANE, "--shots", "0"], r"--shots=0 is not valid; .*1\.\.1000000000"),
    (["simulate", *BRISBANE, "--shots", "-2"], r"--shots=-2 is not valid"),
    (["simulate", *BRISBANE, "--shots", "10000000000"], r"--shots=10000000000 is not valid"),
    (["simulate", *BRISBANE, "--inputs", "0"], r"--inputs=0 is not valid"),
    (["simulate", *BRISBANE, "--inputs", "20000000"], r"--inputs=20000000 .*1\.\.10000000"),
    (["simulate", *BRISBANE, "--qubits", "16", "--inputs", "5000"],
     r"--inputs=5000 is not valid for n=16 qubits; accepted: at most 2048 inputs"),
    (["simulate", *BRISBANE, "--mitigation", "foo"], r"unknown technique 'foo'"),
    (["simulate", *BRISBANE, "--scale-factors", "1,x"], r"--scale-factors='1,x' is not"),
    (["simulate", *BRISBANE, "--zne-order", "0"], r"--zne-order=0 is not valid"),
    (["simulate", *BRISBANE, "--scale-factors", "1,1e9"],
     r"--scale-factors='1,1e9': ZNE scale factors must be finite, >= 1 .* and <= 101"),
    (["simulate", *BRISBANE, "--pec-samples", "0"], r"--pec-samples=0 is not valid"),
    (["simulate", *BRISBANE, "--json", "{file}/r.json"], r"is a file, not a folder"),
    (["simulate", *BRISBANE, "--idle-noise", "maybe"], r"argument --idle-noise: invalid"),
    # finetune
    (["finetune"], r"^qaa_hw finetune: error: the following arguments are required: --out"),
    (["finetune", "--out", "{tmp}/ft", "--seed", "-1"], rf"--seed=-1 is not valid; {SEED_RANGE}"),
    (["finetune", "--out", "{tmp}/ft", "--steps", "0"], r"--steps=0 is not valid"),
    (["finetune", "--out", "{tmp}/ft", "--lr", "0"], r"--lr=0\.0 is not valid; .*> 0"),
    (["finetune", "--out", "{tmp}/ft", "--lr", "nan"], r"--lr=nan is not valid"),
    (["finetune", "--out", "{tmp}/ft", "--batch-size", "0"], r"--batch-size=0 is not valid"),
    (["finetune", "--out", "{tmp}/ft", "--eval-noise", "1,abc"], r"--eval-noise='abc' is not a"),
    (["finetune", "--out", "{tmp}/ft", "--eval-noise", "-1"], r"--eval-noise=-1\.0 .*>= 0"),
    (["finetune", "--out", "{tmp}/ft", "--checkpoint-every", "-1"],
     r"--checkpoint-every=-1 is not valid; accepted: an integer 0\.\."),
    (["finetune", "--out", "{tmp}/ft", "--method", "gpt"], r"argument --method: invalid"),
    (["finetune", "--out", "{tmp}/ft", "--prep-noise", "bad"], r"--prep-noise='bad' is not"),
    (["finetune", "--out", "{tmp}/ft", "--targets", ","], r"--targets=',' is empty"),
    (["finetune", "--out", "{tmp}/ft", "--qubits", "17"], r"--qubits=17 is not valid"),
    (["finetune", "--out", "{tmp}/ft", "--train-noise", "ibm_brisbain"], r"did you mean"),
    (["finetune", "--out", "{file}"], r"--out .*a_file\.txt': is a file, not a folder"),
    (["finetune", "--out", "/proc/qaa_hw/ft"], r"--out '/proc/qaa_hw/ft': cannot create"),
    (["finetune", "--out", "{tmp}/ft", "--resume"], r"--resume given but .* does not exist"),
    # sweep
    (["sweep"], r"^qaa_hw sweep: error: the following arguments are required: spec"),
    (["sweep", "{missing}"], r"missing\.yaml: cannot read sweep spec"),
    (["sweep", "{bad_qubits}"], r"qubits\[1\]: expected an integer 1\.\.16, got 'four'"),
    (["sweep", "{bad_layers}"], r"layers\[0\]: expected an integer 1\.\.64, got 65"),
    (["sweep", "{bad_seed}"], r"seeds\[0\]: expected an integer 0\.\.4294967295, got -1"),
    (["sweep", "{big_seed}"], r"seeds\[0\]: expected an integer 0\.\.4294967295"),
    (["sweep", "{bad_shots}"], r"shots\[0\]: expected an integer 1\.\.1000000000, got 0"),
    (["sweep", "{huge_shots}"], r"shots\[0\]: expected an integer 1\.\.1000000000"),
    (["sweep", "{bad_inputs}"], r"inputs: expected an integer 1\.\.10000000, got 0"),
    (["sweep", "{wide_inputs}"], r"inputs=5000 is not valid for n=16 qubits"),
    (["sweep", "{bad_noise}"], r"noise_scale\[0\]: expected a finite number >= 0, got nan"),
    (["sweep", "{grid}", "--out", "{tmp}/s", "--max-points", "5"],
     r"sweep 'grid' has 9 points, more than the limit of 5; .*--max-points 9"),
    (["sweep", "{good}", "--max-points", "0"], r"--max-points=0 is not valid"),
    (["sweep", "{good}", "--workers", "0"], r"--workers=0 is not valid; .*1\.\.256"),
    (["sweep", "{good}", "--workers", "1000"], r"--workers=1000 is not valid"),
    (["sweep", "{good}", "--out", "{file}"], r"--out .*is a file, not a folder"),
    (["sweep", "{good}", "--out", "/proc/qaa_hw/s"], r"--out '/proc/qaa_hw/s': cannot create"),
    (["sweep", "{good}", "--executor", "ray"], r"argument --executor: invalid choice"),
    # report
    (["report"], r"^qaa_hw report: error: the following arguments are required: --devices"),
    (["report", "--devices", "ibm_brisbain", "--out", "{tmp}/r"], r"did you mean"),
    (["report", "--devices", ",", "--out", "{tmp}/r"], r"expected comma-separated device"),
    (["report", "--devices", "ibm_torino", "--out", "{file}"], r"is a file, not a folder"),
    (["report", "--devices", "ibm_torino", "--sweep", "{tmp}", "--out", "{tmp}/r"],
     r"no results\.sqlite there"),
    (["report", "--devices", "ibm_torino", "--out", "{tmp}/r", "--shots", "0"],
     r"--shots=0 is not valid"),
    (["report", "--devices", "ibm_torino", "--out", "{tmp}/r", "--workers", "0"],
     r"--workers=0 is not valid"),
    (["report", "--devices", "ibm_torino", "--out", "{tmp}/r", "--gradient", "adjoint"],
     r"argument --gradient: invalid choice"),
    # run (hardware)
    (["run", "--qubits", "3"], r"^qaa_hw run: error: the following arguments are required: "
                               r"--backend"),
    (["run", "--backend", "local:ibm_brisbane", "--shots", "0"],
     r"--shots=0 is not valid; accepted: an integer 1\.\.1000000000"),
    (["run", "--backend", "local:ibm_brisbane", "--seed", "-1"], rf"--seed=-1 .*{SEED_RANGE}"),
    (["run", "--backend", "nope"], r"backend 'nope' is not valid; accepted: KIND:NAME"),
    (["run", "--backend", "local:ibm_brisbane", "--mitigation", "pec"],
     r"technique 'pec' is not offered on devices; accepted: zne, rem, ddd"),
    (["run", "--backend", "local:ibm_brisbane", "--json", "/proc/qaa_hw/run.json"],
     r"--json file .*cannot create folder '/proc"),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse
        code = int(e.code or 0)
    return code, capsys.readouterr().err


def _fill(argv: list[str], inputs: dict[str, str]) -> list[str]:
    return [a.format(**inputs) for a in argv]


def test_the_table_covers_every_command() -> None:
    commands = {argv[0] for argv, _ in CASES if argv and not argv[0].startswith("-")}
    assert {"devices", "compile", "simulate", "finetune", "sweep", "report"} <= commands
    assert len(CASES) >= 60


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a) or "(none)"
                                                          for a, _ in CASES])
def test_bad_input_is_one_line_with_exit_code_2(
    argv: list[str], message: str, inputs: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(_fill(argv, inputs), capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert re.match(r"^qaa_hw( [a-z]+)*: error: ", err), err
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_help_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--help"])
    assert e.value.code == 0
    assert "--max-points N" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["compile", "--device", "ibm_brisbane", "--seed", "-1"],
                                  ["devices", "show", "synthetic:moebius:5"]])
def test_one_line_from_the_installed_entry_point(argv: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "qaa_hw", *argv], capture_output=True,
                          text=True, env=subprocess_env(), timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("error", "code", "line"), [
    (OSError(28, "No space left on device", "/data/out.csv"), 2,
     "qaa_hw devices: error: cannot access '/data/out.csv': No space left on device"),
    (KeyboardInterrupt(), 130, "qaa_hw devices: interrupted by SIGINT"),
])
def test_an_environment_failure_or_ctrl_c_is_one_line(
    error: BaseException, code: int, line: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from qaa_hw.cli import devices_cmd

    def fail(args: object) -> int:
        raise error

    monkeypatch.setattr(devices_cmd, "cmd_list", fail)
    assert main(["devices", "list"]) == code
    assert capsys.readouterr().err == line + "\n"
