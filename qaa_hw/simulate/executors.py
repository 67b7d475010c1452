"""Reference executors: Qiskit Aer and Cirq density-matrix simulation of a compiled adapter.

Both simulate only the k active qubits: the physical circuit is remapped onto ``k`` wires
(local qubit ``i`` = ``compiled.active_qubits[i]``) and run with the noise model of
``restrict(device, active_qubits)``, never a 127-qubit state.

Both take the one :class:`~qaa_hw.simulate.noise.NoiseSpec` (``noise=True``: the device's):
its restricted device defines the simulator's noise model, its durations the schedule, its
``idle`` flag whether idle qubits relax, its readout the confusion.

* :class:`AerExecutor`: ``AerSimulator(method="density_matrix")`` with
  :func:`~qaa_hw.devices.qiskit_convert.to_aer_noise_model`. With idle relaxation on, the
  circuit is scheduled ASAP (:func:`scheduled_circuit`) and every idle interval of every active
  qubit, from the start to the end of the circuit, becomes a ``delay`` that Aer's own noise
  model relaxes (an independent implementation of the idle channel the in-house engines insert).
  Exact mode (``shots=None``) saves the density matrix of the ``final_layout`` qubits and
  applies the readout confusion to its diagonal (Aer applies readout errors only to sampled
  measurements); with ``shots`` the circuit is measured on ``final_layout`` and Aer samples
  counts, readout errors included.
* :class:`CirqExecutor`: ``cirq.DensityMatrixSimulator`` with
  :func:`~qaa_hw.devices.cirq_convert.to_cirq_noise_model`. Exact mode builds the noisy circuit
  (``noise_model.noisy_moments``) of the measured circuit, removes the measurement gates but
  keeps the readout channel Cirq inserts before them, and reads the final diagonal; with
  ``shots`` it samples ``run(repetitions=shots)``.

Aer and Cirq differ by construction (see :mod:`qaa_hw.devices.cirq_convert`): Cirq relaxes
idle qubits for every moment, whatever the spec's ``idle`` flag, and makes a moment as long as
its longest gate, where Aer follows the ASAP schedule; Cirq subtracts the relaxation Pauli error
linearly where Aer solves for the depolarising parameter exactly; Cirq uses one median duration
per gate type. Measured max |<Z>_Aer - <Z>_Cirq| on qaa_hw-compiled adapters (L = 2, ring, 4
random inputs; ``tests/simulate/test_one_physics.py``): 0.009-0.019 on ibm_brisbane and
google_weber for n = 3 and 4 with idle relaxation on (0.04-0.08 with it off), where the noise
itself moves <Z> by up to 0.17-0.26. Without T1/T2 (only gate depolarising and readout) they
agree to 1e-10, and exactly on a noiseless device, which pins the difference on the relaxation
models. ``tests/simulate/test_executors.py`` checks those regimes.

Results are :class:`ExecutorResult` records (numpy, logical qubit order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import SimulationError
from qaa_hw.simulate.noise import NoiseSpec, noise_spec
from qaa_hw.simulate.schedule import asap, idle_windows

logger = logging.getLogger(__name__)

AnglesFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ExecutorResult:
    """Outputs of one input (or a stack of inputs: a leading batch axis on every array).

    Attributes:
        expectations: measured ``<Z_i>``, logical order.
        probabilities: measured distribution over the ``2^n`` readout bitstrings (exact, or
            shot frequencies).
        density_matrix: state of the measured qubits before readout, when the executor
            provides it (Aer always; Cirq with ``density_matrix=True``).
        shots: shots per input, ``None`` for exact values.
    """

    expectations: np.ndarray
    probabilities: np.ndarray
    density_matrix: np.ndarray | None = None
    shots: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {
            "expectations": self.expectations.tolist(),
            "probabilities": self.probabilities.tolist(),
            "shots": self.shots,
        }


def check_shots(shots: int | None) -> int | None:
    """Validate a shot count: ``None`` (exact) or an integer >= 1."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise SimulationError(f"shots={shots!r} is not valid; accepted: None (exact) or >= 1")
    return int(shots)


def z_from_probabilities(probs: np.ndarray, n: int) -> np.ndarray:
    """``<Z_i>`` (last axis) from probabilities over ``2^n`` bitstrings (last axis)."""
    index = np.arange(1 << n)
    signs = np.stack([1 - 2 * ((index >> i) & 1) for i in range(n)], axis=1)
    return np.asarray(probs @ signs, dtype=float)


