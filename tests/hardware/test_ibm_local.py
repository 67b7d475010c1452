"""The IBM engine in the runtime's local testing mode (SamplerV2 on fake backends).

Local mode runs Aer with the fake backend's own noise model (gate depolarising + thermal
relaxation from its properties, readout error, relaxation on ``delay`` s). The engine submits
the ASAP idle windows as ``delay`` s, so the physics is our default noise spec (idle relaxation
on): measured ``<Z_i>`` must agree with the fast engine's prediction within shot noise, stated
here as every |z| < 4.5 and at least 80% of outputs within 2 SE (95% expected); without shots,
local mode's noise model and ours agree to 1e-9 on FakeBrisbane.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit_ibm_runtime.fake_provider import FakeBrisbane, FakeTorino

from qaa_hw.compile.api import compile_adapter
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.hardware.ibm import IBMEngine
from qaa_hw.hardware.jobs import JobFailed
from qaa_hw.simulate.noise import noise_spec
from qaa_hw.simulate.registry import make_engine
from tests.hardware.conftest import SPEC, problem, z_scores

SHOTS = 4000


def _agreement(compiled: CompiledAdapter, backend, inputs: int = 8) -> dict[str, float]:
    x, theta = problem(compiled.spec, inputs, seed=3)
    engine = IBMEngine(compiled, backend, tags=["qaa_hw-test"])
    measured = engine.run(x, theta, shots=SHOTS, seed=11).expectations.numpy()
    predicted = make_engine("fast", compiled).run(x, theta).expectations.numpy()
    no_idle = make_engine(
        "fast", compiled, noise=noise_spec(compiled.device, compiled.active_qubits, idle=False)
    ).run(x, theta).expectations.numpy()
    z = z_scores(measured, predicted, SHOTS)
    assert np.abs(z).max() < 4.5
    assert (np.abs(z) < 2).mean() >= 0.8
    return {"mean_abs": float(np.abs(measured - predicted).mean()),
            "idle_effect": float(np.abs(predicted - no_idle).mean())}


def test_local_brisbane_agrees_with_noisy_engine(brisbane3: CompiledAdapter) -> None:
    found = _agreement(brisbane3, FakeBrisbane())
    assert found["mean_abs"] < 0.03


@pytest.mark.slow
def test_local_torino_agrees_with_noisy_engine() -> None:
    compiled = compile_adapter(SPEC, load_device("ibm_torino"), seed=0)
    found = _agreement(compiled, FakeTorino())
    assert found["mean_abs"] < 0.03


def test_local_mode_noise_model_equals_ours_exactly(brisbane3: CompiledAdapter) -> None:
    """Without shots: the circuit the engine submits, under local mode's own noise model
    (``AerSimulator.from_backend``, density matrix), against our fast engine (perfect readout:
    the pre-readout values)."""
    from dataclasses import replace

    import torch
    from qiskit_aer import AerSimulator

    from qaa_hw.devices.model import InstructionProperties
    from qaa_hw.hardware.circuits import embedding_angles, parameter_values
    from qaa_hw.simulate.results import z_from_probabilities

    backend = FakeBrisbane()
    engine = IBMEngine(brisbane3, backend)
    x, theta = problem(brisbane3.spec, 4, seed=6)
    circuit = engine.circuit.remove_final_measurements(inplace=False)
    circuit.save_probabilities(qubits=list(brisbane3.final_layout), label="p")
    values = parameter_values(circuit, embedding_angles(brisbane3, x), theta)
    binds = {p: list(values[:, j]) for j, p in enumerate(circuit.parameters)}
    simulator = AerSimulator.from_backend(backend, method="density_matrix")
    result = simulator.run(circuit, parameter_binds=[binds], shots=1).result()
    probs = torch.as_tensor(np.stack([result.data(i)["p"] for i in range(len(x))]))
    theirs = z_from_probabilities(probs, 3).numpy()
    device = brisbane3.device
    perfect = replace(device, qubits=tuple(
        replace(q, prob_meas1_prep0=0.0, prob_meas0_prep1=0.0) for q in device.qubits),
        instructions={**device.instructions, "measure": {
            qa: InstructionProperties(0.0, p.duration_s)
            for qa, p in device.instructions["measure"].items()}})
    ours = make_engine("fast", replace(brisbane3, device=perfect)).run(x, theta)
    np.testing.assert_allclose(theirs, ours.expectations.numpy(), atol=1e-9)
    no_idle = make_engine("fast", replace(brisbane3, device=perfect), noise=noise_spec(
        perfect, brisbane3.active_qubits, idle=False)).run(x, theta).expectations.numpy()
    assert np.abs(theirs - no_idle).max() > 1e-3  # the delays matter


def _check_jobs(compiled: CompiledAdapter, mode: str, split: int | None) -> IBMEngine:
    backend = FakeBrisbane()
    x, theta = problem(compiled.spec, 5, seed=4)
    rep_delay = backend._conf_dict["default_rep_delay"] * 1e-6
    engine = IBMEngine(compiled, backend, mode=mode, tags=["a", "b"], max_inputs_per_job=split)
    result = engine.run(x, theta, shots=200, seed=1)
    assert result.probabilities.shape == (5, 8) and result.shots == 200
    assert [r.inputs for r in engine.records] == ([3, 2] if split == 3 else [5])
    for record in engine.records:
        assert record.mode == mode and record.tags == ("a", "b") and record.status == "DONE"
        assert record.usage_s == 0.0  # local mode bills nothing
        expected = record.inputs * 200 * (compiled.metrics.duration_s + rep_delay)
        assert record.predicted_s == pytest.approx(expected, rel=0.05)
    return engine


def test_batch_jobs_tags_and_cost(brisbane3: CompiledAdapter) -> None:
    engine = _check_jobs(brisbane3, "batch", split=3)
    # the circuit is compiled once: one parameter column per free angle, a row per input
    assert len(engine.circuit.parameters) == brisbane3.circuit.num_parameters


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["session", "job"])
def test_session_and_single_job_modes(brisbane3: CompiledAdapter, mode: str) -> None:
    _check_jobs(brisbane3, mode, split=None)


class _SecondJobFails(FakeBrisbane):
    """FakeBrisbane whose second ``run`` raises: a job failure injected into local mode."""

    calls = 0

    def run(self, run_input, **options):  # type: ignore[no-untyped-def]
        type(self).calls += 1
        if type(self).calls == 2:
            raise RuntimeError("device went into maintenance")
        return super().run(run_input, **options)


def test_failed_job_keeps_finished_inputs(brisbane3: CompiledAdapter) -> None:
    x, theta = problem(brisbane3.spec, 4, seed=5)
    engine = IBMEngine(brisbane3, _SecondJobFails(), max_inputs_per_job=2)
    with pytest.raises(JobFailed, match=r"ended .*maintenance.*2 of 4 inputs finished") as e:
        engine.run(x, theta, shots=100, seed=0)
    assert e.value.finished == 2 and e.value.partial is not None
    assert e.value.partial.expectations.shape == (2, 3)
    assert e.value.records[0].status == "DONE"
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("backend_class", [FakeBrisbane, FakeTorino])
def test_submitted_circuit_is_isa_with_aligned_delays(backend_class) -> None:
    """The submitted circuit uses only the target's instructions, its delays are whole
    multiples of the target's granularity and at least its min_length, and logical qubit i is
    measured into c[i]."""
    backend = backend_class()
    name = "ibm_" + backend.name.removeprefix("fake_")
    compiled = compile_adapter(SPEC, load_device(name), seed=0)
    circuit = IBMEngine(compiled, backend).circuit
    target = backend.target
    for inst in circuit.data:
        qargs = tuple(circuit.find_bit(q).index for q in inst.qubits)
        assert target.instruction_supported(inst.operation.name, qargs), (inst.operation, qargs)
        if inst.operation.name == "delay":
            assert inst.operation.unit == "dt"
            assert inst.operation.duration % target.granularity == 0
            assert inst.operation.duration >= target.min_length
    measures = sorted((circuit.find_bit(i.clbits[0]).index, circuit.find_bit(i.qubits[0]).index)
                      for i in circuit.data if i.operation.name == "measure")
    assert [q for _, q in measures] == list(compiled.final_layout)
