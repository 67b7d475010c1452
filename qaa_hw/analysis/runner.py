"""Running a sweep: a process pool or a Dask cluster evaluates points, the parent stores them.

:func:`run_sweep` skips every point whose key is already in the folder's
:class:`~qaa_hw.analysis.store.ResultStore`, sends the others to workers and writes each
result (success or recorded failure) the moment it arrives, so an interrupted sweep resumes
where it stopped and never duplicates a point.

* A point that raises is recorded as ``failed`` with its error and traceback; the others go on.
* ``executor="local"``: a :class:`concurrent.futures.ProcessPoolExecutor` (``spawn`` context;
  at most ``workers`` points in flight). When a worker process dies (killed, ``os._exit``,
  out of memory), every point then in flight is retried *alone* in a fresh pool, so a crash
  is blamed only on the point that causes it; a point that kills its worker
  ``max_crashes`` times on its own is recorded as failed. Ctrl-C (and, under the CLI,
  SIGTERM and SIGHUP: :mod:`qaa_hw.shutdown`) stops the workers and keeps every finished
  point; after SIGKILL of the parent each worker exits by itself within a second
  (:func:`qaa_hw.shutdown.watch_parent`). Points that differ only in mitigation or shots go
  preferably to the worker that just evaluated one of them (:class:`_Pending`), which has
  its compilation cached.
* ``executor="dask"``: the same point function on ``dask.distributed`` workers (a cluster at
  ``address``, a given ``client``, or a new ``LocalCluster`` of ``workers`` processes). Dask
  reschedules the tasks of a dead worker itself; a point that keeps killing workers ends as
  ``KilledWorker`` and is recorded as failed.

A tqdm bar on stderr shows points done (resumed ones included), failures and time left; a
sweep is refused above ``max_points`` points before they are built, and a large one shows a
bar while its points are prepared.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qaa_hw.analysis.store import PointResult, ResultStore
from qaa_hw.analysis.sweep_spec import SweepPoint, SweepSpec
from qaa_hw.errors import ConfigError
from qaa_hw.limits import MAX_SWEEP_POINTS, MAX_WORKERS, check_int, check_sweep_size
from qaa_hw.shutdown import watch_parent

logger = logging.getLogger(__name__)

EXECUTORS: tuple[str, ...] = ("local", "dask")
PointFunction = Callable[[SweepPoint], dict[str, Any]]


@dataclass(frozen=True)
class SweepSummary:
    """What one :func:`run_sweep` call did.

    Attributes:
        total: points in the sweep.
        skipped: points already in the store (resumed).
        ok: points evaluated successfully in this run.
        failed: points recorded as failed in this run.
        crashes: worker deaths survived (local executor).
        seconds: wall time of this run.
        store: the database path.
    """

    total: int
    skipped: int
    ok: int
    failed: int
    crashes: int
    seconds: float
    store: Path

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"total": self.total, "skipped": self.skipped, "ok": self.ok,
                "failed": self.failed, "crashes": self.crashes, "seconds": self.seconds,
                "store": str(self.store)}


def _limit_threads() -> None:
    """One BLAS/torch thread per worker process (workers are the parallelism)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _worker_init(warm: bool) -> None:
    """Worker start: exit when the parent dies, one thread, quiet logging."""
    watch_parent()
    _limit_threads()
    logging.basicConfig(level=logging.WARNING)


def run_point(point_fn: PointFunction, point: SweepPoint, limit_threads: bool = True,
              attempts: int = 1) -> PointResult:
    """Evaluate one point in a worker; exceptions become a recorded failure.

    Args:
        point_fn: the point function (default :func:`qaa_hw.analysis.evaluate.evaluate_point`).
        point: the point.
        limit_threads: set torch and BLAS to one thread first.
        attempts: the attempt number recorded with the result.
    """
    if limit_threads:
        _limit_threads()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    t0 = time.perf_counter()
    try:
        results = point_fn(point)
    except Exception as e:
        return PointResult(
            key=point.key, status="failed", settings=point.to_dict(),
            error=f"{type(e).__name__}: {e}".splitlines()[0][:500],
            traceback=traceback.format_exc(), attempts=attempts,
            wall_s=time.perf_counter() - t0, worker=worker)
    return PointResult(key=point.key, status="ok", settings=point.to_dict(),
                       results=dict(results), attempts=attempts,
                       wall_s=time.perf_counter() - t0, worker=worker)


