"""Google Quantum AI through ``cirq_google``'s Engine interface (real processors and the QVM).

:class:`GoogleEngine` takes an ``AbstractProcessor`` (``cirq_google.get_engine().get_processor(
pid)`` for a device, or the processor of a quantum virtual machine:
``create_default_noisy_quantum_virtual_machine(pid, cirq.DensityMatrixSimulator)``, a
``SimulatedLocalEngine`` with the processor's own noise model) and makes the calls a user makes
against the service: ``processor.run_sweep(program, params=sweep, repetitions=shots,
job_labels=...)`` and ``job.results()``.

The program is the compiled circuit on the processor's grid qubits (physical qubit ``i`` of
the device model is the ``i``-th sorted grid qubit, as in :mod:`qaa_hw.devices.google`), in
Google's gate set: ``rz`` → virtual ``ZPowGate``, ``sx``/``x`` → ``PhasedXZGate`` (the
calibrated one-qubit gate), and every ``cz`` → :func:`qaa_hw.devices.google.cz_as_sqrt_iswap`
(two √iSWAPs, its one-qubit gates as ``PhasedXZGate``; the device model prices ``cz`` as
exactly this), in moments that follow the ASAP layers (:func:`layered`). Logical qubit ``i`` is
measured under key ``m``, bit ``i``. The embedding angles are sympy symbols ``alpha[j]``: one
program per job, one sweep point per input; ``theta`` is bound before submission.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.google import cz_as_sqrt_iswap
from qaa_hw.errors import SimulationError
from qaa_hw.hardware.circuits import check_theta
from qaa_hw.hardware.jobs import HardwareEngine, JobFailed, JobRecord

logger = logging.getLogger(__name__)

#: Measurement key of the logical qubits.
KEY = "m"


def grid_qubits(processor: Any) -> list[Any]:
    """The processor's qubits in device-model order (sorted grid qubits)."""
    return sorted(processor.get_device().metadata.qubit_set)


def _physical(op: Any) -> Any:
    """A one-qubit operation as the gate the processor calibrates: ``PhasedXZGate`` (virtual
    ``ZPowGate`` s and two-qubit gates unchanged)."""
    import cirq

    if len(op.qubits) != 1 or isinstance(op.gate, cirq.ZPowGate):
        return op
    return cirq.PhasedXZGate.from_matrix(cirq.unitary(op.gate)).on(*op.qubits)


@functools.cache
def _cz_ops() -> tuple[Any, ...]:
    return tuple(_physical(op) for op in cz_as_sqrt_iswap())


def _rz(angle: Any) -> Any:
    """``rz`` of a float or a Qiskit parameter expression (as a sympy expression)."""
    import cirq

    if hasattr(angle, "sympify"):
        if not angle.parameters:
            return cirq.rz(float(angle))
        return cirq.rz(angle.sympify())
    return cirq.rz(float(angle))


def layered(ops: Sequence[Any]) -> Any:
    """A Cirq circuit of ``ops`` (in order) whose *physical* moments are the ASAP layers of the
    physical operations; virtual ``ZPowGate`` s go into their own moments just before their
    qubit's next physical layer.

    Cirq's noise models (and Google's hardware) time a circuit moment by moment, each as long as
    its longest gate, so a virtual Z that took a moment of its own in ``cirq.Circuit(ops)``
    would push the next gates into later moments and lengthen the circuit. With this layering
    the moments follow the same ASAP order as the device model's schedule.
    """
    import cirq

    next_layer: dict[Any, int] = {}
    pending: dict[Any, list[Any]] = {}
    slots: dict[tuple[int, int, int], list[Any]] = {}
    for op in ops:
        if len(op.qubits) == 1 and isinstance(op.gate, cirq.ZPowGate):
            pending.setdefault(op.qubits[0], []).append(op)
            continue
        layer = max((next_layer.get(q, 0) for q in op.qubits), default=0)
        for q in op.qubits:
            for j, virtual in enumerate(pending.pop(q, [])):
                slots.setdefault((layer, 0, j), []).append(virtual)
            next_layer[q] = layer + 1
        slots.setdefault((layer, 1, 0), []).append(op)
    end = max(next_layer.values(), default=0)
    for virtuals in pending.values():
        for j, virtual in enumerate(virtuals):
            slots.setdefault((end, 0, j), []).append(virtual)
    return cirq.Circuit(cirq.Moment(slots[key]) for key in sorted(slots))


