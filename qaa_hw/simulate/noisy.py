"""Noisy evaluation of a compiled adapter: an exact engine and a fast Heisenberg-picture one.

Both simulate the k active qubits under the one :class:`~qaa_hw.simulate.noise.NoiseSpec`.
States are Pauli vectors (:mod:`qaa_hw.simulate.kernels`), every gate block a Pauli transfer
matrix batched over inputs, the per-input ``alpha`` angles affine rz rotations folded into the
blocks (:mod:`qaa_hw.simulate.program`); value-only runs use the Numba kernels of
:mod:`qaa_hw.simulate.pauli_program`.

:class:`DensityMatrixEngine`: ``|0><0|`` through every block, then the probabilities of the
``final_layout`` qubits and the readout confusion (equal to Aer's density-matrix simulator to
round-off).

:class:`FastNoisyEngine`: everything after the state preparation is one fixed channel E, so
``<Z_i> = Tr(A_i rho_prep(x))`` with ``A_i = E^dagger(Z_i)`` back-propagated once per ``theta``
(differentiable); readout error is applied afterwards. ``prep_noise`` sets how the
preparation's noise is treated:

* ``"exact"``: batched noisy simulation of the preparation, then ``Tr(A_i rho)``; equal to the
  full simulation up to round-off.
* ``"effective"``: an x-independent Pauli-diagonal channel plus offset,
  ``r_P -> scale_P r_P + offset_P``, fitted per component by least squares to ``fit_samples``
  exact noisy preparations of random inputs (the Pauli-twirled average preparation noise; the
  offset keeps the non-unital T1 drift). Outputs become ``x^T S_i x + c_i``.
* ``"none"``: ideal preparation, ``x^T S_i x``.

For an exact embedding the ideal prepared state is ``W x`` for a fixed isometry W (read from
``2^n`` probe inputs and verified), so ``none`` and ``effective`` never simulate the
preparation per input; approximate embeddings are simulated per input. The error of
``effective`` against ``exact`` is measured by ``benchmarks/noisy_eval.py`` and bounded in
``tests/simulate/test_one_physics.py``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.errors import SimulationError
from qaa_hw.simulate import kernels as K
from qaa_hw.simulate.engine import PREP_NOISE_MODES, Capabilities, Engine, PrepNoise
from qaa_hw.simulate.noise import NoiseSpec, resolve_noise
from qaa_hw.simulate.numba_support import numba_available
from qaa_hw.simulate.pauli_program import PauliProgram, build_pauli_program, run_blocks
from qaa_hw.simulate.program import Block, GateOp, Program, build_program, compile_steps
from qaa_hw.simulate.results import Result, apply_confusion, confuse_z, z_from_probabilities

logger = logging.getLogger(__name__)

AnglesFn = Callable[[np.ndarray], np.ndarray]
Values = dict[str, torch.Tensor]

#: Float64 entries per chunk of Pauli vectors (2^23 * 8 bytes = 64 MiB).
CHUNK_ELEMENTS = 1 << 23
_EMPTY = torch.zeros(0, dtype=torch.float64)


@dataclass(frozen=True)
class EffectivePrep:
    """The fitted x-independent preparation noise (Pauli-diagonal channel plus offset).

    ``r_P(rho_prep(x)) ~ scale_P * r_P(|psi(x)><psi(x)|) + offset_P`` for every Pauli P of the
    k active qubits (``r_P = Tr(P rho)``).

    Attributes:
        scale: ``[4, ..., 4]`` per-Pauli slopes (canonical axis order).
        offset: ``[4, ..., 4]`` per-Pauli offsets (the non-unital part, e.g. T1 decay).
        samples: number of exact noisy preparations fitted.
        mean_fidelity: mean fidelity ``<psi|rho_prep|psi>`` of those preparations.
        fit_error: RMS error of the fitted Pauli vectors, relative to the RMS of the exact ones.
    """

    scale: torch.Tensor
    offset: torch.Tensor
    samples: int
    mean_fidelity: float
    fit_error: float


def prepare_inputs(x: Any, num_qubits: int) -> torch.Tensor:
    """``[B, 2^n]`` float64: zero-padded, L2-normalised rows (a 1-D ``x`` is one row)."""
    from qaa_hw.circuits.embedding import normalise

    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, float)
    if arr.ndim == 1:
        arr = arr[None, :]
    try:
        return torch.from_numpy(normalise(arr, num_qubits))
    except Exception as e:
        raise SimulationError(f"invalid input vectors: {e}") from e


def prepare_theta(theta: Any, num_theta: int) -> torch.Tensor:
    """``theta`` as a flat float64 tensor of length ``num_theta`` (keeps autograd)."""
    t = theta if isinstance(theta, torch.Tensor) else torch.as_tensor(np.asarray(theta, float))
    t = t.to(torch.float64).reshape(-1)
    if t.numel() != num_theta:
        raise SimulationError(f"theta has {t.numel()} values; the adapter needs {num_theta}")
    return t


def default_embedding_angles(compiled: CompiledAdapter) -> AnglesFn:
    """``x [B, 2^n] -> alpha [B, A]``: ``compiled.embedding.angles`` (the spec's default plan
    for records without an embedding)."""
    embedding = compiled.embedding
    if embedding is not None:
        return lambda xs: np.atleast_2d(embedding.angles(xs))
    from qaa_hw.circuits.plans import embedding_angles_batch

    spec = compiled.spec
    return lambda xs: embedding_angles_batch(spec, xs)


def run_steps(
    data: torch.Tensor,
    order: list[int],
    steps: tuple[Block, ...],
    values: Values,
    *,
    adjoint: bool = False,
) -> tuple[torch.Tensor, list[int]]:
    """Apply blocks to Pauli vectors (reversed and transposed when ``adjoint``); per-input
    rotations are folded into per-input block matrices."""
    for block in reversed(steps) if adjoint else steps:
        data, order = K.apply_matrix(
            data, order, block.qubits, block.matrix(values), adjoint=adjoint
        )
    return data, order


def run_statevector(ops: tuple[GateOp, ...], values: Values, batch: int, k: int) -> torch.Tensor:
    """Ideal state vectors ``[B, 2^k]`` after ``ops`` (noise ignored)."""
    psi = torch.zeros(batch, 1 << k, dtype=torch.complex128)
    psi[:, 0] = 1
    for op in ops:
        if op.unitary is not None:
            psi = K.apply_unitary(psi, op.unitary, op.qubits, k)
            continue
        q = op.qubits[0]
        half = 0.5 * op.angle(values).reshape(-1, 1, 1, 1)
        phase = torch.cat((torch.exp(-1j * half), torch.exp(1j * half)), dim=2)
        psi = (psi.reshape(batch, -1, 2, 1 << q) * phase).reshape(batch, -1)
    return psi


class _Base(Engine):
    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise: NoiseSpec | bool,
        fold: int,
        angles: AnglesFn | None,
    ):
        self.compiled = compiled
        self.spec = compiled.spec
        self.noise = resolve_noise(compiled, noise)
        self.program: Program = build_program(compiled, self.noise, fold=fold)
        self._angles = angles if angles is not None else default_embedding_angles(compiled)
        self._chunk = max(1, CHUNK_ELEMENTS >> (2 * self.program.num_qubits))
        #: Use the compiled kernels for value-only simulations (False: always torch).
        self.compiled_kernels = True
        self._programs: dict[int, tuple[tuple[Block, ...], PauliProgram]] = {}

    def _values(self, xs: torch.Tensor, theta: torch.Tensor = _EMPTY) -> Values:
        p = self.program.num_alpha
        if p == 0:
            return {"alpha": torch.zeros(xs.shape[0], 0, dtype=torch.float64), "theta": theta}
        alpha = torch.as_tensor(np.asarray(self._angles(xs.numpy()), dtype=float))
        if alpha.dim() != 2 or alpha.shape[0] != xs.shape[0] or alpha.shape[1] < p:
            raise SimulationError(
                f"embedding angles have shape {tuple(alpha.shape)}; expected "
                f"({xs.shape[0]}, >= {p})"
            )
        return {"alpha": alpha, "theta": theta}

    def _pauli_states(
        self,
        xs: torch.Tensor,
        steps: tuple[Block, ...],
        theta: torch.Tensor = _EMPTY,
        *,
        reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Canonical Pauli vectors ``[B, 4, ..., 4]`` after ``steps`` from ``|0...0>``.

        Inputs run in chunks of at most :data:`CHUNK_ELEMENTS` numbers; ``reduce`` (e.g. a
        contraction with observables) is applied to each chunk's vectors before they are
        concatenated, so the ``[B, 4^k]`` vectors never exist at once. Runs the compiled
        sparse kernels (:mod:`qaa_hw.simulate.pauli_program`) when Numba is installed and no
        gradient with respect to ``theta`` is needed, else torch.
        """
        k = self.program.num_qubits
        compiled = self.compiled_kernels and numba_available()
        if compiled and theta.requires_grad and torch.is_grad_enabled():
            compiled = False
        out = []
        for start in range(0, xs.shape[0], self._chunk):
            chunk = xs[start : start + self._chunk]
            values = self._values(chunk, theta)
            if compiled:
                vec = run_blocks(self._pauli_program(steps), values, chunk.shape[0])
                vec = vec.reshape((chunk.shape[0],) + (4,) * k)
            else:
                data, order = K.zero_pauli_state(chunk.shape[0], k)
                data, order = run_steps(data, order, steps, values)
                vec = K.canonical(data, order)
            out.append(vec if reduce is None else reduce(vec))
        return out[0] if len(out) == 1 else torch.cat(out)

    def _pauli_program(self, steps: tuple[Block, ...]) -> PauliProgram:
        """The flat kernel program of ``steps``, built once per steps tuple."""
        key = id(steps)
        if key not in self._programs:
            self._programs[key] = (steps, build_pauli_program(steps, self.program.num_qubits))
        return self._programs[key][1]

    def _ideal_prep(self, xs: torch.Tensor) -> torch.Tensor:
        """Ideal prepared state vectors ``[B, 2^k]``."""
        return run_statevector(
            self.program.prep, self._values(xs), xs.shape[0], self.program.num_qubits
        )