class _Progress:
    """tqdm bar on stderr (or nothing): points done, failures, time left."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool) -> None:
        self.failed = 0
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="pt",
                            file=sys.stderr, dynamic_ncols=True, smoothing=0.1)
            self.bar.set_postfix(failed=0, refresh=False)

    def update(self, result: PointResult) -> None:
        if result.status == "failed":
            self.failed += 1
        if self.bar is not None:
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Recorder:
    """Writes results to the store as they arrive and counts them."""

    def __init__(self, store: ResultStore, progress: _Progress,
                 on_result: Callable[[PointResult], None] | None = None) -> None:
        self.store = store
        self.progress = progress
        self.on_result = on_result
        self.ok = 0
        self.failed = 0

    def __call__(self, result: PointResult) -> None:
        self.store.record(result)
        if self.on_result is not None:
            self.on_result(result)
        if result.status == "ok":
            self.ok += 1
        else:
            self.failed += 1
            logger.warning("point %s failed: %s", result.key, result.error)
        self.progress.update(result)


def _crash_result(point: SweepPoint, attempts: int, detail: str) -> PointResult:
    return PointResult(
        key=point.key, status="failed", settings=point.to_dict(),
        error=(f"WorkerCrash: the worker process died while evaluating this point "
               f"({attempts} attempts; {detail})"), attempts=attempts)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel queued work and terminate its worker processes."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def affinity_key(point: SweepPoint) -> tuple[Any, ...]:
    """Settings that fix a point's compilation and noisy evaluation: points that share them
    differ only in mitigation or shots and reuse a worker's cached compilation."""
    return (point.device, point.noise_scale, point.qubits, point.layers, point.rotations,
            point.entangler, point.embedding, point.embedding_fidelity, point.readout,
            point.seed)


class _Pending:
    """Points waiting to run, grouped by :func:`affinity_key`, groups in sweep order.

    With at most one point in flight per worker, the next point submitted after a result
    arrives goes to the worker that just returned it; :meth:`take` therefore prefers the
    group of that result, whose compilation the worker has cached.
    """

    def __init__(self, points: Iterable[SweepPoint]) -> None:
        self.groups: dict[tuple[Any, ...], deque[SweepPoint]] = {}
        for p in points:
            self.groups.setdefault(affinity_key(p), deque()).append(p)

    def __bool__(self) -> bool:
        return bool(self.groups)

    def take(self, prefer: tuple[Any, ...] | None, busy: set[tuple[Any, ...]]) -> SweepPoint:
        """Next point: from group ``prefer`` if it has one, else from the first group that
        no worker is busy with, else from the first group."""
        key = prefer if prefer in self.groups else next(
            (k for k in self.groups if k not in busy), next(iter(self.groups)))
        queue = self.groups[key]
        point = queue.popleft()
        if not queue:
            del self.groups[key]
        return point

    def put_back(self, point: SweepPoint) -> None:
        """Return a point taken but not started to the head of its group (and the group to
        the front)."""
        key = affinity_key(point)
        queue = self.groups.pop(key, deque())
        queue.appendleft(point)
        self.groups = {key: queue, **self.groups}


