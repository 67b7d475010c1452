"""Results store: one SQLite file per sweep folder, one row per point, committed as it lands.

Each point is keyed by :attr:`qaa_hw.analysis.sweep_spec.SweepPoint.key` (a hash of its
settings). :meth:`ResultStore.record` writes and commits one point in one transaction
(``INSERT OR REPLACE``), so a sweep interrupted at any moment keeps every finished point and
a rerun never duplicates one. The database runs in WAL mode with ``synchronous=NORMAL``: a
commit survives the crash of any process (the sweep's or a worker's); only a power loss can
drop the last few commits.

Rows come back *tidy* (:meth:`ResultStore.rows`): the point's settings, then its results
(:data:`RESULT_COLUMNS` first), then bookkeeping (status, error, attempts, worker, time).
:meth:`ResultStore.export_csv` and :meth:`ResultStore.export_parquet` (pyarrow) write them.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
import statistics
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qaa_hw.analysis.sweep_spec import SweepPoint
from qaa_hw.errors import ConfigError
from qaa_hw.files import atomic_path

DB_NAME = "results.sqlite"
SETTING_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(SweepPoint))
#: Result columns, in export order (a point function may add more; they follow, sorted).
RESULT_COLUMNS: tuple[str, ...] = (
    "parameters", "depth", "two_qubit_depth", "two_qubit_count", "one_qubit_count", "swaps",
    "duration_s", "esp", "duration_over_t1", "duration_over_t2", "min_t2_s", "output_fidelity",
    "output_fidelity_min", "abs_error", "abs_error_max", "mitigated_abs_error",
    "mitigated_abs_error_max", "unmitigated_abs_error_ref", "mitigation_engine",
    "circuits_per_estimate", "shots_per_estimate", "overhead", "pec_norm", "initial_layout",
    "final_layout",
    "active_qubits", "compile_s", "simulate_s", "mitigate_s",
)
BOOK_COLUMNS: tuple[str, ...] = ("key", "status", "error", "attempts", "wall_s", "worker",
                                 "finished_at")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    settings TEXT NOT NULL,
    results TEXT NOT NULL,
    error TEXT,
    traceback TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    wall_s REAL,
    worker TEXT,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class PointResult:
    """What evaluating one point produced (a success or a recorded failure).

    Attributes:
        key: the point's key.
        status: ``"ok"`` or ``"failed"``.
        settings: the point's settings (:meth:`SweepPoint.to_dict`).
        results: metric name -> value (plain JSON values); empty for failures.
        error: one-line error for failures.
        traceback: the failure's traceback text.
        attempts: times the point was started (worker crashes count).
        wall_s: wall time of the point in its worker.
        worker: ``host:pid`` of the worker.
    """

    key: str
    status: str
    settings: Mapping[str, Any]
    results: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    attempts: int = 1
    wall_s: float | None = None
    worker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"key": self.key, "status": self.status, "settings": dict(self.settings),
                "results": dict(self.results), "error": self.error,
                "traceback": self.traceback, "attempts": self.attempts,
                "wall_s": self.wall_s, "worker": self.worker}


def _json_value(value: Any) -> Any:
    """JSON-safe value: numpy scalars to Python, non-finite floats to None."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value


