"""Noisy backends that Mitiq's circuits run on: our Aer and Cirq reference engines, metered.

A backend takes Cirq circuits on the ``k`` active qubits of a compiled adapter (the bound
physical circuit of :func:`qaa_hw.devices.cirq_convert.to_cirq_circuit`, as folded, padded or
sampled by Mitiq) and returns the measured distribution over the ``2^n`` readout bitstrings of
the logical qubits (readout error included), counting every circuit and shot. Both consume the
adapter's one :class:`~qaa_hw.simulate.noise.NoiseSpec`, so a circuit's unmitigated value is
the one every other path computes.

* :class:`AerBackend`: circuits lowered without re-optimisation and timed on the ASAP schedule
  (:mod:`qaa_hw.mitigation.lowering`), the spec's relaxation channel on every idle window
  (folding lengthens the other qubits' idle windows, as on hardware); run by
  :class:`~qaa_hw.simulate.executors.AerExecutor`'s simulator in batches of :data:`AER_BATCH`.
* :class:`CirqBackend`: :class:`~qaa_hw.simulate.executors.CirqExecutor`'s noisy density-matrix
  simulation; ``Y`` pulses (DDD, PEC) run as ``PhasedXPowGate(phase_exponent=0.5)``, the type
  its noise model gives the ``x`` pulse's error and duration.

Shots: ``multinomial(shots, p)`` from the exact distribution
(:func:`~qaa_hw.simulate.results.sample_frequencies`), each draw seeded by ``(seed, the
distribution, how often it was drawn before)``: results do not depend on batching, and a
circuit run twice gets two independent draws.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import cirq
import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError
from qaa_hw.mitigation.idle import IdleGrid, moment_grid, timed_grid
from qaa_hw.mitigation.lowering import schedule, timed_circuit
from qaa_hw.mitigation.scaling import stretch_factor
from qaa_hw.mitigation.techniques import EXECUTORS
from qaa_hw.simulate.executors import AerExecutor, CirqExecutor
from qaa_hw.simulate.noise import NoiseSpec
from qaa_hw.simulate.results import check_shots, sample_frequencies

logger = logging.getLogger(__name__)

#: Circuits per ``AerSimulator.run`` call.
AER_BATCH = 64
#: Exact distributions kept per backend (the cache is emptied when full).
CACHE_SIZE = 4096


class Backend:
    """Shared part of the backends: readout qubits, confusion, metering, shot sampling.

    Attributes:
        name: ``"aer"`` or ``"cirq"``.
        shots: shots per circuit (``None``: exact distributions), drawn with ``seed``.
        circuits_run: circuits executed so far; ``shots_run``: shots drawn so far.
    """

    name = ""
    #: the simulation engine the backend runs its circuits on
    executor_class: type[AerExecutor] | type[CirqExecutor] = AerExecutor

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise: NoiseSpec | bool = True,
        shots: int | None = None,
        seed: int = 0,
    ):
        executor = self.executor_class(compiled, noise=noise, seed=seed)
        self.executor: AerExecutor | CirqExecutor = executor
        self.shots = check_shots(shots)
        self.seed = int(seed)
        self.noise: NoiseSpec = executor.spec
        self.device = executor.device
        self.final_local = executor.final_local
        self.num_qubits = len(executor.active)
        self.circuits_run = 0
        self.shots_run = 0
        self._draws: dict[bytes, int] = {}
        self._cache: dict[cirq.FrozenCircuit, np.ndarray] = {}
        self._stretch_backends: dict[float, Backend] = {}

    @property
    def num_logical(self) -> int:
        """n, the measured qubits."""
        return len(self.final_local)

    @property
    def confusion(self) -> np.ndarray:
        """``[n, 2, 2]`` readout confusion ``P(measured m | prepared b)`` per logical qubit
        (the noise spec's)."""
        return self.executor.confusion.numpy()

    def bound_circuit(self, x: np.ndarray, theta: np.ndarray) -> cirq.Circuit:
        """The bound active-qubit physical circuit of input ``x`` as a Cirq circuit."""
        from qaa_hw.devices.cirq_convert import to_cirq_circuit

        return to_cirq_circuit(self.executor.bound_circuit(x, theta))

    def ideal_distribution(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Noiseless readout distribution of the same physical circuit (logical order)."""
        from qiskit.quantum_info import Statevector

        state = Statevector(self.executor.bound_circuit(x, theta))
        return np.asarray(state.probabilities(list(self.final_local)), dtype=float)

    def run(self, circuits: Sequence[cirq.Circuit]) -> np.ndarray:
        """Measured distributions ``[len(circuits), 2^n]`` (exact, or shot frequencies).

        Every circuit counts as executed. Exact distributions are cached per circuit (a
        ``cirq.FrozenCircuit``), so a circuit that several techniques or outputs ask for is
        simulated once; shots are still drawn for every execution.
        """
        circuits = list(circuits)
        if not circuits:
            return np.zeros((0, 1 << self.num_logical))
        keys = [c.freeze() for c in circuits]
        todo: dict[cirq.FrozenCircuit, cirq.Circuit] = {}
        for key, circuit in zip(keys, circuits, strict=True):
            if key not in self._cache:
                todo.setdefault(key, circuit)
        if todo:
            if len(self._cache) + len(todo) > CACHE_SIZE:
                self._cache.clear()
            fresh = self._exact_stretched(list(todo.values()))
            self._cache.update(zip(todo, fresh, strict=True))
        exact = np.stack([self._cache[key] for key in keys])
        self.circuits_run += len(circuits)
        if self.shots is None:
            return exact
        self.shots_run += self.shots * len(circuits)
        return np.stack([self._sample(p) for p in exact])

    def idle_grid(self, circuit: cirq.Circuit) -> IdleGrid:
        """The idle windows DDD may fill (:mod:`qaa_hw.mitigation.idle`)."""
        raise NotImplementedError

    def _exact_stretched(self, circuits: list[cirq.Circuit]) -> list[np.ndarray]:
        """Exact distributions; circuits tagged by
        :class:`~qaa_hw.mitigation.scaling.PulseStretch` run on the stretched noise spec."""
        out: list[np.ndarray] = [np.empty(0)] * len(circuits)
        groups: dict[float, list[int]] = {}
        for i, circuit in enumerate(circuits):
            groups.setdefault(stretch_factor(circuit), []).append(i)
        for factor, index in groups.items():
            backend = self if factor == 1.0 else self._stretched(factor)
            for i, probs in zip(index, backend._exact([circuits[i] for i in index]), strict=True):
                out[i] = np.asarray(probs, dtype=float)
        return out

    def _stretched(self, factor: float) -> Backend:
        if factor not in self._stretch_backends:
            self._stretch_backends[factor] = type(self)(
                self.executor.compiled, noise=self.noise.stretched(factor), seed=self.seed
            )
        return self._stretch_backends[factor]

    def _exact(self, circuits: list[cirq.Circuit]) -> list[np.ndarray]:
        raise NotImplementedError

    def _sample(self, probs: np.ndarray) -> np.ndarray:
        assert self.shots is not None
        key = hashlib.blake2b(np.round(probs, 12).tobytes(), digest_size=8).digest()
        draw = self._draws.get(key, 0)
        self._draws[key] = draw + 1
        seed = hashlib.blake2b(
            repr((self.seed, key, draw)).encode(), digest_size=7
        ).digest()
        generator = torch.Generator().manual_seed(int.from_bytes(seed, "little"))
        freq = sample_frequencies(torch.as_tensor(probs)[None], self.shots, generator=generator)
        return freq[0].numpy()


class AerBackend(Backend):
    """Aer density-matrix backend on timed circuits (see the module docstring)."""

    name = "aer"
    executor_class = AerExecutor

    def timed(self, circuit: cirq.Circuit, *, delays: bool = False) -> Any:
        """The lowered, timed Qiskit circuit Aer runs (no measurement).

        Args:
            circuit: a Cirq circuit on the active qubits.
            delays: keep ``delay`` instructions, which the noise model's relaxation pass turns
                into relaxation when Aer runs; by default the same channel
                (the noise spec's relaxation) is put in the circuit directly, which runs several
                times faster (Aer's pass re-walks every circuit in Python).
        """
        return timed_circuit(
            schedule(circuit, self.noise),
            self.num_qubits,
            idle=None if delays and self.noise.idle else self._relaxation,
        )

    def _relaxation(self, qubit: int, seconds: float) -> Any:
        error = self.noise.relaxation_error(qubit, seconds)
        return None if error is None else error.to_instruction()

    def idle_grid(self, circuit: cirq.Circuit) -> IdleGrid:
        """Tick grid of the ASAP schedule (:func:`qaa_hw.mitigation.idle.timed_grid`)."""
        return timed_grid(circuit, self.noise)

    def _exact(self, circuits: list[cirq.Circuit]) -> list[np.ndarray]:
        executor = self.executor
        assert isinstance(executor, AerExecutor)
        out: list[np.ndarray] = []
        for start in range(0, len(circuits), AER_BATCH):
            batch = []
            for circuit in circuits[start : start + AER_BATCH]:
                qc = self.timed(circuit)
                qc.save_probabilities(qubits=list(self.final_local), label="p")
                batch.append(qc)
            for data in executor.simulate(batch):
                out.append(executor.measured_distribution(np.asarray(data["p"], dtype=float)))
        return out


class CirqBackend(Backend):
    """Cirq density-matrix backend (see the module docstring)."""

    name = "cirq"
    executor_class = CirqExecutor

    def idle_grid(self, circuit: cirq.Circuit) -> IdleGrid:
        """Moment grid (:func:`qaa_hw.mitigation.idle.moment_grid`)."""
        return moment_grid(circuit, self.num_qubits)

    def _exact(self, circuits: list[cirq.Circuit]) -> list[np.ndarray]:
        executor = self.executor
        assert isinstance(executor, CirqExecutor)
        return [executor.distribution(_pulses_for_cirq(circuit)) for circuit in circuits]


def _pulses_for_cirq(circuit: cirq.Circuit) -> cirq.Circuit:
    """``Y`` → ``PhasedXPowGate(phase_exponent=0.5)`` (same unitary up to phase, noisy type);
    tags removed (the noise model must see plain gates)."""

    def swap(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        gate = op.gate
        if isinstance(gate, cirq.YPowGate) and abs(float(gate.exponent) % 2 - 1) < 1e-9:
            return cirq.PhasedXPowGate(phase_exponent=0.5).on(*op.qubits)
        return op.untagged

    return cirq.map_operations(circuit, swap)


def make_backend(
    compiled: CompiledAdapter,
    *,
    executor: str = "aer",
    noise: NoiseSpec | bool = True,
    shots: int | None = None,
    seed: int = 0,
) -> Backend:
    """The backend named ``executor`` (:data:`~qaa_hw.mitigation.techniques.EXECUTORS`)."""
    backends: dict[str, type[Backend]] = {"aer": AerBackend, "cirq": CirqBackend}
    if executor not in backends:
        raise ConfigError(f"executor={executor!r} is not valid; accepted: {', '.join(EXECUTORS)}")
    return backends[executor](compiled, noise=noise, shots=shots, seed=seed)
