"""Exports a user can submit: measured and bound OpenQASM 3 (read back by qiskit.qasm3.loads)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, qasm3
from qiskit.quantum_info import Statevector

from qaa_hw.circuits.builder import build_qaa_circuit
from qaa_hw.cli.main import main
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.hardware.circuits import bound_qasm, measured_circuit
from tests.hardware.conftest import SPEC, problem


def _measured_probabilities(program: QuantumCircuit) -> np.ndarray:
    """Probabilities of clbits c[0..n-1] (c[0] least significant) of a measured circuit, from
    the statevector of its measurement-free part restricted to the qubits it touches."""
    measures = {program.find_bit(i.clbits[0]).index: program.find_bit(i.qubits[0]).index
                for i in program.data if i.operation.name == "measure"}
    used = sorted({program.find_bit(q).index for i in program.data for q in i.qubits})
    local = {q: k for k, q in enumerate(used)}
    qc = QuantumCircuit(len(used))
    for inst in program.data:
        if inst.operation.name != "measure":
            qc.append(inst.operation, [local[program.find_bit(q).index] for q in inst.qubits])
    order = [local[measures[c]] for c in sorted(measures)]
    return np.asarray(Statevector(qc).probabilities(order))


@pytest.mark.parametrize("fixture", ["brisbane3", "weber3"])
def test_bound_qasm_reproduces_logical_statevector(fixture: str, request: pytest.FixtureRequest
                                                   ) -> None:
    compiled: CompiledAdapter = request.getfixturevalue(fixture)
    x, theta = problem(compiled.spec, 3, seed=1)
    logical = build_qaa_circuit(compiled.spec)
    for row, text in zip(x, bound_qasm(compiled, x, theta), strict=True):
        program = qasm3.loads(text)
        assert not program.parameters
        reference = Statevector(logical.bind(row, theta)).probabilities()
        np.testing.assert_allclose(_measured_probabilities(program), reference, atol=1e-9)


def test_measured_qasm_measures_logical_order(brisbane3: CompiledAdapter) -> None:
    program = qasm3.loads(qasm3.dumps(measured_circuit(brisbane3)))
    measures = sorted((program.find_bit(i.clbits[0]).index, program.find_bit(i.qubits[0]).index)
                      for i in program.data if i.operation.name == "measure")
    assert [q for _, q in measures] == list(brisbane3.final_layout)
    # OpenQASM 3 has no vectors: alpha[j] / theta[j] come back as inputs _alpha_j_ / _theta_j_
    assert {p.name.split("_")[1] for p in program.parameters} == {"alpha", "theta"}


def test_cli_compile_bind_writes_one_program_per_input(tmp_path, capsys) -> None:
    x, theta = problem(SPEC, 2)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "theta.npy", theta[:0])  # wrong length: one-line error
    base = ["compile", "--device", "google_weber", "--qubits", "3", "--no-baseline",
            "--qasm", str(tmp_path / "out.qasm"), "--bind", str(tmp_path / "x.npy")]
    assert main(base) == 0
    files = sorted(p.name for p in tmp_path.glob("out_*.qasm"))
    assert files == ["out_0.qasm", "out_1.qasm"]
    assert not qasm3.loads((tmp_path / "out_1.qasm").read_text()).parameters
    capsys.readouterr()
    assert main([*base, "--theta", str(tmp_path / "theta.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "theta has 0 values" in err
    assert main(["compile", "--device", "google_weber", "--bind", str(tmp_path / "x.npy")]) == 2
    assert "--bind/--theta are not valid without --qasm" in capsys.readouterr().err