class DensityMatrixEngine(_Base):
    """Exact batched noisy simulation of the whole compiled circuit (Pauli-transfer form).

    Args:
        compiled: the compiled adapter.
        noise: the noise (``True``: the device's, idle relaxation on; ``False``: ideal).
        fold: odd gate-folding factor (1: the compiled circuit).
        embedding_angles: ``x [B, 2^n] -> alpha [B, A]`` (default: ``compiled.embedding``).
    """

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        noise: NoiseSpec | bool = True,
        fold: int = 1,
        embedding_angles: AnglesFn | None = None,
    ) -> None:
        super().__init__(compiled, noise=noise, fold=fold, angles=embedding_angles)
        self._steps = compile_steps(self.program.ops)

    capabilities = Capabilities(gradient=True, density_matrix=True, batched=True)

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """Simulate a batch ``x [B, <=2^n]`` (or one vector) with trainable values ``theta``."""
        prog = self.program
        xs = prepare_inputs(x, self.spec.num_qubits)
        th = prepare_theta(theta, prog.num_theta)
        k = prog.num_qubits
        vec = self._pauli_states(xs, self._steps, th)
        true = K.probabilities_from_z(K.z_components(vec, prog.final_local, k))
        measured = apply_confusion(true, prog.readout)
        dms = None
        if density_matrices:
            dms = K.pauli_to_operator(K.select_qubits(vec, prog.final_local, k), state=True)
        return Result(
            expectations=z_from_probabilities(measured, prog.num_logical),
            probabilities=measured,
            density_matrices=dms,
        )


