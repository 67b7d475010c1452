"""Compiled adapters for the noisy-engine tests, independent of the qaa_hw compiler.

The logical QAA circuit (default embedding plan, a ``qaa:ansatz`` barrier, the ansatz) is
transpiled by Qiskit onto a chosen layout of a device, at optimisation level 1, which keeps
the barrier and routes the ring entangler with SWAPs (so prep and ansatz see permuted
layouts, and ancilla qubits may become active).
"""

from __future__ import annotations

import functools

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import ParameterVector

from qaa_hw.circuits.ansatz import append_ansatz
from qaa_hw.circuits.plans import plan_embedding
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.compiled import CompiledAdapter, CompileMetrics
from qaa_hw.devices.model import DeviceModel, scale_noise
from qaa_hw.devices.qiskit_convert import to_target

#: A connected heavy-hex path on ibm_brisbane (row 0, then down the bridge at 14/18).
BRISBANE_PATH = (0, 1, 2, 3, 4, 5, 6)


@functools.cache
def brisbane() -> DeviceModel:
    """ibm_brisbane (127 qubits, ECR, calibration snapshot of qiskit_ibm_runtime)."""
    from qaa_hw.devices.catalog import load_device

    return load_device("ibm_brisbane")


def logical_circuit(spec: QAASpec) -> QuantumCircuit:
    """Embedding + ``qaa:ansatz`` barrier + ansatz, parameterised by alpha and theta."""
    plan = plan_embedding(spec)
    alpha = ParameterVector("alpha", plan.num_angles)
    theta = ParameterVector("theta", spec.num_parameters)
    qc = QuantumCircuit(spec.num_qubits)
    plan.append_to(qc, alpha)
    qc.barrier(label="qaa:ansatz")
    append_ansatz(qc, spec, theta)
    return qc


def compiled_adapter(
    spec: QAASpec,
    device: DeviceModel,
    layout: tuple[int, ...],
    *,
    noise_scale: float = 1.0,
    seed: int = 0,
) -> CompiledAdapter:
    """The spec transpiled onto ``layout`` of ``device`` (scaled by ``noise_scale``)."""
    dev = scale_noise(device, noise_scale)
    qc = transpile(
        logical_circuit(spec),
        target=to_target(dev),
        initial_layout=list(layout[: spec.num_qubits]),
        optimization_level=1,
        seed_transpiler=seed,
    )
    final = tuple(qc.layout.final_index_layout())
    metrics = CompileMetrics(0, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0)
    return CompiledAdapter(spec, dev, qc, tuple(layout[: spec.num_qubits]), final, metrics,
                           method="test: qiskit transpile O1")


def random_inputs(spec: QAASpec, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian input rows (unnormalised, full width) and theta ~ U(-pi, pi)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, spec.dim))
    theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
    return x, theta
