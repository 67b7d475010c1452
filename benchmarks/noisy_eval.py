"""Noisy evaluation throughput: qaa_hw's fast engine vs Qiskit Aer's density-matrix simulator.

For n in {4, 6, 8} qubits (L = 2 layers, ring entangler, exact embedding, z readout) the adapter
is compiled for ibm_brisbane with ``qaa_hw.compile.api.compile_adapter`` (seed 0); theta ~
U(-pi, pi) and B = 1024 inputs with standard normal entries (seeded) are evaluated by

* ours: :class:`qaa_hw.simulate.noisy.FastNoisyEngine` in each ``prep_noise`` mode
  (``exact``, ``effective``, ``none``); setup (channel extraction, fusion, the ``effective``
  fit) is timed separately and not included in the throughput;
* Aer, one ``AerSimulator(method="density_matrix")`` run per input (bound circuit on the active
  qubits, restricted noise model): :meth:`AerExecutor.run_each`;
* Aer, all inputs in one ``run`` call with ``parameter_binds``: :meth:`AerExecutor.run`.

Every path runs the same physics: the device's noise spec with idle relaxation on the ASAP
schedule (Aer: ``delay`` instructions its noise model relaxes). The ``idle off`` rows run our
exact mode and Aer's binds with idle relaxation off, to show what the idle windows cost.

When a full batch would take too long, a method is timed on the first ``m`` inputs and its
throughput extrapolated to B (the table says so: ``timed on m``). Accuracy: max |<Z>_ours -
<Z>_Aer| over the inputs Aer evaluated (exact values, readout error included). The
``effective`` mode's error is also reported as median / max over all B inputs against the
``exact`` mode (which equals Aer to ~1e-13).

Run: ``.venv/bin/python benchmarks/noisy_eval.py`` (about 5 minutes on 2 cores; ``--quick``
for a smoke run). ``--write-docs`` replaces the "Noisy evaluation" section of
``docs/benchmarks.md`` with the results.
"""

from __future__ import annotations

import argparse
import math
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.api import compile_adapter
from qaa_hw.devices.catalog import load_device
from qaa_hw.simulate.executors import AerExecutor
from qaa_hw.simulate.noise import noise_spec
from qaa_hw.simulate.noisy import FastNoisyEngine
from qaa_hw.simulate.pauli_program import group_size
from qaa_hw.simulate.program import build_program, compile_steps

DEFAULT_THREADS = torch.get_num_threads()
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADING = "## Noisy evaluation"