def restrict_circuit(compiled: CompiledAdapter) -> Any:
    """The physical circuit on its active qubits only (``k`` wires, parameters kept)."""
    from qiskit.circuit import QuantumCircuit

    source = compiled.circuit
    local = {p: i for i, p in enumerate(compiled.active_qubits)}
    out = QuantumCircuit(len(local), name=f"{source.name}_active")
    out.global_phase = source.global_phase
    for inst in source.data:
        qubits = [out.qubits[local[source.find_bit(q).index]] for q in inst.qubits]
        if inst.clbits:
            raise SimulationError("the compiled circuit must not contain measurements")
        out.append(inst.operation, qubits)
    return out


def scheduled_circuit(circuit: Any, noise: NoiseSpec) -> Any:
    """``circuit`` (on the k active wires) with a ``delay`` (unit ``s``) on every idle interval
    of its ASAP schedule, from time 0 to the end of the circuit (parameters kept)."""
    from qiskit.circuit import CircuitInstruction, Delay

    k = circuit.num_qubits
    gates = [inst for inst in circuit.data if inst.operation.name != "barrier"]
    timed = [
        (inst.operation.name, tuple(circuit.find_bit(q).index for q in inst.qubits))
        for inst in gates
    ]
    for name, _ in timed:
        if name in ("measure", "delay", "reset"):
            raise SimulationError(f"cannot schedule {name!r}: expected native gates only")
    slots = asap(timed, noise.duration_s, k)
    windows: dict[int, list[tuple[int, float]]] = {}
    for w in idle_windows(timed, slots, k, leading=True):
        windows.setdefault(w.before, []).append((w.qubit, w.seconds))
    out = circuit.copy_empty_like()
    for position in range(len(gates) + 1):
        for q, seconds in windows.get(position, []):
            out._append(CircuitInstruction(Delay(seconds, unit="s"), (out.qubits[q],), ()))
        if position < len(gates):
            out._append(gates[position])
    return out


class _Executor:
    """Shared set-up: active-qubit circuit, local readout qubits, angle function."""

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise: NoiseSpec | bool,
        shots: int | None,
        seed: int,
        embedding_angles: AnglesFn | None,
    ) -> None:
        from qaa_hw.simulate.noisy import default_embedding_angles

        self.compiled = compiled
        self.shots = check_shots(shots)
        self.seed = int(seed)
        self.active = tuple(compiled.active_qubits)
        local = {p: i for i, p in enumerate(self.active)}
        self.final_local = tuple(local[q] for q in compiled.final_layout)
        if isinstance(noise, bool):
            from qaa_hw.devices.model import scale_noise

            device = compiled.device if noise else scale_noise(compiled.device, 0.0)
            noise = noise_spec(device, self.active)
        self.noise = noise
        self.device: DeviceModel = noise.device
        self.confusion = noise.confusion(self.final_local).numpy()
        self.circuit = restrict_circuit(compiled)
        self._angles = embedding_angles or default_embedding_angles(compiled)
        self._calls = 0

    @property
    def num_logical(self) -> int:
        """n."""
        return len(self.final_local)

    def bound_circuit(self, x: np.ndarray, theta: np.ndarray) -> Any:
        """The active-qubit circuit bound to input ``x`` and ``theta`` (no measurements)."""
        from qaa_hw.circuits.builder import bind
        from qaa_hw.circuits.embedding import normalise

        xs = normalise(np.atleast_2d(np.asarray(x, dtype=float)), self.compiled.spec.num_qubits)
        alpha = np.asarray(self._angles(xs))[0]
        return bind(self.circuit, alpha, np.asarray(theta, dtype=float).ravel())

    def measured(self, qc: Any) -> Any:
        """A copy of ``qc`` measuring logical qubit i (``final_local[i]``) into clbit i."""
        from qiskit import ClassicalRegister

        out = qc.copy()
        out.add_register(ClassicalRegister(self.num_logical, "c"))
        for i, q in enumerate(self.final_local):
            out.measure(q, i)
        return out

    def run(self, x: np.ndarray, theta: np.ndarray) -> ExecutorResult:
        """Simulate one input vector ``x`` with trainable values ``theta``."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray, theta: np.ndarray) -> ExecutorResult:
        return self.run(x, theta)

    def run_batch(
        self, xs: Iterable[np.ndarray], theta: np.ndarray, *, progress: bool = False
    ) -> ExecutorResult:
        """Simulate inputs one circuit at a time; arrays gain a leading batch axis."""
        rows = list(np.atleast_2d(np.asarray(list(xs), dtype=float)))
        iterator: Iterable[np.ndarray] = rows
        if progress:
            from tqdm import tqdm

            iterator = tqdm(rows, desc=type(self).__name__, unit="input", leave=False)
        results = [self.run(x, theta) for x in iterator]
        return _stack(results, self.shots)

    def _next_seed(self) -> int:
        self._calls += 1
        return self.seed + self._calls - 1


def _stack(results: list[ExecutorResult], shots: int | None) -> ExecutorResult:
    dms = [r.density_matrix for r in results]
    return ExecutorResult(
        expectations=np.stack([r.expectations for r in results]),
        probabilities=np.stack([r.probabilities for r in results]),
        density_matrix=None if any(d is None for d in dms) else np.stack(dms),  # type: ignore[arg-type]
        shots=shots,
    )


def apply_confusion(probs: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Measured distribution: ``confusion[i, b, m] = P(m|b)`` applied on each logical qubit."""
    n = confusion.shape[0]
    t = np.asarray(probs, dtype=float).reshape((2,) * n)
    for i in range(n):
        axis = n - 1 - i
        t = np.moveaxis(np.moveaxis(t, axis, -1) @ confusion[i], -1, axis)
    return t.reshape(1 << n)


