"""Clean shutdown: SIGTERM, SIGINT and SIGHUP stop long work the way Ctrl-C does, and worker
processes never outlive the process that started them.

* :func:`signals_raise` (used by the CLI around every command) turns each of
  :data:`SIGNALS` into an :class:`Interrupted` exception in the main thread. It subclasses
  ``KeyboardInterrupt``, so every ``except KeyboardInterrupt`` / ``finally`` that stops
  workers and keeps finished results handles ``kill PID``, a closed terminal and Ctrl-C
  alike. A second signal while the first is being handled is ignored, so that clean-up is
  not cut short; the process exits with ``128 + signal number``.
* :func:`deferred` holds a signal back while a short block that must not be torn in two runs
  (an optimiser step and its bookkeeping); it is raised when the block ends.
* :func:`watch_parent` (called in every worker process) exits the worker within
  :data:`PARENT_POLL_S` seconds once its parent is gone, even after ``SIGKILL`` of the
  parent, which no handler can see. It polls ``os.getppid()`` (portable: an orphan is
  re-parented), so it needs nothing from the parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

#: Signals that stop a command cleanly (SIGHUP where the platform has it).
SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
#: How often a worker checks that its parent is alive (seconds).
PARENT_POLL_S = 0.5
#: Exit status of a worker whose parent died.
ORPHAN_EXIT = 1


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; ``hint`` says how to resume (set by the command).

    Attributes:
        signum: the signal number.
        hint: what was kept and how to resume, or ``""``.
    """

    def __init__(self, signum: int, hint: str = "") -> None:
        super().__init__(signal_name(signum))
        self.signum = int(signum)
        self.hint = hint

    @property
    def exit_code(self) -> int:
        """``128 + signum``, the shell's convention for a process ended by a signal."""
        return 128 + self.signum


def signal_name(signum: int) -> str:
    """``"SIGTERM"`` for 15."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def as_interrupted(exc: KeyboardInterrupt, hint: str) -> Interrupted:
    """``exc`` (a plain Ctrl-C counts as SIGINT) with ``hint`` attached."""
    return Interrupted(getattr(exc, "signum", signal.SIGINT), hint)


class _State:
    """What the handler does: raise, or remember the signal while deferred."""

    def __init__(self) -> None:
        self.raised = False
        self.deferring = 0
        self.pending: int | None = None

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.raised:
            return  # clean-up of the first signal is running; do not cut it short
        if self.deferring:
            self.pending = self.pending or signum
            return
        self.raised = True
        raise Interrupted(signum)


_state: _State | None = None


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, :data:`SIGNALS` raise :class:`Interrupted` (main thread only;
    elsewhere the block runs with the handlers unchanged). Handlers are restored after."""
    global _state
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = _State()
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    outer, _state = _state, state
    for s in SIGNALS:
        signal.signal(s, state.handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _state = outer


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold back a stop signal until the block ends, then raise it (no-op outside
    :func:`signals_raise`)."""
    state = _state
    if state is None:
        yield
        return
    state.deferring += 1
    try:
        yield
    finally:
        state.deferring -= 1
        if not state.deferring and state.pending is not None:
            signum, state.pending = state.pending, None
            state.raised = True
            raise Interrupted(signum)


def watch_parent(interval: float = PARENT_POLL_S) -> threading.Thread:
    """Start a daemon thread that ends this process when its parent process is gone.

    The parent is the one at the time of the call; ``os._exit`` skips clean-up that could
    hang on resources the dead parent held.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(ORPHAN_EXIT)

    thread = threading.Thread(target=watch, name="qaa_hw-watch-parent", daemon=True)
    thread.start()
    return thread
