"""Fine-tuning resume cannot lose data: a stop signal keeps every finished step, resuming
with fewer steps or over a finished run is refused, and resumed logs never repeat a step."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from qaa_hw.adapters.qaa import QAAConfig
from qaa_hw.errors import ConfigError
from qaa_hw.finetune.methods import MethodSettings
from qaa_hw.finetune.train import TrainConfig, run_finetune
from qaa_hw.shutdown import Interrupted, signals_raise

FAST = {"model": "tiny", "batch_size": 2, "train_examples": 8, "eval_examples": 2,
        "max_new_tokens": 2, "bertscore": False, "checkpoint_every": 0,
        "methods": MethodSettings(qaa=QAAConfig(num_qubits=2, num_layers=1))}


@pytest.fixture(autouse=True)
def _threads(one_torch_thread: None) -> None:
    """One torch thread (shared 2-core hosts)."""


def _train_steps(out: Path) -> list[int]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(x)["step"] for x in lines if json.loads(x)["event"] == "train"]


def _signal_after_steps(out: Path, steps: int) -> threading.Thread:
    """SIGTERM to this process once ``steps`` training steps are logged."""

    def send() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (out / "metrics.jsonl").exists() and len(_train_steps(out)) >= steps:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_sigterm_mid_training_keeps_steps_and_resume_equals_a_straight_run(
    tmp_path: Path,
) -> None:
    config = TrainConfig(**FAST, steps=10_000)
    out = tmp_path / "run"
    _signal_after_steps(out, 3)
    with pytest.raises(Interrupted) as stop, signals_raise():
        run_finetune(config, out, progress=False)
    assert stop.value.signum == signal.SIGTERM and stop.value.exit_code == 143
    done = int(torch.load(out / "checkpoint.pt", weights_only=False)["step"])
    assert done >= 3 and _train_steps(out) == list(range(1, done + 1))

    with pytest.raises(ConfigError, match=rf"steps={done - 1} is fewer than the {done} steps"):
        run_finetune(replace(config, steps=done - 1), out, progress=False, resume=True)
    resumed = run_finetune(replace(config, steps=done + 2), out, progress=False, resume=True)
    assert _train_steps(out) == list(range(1, done + 3))
    straight = run_finetune(replace(config, steps=done + 2), tmp_path / "straight",
                            progress=False)
    assert resumed.losses == straight.losses and len(resumed.losses) == done + 2
    assert resumed.final_loss == resumed.final_loss  # not NaN

    summary = (out / "summary.json").read_text()
    with pytest.raises(ConfigError, match=rf"already finished its {done + 2} steps"):
        run_finetune(replace(config, steps=done + 2), out, progress=False, resume=True)
    assert (out / "summary.json").read_text() == summary


def test_resume_drops_steps_logged_after_the_checkpoint(tmp_path: Path) -> None:
    """A kill between a step's log line and its checkpoint leaves extra lines (and maybe a
    cut line); the resumed log holds each step once."""
    config = TrainConfig(**FAST, steps=5)
    out = tmp_path / "run"
    run_finetune(config, out, progress=False, stop_after=3)
    with (out / "metrics.jsonl").open("a") as fh:
        fh.write(json.dumps({"event": "train", "step": 4, "loss": 9.0}) + "\n")
        fh.write('{"event": "train", "st')  # cut short by the kill
    summary = run_finetune(config, out, progress=False, resume=True)
    assert _train_steps(out) == [1, 2, 3, 4, 5]
    assert 9.0 not in summary.losses and len(summary.losses) == 5