class AerExecutor(_Executor):
    """Qiskit Aer density-matrix reference (see the module docstring).

    Args:
        compiled: the compiled adapter.
        noise: the noise (``True``: the device's, idle relaxation on; ``False``: ideal).
        shots: ``None`` for exact values, else shots per input.
        seed: simulator seed (input ``j`` of a session uses ``seed + j``).
        embedding_angles: ``x [B, 2^n] -> alpha [B, A]`` (default: ``compiled.embedding``).
    """

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise: NoiseSpec | bool = True,
        shots: int | None = None,
        seed: int = 0,
        embedding_angles: AnglesFn | None = None,
    ) -> None:
        super().__init__(compiled, noise=noise, shots=shots, seed=seed,
                         embedding_angles=embedding_angles)
        from qiskit_aer import AerSimulator

        from qaa_hw.devices.qiskit_convert import to_aer_noise_model

        self.noise_model = to_aer_noise_model(self.device)
        self.simulator = AerSimulator(method="density_matrix", noise_model=self.noise_model)

    def measured_circuit(self, qc: Any) -> Any:
        """Schedule (idle relaxation on), save the density matrix of the measured qubits,
        then measure them (shots only)."""
        qc = scheduled_circuit(qc, self.noise) if self.noise.idle else qc.copy()
        qc.save_density_matrix(qubits=list(self.final_local), label="rho")
        return qc if self.shots is None else self.measured(qc)

    def result_from(self, data: Any, counts: dict[str, int] | None) -> ExecutorResult:
        """Convert one experiment's saved data or counts to an :class:`ExecutorResult`."""
        n = self.num_logical
        rho = np.asarray(data["rho"], dtype=complex)
        if self.shots is None:
            probs = apply_confusion(np.real(np.diag(rho)), self.confusion)
            return ExecutorResult(z_from_probabilities(probs, n), probs, rho, None)
        assert counts is not None
        freq = np.zeros(1 << n)
        for key, value in counts.items():
            freq[int(key.replace(" ", ""), 2)] += value
        freq /= freq.sum()
        return ExecutorResult(z_from_probabilities(freq, n), freq, rho, self.shots)

    def run(self, x: np.ndarray, theta: np.ndarray) -> ExecutorResult:
        """One AerSimulator run for one input."""
        qc = self.measured_circuit(self.bound_circuit(x, theta))
        result = self.simulator.run(qc, shots=self.shots or 1,
                                    seed_simulator=self._next_seed()).result()
        if not result.success:
            raise SimulationError(f"Aer failed: {result.status}")
        counts = result.get_counts(0) if self.shots else None
        return self.result_from(result.data(0), counts)

    def run_parameter_binds(self, xs: np.ndarray, theta: np.ndarray) -> ExecutorResult:
        """All inputs in one ``AerSimulator.run`` call with ``parameter_binds``."""
        from qaa_hw.circuits.embedding import normalise

        xs2 = normalise(np.atleast_2d(np.asarray(xs, dtype=float)), self.compiled.spec.num_qubits)
        alpha = np.asarray(self._angles(xs2))
        th = np.asarray(theta, dtype=float).ravel()
        qc = self.measured_circuit(self.circuit)
        binds: dict[Any, list[float]] = {}
        for p in qc.parameters:
            name, index = p.vector.name, p.index
            column = alpha[:, index] if name == "alpha" else np.full(len(xs2), th[index])
            binds[p] = [float(v) for v in column]
        result = self.simulator.run(qc, parameter_binds=[binds], shots=self.shots or 1,
                                    seed_simulator=self._next_seed()).result()
        if not result.success:
            raise SimulationError(f"Aer failed: {result.status}")
        rows = [
            self.result_from(result.data(j), result.get_counts(j) if self.shots else None)
            for j in range(len(xs2))
        ]
        return _stack(rows, self.shots)