def _run_local(points: Sequence[SweepPoint], point_fn: PointFunction, workers: int,
               record: _Recorder, max_crashes: int) -> int:
    """Process-pool execution (see the module docstring); returns the number of crashes."""
    from qaa_hw.analysis.evaluate import evaluate_point

    context = multiprocessing.get_context("spawn")
    warm = point_fn is evaluate_point
    pending = _Pending(points)
    suspects: deque[SweepPoint] = deque()
    crashes_of: dict[str, int] = {}
    attempts_of: dict[str, int] = {}
    crashes = 0
    suspects_mode = False

    def submit(p: SweepPoint, pool: ProcessPoolExecutor,
               in_flight: dict[Future[PointResult], SweepPoint]) -> bool:
        """Submit ``p``; on a broken pool put it back where it came from."""
        attempts_of[p.key] = attempts_of.get(p.key, 0) + 1
        try:
            fut = pool.submit(run_point, point_fn, p, True, attempts_of[p.key])
        except BrokenProcessPool:
            attempts_of[p.key] -= 1
            if suspects_mode:
                suspects.appendleft(p)
            else:
                pending.put_back(p)
            return False
        in_flight[fut] = p
        return True

    while pending or suspects:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                   initializer=_worker_init, initargs=(warm,))
        in_flight: dict[Future[PointResult], SweepPoint] = {}
        casualties: list[SweepPoint] = []
        broken = False
        freed: list[tuple[Any, ...]] = []  # affinity keys of the workers that just finished

        try:
            while not broken:
                suspects_mode = bool(suspects)
                if suspects_mode:  # quarantine: one suspect at a time, nothing else
                    if not in_flight:
                        broken = not submit(suspects.popleft(), pool, in_flight)
                else:
                    while not broken and pending and len(in_flight) < workers:
                        busy = {affinity_key(q) for q in in_flight.values()}
                        point = pending.take(freed.pop(0) if freed else None, busy)
                        broken = not submit(point, pool, in_flight)
                freed.clear()
                if broken or not in_flight:
                    break
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for fut in done:
                    p = in_flight.pop(fut)
                    freed.append(affinity_key(p))
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        casualties.append(p)
                        broken = True
                        continue
                    record(result)
            casualties.extend(in_flight.values())
        except BaseException:
            _terminate(pool)
            raise
        # Workers are idle here (every future is done or doomed); terminating them skips
        # their interpreter teardown, which takes seconds once qiskit, cirq and torch are in.
        _terminate(pool)
        if not casualties:
            continue
        crashes += 1
        if len(casualties) == 1:  # the only point in flight: it killed its worker
            p = casualties[0]
            crashes_of[p.key] = crashes_of.get(p.key, 0) + 1
            logger.warning("a worker died evaluating %s (crash %d)", p.label(),
                           crashes_of[p.key])
            if crashes_of[p.key] >= max_crashes:
                record(_crash_result(p, attempts_of[p.key],
                                     f"it crashed its worker {crashes_of[p.key]} times alone"))
            else:
                suspects.appendleft(p)
        else:
            logger.warning("a worker died with %d points in flight; retrying them one at a "
                           "time", len(casualties))
            suspects.extend(casualties)
    return crashes


def _run_dask(points: Sequence[SweepPoint], point_fn: PointFunction, workers: int,
              record: _Recorder, address: str | None, client: Any) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as e:
        raise ConfigError(
            f"executor 'dask' needs dask.distributed ({e}); install qaa_hw's dependencies"
        ) from e
    own_cluster = None
    own_client = None
    if not logger.isEnabledFor(logging.INFO):  # distributed logs every start/stop at INFO
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if client is None:
        if address:
            try:
                own_client = Client(address, timeout="20s")
            except OSError as e:
                raise ConfigError(f"cannot reach the Dask scheduler at {address!r}: {e}") from e
        else:
            own_cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
            own_client = Client(own_cluster)
        client = own_client
    limit = own_cluster is not None or address is not None
    try:
        futures = {client.submit(run_point, point_fn, p, limit, 1, pure=False,
                                 key=f"qaa_hw-point-{p.key}-{os.getpid()}-{time.time_ns()}"): p
                   for p in points}
        for fut in as_completed(list(futures)):
            p = futures[fut]
            try:
                result = fut.result()
            except Exception as e:  # KilledWorker, a lost scheduler connection, ...
                result = PointResult(
                    key=p.key, status="failed", settings=p.to_dict(),
                    error=f"{type(e).__name__}: {e}".splitlines()[0][:500],
                    traceback="".join(traceback.format_exception(e)))
            record(result)
            fut.release()
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


