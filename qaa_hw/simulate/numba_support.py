"""Whether Numba is available, and keeping its thread count in step with torch's.

The compiled CPU kernels (:mod:`qaa_hw.simulate.fused_kernels`,
:mod:`qaa_hw.simulate.pauli_kernels`) run on Numba's thread pool; it is sized like torch's
(``torch.set_num_threads``) so one setting governs both and they never oversubscribe.
"""

from __future__ import annotations

import functools
import importlib.util
import threading

import torch


@functools.cache
def numba_available() -> bool:
    """Whether Numba is installed (the compiled kernels need it)."""
    return importlib.util.find_spec("numba") is not None


def sync_numba_threads() -> None:
    """Give Numba's parallel loops as many threads as torch uses (at most Numba's pool).

    Numba's setting is per calling thread; it is only touched when torch's count changed
    since the last call from this thread.
    """
    wanted = torch.get_num_threads()
    if getattr(_LAST, "threads", None) == wanted:
        return
    import numba

    numba.set_num_threads(max(1, min(wanted, numba.config.NUMBA_NUM_THREADS)))
    _LAST.threads = wanted


_LAST = threading.local()
