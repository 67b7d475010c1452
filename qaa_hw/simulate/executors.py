"""Reference engines: Qiskit Aer and Cirq density-matrix simulation of a compiled adapter.

Both simulate only the k active qubits (the physical circuit remapped onto ``k`` wires, the
noise model of the restricted device) and take the one
:class:`~qaa_hw.simulate.noise.NoiseSpec`: its device defines the simulator's noise model, its
durations the schedule, its ``idle`` flag whether idle qubits relax, its readout the confusion.

* :class:`AerExecutor`: ``AerSimulator(method="density_matrix")`` with
  :func:`~qaa_hw.devices.qiskit_convert.to_aer_noise_model`. With idle relaxation on, every idle
  interval of the ASAP schedule becomes a ``delay`` that Aer's own noise model relaxes
  (:func:`scheduled_circuit`: an implementation of the idle channel independent of ours). A
  batch goes to Aer in one ``run`` call with ``parameter_binds``.
* :class:`CirqExecutor`: ``cirq.DensityMatrixSimulator`` with
  :func:`~qaa_hw.devices.cirq_convert.to_cirq_noise_model` (readout channel included). Cirq
  relaxes idle qubits in every moment whatever the ``idle`` flag, and its timing and relaxation
  models differ from Aer's (:mod:`qaa_hw.devices.cirq_convert`);
  ``tests/simulate/test_one_physics.py`` bounds the difference (``CIRQ_TOL``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel, scale_noise
from qaa_hw.errors import SimulationError
from qaa_hw.simulate.engine import Capabilities, Engine
from qaa_hw.simulate.noise import NoiseSpec, noise_spec, resolve_noise
from qaa_hw.simulate.results import Result, apply_confusion, stack, z_from_probabilities
from qaa_hw.simulate.schedule import asap, idle_windows, with_idle

logger = logging.getLogger(__name__)

AnglesFn = Callable[[np.ndarray], np.ndarray]


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
    windows = idle_windows(timed, asap(timed, noise.duration_s, k), k, leading=True)
    out = circuit.copy_empty_like()
    for inst in with_idle(gates, windows, lambda w: CircuitInstruction(
        Delay(w.seconds, unit="s"), (out.qubits[w.qubit],), ()
    )):
        out._append(inst)
    return out


class _Executor(Engine):
    """Shared set-up: active-qubit circuit, local readout qubits, noise spec, angle function.

    Args:
        compiled: the compiled adapter.
        noise: the noise (``True``: the device's, idle relaxation on; ``False``: ideal).
        seed: simulator seed.
        embedding_angles: ``x [B, 2^n] -> alpha [B, A]`` (default: ``compiled.embedding``).
    """

    capabilities = Capabilities(density_matrix=True, reference=True)

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise: NoiseSpec | bool = True,
        seed: int = 0,
        embedding_angles: AnglesFn | None = None,
    ) -> None:
        from qaa_hw.simulate.noisy import default_embedding_angles

        self.compiled = compiled
        self.seed = int(seed)
        self.active = tuple(compiled.active_qubits)
        local = {p: i for i, p in enumerate(self.active)}
        self.final_local = tuple(local[q] for q in compiled.final_layout)
        spec = resolve_noise(compiled, noise)
        self.noise = spec
        #: the simulator's noise (ideal: the device at λ = 0, which keeps its durations)
        self.spec: NoiseSpec = spec if spec is not None else noise_spec(
            scale_noise(compiled.device, 0.0), self.active, idle=False
        )
        self.device: DeviceModel = self.spec.device
        self.confusion = self.spec.confusion(self.final_local)
        self.circuit = restrict_circuit(compiled)
        self._angles = embedding_angles or default_embedding_angles(compiled)
        self._build_simulator()

    def _build_simulator(self) -> None:
        """Build the simulator and its noise model from ``self.device``."""

    @property
    def num_logical(self) -> int:
        """n."""
        return len(self.final_local)

    def angles(self, xs: Any) -> np.ndarray:
        """Embedding angles ``[B, A]`` of the zero-padded, normalised rows of ``xs``."""
        from qaa_hw.circuits.embedding import normalise

        rows = normalise(np.atleast_2d(np.asarray(xs, dtype=float)), self.compiled.spec.num_qubits)
        return np.atleast_2d(np.asarray(self._angles(rows)))

    def bound_circuit(self, x: Any, theta: Any) -> Any:
        """The active-qubit circuit bound to input ``x`` and ``theta`` (no measurements)."""
        from qaa_hw.circuits.builder import bind

        return bind(self.circuit, self.angles(x)[0], np.asarray(theta, dtype=float).ravel())

    def measured_distribution(self, true_probs: np.ndarray) -> np.ndarray:
        """The readout confusion applied to a pre-readout distribution ``[2^n]``."""
        probs = torch.tensor(np.asarray(true_probs, dtype=float))[None]
        return apply_confusion(probs, self.confusion)[0].numpy()

    def _rows(self, x: Any, progress: bool) -> Iterable[np.ndarray]:
        rows: Iterable[np.ndarray] = list(np.atleast_2d(np.asarray(x, dtype=float)))
        if progress:
            from tqdm import tqdm

            rows = tqdm(rows, desc=type(self).__name__, unit="input", leave=False)
        return rows

    def _result(self, probs: np.ndarray, rho: np.ndarray | None) -> Result:
        """One input's result from its measured distribution (and pre-readout state)."""
        p = torch.tensor(np.asarray(probs, dtype=float))[None]
        dm = None if rho is None else torch.tensor(np.asarray(rho, dtype=complex))[None]
        return Result(z_from_probabilities(p, self.num_logical), p, dm)


class AerExecutor(_Executor):
    """Qiskit Aer density-matrix reference (see the module docstring)."""

    def _build_simulator(self) -> None:
        from qiskit_aer import AerSimulator

        from qaa_hw.devices.qiskit_convert import to_aer_noise_model

        self.noise_model = to_aer_noise_model(self.device)
        self.simulator = AerSimulator(method="density_matrix", noise_model=self.noise_model)

    def saving_circuit(self, qc: Any) -> Any:
        """``qc`` scheduled (idle relaxation on), saving the measured qubits' density matrix."""
        qc = scheduled_circuit(qc, self.spec) if self.spec.idle else qc.copy()
        qc.save_density_matrix(qubits=list(self.final_local), label="rho")
        return qc

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """All inputs in one ``AerSimulator.run`` call with ``parameter_binds``."""
        alpha = self.angles(x)
        th = np.asarray(theta, dtype=float).ravel()
        qc = self.saving_circuit(self.circuit)
        binds: dict[Any, list[float]] = {}
        for p in qc.parameters:
            name, index = p.vector.name, p.index
            column = alpha[:, index] if name == "alpha" else np.full(len(alpha), th[index])
            binds[p] = [float(v) for v in column]
        data = self.simulate(qc, parameter_binds=[binds])
        return stack([self._from_data(data[j]) for j in range(len(alpha))])

    def simulate(self, circuits: Any, **options: Any) -> list[Any]:
        """``AerSimulator.run(circuits, **options)``'s data per circuit (or binding).

        Raises:
            SimulationError: Aer reports a failure.
        """
        result = self.simulator.run(circuits, shots=1, seed_simulator=self.seed, **options).result()
        if not result.success:
            raise SimulationError(f"Aer failed: {result.status}")
        return [result.data(j) for j in range(len(result.results))]

    def run_each(self, x: Any, theta: Any, *, progress: bool = False) -> Result:
        """Exact outputs with one ``AerSimulator.run`` per bound circuit (the slow way)."""
        circuits = (self.saving_circuit(self.bound_circuit(row, theta))
                    for row in self._rows(x, progress))
        return stack([self._from_data(self.simulate(qc)[0]) for qc in circuits])

    def _from_data(self, data: Any) -> Result:
        rho = np.asarray(data["rho"], dtype=complex)
        return self._result(self.measured_distribution(np.real(np.diag(rho))), rho)


class CirqExecutor(_Executor):
    """Cirq density-matrix reference (see the module docstring); its noise model relaxes idle
    qubits in every moment, whatever the spec's ``idle`` says."""

    capabilities = Capabilities(density_matrix=True, reference=True, idle_switch=False)

    def _build_simulator(self) -> None:
        from qaa_hw.devices.cirq_convert import to_cirq_noise_model

        self.noise_model = to_cirq_noise_model(self.device)

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """One Cirq simulation per input (and an unmeasured one for each density matrix)."""
        import cirq

        from qaa_hw.devices.cirq_convert import to_cirq_circuit

        qubits = cirq.LineQubit.range(len(self.active))
        out = []
        for row in self._rows(x, progress):
            plain = to_cirq_circuit(self.bound_circuit(row, theta))
            noisy = cirq.Circuit(self.noise_model.noisy_moments(plain.moments, qubits))
            dm = self.measured_state(noisy) if density_matrices else None
            out.append(self._result(self.distribution(plain), dm))
        return stack(out)

    def distribution(self, circuit: Any) -> np.ndarray:
        """Measured distribution ``[2^n]`` of a Cirq circuit on the active ``LineQubit`` s:
        measured on the ``final_layout`` qubits under the noise model, the measurement gates
        removed but the readout channel Cirq inserts before them kept."""
        import cirq

        qubits = cirq.LineQubit.range(len(self.active))
        readout = cirq.Moment(
            cirq.measure(qubits[q], key=f"c{i}") for i, q in enumerate(self.final_local)
        )
        measured = cirq.Circuit([*circuit.moments, readout])
        noisy = cirq.Circuit(self.noise_model.noisy_moments(measured.moments, qubits))
        stripped = cirq.Circuit(
            cirq.Moment(op for op in m if not cirq.is_measurement(op)) for m in noisy
        )
        return np.real(np.diag(self.measured_state(stripped)))

    def measured_state(self, circuit: Any) -> np.ndarray:
        """Final reduced density matrix of the ``final_layout`` qubits, bit ``i`` of the index
        logical qubit ``i`` (Cirq orders the qubits it is given most significant first)."""
        import cirq

        n, k = self.num_logical, len(self.active)
        rest = [q for q in range(k) if q not in self.final_local]
        order = [cirq.LineQubit(q) for q in (*reversed(self.final_local), *rest)]
        sim = cirq.DensityMatrixSimulator(dtype=np.complex128)
        rho = np.asarray(sim.simulate(circuit, qubit_order=order).final_density_matrix)
        r = 1 << len(rest)
        return np.einsum("arbr->ab", rho.reshape(1 << n, r, 1 << n, r))