class ResultStore:
    """The SQLite results store of one sweep folder.

    Args:
        folder: the sweep's output folder (created if missing); the database is
            ``folder/results.sqlite``. A path ending in ``.sqlite`` is used as the file.
    """

    def __init__(self, folder: str | Path) -> None:
        p = Path(folder)
        self.path = p if p.suffix == ".sqlite" else p / DB_NAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()
        except (OSError, sqlite3.Error) as e:
            raise ConfigError(f"cannot open results store {str(self.path)!r}: {e}") from e

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------- writes
    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write (full disk, read-only file) becomes one line; the transaction
        is rolled back, so every point stored before stays intact."""
        try:
            yield
        except sqlite3.Error as e:
            raise ConfigError(f"cannot write to results store {str(self.path)!r} ({e}); "
                              "points stored before are kept; fix this and rerun to "
                              "resume") from e

    def record(self, result: PointResult) -> None:
        """Insert or replace one point and commit (one transaction)."""
        results = {k: _json_value(v) for k, v in result.results.items()}
        with self._writing(), self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO points (key, status, settings, results, error, "
                "traceback, attempts, wall_s, worker, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (result.key, result.status, json.dumps(dict(result.settings), sort_keys=True),
                 json.dumps(results, sort_keys=True), result.error, result.traceback,
                 int(result.attempts), result.wall_s, result.worker,
                 time.strftime("%Y-%m-%dT%H:%M:%S%z")),
            )

    def set_meta(self, name: str, value: Any) -> None:
        """Store a JSON value under ``name`` (e.g. the sweep spec)."""
        with self._writing(), self._db:
            self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                             (name, json.dumps(value, sort_keys=True)))

    def get_meta(self, name: str) -> Any:
        """The JSON value stored under ``name``, or ``None``."""
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def specs(self) -> list[dict[str, Any]]:
        """Every sweep spec stored by :func:`qaa_hw.analysis.runner.run_sweep` (by name)."""
        cur = self._db.execute("SELECT value FROM meta WHERE name LIKE 'spec:%' ORDER BY name")
        return [json.loads(r[0]) for r in cur]

    # ---------------------------------------------------------------------- reads
    def keys(self, *, status: str | None = None) -> set[str]:
        """Keys of the recorded points (optionally only ``"ok"`` or ``"failed"`` ones)."""
        if status is None:
            cur = self._db.execute("SELECT key FROM points")
        else:
            cur = self._db.execute("SELECT key FROM points WHERE status = ?", (status,))
        return {r[0] for r in cur}

    def count(self) -> dict[str, int]:
        """``{"ok": n, "failed": m}``."""
        out = {"ok": 0, "failed": 0}
        for status, n in self._db.execute("SELECT status, COUNT(*) FROM points GROUP BY status"):
            out[str(status)] = int(n)
        return out

    def failures(self) -> list[dict[str, Any]]:
        """``key``, settings label fields, ``error`` and ``traceback`` of every failed point."""
        cur = self._db.execute(
            "SELECT key, settings, error, traceback, attempts FROM points "
            "WHERE status = 'failed' ORDER BY key")
        return [{"key": k, **json.loads(s), "error": e, "traceback": tb, "attempts": a}
                for k, s, e, tb, a in cur]

    def rows(self, *, status: str | None = None,
             keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Tidy rows (settings, results, bookkeeping), sorted by settings then key.

        Args:
            status: only ``"ok"`` or ``"failed"`` rows.
            keys: only these keys.
        """
        query = ("SELECT key, status, settings, results, error, attempts, wall_s, worker, "
                 "finished_at FROM points")
        cur = (self._db.execute(query + " WHERE status = ?", (status,)) if status
               else self._db.execute(query))
        wanted = None if keys is None else set(keys)
        out = []
        for key, st, settings, results, error, attempts, wall_s, worker, finished in cur:
            if wanted is not None and key not in wanted:
                continue
            row: dict[str, Any] = dict(json.loads(settings))
            row.update(json.loads(results))
            row.update({"key": key, "status": st, "error": error, "attempts": attempts,
                        "wall_s": wall_s, "worker": worker, "finished_at": finished})
            out.append(row)
        out.sort(key=lambda r: (json.dumps([r.get(c) for c in SETTING_COLUMNS], default=str),
                                r["key"]))
        return out

    # -------------------------------------------------------------------- exports
    @staticmethod
    def columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Export column order: settings, known results, other results (sorted), bookkeeping."""
        present: set[str] = set()
        for r in rows:
            present.update(r)
        fixed = [c for c in (*SETTING_COLUMNS, *RESULT_COLUMNS) if c in present]
        extra = sorted(present - set(fixed) - set(BOOK_COLUMNS))
        return fixed + extra + [c for c in BOOK_COLUMNS if c in present]

    def export_csv(self, path: str | Path, *, status: str | None = None) -> Path:
        """Write the tidy rows as CSV (empty cells for missing values)."""
        rows = self.rows(status=status)
        out = Path(path)
        cols = self.columns(rows) or list(SETTING_COLUMNS)
        with atomic_path(out, what="CSV export") as tmp, tmp.open(
            "w", newline="", encoding="utf-8"
        ) as fh:
            writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
            writer.writeheader()
            for r in rows:
                writer.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in cols})
        return out

    def export_parquet(self, path: str | Path, *, status: str | None = None) -> Path:
        """Write the tidy rows as Parquet (pyarrow); missing values are nulls."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self.rows(status=status)
        cols = self.columns(rows) or list(SETTING_COLUMNS)
        table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])
        if not rows:
            table = pa.table({c: pa.array([], pa.string()) for c in cols})
        out = Path(path)
        with atomic_path(out, what="Parquet export") as tmp:
            pq.write_table(table, tmp)
        return out


def average_seeds(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows that differ only in their seed merged into one: numbers averaged, other values
    (layouts, text) from the lowest seed; ``seeds`` counts the merged rows."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        ident = json.dumps([r.get(c) for c in SETTING_COLUMNS if c != "seed"], default=str)
        groups.setdefault(ident, []).append(r)
    out = []
    for members in groups.values():
        members = sorted(members, key=lambda r: int(r.get("seed") or 0))
        merged = dict(members[0])
        for key, value in members[0].items():
            if key in ("seed", "attempts") or isinstance(value, bool):
                continue
            values = [m.get(key) for m in members]
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                merged[key] = float(statistics.fmean(values))  # type: ignore[arg-type]
                if all(isinstance(v, int) for v in values) and merged[key].is_integer():
                    merged[key] = int(merged[key])
        merged["seeds"] = len(members)
        out.append(merged)
    return out
