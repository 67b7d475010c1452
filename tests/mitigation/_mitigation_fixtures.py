"""Helpers of the mitigation tests: small compiled adapters and device variants."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from qaa_hw.analysis.noisy_report import random_problem
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel, scale_noise


def without_readout(device: DeviceModel) -> DeviceModel:
    """``device`` with perfect readout (gate and relaxation noise kept)."""
    qubits = tuple(
        dataclasses.replace(q, prob_meas1_prep0=0.0, prob_meas0_prep1=0.0) for q in device.qubits
    )
    return dataclasses.replace(device, qubits=qubits)


def readout_only(device: DeviceModel, p10: float = 0.03, p01: float = 0.06) -> DeviceModel:
    """``device`` with perfect gates and coherence but readout flips ``p(1|0)``, ``p(0|1)``
    (different per qubit)."""
    ideal = scale_noise(device, 0.0)
    qubits = tuple(
        dataclasses.replace(q, prob_meas1_prep0=p10 * (1 + 0.3 * i),
                            prob_meas0_prep1=p01 * (1 - 0.2 * i))
        for i, q in enumerate(ideal.qubits)
    )
    return dataclasses.replace(ideal, qubits=qubits)


@functools.cache
def brisbane() -> DeviceModel:
    """ibm_brisbane from the catalog (ECR, 127 qubits)."""
    from qaa_hw.devices.catalog import load_device

    return load_device("ibm_brisbane")


@functools.cache
def compiled_on(device: DeviceModel, qubits: int = 3, layers: int = 1) -> CompiledAdapter:
    """``compile_adapter`` of a ring/exact/z adapter, seed 0 (cached per device)."""
    return compile_adapter(QAASpec(num_qubits=qubits, num_layers=layers), device, seed=0)


def problem(compiled: CompiledAdapter, inputs: int = 3, seed: int = 1) -> tuple[np.ndarray, ...]:
    """Seeded ``(x [K, 2^n], theta)`` as the simulate command draws them."""
    return random_problem(compiled, inputs, seed)


def assert_close(a: np.ndarray, b: np.ndarray, atol: float) -> None:
    """Element-wise closeness with a readable failure."""
    diff = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
    assert diff <= atol, f"max difference {diff:.3g} > {atol:.3g}"
