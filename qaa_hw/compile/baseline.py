"""The peer we measure against: Qiskit's own level-3 preset pass manager.

Qiskit compiles a *bound* circuit (one input vector, one set of trainable values): that is
how a user without qaa_hw would run an adapter, and it lets Qiskit resynthesise two-qubit
blocks numerically, which a parameterised circuit cannot. Two logical circuits are offered
to Qiskit, both with final measurements (so that its VF2PostLayout scores readout errors):

* ``"ours"``: our logical circuit (:func:`~qaa_hw.circuits.builder.build_qaa_circuit`,
  Möttönen embedding with merged CNOTs) bound to the input;
* ``"stateprep"``: Qiskit's ``StatePreparation`` of the same normalised vector followed by
  the bound ansatz;
* ``"auto"`` (default): both, keeping the better ESP.

Metrics are computed by :mod:`qaa_hw.compile.metrics` exactly as for our compiler.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qaa_hw.circuits.ansatz import build_ansatz
from qaa_hw.circuits.builder import build_qaa_circuit
from qaa_hw.circuits.embedding import normalise
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.compile.metrics import compute_metrics
from qaa_hw.devices.model import DeviceModel
from qaa_hw.errors import CompilationError, ConfigError

SOURCES = ("auto", "ours", "stateprep")


def baseline_inputs(spec: QAASpec, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A reproducible random input vector (signed) and trainable values for a baseline run."""
    rng = np.random.default_rng(10_000 + seed)
    return rng.normal(size=spec.dim), rng.uniform(-np.pi, np.pi, size=spec.num_parameters)


def _pairs(spec: QAASpec) -> tuple[tuple[int, int], ...] | None:
    """Entangler pairs for the peer: a ``native`` spec without pairs gets a line."""
    if spec.entangler != "native":
        return None
    if spec.native_pairs is not None:
        return spec.native_pairs
    return tuple((q, q + 1) for q in range(spec.num_qubits - 1))


def logical_bound_circuit(
    spec: QAASpec, x: np.ndarray, theta: np.ndarray, *, source: str
) -> QuantumCircuit:
    """The bound logical circuit handed to Qiskit (``source`` ``"ours"`` or ``"stateprep"``)."""
    pairs = _pairs(spec)
    if source == "ours":
        return build_qaa_circuit(spec, pairs=pairs).bind(x, theta)
    if source != "stateprep":
        raise ConfigError(f"source={source!r} is not valid; accepted: ours, stateprep")
    from qiskit.circuit.library import StatePreparation

    n = spec.num_qubits
    qc = QuantumCircuit(n)
    qc.append(StatePreparation(normalise(np.asarray(x)[None, :], n)[0]), range(n))
    qc.compose(build_ansatz(spec, pairs=pairs).assign_parameters(theta), inplace=True)
    return qc


def compile_with_qiskit(
    spec: QAASpec,
    device: DeviceModel,
    *,
    seed: int = 0,
    x: np.ndarray | None = None,
    theta: np.ndarray | None = None,
    source: str = "auto",
) -> CompiledAdapter:
    """Qiskit level 3 (``seed_transpiler=seed``) on the bound logical circuit.

    Args:
        spec: the adapter (a ``native`` entangler without pairs uses a line).
        device: the device; converted with :func:`~qaa_hw.devices.qiskit_convert.to_target`.
        seed: Qiskit's ``seed_transpiler`` (and the default input's seed).
        x: input vector (default :func:`baseline_inputs`).
        theta: trainable values (default :func:`baseline_inputs`).
        source: ``"ours"``, ``"stateprep"`` or ``"auto"`` (see the module docstring).

    Returns:
        A :class:`CompiledAdapter` with a *bound* circuit (``embedding`` is ``None``).
    """
    from qaa_hw.devices.qiskit_convert import to_target

    if source not in SOURCES:
        raise ConfigError(f"source={source!r} is not valid; accepted: {', '.join(SOURCES)}")
    if spec.num_qubits > device.num_qubits:
        raise CompilationError(f"the adapter needs {spec.num_qubits} qubits but device "
                               f"{device.name!r} has only {device.num_qubits}")
    default_x, default_theta = baseline_inputs(spec, seed)
    vec = default_x if x is None else np.asarray(x, dtype=float)
    values = default_theta if theta is None else np.asarray(theta, dtype=float)
    pm = generate_preset_pass_manager(optimization_level=3, target=to_target(device),
                                      seed_transpiler=seed)
    best: CompiledAdapter | None = None
    for src in (("ours", "stateprep") if source == "auto" else (source,)):
        logical = logical_bound_circuit(spec, vec, values, source=src)
        logical.measure_all()
        result = from_transpiled(pm.run(logical), spec, device,
                                 method=f"qiskit level 3 (seed {seed}, {src} circuit, bound)")
        if best is None or result.metrics.esp > best.metrics.esp:
            best = result
    assert best is not None
    return best


def from_transpiled(
    transpiled: QuantumCircuit, spec: QAASpec, device: DeviceModel, *, method: str
) -> CompiledAdapter:
    """Record for a Qiskit-transpiled circuit ending in measurements of all logical qubits."""
    gates = transpiled.copy_empty_like()
    measured: dict[int, int] = {}
    for inst in transpiled.data:
        name = inst.operation.name
        if name == "measure":
            clbit = transpiled.find_bit(inst.clbits[0]).index
            measured[clbit] = transpiled.find_bit(inst.qubits[0]).index
        elif name != "barrier":
            gates.append(inst)
    n = spec.num_qubits
    final = tuple(measured[i] for i in range(n))
    layout = transpiled.layout
    initial: Sequence[int] = (
        layout.initial_index_layout(filter_ancillas=True)[:n] if layout is not None
        else list(range(n))
    )
    physical = QuantumCircuit(device.num_qubits, name=gates.name)
    physical.global_phase = gates.global_phase
    for inst in gates.data:
        physical.append(inst.operation, [physical.qubits[gates.find_bit(q).index]
                                         for q in inst.qubits])
    metrics = compute_metrics(physical, device, final, swaps=0)  # Qiskit does not report it
    return CompiledAdapter(spec=spec, device=device, circuit=physical,
                           initial_layout=tuple(int(q) for q in initial), final_layout=final,
                           metrics=metrics, method=method)
