"""The signal machinery itself: signals become ``Interrupted``, a deferred block is not torn,
a second signal does not cut clean-up short, handlers are restored."""

from __future__ import annotations

import os
import signal

import pytest

from qaa_hw.shutdown import Interrupted, deferred, signals_raise


def test_each_stop_signal_raises_interrupted_with_its_exit_code() -> None:
    before = signal.getsignal(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        with pytest.raises(Interrupted) as stop, signals_raise():
            os.kill(os.getpid(), sig)
            for _ in range(10_000_000):
                pass
        assert stop.value.signum == sig and stop.value.exit_code == 128 + sig
        assert isinstance(stop.value, KeyboardInterrupt)
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_deferred_block_finishes_before_the_signal_is_raised() -> None:
    steps = []
    with pytest.raises(Interrupted), signals_raise():
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
            steps.append("finished")
        steps.append("after")  # not reached: raised when the block ends
    assert steps == ["finished"]


def test_a_second_signal_does_not_interrupt_clean_up() -> None:
    cleaned = []
    with pytest.raises(Interrupted), signals_raise():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000_000):
                pass
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # ignored
            for _ in range(1000):
                pass
            cleaned.append(True)
    assert cleaned == [True]
