"""Shared fixtures of the hardware tests: compiled adapters and a seeded problem."""

from __future__ import annotations

import numpy as np
import pytest

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.catalog import load_device

SPEC = QAASpec(num_qubits=3, num_layers=2)


def problem(spec: QAASpec, inputs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(x [K, 2^n], theta [P])`` drawn with a seeded generator."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((inputs, spec.dim)), rng.uniform(-np.pi, np.pi, spec.num_parameters)


@pytest.fixture(scope="session")
def brisbane3() -> CompiledAdapter:
    return compile_adapter(SPEC, load_device("ibm_brisbane"), seed=0)


@pytest.fixture(scope="session")
def weber3() -> CompiledAdapter:
    return compile_adapter(SPEC, load_device("google_weber"), seed=0)


def z_scores(measured: np.ndarray, predicted: np.ndarray, shots: int) -> np.ndarray:
    """``(measured - predicted) / SE`` with the binomial SE of the measured ``<Z>``."""
    se = np.sqrt(np.clip(1 - measured**2, 1e-12, None) / shots)
    return (measured - predicted) / se
