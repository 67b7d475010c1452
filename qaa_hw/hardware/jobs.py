"""The shared shape of hardware engines: jobs, their records, the cost model's prediction.

A hardware engine is one more :class:`~qaa_hw.simulate.engine.Engine`: built for one compiled
adapter, ``run(x, theta, *, shots, seed)`` returns a :class:`~qaa_hw.simulate.results.Result`
(measured distribution and ``<Z_i>`` in logical order). It has no exact mode: a device only
gives samples. Inputs go to the device in jobs of at most ``max_inputs_per_job`` inputs (one
parameterised program per job, one parameter row per input); every job leaves a
:class:`JobRecord` with the QPU seconds the provider billed next to the cost model's
prediction (:func:`predicted_qpu_seconds`). When a job fails or is cancelled,
:class:`JobFailed` carries the results of the jobs that finished.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import QaaHwError, SimulationError
from qaa_hw.hardware.circuits import check_inputs, check_theta
from qaa_hw.simulate.engine import Capabilities, Engine
from qaa_hw.simulate.results import Result, check_shots, stack, z_from_probabilities


class HardwareError(QaaHwError):
    """A hardware backend cannot be used (no account, unknown backend, calibration mismatch)."""


class JobFailed(HardwareError):
    """A job failed or was cancelled; ``partial`` holds the inputs that finished before it.

    Attributes:
        partial: results of the finished inputs (``None`` when none finished).
        finished: how many inputs (the first ones) finished.
        records: the records of every job, the failed one last.
    """

    def __init__(self, message: str, *, partial: Result | None, finished: int,
                 records: Sequence[JobRecord]) -> None:
        super().__init__(message)
        self.partial = partial
        self.finished = finished
        self.records = list(records)


@dataclass(frozen=True)
class JobRecord:
    """One job on a device.

    Attributes:
        backend: backend label (``local:ibm_brisbane``, ``ibm:ibm_torino``, ``google-qvm:weber``).
        job_id: the provider's job id.
        status: the provider's final status (``DONE``, ``ERROR``, ``CANCELLED``, ...).
        inputs: parameter rows (circuits) in the job.
        shots: shots per circuit.
        tags: job tags / labels sent with the job.
        mode: execution mode (``batch``, ``session``, ``job``).
        usage_s: QPU seconds the provider reports (``None`` where it reports none).
        predicted_s: QPU seconds the cost model predicts (:func:`predicted_qpu_seconds`).
    """

    backend: str
    job_id: str
    status: str
    inputs: int
    shots: int
    tags: tuple[str, ...]
    mode: str
    usage_s: float | None
    predicted_s: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {**asdict(self), "tags": list(self.tags)}


def predicted_qpu_seconds(device: DeviceModel, duration_s: float, circuits: int,
                          shots: int) -> float:
    """QPU seconds the feasibility model charges: ``circuits x shots x shot time`` with the
    device family's reset and repetition delay (:func:`qaa_hw.analysis.feasibility.shot_timing`).
    """
    from qaa_hw.analysis.feasibility import shot_timing

    return circuits * shots * shot_timing(device).shot_seconds(duration_s)


def result_from_counts(counts: Sequence[dict[int, int]], n: int) -> Result:
    """A :class:`Result` from integer counts (bit ``i`` = logical qubit ``i``) per input."""
    probs = np.zeros((len(counts), 1 << n))
    shots = 0
    for row, table in enumerate(counts):
        for value, count in table.items():
            probs[row, int(value)] += count
        shots = int(probs[row].sum())
        probs[row] /= max(shots, 1)
    p = torch.tensor(probs, dtype=torch.float64)
    return Result(z_from_probabilities(p, n), p, None, shots)


def standard_errors(result: Result) -> torch.Tensor:
    """``[B, n]`` shot standard errors of measured ``<Z_i>``: ``sqrt((1 - z^2) / shots)``."""
    if result.shots is None:
        raise SimulationError("standard errors need a sampled result (shots)")
    z = result.expectations
    return torch.sqrt(torch.clamp(1 - z**2, min=0.0) / result.shots)


@dataclass
class _Progress:
    results: list[Result] = field(default_factory=list)
    records: list[JobRecord] = field(default_factory=list)
    finished: int = 0


class HardwareEngine(Engine):
    """Shared part of the hardware engines (see the module docstring).

    Attributes:
        compiled: the compiled adapter.
        noise: ``None`` (a device has no noise spec; predictions come from a simulator engine).
        label: backend label used in records.
        records: every job this engine ran.
    """

    capabilities = Capabilities(noisy=True, reference=False, idle_switch=False)
    #: execution mode recorded with each job
    mode: str = "job"

    def __init__(self, compiled: CompiledAdapter, *, label: str, tags: Sequence[str] = (),
                 max_inputs_per_job: int | None = None) -> None:
        self.compiled = compiled
        self.noise = None
        self.label = label
        self.tags = tuple(str(t) for t in tags)
        if max_inputs_per_job is not None and max_inputs_per_job < 1:
            raise SimulationError(
                f"max_inputs_per_job={max_inputs_per_job} is not valid; accepted: >= 1 or None"
            )
        self.max_inputs_per_job = max_inputs_per_job
        self.records: list[JobRecord] = []

    @property
    def num_logical(self) -> int:
        """n."""
        return self.compiled.spec.num_qubits

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """Not available: a device only samples."""
        raise SimulationError(f"{self.label} is a device: pass shots (it has no exact mode)")

    def predicted_seconds(self, circuits: int, shots: int, duration_s: float | None = None
                          ) -> float:
        """The cost model's QPU seconds for ``circuits`` circuits of ``shots`` shots."""
        duration = self.compiled.metrics.duration_s if duration_s is None else duration_s
        return predicted_qpu_seconds(self.compiled.device, duration, circuits, shots)

    def run(self, x: Any, theta: Any, *, shots: int | None = None, seed: int = 0,
            density_matrices: bool = False, progress: bool = False) -> Result:
        """Measured outputs of the inputs ``x [B, <=2^n]``, ``shots`` per input.

        Raises:
            SimulationError: no shots, or density matrices asked for.
            JobFailed: a job failed or was cancelled (finished inputs in ``partial``).
        """
        shots = check_shots(shots)
        if shots is None or density_matrices:
            raise SimulationError(
                f"{self.label} gives samples only: pass shots >= 1 and no density matrices"
            )
        rows = check_inputs(self.compiled, x)
        th = check_theta(self.compiled, theta)
        from qaa_hw.hardware.circuits import embedding_angles

        alpha = embedding_angles(self.compiled, rows)
        size = self.max_inputs_per_job or len(alpha)
        chunks = [alpha[i : i + size] for i in range(0, len(alpha), size)]
        done = _Progress()
        with self.execution():
            for chunk in chunks:
                try:
                    counts, record = self.submit(chunk, th, shots=shots, seed=seed)
                except JobFailed as e:
                    done.records += e.records
                    self.records += e.records
                    partial = stack(done.results) if done.results else None
                    raise JobFailed(
                        f"{e}; {done.finished} of {len(alpha)} inputs finished and are kept",
                        partial=partial, finished=done.finished, records=done.records,
                    ) from e
                done.results.append(result_from_counts(counts, self.num_logical))
                done.records.append(record)
                self.records.append(record)
                done.finished += len(chunk)
        return stack(done.results)

    def execution(self) -> Any:
        """Context of one ``run`` (a Batch or Session on IBM); a no-op by default."""
        import contextlib

        return contextlib.nullcontext()

    @abstractmethod
    def submit(self, alpha: np.ndarray, theta: np.ndarray, *, shots: int, seed: int
               ) -> tuple[list[dict[int, int]], JobRecord]:
        """Run one job: the adapter bound to each row of ``alpha`` and ``theta``.

        Returns:
            Integer counts per row (bit ``i`` = logical qubit ``i``) and the job's record.

        Raises:
            JobFailed: the job failed or was cancelled (``records`` holds its record).
        """


def usage_or_none(value: Any) -> float | None:
    """A provider's usage number as float seconds, ``None`` when missing."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None
