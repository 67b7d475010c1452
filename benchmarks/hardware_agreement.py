"""Hardware agreement: outputs measured through the hardware engines against our prediction.

For ibm_brisbane and ibm_torino (qiskit-ibm-runtime local testing mode: ``SamplerV2`` in a
``Batch`` on the fake backend, i.e. Aer with the fake backend's own noise model) and
google_weber (cirq_google's quantum virtual machine through the Engine interface, with its
coherent entangler errors, and without them as a second row), QAA adapters with n in {3, 4}
(L = 2, ring, exact embedding) are compiled for the backend's calibration (seed 0); theta ~
U(-pi, pi) and 32 standard normal inputs (seed 7) run as one job of 4,000 shots per input.

Per row: mean |measured - predicted| of the <Z_i> and the fraction of outputs within 2
standard errors (binomial SE of the measured value), where *predicted* is our fast noisy engine
on the device's default noise spec (idle relaxation on). Two baselines that could beat it, in
the same run: the ideal (noiseless) outputs, and the prediction without idle relaxation.
For the IBM rows, *exact local model*: the largest difference between our prediction and the
pre-readout <Z_i> of the very circuit local mode runs (delays included), simulated exactly by
``AerSimulator.from_backend(fake backend)`` as a density matrix (no shots), against our fast
engine with perfect readout: the difference of the physics alone, without shot noise.
*With REM*: the measured distributions corrected with the confusion measured by two
calibration circuits (4,000 shots each), against the prediction without readout error (SE
divided by 1 - p(1|0) - p(0|1) of the qubit).

Run: ``.venv/bin/python benchmarks/hardware_agreement.py --write-docs`` (a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine_summary, markdown_table, replace_docs_section

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.model import DeviceModel, InstructionProperties
from qaa_hw.hardware.backends import resolve_backend
from qaa_hw.hardware.google import GoogleEngine, virtual_machine
from qaa_hw.hardware.jobs import standard_errors
from qaa_hw.hardware.mitigation import DeviceBackend
from qaa_hw.mitigation.estimators import rem_correct, rem_inverse
from qaa_hw.simulate.noise import noise_spec
from qaa_hw.simulate.registry import make_engine
from qaa_hw.simulate.results import z_from_probabilities

HEADING = "## Hardware agreement"
BACKENDS = ("local:ibm_brisbane", "local:ibm_torino", "google-qvm:weber",
            "google-qvm:weber (incoherent)")


def without_readout(device: DeviceModel) -> DeviceModel:
    """``device`` with perfect readout (what REM-corrected values are compared with)."""
    qubits = tuple(replace(q, prob_meas1_prep0=0.0, prob_meas0_prep1=0.0) for q in device.qubits)
    measure = {qa: InstructionProperties(0.0, p.duration_s)
               for qa, p in device.instructions.get("measure", {}).items()}
    return replace(device, qubits=qubits, instructions={**device.instructions, "measure": measure})


def exact_local_difference(engine: object, compiled: object, x: np.ndarray,
                           theta: np.ndarray) -> float:
    """max |<Z>| difference between local mode's own noise model (exact, pre-readout) and our
    prediction with perfect readout, on the circuit the engine submits."""
    from qiskit_aer import AerSimulator

    from qaa_hw.hardware.circuits import embedding_angles, parameter_values

    circuit = engine.circuit.remove_final_measurements(inplace=False)  # type: ignore[attr-defined]
    circuit.save_probabilities(qubits=list(compiled.final_layout), label="p")  # type: ignore[attr-defined]
    values = parameter_values(circuit, embedding_angles(compiled, x), theta)  # type: ignore[arg-type]
    simulator = AerSimulator.from_backend(engine.backend, method="density_matrix")  # type: ignore[attr-defined]
    params = list(circuit.parameters)
    binds = {p: list(values[:, j]) for j, p in enumerate(params)}
    result = simulator.run(circuit, parameter_binds=[binds], shots=1).result()
    n = compiled.spec.num_qubits  # type: ignore[attr-defined]
    probs = np.stack([np.asarray(result.data(i)["p"]) for i in range(len(x))])
    theirs = z_from_probabilities(torch.as_tensor(probs), n).numpy()
    perfect = replace(compiled, device=without_readout(compiled.device))  # type: ignore[type-var]
    ours = make_engine("fast", perfect).run(x, theta).expectations.numpy()
    return float(np.abs(theirs - ours).max())


def one_row(label: str, n: int, inputs: int, shots: int, seed: int) -> list[object]:
    """Run one backend and adapter size; the table row."""
    name = label.split(" ")[0]
    backend = resolve_backend(name, seed=seed)
    compiled = compile_adapter(QAASpec(num_qubits=n, num_layers=2), backend.device, seed=0)
    if label.endswith("(incoherent)"):
        processor = virtual_machine("weber", coherent=False, seed=seed).get_processor("weber")
        engine = GoogleEngine(compiled, processor, label=label)
    else:
        engine = backend.engine(compiled, tags=["qaa_hw-benchmark"])
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, compiled.spec.num_parameters)
    x = rng.standard_normal((inputs, compiled.spec.dim))
    t0 = time.perf_counter()
    measured = engine.run(x, theta, shots=shots, seed=seed)
    wall = time.perf_counter() - t0
    z = measured.expectations.numpy()
    se = standard_errors(measured).numpy()
    predicted = make_engine("fast", compiled).run(x, theta).expectations.numpy()
    no_idle = make_engine("fast", compiled, noise=noise_spec(
        compiled.device, compiled.active_qubits, idle=False)).run(x, theta).expectations.numpy()
    ideal = make_engine("statevector", compiled, noise=False).run(x, theta).expectations.numpy()
    perfect_readout = replace(compiled, device=without_readout(compiled.device))
    predicted_rem = make_engine("fast", perfect_readout).run(x, theta).expectations.numpy()
    device_backend = DeviceBackend(engine, shots=shots, seed=seed)
    confusion = device_backend.confusion
    assert measured.probabilities is not None
    corrected = rem_correct(measured.probabilities.numpy(), rem_inverse(confusion))
    z_rem = z_from_probabilities(torch.as_tensor(corrected), n).numpy()
    se_rem = se / np.clip(1 - confusion[:, 0, 1] - confusion[:, 1, 0], 1e-3, None)[None, :]
    exact = (f"{exact_local_difference(engine, compiled, x, theta):.1e}"
             if name.startswith("local:") else "-")
    records = engine.records
    usage = [r.usage_s for r in records if r.usage_s is not None]
    return [
        label, n, f"{np.abs(z - predicted).mean():.4f}",
        f"{(np.abs(z - predicted) <= 2 * se).mean():.2f}", exact,
        f"{np.abs(z - no_idle).mean():.4f}", f"{np.abs(z - ideal).mean():.4f}",
        f"{np.abs(z_rem - predicted_rem).mean():.4f}",
        f"{(np.abs(z_rem - predicted_rem) <= 2 * se_rem).mean():.2f}",
        f"{sum(usage):.1f}" if usage else "-", f"{sum(r.predicted_s for r in records):.1f}",
        f"{wall:.0f}",
    ]


HEADER = ("backend", "n", "mean abs(meas - pred)", "within 2 SE", "exact local model: max diff",
          "baseline: pred. without idle", "baseline: ideal",
          "REM: mean abs(meas - pred)", "REM: within 2 SE", "QPU s used", "QPU s estimate",
          "wall s")


def main() -> None:
    """Run the grid, print the table, optionally write docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--qubits", nargs="+", type=int, default=[3, 4])
    parser.add_argument("--inputs", type=int, default=32)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)
    rows = []
    for label in args.backends:
        for n in args.qubits:
            rows.append(one_row(label, n, args.inputs, args.shots, args.seed))
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    table = markdown_table(HEADER, rows)
    print(table)
    if args.write_docs:
        section = (
            f"{HEADING}\n\nCommand (run on {time.strftime('%Y-%m-%d')}, {machine_summary()}):\n\n"
            "```\n.venv/bin/python benchmarks/hardware_agreement.py --write-docs\n```\n\n"
            + __doc__.split("\n\n", 1)[1].rsplit("\n\nRun:", 1)[0] + "\n\n" + table
        )
        replace_docs_section(HEADING, section)


if __name__ == "__main__":
    main()
