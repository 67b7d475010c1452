"""Shared helpers of the benchmark scripts: timing, machine peak, docs sections, peak memory."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated calls of one function.

    Attributes:
        median_s: median over the timed repeats.
        min_s: fastest repeat.
        repeats: number of timed repeats (after the warm-up calls).
        samples: the per-call seconds.
    """

    median_s: float
    min_s: float
    repeats: int
    samples: tuple[float, ...] = ()

    @staticmethod
    def of(samples: Sequence[float]) -> Timing:
        """The timing of a list of per-call seconds."""
        return Timing(statistics.median(samples), min(samples), len(samples), tuple(samples))

    def merged(self, other: Timing) -> Timing:
        """The timing of both sets of samples together."""
        return Timing.of(self.samples + other.samples)


def time_call(
    fn: Callable[[], object],
    *,
    warmup: int = 2,
    min_repeats: int = 5,
    max_repeats: int = 50,
    budget_s: float = 2.0,
) -> Timing:
    """Time ``fn`` after ``warmup`` calls: at least ``min_repeats`` repeats, then more while the
    total stays under ``budget_s`` (never more than ``max_repeats``).

    Args:
        fn: the call to time (it must block until its work is done).
        warmup: untimed calls first.
        min_repeats: timed repeats always made.
        max_repeats: cap on timed repeats.
        budget_s: stop adding repeats once this much time was spent timing.

    Returns:
        The :class:`Timing`.
    """
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_repeats and (
        len(times) < min_repeats or time.perf_counter() - start < budget_s
    ):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return Timing.of(times)


def matmul_peak_flops(size: int = 2048, dtype_name: str = "float32") -> float:
    """Achieved FLOP/s of a large square torch matmul on this machine (best of repeats).

    Args:
        size: matrix side.
        dtype_name: ``"float32"`` (sgemm) or ``"float64"``.

    Returns:
        FLOP/s, counting ``2 size^3`` per product.
    """
    import torch

    dtype = getattr(torch, dtype_name)
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen, dtype=dtype)
    b = torch.randn(size, size, generator=gen, dtype=dtype)
    out = torch.empty(size, size, dtype=dtype)
    timing = time_call(lambda: torch.mm(a, b, out=out), warmup=3, min_repeats=10, budget_s=2.0)
    return 2.0 * size**3 / timing.min_s


def replace_docs_section(heading: str, section: str, docs: Path = DOCS) -> None:
    """Replace (or append) the ``heading`` section (up to the next ``## ``) of ``docs``.

    Args:
        heading: the section's first line, e.g. ``"## Training simulator"``.
        section: the new section text, starting with ``heading``.
        docs: the markdown file.
    """
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(text.rstrip("\n") + "\n")


def peak_rss_delta_mib(code: str, *, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``code`` in a fresh Python and return the JSON it prints (memory probes).

    ``code`` should print one JSON object on its last stdout line; it may use the helpers of
    :data:`RSS_PROBE_PRELUDE`: ``reset_peak_rss()`` (resets the high-water mark, returns the
    current RSS in MiB) and ``peak_rss_mib()`` (``VmHWM``, which, unlike ``ru_maxrss``, is
    not inherited from the parent across ``exec``).

    Args:
        code: Python source run with ``python -c``.
        env: extra environment variables.

    Returns:
        The decoded JSON object.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", RSS_PROBE_PRELUDE + code],
        capture_output=True,
        text=True,
        check=True,
        env=full_env,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


RSS_PROBE_PRELUDE = """
import json
def _status_mib(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(field + " not in /proc/self/status")
def reset_peak_rss():
    # Linux >= 4.0: writing 5 to clear_refs resets the high-water mark VmHWM to VmRSS.
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status_mib("VmRSS")
def peak_rss_mib():
    return _status_mib("VmHWM")
"""


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table.

    Args:
        header: column titles.
        rows: cells (formatted with ``str``).

    Returns:
        The table text, ending with a newline.
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine_summary() -> str:
    """One line naming the CPU, core count and torch/numpy versions."""
    import platform

    import numpy as np
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), numpy {np.__version__}, "
        f"Python {platform.python_version()}"
    )