def to_google_program(compiled: CompiledAdapter, theta: Any, qubits: Sequence[Any]) -> Any:
    """The compiled circuit, ``theta`` bound, ``alpha[j]`` symbolic, on ``qubits`` (one per
    device-model qubit) in Google's gate set, measuring logical qubit ``i`` as bit ``i`` of
    key ``m``.

    Raises:
        SimulationError: an instruction outside ``rz, sx, x, cz, barrier``.
    """
    import cirq

    from qaa_hw.circuits.builder import THETA

    th = check_theta(compiled, theta)
    qc = compiled.circuit
    bound = qc.assign_parameters(
        {p: float(th[p.index]) for p in qc.parameters if p.vector.name == THETA}
    )
    a0, b0 = cirq.LineQubit.range(2)
    ops: list[Any] = []
    for inst in bound.data:
        name = inst.operation.name
        q = [qubits[bound.find_bit(w).index] for w in inst.qubits]
        if name == "barrier":
            continue
        if name == "rz":
            ops.append(_rz(inst.operation.params[0]).on(*q))
        elif name == "sx":
            ops.append(_physical((cirq.X**0.5).on(*q)))
        elif name == "x":
            ops.append(_physical(cirq.X.on(*q)))
        elif name == "cz":
            mapping = {a0: q[0], b0: q[1]}
            ops += [op.transform_qubits(mapping) for op in _cz_ops()]
        else:
            raise SimulationError(
                f"instruction {name!r} cannot run on a Google processor; accepted: rz, sx, x, cz"
            )
    measure = cirq.measure(*[qubits[p] for p in compiled.final_layout], key=KEY)
    return layered(ops) + cirq.Circuit(cirq.Moment([measure]))


def from_line_qubits(circuit: Any, compiled: CompiledAdapter, qubits: Sequence[Any]) -> Any:
    """A bound Cirq circuit on ``LineQubit(i)`` = active qubit ``i`` (what Mitiq folds, pads
    and samples) on the processor's grid qubits in Google's gate set, measuring the logical
    qubits under key ``m``.

    Raises:
        SimulationError: a two-qubit gate other than ``CZ`` (a Google device's entangler here).
    """
    import cirq

    grid = {cirq.LineQubit(i): qubits[p] for i, p in enumerate(compiled.active_qubits)}
    a0, b0 = cirq.LineQubit.range(2)
    ops: list[Any] = []
    for op in circuit.all_operations():
        op = op.untagged
        if isinstance(op.gate, cirq.IdentityGate):
            continue
        mapped = op.transform_qubits(grid)
        if len(op.qubits) == 1:
            ops.append(_physical(mapped))
        elif isinstance(op.gate, cirq.CZPowGate) and abs(abs(float(op.gate.exponent)) - 1) < 1e-9:
            mapping = {a0: mapped.qubits[0], b0: mapped.qubits[1]}
            ops += [o.transform_qubits(mapping) for o in _cz_ops()]
        else:
            raise SimulationError(
                f"operation {op!r} cannot run on a Google processor; accepted: one-qubit gates, CZ"
            )
    measure = cirq.measure(*[qubits[p] for p in compiled.final_layout], key=KEY)
    return layered(ops) + cirq.Circuit(cirq.Moment([measure]))


def _label(tag: str) -> str:
    """A job label key Google accepts (lower case, ``[a-z0-9_-]``, starting with a letter)."""
    key = re.sub(r"[^a-z0-9_-]", "-", tag.lower())
    return key if key[:1].isalpha() else f"t-{key}"


