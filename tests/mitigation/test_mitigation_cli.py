"""``qaa_hw simulate --mitigation``: report rows, JSON and option errors."""

from __future__ import annotations

import json

import pytest

from qaa_hw.cli.main import main

BASE = ["simulate", "--device", "ibm_brisbane", "--qubits", "2", "--layers", "1",
        "--inputs", "2", "--engine", "aer"]


def test_mitigation_rows_in_report_and_json(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.json"
    code = main([*BASE, "--mitigation", "zne,rem+zne", "--zne-factory", "linear",
                 "--scale-factors", "1,2,3", "--shots", "1000", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "error mitigation" in text and "zne+rem" in text
    rows = json.loads(out.read_text())["mitigation"]
    assert [r["technique"] for r in rows] == ["zne", "zne+rem"]
    for row in rows:
        assert row["executor"] == "aer"
        assert row["circuits"] == 2 * 3 and row["shots"] == 2 * 3 * 1000
        assert row["mitigated error"] >= 0 and row["unmitigated error"] > 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--mitigation", "zne,foo"], "unknown technique 'foo'; accepted: zne, pec, ddd, rem"),
        (["--mitigation", "zne", "--scale-factors", "1"],
         "ZNE needs at least 2 scale factors, got (1.0,)"),
        (["--mitigation", "zne", "--scale-factors", "1,x"], "is not a comma-separated list"),
        (["--mitigation", "zne", "--zne-factory", "cubic"], "invalid choice: 'cubic'"),
        (["--mitigation", "rem,zne+pec"], "cannot use both ZNE and PEC"),
        (["--mitigation", "rem+rem"], "at most once"),
    ],
)
def test_mitigation_option_errors(capsys, options, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main([*BASE, *options])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_technique_option_errors_are_one_line(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main([*BASE, "--mitigation", "zne", "--zne-factory", "polynomial",
                 "--scale-factors", "1,3", "--zne-order", "2"])
    assert code == 2
    assert "ZNE order=2 needs at least 3 scale factors" in capsys.readouterr().err