# inputs timed per method (rest extrapolated): ours-exact (compiled kernels), Aer per circuit,
# Aer binds, ours-exact (torch kernels)
FULL = {4: (1024, 64, 1024, 1024), 6: (1024, 32, 256, 256), 8: (256, 3, 6, 16)}
QUICK = {4: (64, 8, 64, 64)}
# (prep_noise, compiled kernels, idle relaxation) of the rows of ours
VARIANTS = (
    ("exact", True, True),
    ("exact", True, False),
    ("exact", False, True),
    ("effective", True, True),
    ("none", True, True),
)


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def run_case(n: int, batch: int, budget: tuple[int, int, int], seed: int) -> list[dict]:
    """All methods for one n; returns table rows."""
    device = load_device("ibm_brisbane")
    spec = QAASpec(num_qubits=n, num_layers=2)
    compiled = compile_adapter(spec, device, seed=0)
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, spec.num_parameters)
    x = rng.standard_normal((batch, spec.dim))
    m_exact, m_aer, m_binds, m_torch = (min(v, batch) for v in budget)
    print(
        f"n={n}: {compiled.metrics.two_qubit_count} ECRs, active qubits "
        f"{len(compiled.active_qubits)}, {compiled.method}",
        file=sys.stderr,
    )

    # Sparsity of the preparation's fused two-qubit transfer matrices (what the compiled
    # kernels multiply by), and inputs per kernel task.
    noise = noise_spec(compiled.device, compiled.active_qubits)
    quiet = noise_spec(compiled.device, compiled.active_qubits, idle=False)
    program = build_program(compiled, noise)
    blocks = [b.ptm for b in compile_steps(program.prep) if b.ptm.shape[0] == 16]
    prep_nnz = float(np.mean([int((m.abs() > 1e-15).sum()) for m in blocks]))
    prep_group = group_size(program.num_qubits)
    idle_ops = sum(op.name == "idle" for op in program.ops)

    aer = AerExecutor(compiled, noise=noise)
    per_circuit, t_pc = _timed(aer.run_each, x[:m_aer], theta)
    binds, t_binds = _timed(aer.run, x[:m_binds], theta)
    _, t_quiet = _timed(AerExecutor(compiled, noise=quiet).run, x[:m_binds], theta)
    aer_rate_pc, aer_rate_binds = m_aer / t_pc, m_binds / t_binds
    reference = binds.expectations.numpy()
    rows = [
        {
            "n": n,
            "method": "Aer DM, one run per input",
            "setup (s)": 0.0,
            "inputs/s": aer_rate_pc,
            "timed on": m_aer,
            "vs Aer binds": aer_rate_pc / aer_rate_binds,
            "vs Aer per input": 1.0,
            "max |dZ| vs Aer": float(
                np.abs(per_circuit.expectations.numpy() - reference[:m_aer]).max()
            ),
        },
        {
            "n": n,
            "method": "Aer DM, parameter_binds",
            "setup (s)": 0.0,
            "inputs/s": aer_rate_binds,
            "timed on": m_binds,
            "vs Aer binds": 1.0,
            "vs Aer per input": aer_rate_binds / aer_rate_pc,
            "max |dZ| vs Aer": 0.0,
        },
        {
            "n": n,
            "method": "Aer DM, parameter_binds, idle off",
            "setup (s)": 0.0,
            "inputs/s": m_binds / t_quiet,
            "timed on": m_binds,
            "vs Aer binds": t_binds / t_quiet,
            "vs Aer per input": m_binds / t_quiet / aer_rate_pc,
            "max |dZ| vs Aer": "",
        },
    ]
    exact_z = None
    for mode, compiled_kernels, idle in VARIANTS:
        engine, setup = _timed(
            FastNoisyEngine, compiled, prep_noise=mode, seed=seed, noise=noise if idle else quiet
        )
        engine.compiled_kernels = compiled_kernels
        m = batch if mode != "exact" else m_exact if compiled_kernels else m_torch
        engine.expectations(x[:2], theta)  # warm-up (allocations, caches, JIT)
        slow = mode == "exact" and n >= 8
        repeats = 1 if slow else 3  # best of 3: the host is shared
        seconds, threads = math.inf, 0
        for count in (DEFAULT_THREADS,) if slow else (1, DEFAULT_THREADS):
            torch.set_num_threads(count)
            for _ in range(repeats):
                z, elapsed = _timed(engine.expectations, x[:m], theta)
                if elapsed < seconds:
                    seconds, threads = elapsed, count
        torch.set_num_threads(DEFAULT_THREADS)
        z = z.detach()
        rate = m / seconds
        err = float(np.abs(z[:m_binds].numpy() - reference[: min(m, m_binds)]).max())
        label = f"qaa_hw fast, prep_noise={mode}"
        if mode == "exact":
            label += ", compiled kernels" if compiled_kernels else ", torch kernels"
        if not idle:
            label += ", idle off"
            err = float("nan")  # a different model from the reference
        extra = {"prep nnz": prep_nnz, "prep group": prep_group,
                 "ECRs": compiled.metrics.two_qubit_count,
                 "idle windows": idle_ops if idle else 0} if compiled_kernels else {}
        row = {
            "n": n,
            "method": label,
            "setup (s)": setup,
            "torch threads": threads,
            "inputs/s": rate,
            "timed on": m,
            "vs Aer binds": rate / aer_rate_binds,
            "vs Aer per input": rate / aer_rate_pc,
            "max |dZ| vs Aer": err,
            **(extra if mode == "exact" else {}),
        }
        if mode == "exact" and idle:
            exact_z = z if exact_z is None else exact_z
        elif exact_z is not None:
            diff = (z[: exact_z.shape[0]] - exact_z).abs()
            row["median |dZ| vs exact"] = float(diff.median())
            row["max |dZ| vs exact"] = float(diff.max())
        rows.append(row)
        print(f"  {row['method']}: {rate:.4g} inputs/s, max |dZ| {err:.2e}", file=sys.stderr)
    return rows


