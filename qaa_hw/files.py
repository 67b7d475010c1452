"""Output files: checked before the work starts, written atomically.

* :func:`check_output_file` / :func:`check_output_dir` create the folder a result goes to
  and prove it writable (a probe file is created and removed), so a bad ``--out``, ``--json``
  or ``--plot`` fails in one line before minutes of work, not after.
* :func:`atomic_path` hands out a temporary file in the destination's folder and renames it
  onto the destination (``os.replace``) only when the write succeeded, so an interrupted or
  failed write (a signal, a full disk) leaves the previous file or nothing, never a
  truncated one. :func:`write_text_atomic` is the common case.

Every failure is a :class:`~qaa_hw.errors.ConfigError` naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from qaa_hw.errors import ConfigError

_TMP_PREFIX = ".qaa_hw-tmp-"


def _fail(what: str, path: Path, why: str) -> ConfigError:
    return ConfigError(f"{what} {str(path)!r}: {why}")


def _reason(e: OSError) -> str:
    return e.strerror or str(e)


def _probe(folder: Path, what: str, path: Path) -> None:
    """Create and remove a file in ``folder`` (the only test of writability that holds for
    root, read-only mounts and full quotas alike)."""
    try:
        fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=folder)
    except OSError as e:
        raise _fail(what, path, f"cannot write in {str(folder)!r} ({_reason(e)})") from e
    os.close(fd)
    os.unlink(name)


def _make_dir(folder: Path, what: str, path: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise _fail(what, path, f"{str(folder)!r} is a file, not a folder") from e
    except OSError as e:
        raise _fail(what, path, f"cannot create folder {str(folder)!r} ({_reason(e)})") from e


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_dir(path: str | Path, *, what: str = "output folder") -> Path:
    """Create the folder ``path`` if needed and check that files can be written in it.

    Raises:
        ConfigError: ``path`` is a file, or cannot be created or written.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise _fail(what, out, "is a file, not a folder")
    _make_dir(out, what, out)
    _probe(out, what, out)
    return out


def check_output_file(path: str | Path, *, what: str = "output file") -> Path:
    """Check that ``path`` can be written as a file (creating its folder if needed).

    Raises:
        ConfigError: ``path`` is a folder, or its folder cannot be created or written.
    """
    out = Path(path)
    if out.is_dir():
        raise _fail(what, out, "is a folder, not a file")
    _make_dir(out.parent, what, out)
    _probe(out.parent, what, out)
    return out


@contextlib.contextmanager
def atomic_path(path: str | Path, *, what: str = "file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file keeps ``path``'s suffix (writers that choose a format by suffix
    still work). On any exception, including ``KeyboardInterrupt``, it is removed and
    ``path`` is untouched; an ``OSError`` becomes a :class:`ConfigError`.
    """
    out = Path(path)
    _make_dir(out.parent, what, out)
    try:
        fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=out.suffix, dir=out.parent)
    except OSError as e:
        raise _fail(f"cannot write {what}", out, _reason(e)) from e
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would survive the rename

        yield tmp
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise _fail(f"cannot write {what}", out, _reason(e)) from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str, *, what: str = "file") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    out = Path(path)
    with atomic_path(out, what=what) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return out