class GoogleEngine(HardwareEngine):
    """``run_sweep`` on a Google processor or the QVM (see the module docstring).

    Args:
        compiled: the adapter compiled for this processor (a ``google_<pid>`` device).
        processor: a ``cirq_google`` ``AbstractProcessor``.
        tags: job labels (keys; values empty).
        max_inputs_per_job: sweep points per job (default: all in one job).
        label: backend label in records (default ``google:<pid>``).
        device_config_name: the processor's device configuration (real service only).
    """

    def __init__(
        self,
        compiled: CompiledAdapter,
        processor: Any,
        *,
        tags: Sequence[str] = (),
        max_inputs_per_job: int | None = None,
        label: str | None = None,
        device_config_name: str = "",
    ) -> None:
        pid = str(processor.processor_id)
        super().__init__(compiled, label=label or f"google:{pid}", tags=tags,
                         max_inputs_per_job=max_inputs_per_job)
        self.processor = processor
        self.device_config_name = device_config_name
        self.qubits = grid_qubits(processor)
        if len(self.qubits) != compiled.device.num_qubits:
            raise SimulationError(
                f"{self.label} has {len(self.qubits)} qubits; the adapter was compiled for "
                f"{compiled.device.num_qubits} ({compiled.device.name})"
            )

    def run_circuits(self, circuits: Sequence[Any], *, shots: int, seed: int = 0
                     ) -> list[dict[int, int]]:
        """Counts of bound Cirq circuits on the active ``LineQubit`` s (:func:`from_line_qubits`),
        one job per circuit (the Engine interface has no batch of programs)."""
        out = []
        for circuit in circuits:
            program = from_line_qubits(circuit, self.compiled, self.qubits)
            counts, record = self._job(program, None, 1, shots=shots)
            self.records.append(record)
            out += counts
        return out

    def submit(self, alpha: np.ndarray, theta: np.ndarray, *, shots: int, seed: int
               ) -> tuple[list[dict[int, int]], JobRecord]:
        """One job: one program, one sweep point ``{alpha[j]: value}`` per input."""
        import cirq

        program = to_google_program(self.compiled, theta, self.qubits)
        symbols = sorted(cirq.parameter_names(program))
        sweep = cirq.ListSweep([
            {s: float(row[int(s[s.index("[") + 1 : -1])]) for s in symbols} for row in alpha
        ])
        return self._job(program, sweep, len(alpha), shots=shots)

    def _job(self, program: Any, sweep: Any, rows: int, *, shots: int
             ) -> tuple[list[dict[int, int]], JobRecord]:
        """One ``run_sweep`` job; integer counts of every sweep point."""
        predicted = self.predicted_seconds(rows, shots)
        labels = {_label(t): "" for t in self.tags}
        job_id = "?"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                job = self.processor.run_sweep(
                    program, params=sweep, repetitions=shots, job_labels=labels or None,
                    device_config_name=self.device_config_name,
                )
                job_id = str(job.id())
                results = job.results()
        except Exception as e:  # the service's errors, a cancelled or failed job
            raise JobFailed(f"{self.label} job {job_id} failed: {e}", partial=None,
                            finished=0, records=[JobRecord(self.label, job_id, "ERROR",
                                                           rows, shots, self.tags,
                                                           self.mode, None, predicted)]) from e
        weights = 1 << np.arange(self.num_logical)
        counts = []
        for result in results:
            bits = np.asarray(result.measurements[KEY], dtype=np.int64)
            values, number = np.unique(bits @ weights, return_counts=True)
            counts.append({int(v): int(c) for v, c in zip(values, number, strict=True)})
        status = job.execution_status()
        return counts, JobRecord(self.label, job_id, str(getattr(status, "name", status)),
                                 rows, shots, self.tags, self.mode, None, predicted)

def virtual_machine(processor_id: str, *, coherent: bool = True, seed: int = 0) -> Any:
    """A quantum virtual machine of ``processor_id``: a ``SimulatedLocalEngine`` with
    ``cirq.DensityMatrixSimulator`` and the processor's noise model
    (``NoiseModelFromGoogleNoiseProperties`` of its median calibration), as
    ``cirq_google.engine.create_default_noisy_quantum_virtual_machine`` builds it.

    Args:
        processor_id: e.g. ``"weber"``.
        coherent: keep the calibration's coherent entangler errors (``fsim_errors``: PhasedFSim
            angle deviations after every two-qubit gate); ``False`` keeps only the incoherent
            part, the physics a Pauli-channel model (ours) can represent.
        seed: the simulator's seed.
    """
    import dataclasses

    import cirq
    from cirq_google.devices.google_noise_properties import NoiseModelFromGoogleNoiseProperties
    from cirq_google.engine import (
        SimulatedLocalEngine,
        SimulatedLocalProcessor,
        create_device_from_processor_id,
        load_device_noise_properties,
        load_median_device_calibration,
    )
    from cirq_google.engine.virtual_engine_factory import create_device_spec_from_processor_id

    properties = load_device_noise_properties(processor_id)
    if not coherent:
        properties = dataclasses.replace(properties, fsim_errors={})
    simulator = cirq.DensityMatrixSimulator(
        noise=NoiseModelFromGoogleNoiseProperties(properties), seed=seed
    )
    calibration = load_median_device_calibration(processor_id)
    processor = SimulatedLocalProcessor(
        processor_id=processor_id,
        sampler=simulator,
        device=create_device_from_processor_id(processor_id),
        calibrations={calibration.timestamp // 1000: calibration},
        device_specification=create_device_spec_from_processor_id(processor_id),
    )
    return SimulatedLocalEngine([processor])
