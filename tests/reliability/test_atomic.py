"""Atomic writes and output checks: an interrupted or failed write leaves the previous file
or nothing, never a truncated one; bad output paths fail before the work."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import subprocess_env

from qaa_hw.errors import ConfigError
from qaa_hw.files import atomic_path, check_output_dir, check_output_file, write_text_atomic


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".qaa_hw-tmp-"))


@pytest.mark.parametrize("error", [RuntimeError("writer failed"), KeyboardInterrupt()],
                         ids=["exception", "Ctrl-C"])
def test_a_write_interrupted_midway_keeps_the_previous_file(
    tmp_path: Path, error: BaseException
) -> None:
    target = tmp_path / "report.md"
    write_text_atomic(target, "previous\n")
    with pytest.raises(type(error)), atomic_path(target) as tmp:
        tmp.write_text("half of the new con")
        raise error
    assert target.read_text() == "previous\n"
    assert _leftovers(tmp_path) == []


def test_a_new_file_interrupted_midway_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("{")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_one_line_and_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    write_text_atomic(target, "a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"cannot write file '.*results\.csv': No space left"
                       ), atomic_path(target) as tmp:
        tmp.write_text("a,b\n")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "a,b\n1,2\n" and _leftovers(tmp_path) == []


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os

    mask = os.umask(0o022)
    try:
        path = write_text_atomic(tmp_path / "x.txt", "x")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_sigkill_during_repeated_writes_never_leaves_a_truncated_file(tmp_path: Path) -> None:
    """A child rewrites a 4 MB file (all 'a', then all 'b', ...) as fast as it can; killed
    at random points, the file is always one complete version."""
    target = tmp_path / "big.txt"
    size = 4 * 2**20
    script = textwrap.dedent(f"""
        import itertools
        from qaa_hw.files import write_text_atomic
        for letter in itertools.cycle("abcdef"):
            write_text_atomic({str(target)!r}, letter * {size})
    """)
    for delay in (0.8, 1.1, 1.5):
        proc = subprocess.Popen([sys.executable, "-c", script], env=subprocess_env())
        deadline = time.monotonic() + 60
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=30)
        text = target.read_text()
        assert len(text) == size and text == text[0] * size


def test_failed_plot_leaves_no_truncated_png(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The plot is saved to a temporary file first: a save that fails midway (here: the
    canvas raises after writing part of the PNG) leaves the previous plot intact."""
    import matplotlib.figure

    from qaa_hw.analysis.plots import plot_coupling_map
    from qaa_hw.devices.catalog import load_device

    device = load_device("synthetic:line:4")
    target = tmp_path / "map.png"
    plot_coupling_map(device, target)
    before = target.read_bytes()
    original = matplotlib.figure.Figure.savefig

    def broken(self, fname, **kwargs):  # type: ignore[no-untyped-def]
        original(self, fname, **kwargs)
        Path(fname).write_bytes(Path(fname).read_bytes()[:100])  # truncated, then failure
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(ConfigError, match="No space left on device"):
        plot_coupling_map(device, target)
    assert target.read_bytes() == before and _leftovers(tmp_path) == []


def test_output_checks(tmp_path: Path) -> None:
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    assert check_output_dir(tmp_path / "new" / "deep").is_dir()
    assert check_output_file(tmp_path / "n2" / "r.json") == tmp_path / "n2" / "r.json"
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_output_dir(a_file, what="--out")
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        check_output_file(tmp_path, what="--json file")
    with pytest.raises(ConfigError, match=r"f\.txt' is a file, not a folder"):
        check_output_file(a_file / "r.json")
    with pytest.raises(ConfigError, match="cannot create folder '/proc/qaa_hw/out'"):
        check_output_dir("/proc/qaa_hw/out")
    with pytest.raises(ConfigError, match="cannot write in '/proc'"):
        check_output_file("/proc/r.json")
    assert _leftovers(tmp_path) == []
