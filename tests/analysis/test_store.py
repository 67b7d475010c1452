"""Results store: one row per key, committed per point, tidy exports."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq

from qaa_hw.analysis.store import PointResult, ResultStore
from qaa_hw.analysis.sweep_spec import SweepPoint


def result(point: SweepPoint, status: str = "ok", **results: object) -> PointResult:
    return PointResult(key=point.key, status=status, settings=point.to_dict(),
                       results=results, error=None if status == "ok" else "ValueError: x")


def test_record_replaces_and_commits(tmp_path: Path) -> None:
    a, b = SweepPoint(device="ibm_torino", qubits=2), SweepPoint(device="ibm_torino", qubits=3)
    with ResultStore(tmp_path) as store:
        store.record(result(a, esp=0.5))
        store.record(result(b, "failed"))
        store.record(result(a, esp=0.7))  # same key: replaced, not duplicated
        # Committed: another connection sees both rows before this one closes.
        other = sqlite3.connect(tmp_path / "results.sqlite")
        assert other.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 2
        other.close()
        assert store.count() == {"ok": 1, "failed": 1}
        assert store.keys(status="ok") == {a.key}
        rows = store.rows()
        assert [r["qubits"] for r in rows] == [2, 3]
        assert rows[0]["esp"] == 0.7 and rows[1]["error"] == "ValueError: x"
        assert store.failures()[0]["key"] == b.key


def test_exports(tmp_path: Path) -> None:
    points = [SweepPoint(device="ibm_torino", qubits=n) for n in (1, 2, 3)]
    with ResultStore(tmp_path) as store:
        for p in points:
            store.record(result(p, esp=1.0 / p.qubits, depth=p.qubits * 3,
                                active_qubits="[0,1]", extra=float("nan")))
        csv_path = store.export_csv(tmp_path / "r.csv")
        parquet_path = store.export_parquet(tmp_path / "r.parquet")
    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["qubits"]) for r in rows] == [1, 2, 3]
    header = list(rows[0])
    assert header[0] == "device" and header.index("esp") < header.index("extra") < header.index(
        "key")
    assert rows[0]["extra"] == ""  # NaN stored as a missing value
    table = pq.read_table(parquet_path)
    assert table.num_rows == 3
    assert table.column("depth").to_pylist() == [3, 6, 9]
    assert table.column("key").to_pylist() == [p.key for p in points]


def test_empty_exports(tmp_path: Path) -> None:
    with ResultStore(tmp_path) as store:
        assert store.export_parquet(tmp_path / "e.parquet").is_file()
        assert store.export_csv(tmp_path / "e.csv").read_text().startswith("device,")
