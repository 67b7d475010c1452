"""IBM Quantum through ``qiskit_ibm_runtime``'s ``SamplerV2`` (real devices and local mode).

:class:`IBMEngine` submits the compiled ISA circuit with measurements
(:func:`~qaa_hw.hardware.circuits.measured_circuit`, idle windows as explicit ``delay`` s in
``dt``) as **one parameterised PUB per job**: ``(circuit, values [B, P], shots)``, so the
circuit is compiled once and bound per input by the service. Jobs run in a ``Batch``
(default), a ``Session`` or as single jobs; each carries the engine's job tags and leaves a
:class:`~qaa_hw.hardware.jobs.JobRecord` with ``job.usage()`` (billed QPU seconds) next to the
cost model's prediction.

The backend object is whatever the user's runtime gives: ``QiskitRuntimeService().backend(name)``
for a device (credentials come only from the saved account or the environment; nothing here
writes them), or a fake backend (``FakeBrisbane()``) for the runtime's **local testing mode**,
where the same ``Batch``/``SamplerV2`` calls run Aer with the fake backend's noise model
(``NoiseModel`` from its properties: gate depolarising + thermal relaxation, readout error,
relaxation on ``delay`` s). Local mode reports 0 usage seconds, ignores job tags (it warns; the
warning is silenced here) and is seeded through ``options.simulator.seed_simulator``.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import SimulationError
from qaa_hw.hardware.circuits import CREG, measured_circuit, parameter_values
from qaa_hw.hardware.jobs import HardwareEngine, JobFailed, JobRecord, usage_or_none
from qaa_hw.simulate.noise import NoiseSpec, noise_spec

logger = logging.getLogger(__name__)

#: Execution modes of :class:`IBMEngine`.
MODES: tuple[str, ...] = ("batch", "session", "job")
#: Final job states that are failures.
FAILED_STATES = ("ERROR", "CANCELLED", "FAILED")


def is_local(backend: Any) -> bool:
    """Whether ``backend`` is a fake backend (the runtime's local testing mode)."""
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return isinstance(backend, FakeBackendV2)


def unrelaxable_qubits(backend: Any) -> frozenset[int]:
    """Qubits of a fake backend whose snapshot has T2 > 2 T1: the local-mode noise model's
    relaxation pass rejects a ``delay`` on them, so local mode gets no delays there (they idle
    without relaxation, as in a circuit without delays). Empty for real devices."""
    if not is_local(backend):
        return frozenset()
    props = backend.properties()
    out = set()
    for q in range(backend.num_qubits):
        try:
            if props.t2(q) > 2 * props.t1(q):
                out.add(q)
        except Exception:  # BackendPropertyError: no T1/T2, no relaxation pass entry
            continue
    return frozenset(out)


def without_delays_on(qc: Any, qubits: frozenset[int]) -> Any:
    """``qc`` without the ``delay`` s on ``qubits`` (device indices)."""
    if not qubits:
        return qc
    out = qc.copy_empty_like()
    for inst in qc.data:
        if inst.operation.name == "delay" and qc.find_bit(inst.qubits[0]).index in qubits:
            continue
        out.append(inst)
    return out


def _status(job: Any) -> str:
    try:
        status = job.status()
    except Exception as e:  # provider errors while polling: report them as the status
        return f"UNKNOWN ({e})"
    return str(getattr(status, "name", status)).upper()


class IBMEngine(HardwareEngine):
    """``SamplerV2`` on an IBM backend or fake backend (see the module docstring).

    Args:
        compiled: the adapter compiled for this backend's calibration.
        backend: a runtime ``IBMBackend`` or a fake backend (local testing mode).
        mode: ``"batch"`` (default), ``"session"`` or ``"job"``.
        tags: job tags.
        delays: submit the idle windows of the ASAP schedule as ``delay`` s (default), so the
            device idles exactly where the noise model's schedule says.
        noise: the spec whose durations define that schedule (default: the compiled device's).
        max_inputs_per_job: inputs per job (default: all in one job).
        label: backend label in records (default ``local:<name>`` / ``ibm:<name>``).
    """

    def __init__(
        self,
        compiled: CompiledAdapter,
        backend: Any,
        *,
        mode: str = "batch",
        tags: Sequence[str] = (),
        delays: bool = True,
        noise: NoiseSpec | None = None,
        max_inputs_per_job: int | None = None,
        label: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise SimulationError(f"mode={mode!r} is not valid; accepted: {', '.join(MODES)}")
        self.backend = backend
        self.local = is_local(backend)
        name = str(backend.name)
        if label is None:
            label = f"local:{name.replace('fake_', 'ibm_')}" if self.local else f"ibm:{name}"
        super().__init__(compiled, label=label, tags=tags, max_inputs_per_job=max_inputs_per_job)
        self.mode = mode
        if backend.num_qubits < compiled.circuit.num_qubits:
            raise SimulationError(
                f"{label} has {backend.num_qubits} qubits; the adapter was compiled for "
                f"{compiled.circuit.num_qubits} ({compiled.device.name})"
            )
        schedule = None
        if delays:
            schedule = noise or noise_spec(compiled.device, compiled.active_qubits)
        #: local mode only: qubits whose T2 > 2 T1 in the snapshot get no delays
        self.no_delay_qubits = unrelaxable_qubits(backend) & set(compiled.active_qubits)
        if self.no_delay_qubits and schedule is not None:
            logger.warning("%s: no delays on qubit(s) %s (snapshot T2 > 2 T1, which local mode's "
                           "relaxation pass rejects)", label, sorted(self.no_delay_qubits))
        self.circuit = without_delays_on(
            measured_circuit(compiled, noise=schedule, dt=getattr(backend, "dt", None)),
            self.no_delay_qubits,
        )
        self._mode_object: Any = None

    @contextlib.contextmanager
    def execution(self) -> Iterator[None]:
        """One ``Batch`` or ``Session`` around the jobs of a ``run`` (none in ``job`` mode)."""
        from qiskit_ibm_runtime import Batch, Session

        if self.mode == "job":
            self._mode_object = self.backend
            yield
            return
        kind = Batch if self.mode == "batch" else Session
        with kind(backend=self.backend) as context:
            self._mode_object = context
            try:
                yield
            finally:
                self._mode_object = None

    def sampler(self, seed: int) -> Any:
        """A ``SamplerV2`` in the current mode, with the job tags (and the seed, locally)."""
        from qiskit_ibm_runtime import SamplerV2

        sampler = SamplerV2(mode=self._mode_object or self.backend)
        if self.tags:
            sampler.options.environment.job_tags = list(self.tags)
        if self.local:
            sampler.options.simulator.seed_simulator = int(seed)
        return sampler

    def submit(self, alpha: np.ndarray, theta: np.ndarray, *, shots: int, seed: int
               ) -> tuple[list[dict[int, int]], JobRecord]:
        """One job: one PUB ``(circuit, values [B, P])`` with ``shots`` shots."""
        values = parameter_values(self.circuit, alpha, theta)
        return self._job([(self.circuit, values)], len(alpha), shots=shots, seed=seed)

    def run_circuits(self, circuits: Sequence[Any], *, shots: int, seed: int = 0
                     ) -> list[dict[int, int]]:
        """Counts of bound circuits on the adapter's ``k`` active wires (no measurements,
        delays in seconds: :func:`qaa_hw.mitigation.lowering.timed_circuit`): one job, one
        PUB per circuit, logical qubits measured as in :meth:`run`."""
        from qaa_hw.hardware.circuits import on_device_wires, with_measurements

        dt = getattr(self.backend, "dt", None)
        pubs = [(without_delays_on(with_measurements(
                    self.compiled, on_device_wires(self.compiled, c), dt=dt),
                    self.no_delay_qubits),) for c in circuits]
        with self.execution():
            counts, record = self._job(pubs, len(pubs), shots=shots, seed=seed)
        self.records.append(record)
        return counts

    def _job(self, pubs: list[tuple[Any, ...]], rows: int, *, shots: int, seed: int
             ) -> tuple[list[dict[int, int]], JobRecord]:
        """Submit ``pubs`` as one job; integer counts of every row of every PUB."""
        sampler = self.sampler(seed)
        with warnings.catch_warnings():
            # local mode ignores job tags (and says so); a device uses them
            warnings.filterwarnings("ignore", message=r"Options .* have no effect")
            job = sampler.run(pubs, shots=shots)
        job_id = str(job.job_id())
        logger.info("%s: job %s (%d circuits x %d shots)", self.label, job_id, rows, shots)
        predicted = self.predicted_seconds(rows, shots)

        def record(status: str) -> JobRecord:
            usage = None
            with contextlib.suppress(Exception):  # usage is unknown for failed jobs
                usage = usage_or_none(job.usage())
            return JobRecord(self.label, job_id, status, rows, shots, self.tags,
                             self.mode, usage, predicted)

        try:
            result = job.result()
        except Exception as e:  # the provider's JobError / RuntimeJobFailureError / cancel
            status = _status(job)
            raise JobFailed(f"{self.label} job {job_id} ended {status}: {e}",
                            partial=None, finished=0, records=[record(status)]) from e
        status = _status(job)
        if status in FAILED_STATES:
            raise JobFailed(f"{self.label} job {job_id} ended {status}", partial=None,
                            finished=0, records=[record(status)])
        counts = []
        for pub_result in result:
            bits = getattr(pub_result.data, CREG)
            if bits.ndim == 0:
                counts.append(bits.get_int_counts())
            else:
                counts += [bits.get_int_counts(loc=i) for i in range(bits.shape[0])]
        return counts, record(status)