class FastNoisyEngine(_Base):
    """Heisenberg-picture noisy evaluation; see the module docstring.

    Args:
        compiled: the compiled adapter.
        prep_noise: ``"exact"``, ``"effective"`` or ``"none"``.
        embedding_angles: ``x [B, 2^n] -> alpha [B, A]`` (default: ``compiled.embedding``).
        fit_samples: exact preparations used to fit the ``effective`` channel.
        seed: seed of the fitting inputs.
        noise: the noise (``True``: the device's, idle relaxation on; ``False``: ideal).
        fold: odd gate-folding factor (1: the compiled circuit).

    Raises:
        SimulationError: unknown ``prep_noise``.
    """

    capabilities = Capabilities(gradient=True, batched=True)

    def __init__(
        self,
        compiled: CompiledAdapter,
        *,
        prep_noise: PrepNoise = "exact",
        embedding_angles: AnglesFn | None = None,
        fit_samples: int = 64,
        seed: int = 0,
        noise: NoiseSpec | bool = True,
        fold: int = 1,
    ) -> None:
        if prep_noise not in PREP_NOISE_MODES:
            raise SimulationError(
                f"prep_noise={prep_noise!r} is not valid; accepted: {', '.join(PREP_NOISE_MODES)}"
            )
        super().__init__(compiled, noise=noise, fold=fold, angles=embedding_angles)
        if prep_noise != "exact":
            self.capabilities = Capabilities(gradient=True, approximate=True, batched=True)
        self.prep_noise: PrepNoise = prep_noise
        prog = self.program
        self._prep_steps = compile_steps(prog.prep)
        self._ansatz_steps = compile_steps(prog.ansatz)
        self._rng = np.random.default_rng(seed)
        self._sites: torch.Tensor | None = None
        self.embedding_map = self._detect_embedding()
        self.effective: EffectivePrep | None = None
        if prep_noise == "effective" and prog.noisy:
            self.effective = self._fit_effective(fit_samples)

    # ---------------------------------------------------------------- observables
    def observables(self, theta: Any, *, readout: Literal["z", "probs"] = "z") -> torch.Tensor:
        """Heisenberg observables ``E^dagger(O_o)`` as Pauli vectors ``[O, 4, ..., 4]``.

        ``O_o`` are ``Z_i`` on the measured qubits (``readout="z"``) or the projectors on
        the ``2^n`` readout bitstrings (``"probs"``), before readout error; the result ``a``
        satisfies ``Tr(O_o E(rho)) = sum_P a_P Tr(P rho)``. Differentiable in ``theta``.
        """
        prog = self.program
        k = prog.num_qubits
        th = prepare_theta(theta, prog.num_theta)
        if readout == "z":
            obs = K.z_observables(prog.final_local, k)
        else:
            obs = K.projector_observables(prog.final_local, k)
        order = list(range(k - 1, -1, -1))
        values: Values = {"theta": th, "alpha": _EMPTY}
        out, out_order = run_steps(obs, order, self._ansatz_steps, values, adjoint=True)
        return K.canonical(out, out_order)

    # ------------------------------------------------------------------- outputs
    def expectations(self, x: Any, theta: Any) -> torch.Tensor:
        """Measured ``<Z_i>`` (readout error included), ``[B, n]``; differentiable in theta."""
        raw = self._evaluate(x, self.observables(theta, readout="z"))
        return confuse_z(raw, self.program.readout)

    def probabilities(self, x: Any, theta: Any) -> torch.Tensor:
        """Measured distribution ``[B, 2^n]``; differentiable in theta."""
        raw = self._evaluate(x, self.observables(theta, readout="probs"))
        return apply_confusion(raw, self.program.readout)

    def exact(self, x: Any, theta: Any, *, distribution: bool = True,
              density_matrices: bool = False, progress: bool = False) -> Result:
        """``<Z_i>`` of a batch, and the measured distribution when ``distribution`` (no
        density matrices: use :class:`DensityMatrixEngine`)."""
        if density_matrices:
            raise SimulationError(
                "the fast engine has no output states; use the exact engine for density matrices"
            )
        if not distribution:
            return Result(self.expectations(x, theta))
        probs = self.probabilities(x, theta)
        return Result(z_from_probabilities(probs, self.program.num_logical), probs)

    def quadratic_form(self, theta: Any, *, readout: Literal["z", "probs"] = "z") -> torch.Tensor:
        """``Q [O, d, d]`` (symmetric, float64) with measured output ``o`` equal to
        ``x̂ᵀ Q_o x̂`` for every normalised input ``x̂``; differentiable in ``theta``.

        Exists for an exact embedding with ``prep_noise`` ``effective`` or ``none`` (or no
        noise): the effective channel's offset and the readout error are affine in the raw
        value, and ``x̂ᵀ x̂ = 1`` folds their constants into ``Q``.

        Raises:
            SimulationError: no quadratic form (``prep_noise="exact"`` with noise, or an
                approximate embedding).
        """
        if self.embedding_map is None or (self.prep_noise == "exact" and self.program.noisy):
            raise SimulationError(
                "this engine has no quadratic form (prep_noise='exact' or an approx "
                "embedding); use prep_noise='effective' or 'none' with an exact embedding"
            )
        obs, const = self._effective_observables(self.observables(theta, readout=readout))
        eye = torch.eye(1 << self.spec.num_qubits, dtype=torch.float64)
        raw = self._symmetric(obs) + const[:, None, None] * eye  # [O, d, d]
        if readout == "z":
            p01, p10 = self.program.readout[:, 0, 1], self.program.readout[:, 1, 0]
            return (1 - p01 - p10)[:, None, None] * raw + (p10 - p01)[:, None, None] * eye
        d = eye.shape[0]
        flat = raw.permute(1, 2, 0).reshape(d * d, -1)
        return apply_confusion(flat, self.program.readout).reshape(d, d, -1).permute(2, 0, 1)

    # ------------------------------------------------------------------ internals
    def _evaluate(self, x: Any, obs: torch.Tensor) -> torch.Tensor:
        """``Tr(O_o E(rho_prep(x)))`` for every input and observable: ``[B, O]``."""
        xs = prepare_inputs(x, self.spec.num_qubits)
        if self.prep_noise == "exact" and self.program.noisy:
            flat = obs.reshape(obs.shape[0], -1)
            return self._pauli_states(
                xs, self._prep_steps, reduce=lambda vec: vec.reshape(vec.shape[0], -1) @ flat.T
            )
        obs, const = self._effective_observables(obs)
        if self.embedding_map is None:
            ops = K.pauli_to_operator(obs, state=False)  # [O, 2^k, 2^k], Hermitian
            psi = self._ideal_prep(xs)
            return torch.einsum("bi,oij,bj->bo", psi.conj(), ops, psi).real + const
        return torch.einsum("bi,oij,bj->bo", xs, self._symmetric(obs), xs) + const

    def _effective_observables(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Observables acting on the ideal prepared state, and constants ``[O]``: the fitted
        channel moved onto the observables (``effective``), else unchanged and 0."""
        if self.effective is None or not self.program.noisy:
            return obs, torch.zeros(obs.shape[0], dtype=torch.float64)
        const = obs.reshape(obs.shape[0], -1) @ self.effective.offset.reshape(-1)
        return obs * self.effective.scale, const

    def _symmetric(self, obs: torch.Tensor) -> torch.Tensor:
        """``Re(Wᴴ A_o W)`` ``[O, d, d]``: the observables on the embedded input amplitudes."""
        ops = K.pauli_to_operator(obs, state=False)  # [O, 2^k, 2^k], Hermitian
        w = self.embedding_map
        assert w is not None
        sites = self._sites
        if sites is not None:  # one basis state per amplitude: index instead of multiply
            phase = w[sites, torch.arange(w.shape[1])]
            sub = ops[:, sites][:, :, sites]
            return (phase.conj()[:, None] * sub * phase[None, :]).real
        return torch.einsum("aj,oab,bl->ojl", w.conj(), ops, w).real

    def _detect_embedding(self) -> torch.Tensor | None:
        """The isometry ``W`` with ``psi_prep(x) = e^{i phi(x)} W x`` (ideal), or ``None``.

        An exact embedding followed by fixed gates is linear in x up to a global phase. W is
        read from ``2^n`` probes (``e_0`` and ``(e_0 + e_j)/sqrt 2``, whose overlap with
        ``W e_0`` fixes each column's phase) and verified on three random inputs. ``None``
        (approximate embeddings) makes the ``none``/``effective`` modes simulate the ideal
        preparation per input instead.
        """
        n = self.spec.num_qubits
        d = 1 << n
        probes = torch.zeros(d, d, dtype=torch.float64)
        probes[:, 0] = 1.0
        probes[1:, 1:] = torch.eye(d - 1, dtype=torch.float64)
        probes[1:] /= math.sqrt(2)
        psi = self._ideal_prep(probes)  # [d, 2^k]
        w0 = psi[0]
        phase = math.sqrt(2) * (psi[1:] @ w0.conj())
        if torch.any((phase.abs() - 1).abs() > 1e-9):
            return None
        w = torch.cat((w0[None, :], math.sqrt(2) * psi[1:] / phase[:, None] - w0)).T
        check = prepare_inputs(self._rng.standard_normal((3, d)), n)
        overlap = (self._ideal_prep(check).conj() * (check.to(w.dtype) @ w.T)).sum(1).abs()
        if torch.any((overlap - 1).abs() > 1e-9):
            logger.debug("ideal preparation is not linear in x: simulated per input")
            return None
        support = w.abs() > 1e-9
        if bool(torch.all(support.sum(0) == 1)):
            self._sites = support.to(torch.int64).argmax(0)
        return w

    def _fit_effective(self, samples: int) -> EffectivePrep:
        """Per-Pauli least squares ``r_P(noisy) ~ scale_P r_P(ideal) + offset_P``."""
        n = self.spec.num_qubits
        xs = prepare_inputs(self._rng.standard_normal((samples, 1 << n)), n)
        noisy = self._pauli_states(xs, self._prep_steps)
        psi = self._ideal_prep(xs)
        ideal = K.operator_to_pauli(psi[:, :, None] * psi.conj()[:, None, :])
        dp, dr = ideal - ideal.mean(0), noisy - noisy.mean(0)
        var = (dp * dp).mean(0)
        cov = (dp * dr).mean(0)
        slope = float(cov.sum() / var.sum())  # global fallback where a component is constant
        scale = torch.where(var > 1e-3 * var.max(), cov / var.clamp_min(1e-300), slope)
        offset = noisy.mean(0) - scale * ideal.mean(0)
        fitted = scale * ideal + offset
        fid = (ideal * noisy).reshape(samples, -1).sum(-1) / (1 << self.program.num_qubits)
        fit = EffectivePrep(
            scale=scale,
            offset=offset,
            samples=samples,
            mean_fidelity=float(fid.mean()),
            fit_error=float(((fitted - noisy) ** 2).mean().sqrt() / (noisy**2).mean().sqrt()),
        )
        logger.debug("effective prep noise: slope %.4f, fit error %.3g", slope, fit.fit_error)
        return fit