def _by_key(points: Sequence[SweepPoint], progress: bool) -> dict[str, SweepPoint]:
    """Points by key (duplicates dropped), hashing each once; a bar on stderr while a large
    sweep is prepared."""
    items: Iterable[SweepPoint] = points
    if progress and len(points) >= 10_000:
        from tqdm import tqdm

        items = tqdm(points, desc="preparing points", unit="pt", file=sys.stderr,
                     leave=False, mininterval=0.5)
    return {p.key: p for p in items}


def run_sweep(
    sweep: SweepSpec | Iterable[SweepPoint],
    out_dir: str | Path,
    *,
    workers: int = 1,
    executor: str = "local",
    address: str | None = None,
    client: Any = None,
    point_fn: PointFunction | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    max_crashes: int = 2,
    on_result: Callable[[PointResult], None] | None = None,
    max_points: int | None = MAX_SWEEP_POINTS,
) -> SweepSummary:
    """Evaluate every unfinished point of a sweep and store the results.

    Args:
        sweep: a :class:`SweepSpec` or the points themselves.
        out_dir: output folder; the store is ``out_dir/results.sqlite``.
        workers: worker processes (local) or the size of a new Dask ``LocalCluster``.
        executor: ``"local"`` (process pool; ``workers=1`` still uses one worker process)
            or ``"dask"``.
        address: Dask scheduler address (``tcp://host:8786``) for ``executor="dask"``.
        client: an existing ``distributed.Client`` (overrides ``address``).
        point_fn: the point function (default
            :func:`qaa_hw.analysis.evaluate.evaluate_point`); must be picklable (a
            top-level function).
        retry_failed: evaluate again the points recorded as failed.
        progress: show the progress bar on stderr.
        max_crashes: local executor: worker deaths a point may cause on its own before it
            is recorded as failed.
        on_result: called in the parent with each result once it is stored.
        max_points: refuse a sweep of more points, before any is built (``None``: no cap).

    Returns:
        A :class:`SweepSummary`.

    Raises:
        ConfigError: unknown executor, ``workers`` outside 1..MAX_WORKERS, more than
            ``max_points`` points, an unreachable Dask scheduler.
        KeyboardInterrupt: after stopping the workers (also :class:`qaa_hw.shutdown.
            Interrupted`, for SIGTERM/SIGHUP under the CLI); finished points are kept.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"executor={executor!r} is not valid; accepted: {', '.join(EXECUTORS)}")
    check_int("workers", workers, 1, MAX_WORKERS)
    if max_points is not None:
        check_int("max_points", max_points, 1)
    if point_fn is None:
        from qaa_hw.analysis.evaluate import evaluate_point

        point_fn = evaluate_point
    if isinstance(sweep, SweepSpec):
        check_sweep_size(sweep.name, sweep.size, max_points)
        points = sweep.points()
    else:
        points = list(sweep)
        check_sweep_size("sweep", len(points), max_points)
    unique = _by_key(points, progress)
    t0 = time.perf_counter()
    with ResultStore(out_dir) as store:
        if isinstance(sweep, SweepSpec):
            store.set_meta(f"spec:{sweep.name}", sweep.to_dict())
        finished = store.keys(status="ok") if retry_failed else store.keys()
        todo = [p for k, p in unique.items() if k not in finished]
        skipped = len(unique) - len(todo)
        name = sweep.name if isinstance(sweep, SweepSpec) else "sweep"
        bar = _Progress(len(unique), skipped, name, progress)
        recorder = _Recorder(store, bar, on_result)
        crashes = 0
        if skipped:
            logger.info("resuming: %d of %d points already in %s", skipped, len(unique),
                        store.path)
        try:
            if todo and executor == "local":
                crashes = _run_local(todo, point_fn, workers, recorder, max_crashes)
            elif todo:
                _run_dask(todo, point_fn, workers, recorder, address, client)
        finally:
            bar.close()
        return SweepSummary(total=len(unique), skipped=skipped, ok=recorder.ok,
                            failed=recorder.failed, crashes=crashes,
                            seconds=time.perf_counter() - t0, store=store.path)
