"""ASAP scheduling of a physical circuit and its idle windows (one scheduler for every path).

Instructions start as soon as all their qubits are free, in list order (an instruction may
also be held until a given time: DDD pulses placed into a window). Per-wire order is all that
matters, so any order of the same gates that keeps each wire's order gives the same times.
``rz`` is virtual and takes no time. The circuit ends when its last instruction ends; every
active qubit is measured then, so a qubit that finishes early idles until the end.

:func:`idle_windows` lists, per instruction, the idle interval each of its qubits waited
through before it, and the trailing interval of every qubit up to the end. The noisy engines
insert the relaxation channel of :class:`~qaa_hw.simulate.noise.NoiseSpec` there; the Aer
reference puts a ``delay`` there, which Aer's own noise model relaxes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from qaa_hw.simulate.noise import MIN_IDLE_S

T = TypeVar("T")


@dataclass(frozen=True)
class Slot:
    """The time slot of one instruction.

    Attributes:
        start_s: start time.
        duration_s: duration.
    """

    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        """Finish time."""
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class IdleWindow:
    """An interval in which a qubit is not driven.

    Attributes:
        before: index of the instruction that ends the window (``len(instructions)`` for a
            window that runs to the end of the circuit).
        qubit: the idle qubit.
        start_s: when the qubit became free.
        seconds: length of the window.
    """

    before: int
    qubit: int
    start_s: float
    seconds: float


def asap(
    instructions: Sequence[tuple[str, tuple[int, ...]]],
    duration_s: Callable[[str, tuple[int, ...]], float],
    num_qubits: int,
    *,
    not_before: Sequence[float] | None = None,
) -> list[Slot]:
    """ASAP time slots of ``(name, qubits)`` instructions (see the module docstring).

    Args:
        instructions: in an order that keeps each wire's order.
        duration_s: ``(name, qubits) -> seconds`` (e.g. :meth:`NoiseSpec.duration_s`).
        num_qubits: wires.
        not_before: earliest start of each instruction (default 0).
    """
    free = [0.0] * num_qubits
    out: list[Slot] = []
    for index, (name, qubits) in enumerate(instructions):
        dur = 0.0 if name == "rz" else float(duration_s(name, qubits))
        start = max([not_before[index] if not_before else 0.0, *(free[q] for q in qubits)])
        for q in qubits:
            free[q] = start + dur
        out.append(Slot(start, dur))
    return out


def idle_windows(
    instructions: Sequence[tuple[str, tuple[int, ...]]],
    slots: Sequence[Slot],
    num_qubits: int,
    *,
    leading: bool = False,
) -> list[IdleWindow]:
    """Idle windows of a scheduled circuit, in instruction order (trailing windows last).

    Args:
        instructions: the scheduled ``(name, qubits)``.
        slots: their :func:`asap` slots.
        num_qubits: wires.
        leading: include the windows before each qubit's first instruction (a qubit never
            driven then idles for the whole circuit).
    """
    end = max((s.end_s for s in slots), default=0.0)
    free: list[float | None] = [0.0 if leading else None] * num_qubits
    out: list[IdleWindow] = []
    for index, ((name, qubits), slot) in enumerate(zip(instructions, slots, strict=True)):
        if name == "rz":
            continue
        for q in qubits:
            began = free[q]
            if began is not None and slot.start_s - began > MIN_IDLE_S:
                out.append(IdleWindow(index, q, began, slot.start_s - began))
            free[q] = slot.end_s
    for q, began in enumerate(free):
        if began is not None and end - began > MIN_IDLE_S:
            out.append(IdleWindow(len(instructions), q, began, end - began))
    return out


def total_duration_s(slots: Sequence[Slot]) -> float:
    """End time of the last instruction."""
    return max((s.end_s for s in slots), default=0.0)


def with_idle(
    items: Sequence[T], windows: Sequence[IdleWindow], fill: Callable[[IdleWindow], T | None]
) -> list[T]:
    """``items`` with ``fill(window)`` inserted before the item that ends each window
    (trailing windows at the end); windows whose fill is ``None`` are left empty."""
    inserted: dict[int, list[T]] = {}
    for w in windows:
        item = fill(w)
        if item is not None:
            inserted.setdefault(w.before, []).append(item)
    out: list[T] = []
    for position in range(len(items) + 1):
        out += inserted.get(position, [])
        if position < len(items):
            out.append(items[position])
    return out