class CirqExecutor(_Executor):
    """Cirq density-matrix reference (see the module docstring).

    Args:
        compiled: the compiled adapter.
        shots: ``None`` for exact values, else repetitions per input.
        seed: simulator seed (input ``j`` of a session uses ``seed + j``).
        embedding_angles: ``x [B, 2^n] -> alpha [B, A]`` (default: ``compiled.embedding``).
        density_matrix: also return the pre-readout state of the measured qubits (costs a
            second, unmeasured simulation).
        noise: the noise (``True``: the device's; Cirq's model always relaxes idle qubits).
    """

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        shots: int | None = None,
        seed: int = 0,
        embedding_angles: AnglesFn | None = None,
        density_matrix: bool = False,
        noise: NoiseSpec | bool = True,
    ) -> None:
        super().__init__(compiled, noise=noise, shots=shots, seed=seed,
                         embedding_angles=embedding_angles)
        from qaa_hw.devices.cirq_convert import to_cirq_noise_model

        self.noise_model = to_cirq_noise_model(self.device)
        self.want_density_matrix = density_matrix

    def run(self, x: np.ndarray, theta: np.ndarray) -> ExecutorResult:
        """One Cirq simulation for one input."""
        import cirq

        from qaa_hw.devices.cirq_convert import to_cirq_circuit

        n, k = self.num_logical, len(self.active)
        qubits = cirq.LineQubit.range(k)
        plain = self.bound_circuit(x, theta)
        measured = to_cirq_circuit(self.measured(plain))
        dm = None
        if self.want_density_matrix:
            unmeasured = to_cirq_circuit(plain)
            full = _final_density_matrix(
                cirq.Circuit(self.noise_model.noisy_moments(unmeasured.moments, qubits)), qubits
            )
            dm = _reduce(full, self.final_local, k)
        if self.shots is not None:
            sim = cirq.DensityMatrixSimulator(noise=self.noise_model, seed=self._next_seed())
            samples = sim.run(measured, repetitions=self.shots)
            bits = np.stack([samples.measurements[f"c{i}"][:, 0] for i in range(n)], axis=1)
            index = (bits.astype(np.int64) << np.arange(n)).sum(axis=1)
            freq = np.bincount(index, minlength=1 << n) / self.shots
            return ExecutorResult(z_from_probabilities(freq, n), freq, dm, self.shots)
        noisy = cirq.Circuit(self.noise_model.noisy_moments(measured.moments, qubits))
        stripped = cirq.Circuit(
            cirq.Moment(op for op in m if not cirq.is_measurement(op)) for m in noisy
        )
        rho = _final_density_matrix(stripped, qubits)
        probs = _marginal(np.real(np.diag(rho)), self.final_local, k)
        return ExecutorResult(z_from_probabilities(probs, n), probs, dm, None)


def _final_density_matrix(circuit: Any, qubits: list[Any]) -> np.ndarray:
    import cirq

    sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
    result = sim.simulate(circuit, qubit_order=qubits)
    return np.asarray(result.final_density_matrix, dtype=complex)


def _marginal(diag: np.ndarray, final_local: tuple[int, ...], k: int) -> np.ndarray:
    """Cirq big-endian diagonal (qubit 0 most significant) -> logical-order probabilities."""
    t = diag.reshape((2,) * k)  # axis i = LineQubit(i)
    others = tuple(a for a in range(k) if a not in final_local)
    t = t.sum(axis=others) if others else t
    kept = sorted(final_local)
    # axes now follow sorted(final_local); logical MSB first -> order reversed(final_local)
    t = np.transpose(t, [kept.index(q) for q in reversed(final_local)])
    return t.reshape(-1)


def _reduce(rho: np.ndarray, final_local: tuple[int, ...], k: int) -> np.ndarray:
    """Reduced state of ``final_local`` in logical order from a Cirq (big-endian) matrix."""
    n = len(final_local)
    t = rho.reshape((2,) * (2 * k))
    rows = list(reversed(final_local))
    rest = [a for a in range(k) if a not in final_local]
    t = np.transpose(t, rows + [k + a for a in rows] + rest + [k + a for a in rest])
    r = 1 << len(rest)
    t = t.reshape(1 << n, 1 << n, r, r)
    return np.einsum("abrr->ab", t)
