"""Advantage check: the QPU against simply computing the adapter classically.

A QAA adapter's ideal readout is an exact quadratic form of the normalised input,
``<Z_o> = x^T Q_o x`` with ``Q_o = U^T Z_o U`` (``2^n x 2^n``, from the circuit's trainable
angles; :meth:`qaa_hw.simulate.FastNoisyEngine.quadratic_form`). Once trained, the adapter
can be evaluated on a CPU with ``quadratic_readout`` (:mod:`qaa_hw.adapters.backends`), the
same function the noiseless training path uses. :func:`surrogate_seconds_per_call` measures
that evaluation here, per token and module, next to the QPU seconds per token of the cost
model.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from qaa_hw.compile.compiled import CompiledAdapter

#: Tokens per timed batch (one training step's worth).
BATCH = 512
#: Timed repetitions of :data:`NUMBER` calls each; the fastest is kept (timeit's rule: the
#: minimum is the run least disturbed by other processes on the host).
REPEATS = 7
NUMBER = 20


def surrogate_seconds_per_call(compiled: CompiledAdapter, theta: np.ndarray, *,
                               batch: int = BATCH, repeats: int = REPEATS,
                               number: int = NUMBER, seed: int = 0) -> float:
    """Measured CPU seconds of one adapter call (one token, one module) of the classical
    quadratic-form surrogate: ``Q`` from the ideal engine, then ``quadratic_readout`` on a
    batch of ``batch`` random inputs, ``number`` calls per timing, best of ``repeats`` after
    one warm-up call, on one torch thread, divided by ``number x batch``."""
    import torch

    from qaa_hw.adapters.backends import quadratic_readout
    from qaa_hw.simulate import make_engine

    engine = make_engine("fast", compiled, noise=False)
    q = engine.quadratic_form(torch.as_tensor(theta, dtype=torch.float64))  # type: ignore[attr-defined]
    x = torch.as_tensor(np.random.default_rng(seed).standard_normal((batch, q.shape[-1])))
    best = float("inf")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small products stall in multi-threaded BLAS on a busy host
    try:
        with torch.no_grad():
            quadratic_readout(x, q)  # warm-up: first-call allocations are not per-token cost
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _ in range(number):
                    quadratic_readout(x, q)
                best = min(best, time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)
    return best / (number * batch)


@dataclass(frozen=True)
class Advantage:
    """QPU against classical surrogate time per generated token, for one configuration.

    Attributes:
        device: device name.
        config: configuration label.
        modules: adapted modules per token.
        classical_s_per_token: measured surrogate seconds per token (all modules).
        qpu_s_per_token: QPU seconds per token of the cost model (all modules).
    """

    device: str
    config: str
    modules: int
    classical_s_per_token: float
    qpu_s_per_token: float

    @property
    def qpu_over_classical(self) -> float:
        """How many times longer the QPU takes per token."""
        return self.qpu_s_per_token / self.classical_s_per_token

    def sentence(self) -> str:
        """The one-sentence verdict."""
        ratio = self.qpu_over_classical
        verdict = ("no advantage: the classical surrogate is faster" if ratio > 1 else
                   "the QPU is faster than the classical surrogate")
        return (f"{self.device} ({self.config}): {self.qpu_s_per_token:.3g} s of QPU time per "
                f"generated token against {self.classical_s_per_token:.3g} s for the exact "
                f"classical quadratic form on this CPU ({self.modules} modules), "
                f"{ratio:.3g}x: {verdict}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain data with the ratio and the sentence."""
        return {**asdict(self), "qpu_over_classical": self.qpu_over_classical,
                "sentence": self.sentence()}
