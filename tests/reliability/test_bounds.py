"""Resource bounds are decided before anything is allocated, with errors naming the value
and the limit; the Python API raises the package's own errors."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import device_yaml

from qaa_hw.analysis.runner import run_sweep
from qaa_hw.analysis.sweep_spec import parse_sweep_spec
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.cli.main import main
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.devices.yaml_io import load_yaml_device
from qaa_hw.errors import ConfigError, DeviceError, QaaHwError
from qaa_hw.finetune.train import TrainConfig
from qaa_hw.limits import MAX_SWEEP_POINTS

#: Peak Python allocation allowed while refusing an oversized request.
SMALL_BYTES = 20 * 2**20


def _peak_while_refused(call: Callable[[], Any], error: type[Exception], match: str) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_all_to_all_device_file_is_refused_before_allocation(tmp_path: Path) -> None:
    path = device_yaml(tmp_path, "huge", 100_000)
    peak = _peak_while_refused(lambda: load_yaml_device(path), DeviceError,
                               r"num_qubits: 100000 qubits is more than an all_to_all device "
                               r"may have; accepted: 1\.\.128")
    assert peak < SMALL_BYTES
    assert load_yaml_device(device_yaml(tmp_path, "ok", 128)).num_qubits == 128


def test_an_oversized_device_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "padded.yaml"
    with path.open("w") as fh:
        fh.write("name: padded\n")
        fh.truncate(40 * 2**20)
    with pytest.raises(DeviceError, match=r"larger than the accepted 33,554,432"):
        load_yaml_device(path)


def test_a_sweep_of_a_billion_points_is_refused_before_its_points_exist(
    tmp_path: Path,
) -> None:
    many = list(range(1, 101))
    spec = parse_sweep_spec({"name": "huge", "devices": ["ibm_torino"],
                             "noise_scale": [x / 10 for x in many], "layers": many[:64],
                             "seeds": many, "shots": many, "qubits": list(range(1, 17))})
    assert spec.size == 100 * 64 * 100 * 100 * 16
    peak = _peak_while_refused(lambda: run_sweep(spec, tmp_path / "out", progress=False),
                               ConfigError, rf"sweep 'huge' has 1,024,000,000 points, more "
                               rf"than the limit of {MAX_SWEEP_POINTS:,}")
    assert peak < SMALL_BYTES
    assert not (tmp_path / "out").exists()


def test_the_cli_prints_the_point_count_then_refuses_or_runs_with_the_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import _sweep_helpers

    import qaa_hw.analysis.evaluate as evaluate

    monkeypatch.setattr(evaluate, "evaluate_point", _sweep_helpers.cheap_point)
    spec = tmp_path / "grid.yaml"
    spec.write_text("devices: [ibm_torino]\nqubits: [1, 2, 3]\nlayers: [1, 2, 3]\n")
    argv = ["sweep", str(spec), "--out", str(tmp_path / "out"), "--workers", "1",
            "--no-progress"]
    assert main([*argv, "--max-points", "8"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("sweep 'grid': 9 points ->")
    assert "more than the limit of 8; run fewer points, or raise the limit (qaa_hw sweep " \
           "--max-points 9)" in captured.err
    assert main([*argv, "--max-points", "9"]) == 0
    assert "9 evaluated, 0 failed" in capsys.readouterr().out


def test_many_inputs_of_many_qubits_are_refused_in_the_spec() -> None:
    with pytest.raises(ConfigError, match=r"<dict>: inputs=5000 is not valid for n=16 qubits; "
                                          r"accepted: at most 2048 inputs"):
        parse_sweep_spec({"devices": ["ibm_torino"], "qubits": [2, 16], "inputs": 5000})
    assert parse_sweep_spec({"devices": ["ibm_torino"], "qubits": [16],
                             "inputs": 2048}).settings["inputs"] == 2048


@pytest.mark.parametrize(("call", "match"), [
    (lambda: TrainConfig(seed=-1), r"seed=-1 is not valid; accepted: an integer 0\.\."),
    (lambda: TrainConfig(seed=2**40), r"seed=1099511627776 is not valid"),
    (lambda: TrainConfig(steps=0), r"steps=0 is not valid"),
    (lambda: TrainConfig(lr=float("nan")), r"lr=nan is not valid; accepted: a finite number"),
    (lambda: TrainConfig(shots=0), r"shots=0 is not valid"),
    (lambda: TrainConfig(train_noise_scale=-1.0), r"train_noise_scale=-1\.0 is not valid"),
    (lambda: TrainConfig(eval_examples=0), r"eval_examples=0 is not valid"),
    (lambda: QAASpec(num_layers=65), r"layers=65 is not valid; accepted: an integer 1\.\.64"),
    (lambda: QAASpec(num_qubits=True), r"qubits=True is not valid"),
    (lambda: QAASpec(embedding_fidelity=float("nan")), r"embedding_fidelity=nan"),
    (lambda: run_sweep([], "unused", workers=0), r"workers=0 is not valid"),
    (lambda: run_sweep([], "unused", workers=10_000), r"workers=10000 is not valid"),
    (lambda: run_sweep([], "unused", max_points=0), r"max_points=0 is not valid"),
    (lambda: parse_sweep_spec({"devices": ["ibm_torino"], "seeds": [-1]}), r"seeds\[0\]"),
    (lambda: parse_sweep_spec({"devices": ["ibm_torino"], "shots": [10**10]}), r"shots\[0\]"),
    (lambda: compile_adapter(QAASpec(num_qubits=2), load_device("ibm_brisbane"), seed=-1),
     r"seed=-1 is not valid; accepted: an integer 0\.\.4294967295"),
], ids=lambda v: "" if callable(v) else v[:30])
def test_python_api_raises_the_packages_errors(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(QaaHwError, match=match):
        call()


def test_evaluate_noisy_checks_its_numbers(line3_device: Any) -> None:
    from qaa_hw.analysis.noisy_report import evaluate_noisy
    from qaa_hw.compile.api import compile_adapter

    compiled = compile_adapter(QAASpec(num_qubits=1, num_layers=1), line3_device, seed=0)
    with pytest.raises(ConfigError, match=r"seed=-1 is not valid"):
        evaluate_noisy(compiled, seed=-1)
    with pytest.raises(ConfigError, match=r"inputs=0 is not valid"):
        evaluate_noisy(compiled, inputs=0)
    from qaa_hw.mitigation import Mitigator

    with pytest.raises(ConfigError, match=r"seed=-1 is not valid"):
        Mitigator(compiled, seed=-1)
