"""The embedding plan of a spec: exact (:func:`~qaa_hw.circuits.embedding.exact_plan`) or
approximate, and the angles that embed an input with it (:func:`plan_embedding`,
:func:`embedding_angles_batch`).

Approximate amplitude embedding drops the multiplexor controls an input distribution needs
least.

A multiplexor with ``k`` controls costs ``2^k - 1`` CNOTs (open Gray-code path, see
:mod:`qaa_hw.circuits.embedding`). When the inputs concentrate their energy (PCA-ordered
hidden states: variance decays over coordinates), some branches of the tree carry little
amplitude and a multiplexor may ignore some of its controls: every ignored control halves
its cost. :func:`approx_plan` prunes controls greedily (least fidelity lost per CNOT saved)
while the mean state fidelity on a *calibration set* stays at or above the target. Per
input, the remaining angles are re-fitted (least squares on the Walsh terms, weighted by the
branch probabilities, level by level; see :meth:`~qaa_hw.circuits.embedding.EmbeddingPlan.fit`),
not merely truncated.

The fidelity is a property of the input distribution: it is only guaranteed (on average) for
inputs like the calibration set. Pass real hidden vectors as ``calibration`` where you have
them; the default is :func:`synthetic_calibration`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from qaa_hw.circuits.embedding import (
    EmbeddingPlan,
    Multiplexor,
    check_order,
    exact_plan,
    gray_code,
)
from qaa_hw.circuits.spec import QAASpec
from qaa_hw.errors import ConfigError

logger = logging.getLogger(__name__)

#: Defaults of the synthetic calibration model.
CALIBRATION_SAMPLES = 512
CALIBRATION_DECAY = 1.0
CALIBRATION_SEED = 0


def synthetic_calibration(
    num_qubits: int,
    *,
    num_samples: int = CALIBRATION_SAMPLES,
    decay: float = CALIBRATION_DECAY,
    seed: int = CALIBRATION_SEED,
) -> np.ndarray:
    """Synthetic stand-in for PCA-initialised, down-projected LLM hidden states.

    Model: ``x_i ~ N(0, (i + 1)^(-decay))`` independently for ``i = 0..2^n - 1`` (coordinate
    ``i`` is the ``i``-th principal component; explained variance decays like a power law,
    as in the spectra of transformer hidden states). Seeded, so plans are reproducible.

    Args:
        num_qubits: n (vectors have 2^n coordinates).
        num_samples: number of vectors.
        decay: power-law exponent of the variance.
        seed: random seed.

    Returns:
        Array of shape ``(num_samples, 2^n)``.
    """
    rng = np.random.default_rng(seed)
    dim = 1 << num_qubits
    scale = (np.arange(1, dim + 1, dtype=float)) ** (-decay / 2)
    return rng.normal(size=(num_samples, dim)) * scale[None, :]


def _subcube_masks(bits: Sequence[int]) -> tuple[int, ...]:
    """All subsets of the control bits ``bits`` (ascending) in reflected Gray-code order."""
    out = []
    for code in gray_code(len(bits)):
        out.append(sum(1 << b for i, b in enumerate(bits) if code >> i & 1))
    return tuple(out)


def _plan_from_controls(base: EmbeddingPlan, kept: Sequence[tuple[int, ...]]) -> EmbeddingPlan:
    muxes = tuple(
        Multiplexor(m.target, m.controls, _subcube_masks(bits), closed=False)
        for m, bits in zip(base.multiplexors, kept, strict=True)
    )
    return replace(base, multiplexors=muxes, kind="approx")


def approx_plan(
    num_qubits: int,
    *,
    fidelity: float = 0.99,
    calibration: np.ndarray | None = None,
    order: Sequence[int] | None = None,
) -> EmbeddingPlan:
    """A reduced embedding whose mean fidelity on ``calibration`` is at least ``fidelity``.

    Greedy pruning of multiplexor controls: starting from the exact tree, repeatedly remove
    the (multiplexor, control) pair whose removal loses the least mean fidelity per CNOT
    saved (a multiplexor over ``s`` controls costs ``2^s - 1`` CNOTs), as long as the mean
    fidelity on the calibration set stays at or above ``fidelity``. A multiplexor that
    ignores a control still fits its angles by least squares weighted by the branch
    probabilities, so branches that carry little amplitude are sacrificed first.

    Args:
        num_qubits: n.
        fidelity: target mean state fidelity ``|<x̂|ψ>|^2`` on the calibration set.
        calibration: input vectors (B, <= 2^n); ``None`` uses :func:`synthetic_calibration`
            (power-law variance decay, exponent 1, 512 vectors, seed 0).
        order: preparation order (see :func:`qaa_hw.circuits.embedding.exact_plan`).

    Returns:
        A plan with ``kind="approx"`` whose ``fidelity`` attribute is the mean fidelity
        actually achieved on the calibration set (>= ``fidelity``), or the exact plan
        (fidelity 1) when no control can be dropped.
    """
    if not 0.0 < fidelity <= 1.0:
        raise ConfigError(f"fidelity={fidelity!r} is not valid; accepted: (0, 1]")
    described = calibration is None
    calib = synthetic_calibration(num_qubits) if calibration is None else np.asarray(calibration)
    if calib.ndim != 2 or calib.shape[0] == 0:
        raise ConfigError(f"calibration must be a non-empty (B, d) array, got {calib.shape}")
    label = (
        f"synthetic power-law hidden states ({CALIBRATION_SAMPLES} samples, decay "
        f"{CALIBRATION_DECAY}, seed {CALIBRATION_SEED})"
        if described else f"user calibration set ({calib.shape[0]} vectors)"
    )
    seq = check_order(order, num_qubits)
    exact = exact_plan(num_qubits, order=seq)
    if fidelity >= 1.0 or num_qubits == 1:
        return exact

    def mean_fid(plan: EmbeddingPlan) -> float:
        return float(np.mean(plan.fit(calib)[1]))

    kept: list[tuple[int, ...]] = [tuple(range(k)) for k in range(num_qubits)]
    current = 1.0
    while True:
        best: tuple[float, float, list[tuple[int, ...]]] | None = None
        for k, bits in enumerate(kept):
            for b in bits:
                trial = list(kept)
                trial[k] = tuple(x for x in bits if x != b)
                fid = mean_fid(_plan_from_controls(exact, trial))
                if fid < fidelity:
                    continue
                cost = (current - fid) / (1 << (len(bits) - 1))
                if best is None or cost < best[0]:
                    best = (cost, fid, trial)
        if best is None:
            break
        _, current, kept = best
    if all(len(bits) == k for k, bits in enumerate(kept)):
        return exact
    plan = _plan_from_controls(exact, kept)
    logger.debug("approx embedding: %d CNOTs, %d angles, mean fidelity %.5f",
                 plan.num_cnots, plan.num_angles, current)
    return replace(plan, fidelity=current, calibration=label)


# ---------------------------------------------------------------- the plan of a spec
@functools.lru_cache(maxsize=64)
def _cached_plan(spec: QAASpec, order: tuple[int, ...] | None) -> EmbeddingPlan:
    if spec.embedding == "exact":
        return exact_plan(spec.num_qubits, order=order)
    return approx_plan(spec.num_qubits, fidelity=spec.embedding_fidelity, order=order)


def plan_embedding(
    spec: QAASpec,
    *,
    order: Sequence[int] | None = None,
    calibration: np.ndarray | None = None,
) -> EmbeddingPlan:
    """The embedding plan for ``spec`` (``exact`` or ``approx``).

    Args:
        spec: the adapter spec (``num_qubits``, ``embedding``, ``embedding_fidelity``).
        order: preparation order (see :func:`exact_plan`).
        calibration: input vectors (B, <= 2^n) the ``approx`` fidelity target refers to;
            ``None`` uses :func:`synthetic_calibration`.

    Returns:
        The plan; default-calibration plans are cached per (spec, order).
    """
    key = None if order is None else check_order(order, spec.num_qubits)
    if calibration is None or spec.embedding == "exact":
        return _cached_plan(spec, key)
    return approx_plan(spec.num_qubits, fidelity=spec.embedding_fidelity, order=key,
                       calibration=calibration)


def embedding_angles(
    spec: QAASpec, x: np.ndarray, *, plan: EmbeddingPlan | None = None
) -> np.ndarray:
    """Angles ``alpha`` that embed one real vector ``x`` (length <= 2^n).

    Args:
        spec: the adapter spec.
        x: the hidden vector; it is zero-padded to 2^n and L2-normalised.
        plan: the plan the circuit was built with (default: :func:`plan_embedding(spec)`).

    Returns:
        ``alpha`` of length ``plan.num_angles``.
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ConfigError(f"x must be a 1-D vector, got shape {arr.shape}; "
                          "use embedding_angles_batch for batches")
    return embedding_angles_batch(spec, arr[None, :], plan=plan)[0]


def embedding_angles_batch(
    spec: QAASpec, x: np.ndarray, *, plan: EmbeddingPlan | None = None
) -> np.ndarray:
    """Batched :func:`embedding_angles`: ``x`` (B, <= 2^n) -> ``alpha`` (B, num_angles)."""
    used = plan if plan is not None else plan_embedding(spec)
    if used.num_qubits != spec.num_qubits:
        raise ConfigError(f"plan is for {used.num_qubits} qubits, spec has {spec.num_qubits}")
    return used.fit(np.asarray(x, dtype=float))[0]