def markdown(rows: list[dict], command: str, batch: int) -> str:
    """The docs section."""
    cols = [
        "n",
        "method",
        "inputs/s",
        "timed on",
        "vs Aer binds",
        "vs Aer per input",
        "max |dZ| vs Aer",
        "setup (s)",
        "torch threads",
        "ECRs",
        "idle windows",
    ]
    lines = [
        HEADING,
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {DEFAULT_THREADS} cores, "
        f"torch {torch.__version__}; ibm_brisbane noise (qiskit_ibm_runtime snapshot), "
        f"B = {batch} inputs, L = 2, ring entangler, exact embedding, z readout. "
        "Throughput is measured on `timed on` inputs and extrapolated to B when smaller; "
        "setup (channels, fusion, effective fit) is excluded. Ours is timed with 1 and with "
        f"{DEFAULT_THREADS} torch threads and the faster is reported (on this shared host "
        "small problems stall in multi-threaded BLAS calls); Aer runs with its defaults.",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.3g}" if isinstance(v, float) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    exact = [r for r in rows if r["method"].endswith("=exact, compiled kernels")]
    if exact:
        speed = ", ".join(f"{r['vs Aer binds']:.3g}x at n={r['n']}" for r in exact)
        nnz = ", ".join(f"{r['prep nnz']:.0f} at n={r['n']}" for r in exact)
        groups = ", ".join(f"{r['prep group']} at n={r['n']}" for r in exact)
        worst = max(r["max |dZ| vs Aer"] for r in exact)
        lines += [
            "",
            f"`prep_noise=exact` reproduces Aer (max |dZ| {worst:.1e}) and is faster "
            f"than Aer with parameter binds by {speed}. It simulates the noisy "
            "preparation of every input exactly, in the Pauli-transfer picture, with "
            "compiled loops (`qaa_hw.simulate.pauli_kernels`, Numba): every fused noisy "
            "block as a sparse 16x16 transfer matrix (mean non-zeros of the preparation's "
            f"blocks: {nnz} of 256; Clifford gates are signed permutations, the noise "
            "nearly diagonal) on 4^k numbers per input, every input-dependent rz as a "
            f"rotation of two Pauli components, with {groups} inputs as the SIMD axis; "
            "the rest of the circuit is one Heisenberg-evolved "
            "observable per output. The torch-kernel rows run the same blocks as dense "
            "batched products. The work per input grows as 4^k times the number of "
            "gates (~2^n), as Aer's does, so the ratio to Aer shrinks with n; `effective` "
            "and `none` evaluate a quadratic form per input after one Heisenberg "
            "back-propagation per theta. Timings on a shared 2-core host vary by up to "
            "~2x between runs.",
        ]
    idle_cost = []
    for on in exact:

        def rate(suffix: str, n: int = on["n"]) -> float:
            return next(r["inputs/s"] for r in rows if r["n"] == n and r["method"].endswith(suffix))

        ours = rate("=exact, compiled kernels, idle off") / on["inputs/s"]
        theirs = rate("binds, idle off") / rate("Aer DM, parameter_binds")
        idle_cost.append(
            f"n={on['n']}: {on['idle windows']} idle windows next to {on['ECRs']} ECRs, "
            f"with idle relaxation on, ours runs at {1 / ours:.2f}x and Aer at {1 / theirs:.2f}x "
            "of their throughput with it off"
        )
    if idle_cost:
        lines += ["", "What idle relaxation costs (same run): " + "; ".join(idle_cost) + "."]
    eff = [r for r in rows if "median |dZ| vs exact" in r]
    if eff:
        lines += [
            "",
            "Error against the exact mode, over the inputs of the exact run, of the "
            "approximate modes and of the older model without idle relaxation (the exact "
            "mode matches Aer to the max |dZ| above):",
            "",
            "| n | mode | median abs error | max abs error |",
            "|---|---|---|---|",
        ]
        for r in eff:
            lines.append(
                f"| {r['n']} | {r['method'].split('=')[-1]} | "
                f"{r['median |dZ| vs exact']:.2e} | {r['max |dZ| vs exact']:.2e} |"
            )
    return "\n".join(lines) + "\n"


def write_docs(section: str) -> None:
    """Replace (or append) the "Noisy evaluation" section of docs/benchmarks.md."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=4, 64 inputs (smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help=f"write the table into {DOCS.relative_to(DOCS.parents[1])}",
    )
    args = parser.parse_args(argv)
    cases = QUICK if args.quick else FULL
    batch = 64 if args.quick else 1024
    rows: list[dict] = []
    for n, budget in cases.items():
        rows += run_case(n, batch, budget, args.seed)
    command = "python benchmarks/noisy_eval.py" + (" --quick" if args.quick else "")
    section = markdown(rows, command + (" --write-docs" if args.write_docs else ""), batch)
    print(section)
    if args.write_docs:
        write_docs(section)
        print(f"written to {DOCS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
