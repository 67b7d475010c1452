"""Mitigation through a hardware engine: the simulation core's strategies (folding ZNE, REM,
DDD) with a device where the Aer/Cirq backends simulate.

:class:`DeviceBackend` is a :class:`qaa_hw.mitigation.backends.Backend` whose ``run`` submits
the circuits Mitiq produces to the engine (IBM: lowered and timed with
:func:`qaa_hw.mitigation.lowering.timed_circuit`, idle windows as ``delay`` s, one job per
request; Google: :func:`qaa_hw.hardware.google.from_line_qubits`, one job per circuit) and
returns shot frequencies; every circuit and shot is counted as on the simulators. Its
``confusion`` is **measured**: two calibration circuits (all measured qubits in ``|0>``, then
all in ``|1>``) run once, with the backend's shots, and counted too. DDD fills the idle windows
of the ASAP schedule (IBM) or of Cirq moments (Google), as the Aer and Cirq backends do.
Pulse stretching cannot run on a device (it needs calibrated stretched pulses): only folding.

``Mitigator(compiled, backend=DeviceBackend(...))`` mitigates on such a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cirq
import numpy as np

from qaa_hw.errors import ConfigError
from qaa_hw.hardware.jobs import HardwareEngine
from qaa_hw.mitigation.backends import Backend
from qaa_hw.mitigation.idle import IdleGrid, moment_grid, timed_grid
from qaa_hw.mitigation.lowering import schedule, timed_circuit
from qaa_hw.mitigation.scaling import stretch_factor
from qaa_hw.mitigation.techniques import ZNE, Technique, technique_parts


def frequencies(counts: Sequence[dict[int, int]], n: int) -> np.ndarray:
    """``[C, 2^n]`` frequencies of integer counts."""
    out = np.zeros((len(counts), 1 << n))
    for row, table in enumerate(counts):
        for value, count in table.items():
            out[row, int(value)] += count
        out[row] /= max(out[row].sum(), 1.0)
    return out


class DeviceBackend(Backend):
    """Mitiq's circuits on a hardware engine (see the module docstring).

    Args:
        engine: an :class:`~qaa_hw.hardware.ibm.IBMEngine` or
            :class:`~qaa_hw.hardware.google.GoogleEngine` of the compiled adapter.
        shots: shots per circuit (a device always samples).
        seed: seed of the local-mode simulators.
    """

    name = "device"

    def __init__(self, engine: HardwareEngine, *, shots: int, seed: int = 0) -> None:
        super().__init__(engine.compiled, noise=True, shots=shots, seed=seed)
        self.engine = engine
        self.google = hasattr(engine, "processor")
        self._measured_confusion: np.ndarray | None = None

    def run(self, circuits: Sequence[cirq.Circuit]) -> np.ndarray:
        """Measured frequencies ``[len(circuits), 2^n]``; every circuit runs on the device."""
        circuits = list(circuits)
        if not circuits:
            return np.zeros((0, 1 << self.num_logical))
        if any(stretch_factor(c) != 1.0 for c in circuits):
            raise ConfigError(
                "scaling='pulse_stretch' cannot run on a device; accepted there: fold_random, "
                "fold_all, fold_global"
            )
        assert self.shots is not None
        if self.google:
            submitted: list[Any] = [c.unfreeze() if hasattr(c, "unfreeze") else c
                                    for c in circuits]
        else:
            submitted = [timed_circuit(schedule(c, self.noise), self.num_qubits)
                         for c in circuits]
        counts = self.engine.run_circuits(submitted, shots=self.shots,  # type: ignore[attr-defined]
                                          seed=self.seed + self.circuits_run)
        self.circuits_run += len(circuits)
        self.shots_run += self.shots * len(circuits)
        return frequencies(counts, self.num_logical)

    @property
    def confusion(self) -> np.ndarray:
        """``[n, 2, 2]`` measured ``P(m | b)`` per logical qubit (two calibration circuits,
        run on first use)."""
        if self._measured_confusion is None:
            qubits = cirq.LineQubit.range(self.num_qubits)
            ones = cirq.Circuit(cirq.X(qubits[q]) for q in self.final_local)
            zeros = cirq.Circuit(cirq.I(qubits[q]) for q in self.final_local)
            freq = self.run([zeros, ones])
            n = self.num_logical
            out = np.zeros((n, 2, 2))
            index = np.arange(1 << n)
            for i in range(n):
                bit = (index >> i) & 1
                for b in (0, 1):
                    p1 = float(freq[b][bit == 1].sum())
                    out[i, b] = (1 - p1, p1)
            self._measured_confusion = out
        return self._measured_confusion

    def idle_grid(self, circuit: cirq.Circuit) -> IdleGrid:
        """Moments on Google (Cirq's timing), the ASAP tick grid on IBM."""
        if self.google:
            return moment_grid(circuit, self.num_qubits)
        return timed_grid(circuit, self.noise)


def check_device_technique(technique: Technique) -> Technique:
    """``technique`` if a device can run it (folding ZNE, REM, DDD, combinations).

    Raises:
        ConfigError: PEC (needs a learned noise model) or pulse stretching.
    """
    parts = technique_parts(technique)
    if "pec" in parts:
        raise ConfigError("technique 'pec' is not offered on devices; accepted: zne, rem, ddd")
    zne = parts.get("zne")
    if isinstance(zne, ZNE) and zne.scaling == "pulse_stretch":
        raise ConfigError(
            "scaling='pulse_stretch' cannot run on a device; accepted there: fold_random, "
            "fold_all, fold_global"
        )
    return technique


