"""What a device runs: the compiled circuit with measurements, its parameter table, exports.

* :func:`measured_circuit` is the compiled ISA circuit (device width, native basis) with
  logical qubit ``i`` (physical ``final_layout[i]``) measured into clbit ``i`` of register
  ``c``; with ``delays`` every idle window of the ASAP schedule
  (:func:`qaa_hw.simulate.executors.scheduled_circuit`) is an explicit ``delay``, so the
  device idles where the noise model says it does and DDD can fill the windows.
* :func:`parameter_values` is the ``[B, P]`` table of one parameterised PUB: one row per input,
  columns in ``circuit.parameters`` order (compile once, bind per input).
* :func:`bound_qasm` writes one OpenQASM 3 program per input, measurements included.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qiskit import ClassicalRegister, QuantumCircuit

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import ConfigError
from qaa_hw.simulate.noise import NoiseSpec

#: Name of the classical register the measurements go to.
CREG = "c"


def on_device_wires(compiled: CompiledAdapter, local: QuantumCircuit) -> QuantumCircuit:
    """An active-qubit circuit (wire i = ``active_qubits[i]``) put back on the device's wires."""
    out = QuantumCircuit(compiled.circuit.num_qubits, name=compiled.circuit.name)
    out.global_phase = local.global_phase
    for inst in local.data:
        wires = [out.qubits[compiled.active_qubits[local.find_bit(q).index]] for q in inst.qubits]
        out.append(inst.operation, wires)
    return out


def measured_circuit(
    compiled: CompiledAdapter, *, noise: NoiseSpec | None = None, dt: float | None = None
) -> QuantumCircuit:
    """The compiled circuit measuring logical qubit ``i`` into clbit ``i`` (parameters kept).

    Args:
        compiled: the compiled adapter.
        noise: with a spec, the idle windows of its ASAP schedule become ``delay`` s.
        dt: the backend's sample time; delays are then in whole ``dt`` (what IBM devices take),
            else in seconds.
    """
    if noise is None:
        qc = compiled.circuit.copy()
    else:
        from qaa_hw.simulate.executors import restrict_circuit, scheduled_circuit

        qc = on_device_wires(compiled, scheduled_circuit(restrict_circuit(compiled), noise))
    return with_measurements(compiled, qc, dt=dt)


def with_measurements(compiled: CompiledAdapter, qc: QuantumCircuit, *, dt: float | None = None
                      ) -> QuantumCircuit:
    """A copy of device-wide ``qc`` measuring logical qubit ``i`` (physical
    ``final_layout[i]``) into clbit ``i`` of register ``c``; delays in whole ``dt`` if given."""
    out = _delays_in_dt(qc, dt) if dt else qc.copy()
    out.add_register(ClassicalRegister(compiled.spec.num_qubits, CREG))
    for i, q in enumerate(compiled.final_layout):
        out.measure(q, i)
    return out


def _delays_in_dt(qc: QuantumCircuit, dt: float) -> QuantumCircuit:
    """Delays converted from seconds to whole samples (zero-length ones dropped)."""
    from qiskit.circuit import Delay

    out = qc.copy_empty_like()
    for inst in qc.data:
        op = inst.operation
        if op.name == "delay" and op.unit == "s":
            samples = round(float(op.duration) / dt)
            if samples <= 0:
                continue
            out.append(Delay(samples, unit="dt"), inst.qubits)
        else:
            out.append(op, inst.qubits, inst.clbits)
    return out


def embedding_angles(compiled: CompiledAdapter, xs: Any) -> np.ndarray:
    """``alpha [B, A]`` of the zero-padded, normalised rows of ``xs``."""
    from qaa_hw.circuits.embedding import normalise
    from qaa_hw.simulate.noisy import default_embedding_angles

    rows = normalise(np.atleast_2d(np.asarray(xs, dtype=float)), compiled.spec.num_qubits)
    return np.atleast_2d(np.asarray(default_embedding_angles(compiled)(rows)))


def parameter_values(circuit: QuantumCircuit, alpha: np.ndarray, theta: Any) -> np.ndarray:
    """``[B, P]`` values of ``circuit.parameters`` (``alpha[i]`` per row, ``theta`` shared).

    Raises:
        ConfigError: a parameter that is neither ``alpha[i]`` nor ``theta[i]``, or ``theta``
            of the wrong length.
    """
    th = np.asarray(theta, dtype=float).ravel()
    columns = []
    for p in circuit.parameters:
        vector = getattr(p, "vector", None)
        name = getattr(vector, "name", None)
        if name == "alpha":
            columns.append(alpha[:, p.index])
        elif name == "theta" and vector is not None:
            if len(th) != len(vector):
                raise ConfigError(f"theta has {len(th)} values; the adapter needs {len(vector)}")
            columns.append(np.full(len(alpha), th[p.index]))
        else:
            raise ConfigError(f"circuit parameter {p.name!r} is neither alpha[i] nor theta[i]")
    return np.stack(columns, axis=1) if columns else np.zeros((len(alpha), 0))


def check_theta(compiled: CompiledAdapter, theta: Any) -> np.ndarray:
    """``theta`` as a float vector of the adapter's length.

    Raises:
        ConfigError: wrong length or non-finite values.
    """
    th = np.asarray(theta, dtype=float).ravel()
    need = compiled.spec.num_parameters
    if len(th) != need or not np.all(np.isfinite(th)):
        raise ConfigError(
            f"theta has {len(th)} values (finite: {bool(np.all(np.isfinite(th)))}); "
            f"accepted: {need} finite values for this adapter"
        )
    return th


def check_inputs(compiled: CompiledAdapter, xs: Any) -> np.ndarray:
    """``xs`` as ``[B, <=2^n]`` float rows with non-zero norm.

    Raises:
        ConfigError: wrong shape, non-finite or all-zero rows.
    """
    arr = np.asarray(xs, dtype=float)
    arr = arr[None] if arr.ndim == 1 else arr
    dim = compiled.spec.dim
    if arr.ndim != 2 or not 1 <= arr.shape[1] <= dim or len(arr) == 0:
        raise ConfigError(
            f"inputs of shape {tuple(np.shape(xs))} are not valid; accepted: [B, <= {dim}] "
            f"rows for n={compiled.spec.num_qubits}"
        )
    bad = ~np.isfinite(arr).all(axis=1) | (np.abs(arr).sum(axis=1) == 0)
    if bad.any():
        raise ConfigError(
            f"input row {int(np.argmax(bad))} is not valid (non-finite or all zero); "
            "accepted: finite rows with a non-zero entry"
        )
    return arr


def bound_qasm(compiled: CompiledAdapter, xs: Any, theta: Any) -> list[str]:
    """One OpenQASM 3 program per input row: the measured circuit bound to it and ``theta``."""
    from qiskit import qasm3

    rows = check_inputs(compiled, xs)
    th = check_theta(compiled, theta)
    qc = measured_circuit(compiled)
    values = parameter_values(qc, embedding_angles(compiled, rows), th)
    params = list(qc.parameters)
    return [
        qasm3.dumps(qc.assign_parameters(dict(zip(params, map(float, row), strict=True))))
        for row in values
    ]
