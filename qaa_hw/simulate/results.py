"""What every engine returns, how readout error and Z values follow from a distribution, and
the one place shots are sampled.

:class:`Result` is the record of every engine (:mod:`qaa_hw.simulate.engine`): the measured
distribution over the ``2^n`` readout bitstrings of the logical qubits (bit ``i`` of the index is
logical qubit ``i``), the ``<Z_i>`` derived from it, and optionally the pre-readout state.

Shots (:func:`sample_frequencies`): the counts of ``shots`` bitstrings drawn from the exact
measured distribution of any engine, as one multinomial draw per row (conditional binomials
under a seeded ``torch.Generator``: cost independent of the shot count); ``<Z_i>`` estimates
average ``1 - 2 b_i`` over the same sampled bitstrings, so the estimates keep the device's
correlations (independent binomials per qubit would not). Nothing else in the package draws
shots.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from qaa_hw.errors import SimulationError


@dataclass(frozen=True)
class Result:
    """Outputs of a batch of inputs (float64 torch tensors, logical qubit order).

    Attributes:
        expectations: ``[B, n]`` measured ``<Z_i>`` (readout error included).
        probabilities: ``[B, 2^n]`` measured distribution (exact, or shot frequencies), or
            ``None`` when the engine computed only the ``<Z_i>``.
        density_matrices: ``[B, 2^n, 2^n]`` state of the measured qubits before readout, when
            asked for and the engine provides it.
        shots: shots per input, ``None`` for exact values.
    """

    expectations: torch.Tensor
    probabilities: torch.Tensor | None = None
    density_matrices: torch.Tensor | None = None
    shots: int | None = None

    def outputs(self, readout: str) -> torch.Tensor:
        """The adapter's readout: ``expectations`` (``"z"``) or ``probabilities``."""
        if readout == "z":
            return self.expectations
        if self.probabilities is None:
            raise SimulationError("this result holds only <Z> values; ask for probabilities")
        return self.probabilities


def stack(results: list[Result]) -> Result:
    """Concatenate the batches of several results (same shots)."""
    first = results[0]

    def cat(name: str) -> torch.Tensor | None:
        parts = [getattr(r, name) for r in results]
        return None if any(p is None for p in parts) else torch.cat(parts)

    expectations = cat("expectations")
    assert expectations is not None
    return Result(expectations, cat("probabilities"), cat("density_matrices"), first.shots)


def check_shots(shots: Any) -> int | None:
    """Validate a shot count: ``None`` (exact) or an integer >= 1.

    Raises:
        SimulationError: anything else.
    """
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise SimulationError(f"shots={shots!r} is not valid; accepted: None (exact) or >= 1")
    return int(shots)


def z_from_probabilities(probs: torch.Tensor, n: int) -> torch.Tensor:
    """``<Z_i>`` for i = 0..n-1 from probabilities ``[..., 2^n]``."""
    index = torch.arange(1 << n)
    signs = torch.stack([1 - 2 * ((index >> i) & 1) for i in range(n)], dim=1).to(probs.dtype)
    return probs @ signs


def apply_confusion(probs: torch.Tensor, confusion: torch.Tensor) -> torch.Tensor:
    """Measured distribution ``[B, 2^n]`` from true probabilities ``[B, 2^n]``.

    Args:
        probs: true probabilities, logical order.
        confusion: ``[n, 2, 2]`` with ``confusion[i, b, m] = P(m | b)`` on logical qubit i.
    """
    batch = probs.shape[0]
    n = confusion.shape[0]
    t = probs.reshape((batch,) + (2,) * n)
    for i in range(n):
        axis = n - i  # axis of logical qubit i in the [B] + [2]*n view
        t = torch.movedim(torch.movedim(t, axis, -1) @ confusion[i].to(t.dtype), -1, axis)
    return t.reshape(batch, 1 << n)


def confuse_z(z: torch.Tensor, confusion: torch.Tensor) -> torch.Tensor:
    """Readout error on ``<Z_i>``: ``(p10 - p01) + (1 - p01 - p10) <Z_i>``.

    ``p01 = P(1|0) = confusion[i, 0, 1]`` and ``p10 = P(0|1) = confusion[i, 1, 0]``.
    """
    p01 = confusion[:, 0, 1].to(z.dtype)
    p10 = confusion[:, 1, 0].to(z.dtype)
    return (p10 - p01) + (1 - p01 - p10) * z


def sample_frequencies(
    probabilities: torch.Tensor, shots: int, *, generator: torch.Generator
) -> torch.Tensor:
    """Empirical frequencies ``[B, K]`` of ``shots`` bitstrings drawn from each row.

    The counts are ``Multinomial(shots, p)`` for every row, drawn as ``K - 1`` conditional
    binomials (count ``k`` ~ ``Binomial(shots left, p_k / mass left)``), so the cost does not
    grow with ``shots``.

    Args:
        probabilities: ``[B, K]`` distributions (clipped at 0 and renormalised per row).
        shots: samples per row (>= 1).
        generator: seeded generator (reproducible draws).

    Raises:
        SimulationError: invalid ``shots``.
    """
    shots = check_shots(shots)  # type: ignore[assignment]
    if shots is None:
        raise SimulationError("shots=None is not valid here; accepted: an integer >= 1")
    p = probabilities.detach().to(torch.float64).clamp_min(0)
    p = p / p.sum(-1, keepdim=True)
    counts = torch.zeros_like(p)
    left = torch.full(p.shape[:1], float(shots), dtype=torch.float64)
    mass = torch.ones(p.shape[:1], dtype=torch.float64)
    for k in range(p.shape[1] - 1):
        share = (p[:, k] / mass.clamp_min(1e-300)).clamp(0.0, 1.0)
        counts[:, k] = torch.binomial(left, share, generator=generator)
        left = left - counts[:, k]
        mass = mass - p[:, k]
    counts[:, -1] = left
    return counts / shots


def sampled(result: Result, shots: int | None, *, generator: torch.Generator) -> Result:
    """``result`` with its distribution replaced by ``shots`` samples (unchanged for ``None``).

    Raises:
        SimulationError: the result has no distribution to sample.
    """
    shots = check_shots(shots)
    if shots is None:
        return result
    if result.probabilities is None:
        raise SimulationError("sampling shots needs the measured distribution")
    freq = sample_frequencies(result.probabilities, shots, generator=generator)
    n = result.expectations.shape[-1]
    return replace(result, expectations=z_from_probabilities(freq, n), probabilities=freq,
                   shots=shots)
