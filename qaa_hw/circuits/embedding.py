"""Amplitude embedding of real vectors: a tree of uniformly controlled RY rotations.

The preparation follows Möttönen et al. (2004), restricted to real amplitudes (RY only).
Qubits are prepared one after another in ``order``: ``order[0]`` (the root) gets a plain
``RY``; qubit ``order[k]`` gets a *multiplexor*, an RY whose angle depends on the basis
state of the ``k`` qubits prepared before it (its controls).

Each multiplexor is written in the Walsh basis: ``UCRY(θ) = Π_S exp(-i φ_S Y_t Z_S / 2)``
with ``φ = H θ / 2^k`` over the control subsets ``S`` (bit masks, bit ``j`` = ``controls[j]``).
The circuit visits the kept subsets along a path starting at the empty set; between two
subsets it applies one CNOT (control -> target) per control that enters or leaves the
parity carried by the target, then ``RY(φ_S)``. All CNOTs of a multiplexor run between its
controls and its target. Visiting all ``2^k`` subsets in reflected Gray-code order is the
exact multiplexor (``2^k`` CNOTs when the path is closed back to the empty set).

CNOT merging: the closing CNOTs of a multiplexor (``open`` path) are not emitted. They are a
basis permutation that commutes into the later multiplexors (it only relabels their control
values) and into the final state; :meth:`EmbeddingPlan.angles` accounts for it exactly, so
the exact embedding needs ``sum_k (2^k - 1) = 2^n - n - 1`` CNOTs instead of ``2^n - 2``.

Angles (``alpha``) are computed by disentangling the target state from the leaves to the
root; at every level the targets' signed pair ``(y0, y1)`` gives ``θ = 2 atan2(y1, y0)``,
so negative amplitudes are exact. The zero vector is embedded as ``|0...0>``.
For an approximate plan (kept subsets only) each level fits the kept Walsh terms by least
squares weighted by the branch probabilities and passes the achieved overlaps upwards, which
maximises the fidelity level by level (see :mod:`qaa_hw.circuits.plans`).

Parameter order: ``alpha`` lists the angles of the root, then of each multiplexor in
``order``, each in its path order. :meth:`EmbeddingPlan.angles` returns them in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit

from qaa_hw.errors import ConfigError

_EPS = 1e-300


def _popcount(values: np.ndarray) -> np.ndarray:
    out = np.zeros_like(values)
    v = values.copy()
    while np.any(v):
        out += v & 1
        v >>= 1
    return out


def gray_code(k: int) -> list[int]:
    """Reflected binary Gray code over ``k`` bits: ``i ^ (i >> 1)`` for ``i < 2^k``."""
    return [i ^ (i >> 1) for i in range(1 << k)]


def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    """Unnormalised Walsh-Hadamard transform over the last axis (length ``2^k``).

    ``out[..., s] = sum_c values[..., c] * (-1)^popcount(c & s)``.
    """
    a = np.asarray(values, dtype=float)
    size = a.shape[-1]
    lead = a.shape[:-1]
    h = 1
    while h < size:
        a = a.reshape(*lead, size // (2 * h), 2, h)
        a = np.stack((a[..., 0, :] + a[..., 1, :], a[..., 0, :] - a[..., 1, :]), axis=-2)
        h *= 2
    return a.reshape(*lead, size)


def angles_via_fit(
    fit: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], x: np.ndarray
) -> np.ndarray:
    """Angles from a batch ``fit`` for one vector (1-D) or a batch (2-D)."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1:
        return fit(arr[None, :])[0][0]
    if arr.ndim != 2:
        raise ConfigError(f"x must be 1-D or 2-D, got shape {arr.shape}")
    return fit(arr)[0]


@dataclass(frozen=True)
class Multiplexor:
    """One uniformly controlled RY of the tree, as a path of Walsh terms.

    Attributes:
        target: logical qubit it prepares.
        controls: logical qubits it is conditioned on; ``controls[j]`` is bit ``j`` of a mask.
        masks: kept control subsets (bit masks) in application order; one RY angle each.
        closed: whether the CNOTs returning the target's parity to the empty set are
            emitted (``False``: they are merged away, see the module docstring).
    """

    target: int
    controls: tuple[int, ...]
    masks: tuple[int, ...]
    closed: bool = False

    def ops(self) -> list[tuple[str, int]]:
        """Gate list: ``("cx", control)`` onto the target, ``("ry", i)`` with the i-th angle."""
        out: list[tuple[str, int]] = []
        prev = 0
        for i, mask in enumerate(self.masks):
            diff = prev ^ mask
            out.extend(("cx", c) for j, c in enumerate(self.controls) if diff >> j & 1)
            out.append(("ry", i))
            prev = mask
        if self.closed:
            out.extend(("cx", c) for j, c in enumerate(self.controls) if prev >> j & 1)
        return out

    @property
    def num_cnots(self) -> int:
        """CNOTs emitted by this multiplexor."""
        return sum(1 for kind, _ in self.ops() if kind == "cx")

    @property
    def is_full(self) -> bool:
        """Whether every control subset is kept (an exact multiplexor)."""
        return len(set(self.masks)) == 1 << len(self.controls)

    def cnot_pairs(self) -> list[tuple[int, int]]:
        """(control, target) logical pairs of the emitted CNOTs, in order."""
        return [(c, self.target) for kind, c in self.ops() if kind == "cx"]


@dataclass(frozen=True)
class EmbeddingPlan:
    """Structure of an amplitude-embedding circuit and how to compute its angles.

    Attributes:
        num_qubits: n.
        multiplexors: the tree, root first (``multiplexors[k]`` has ``k`` controls).
        kind: ``"exact"`` or ``"approx"``.
        fidelity: mean state fidelity on the calibration set (1.0 for exact plans).
        calibration: description of the input distribution the fidelity refers to.
    """

    num_qubits: int
    multiplexors: tuple[Multiplexor, ...]
    kind: str = "exact"
    fidelity: float = 1.0
    calibration: str = "any input (exact)"

    def __post_init__(self) -> None:
        n = self.num_qubits
        if len(self.multiplexors) != n:
            raise ConfigError(f"an embedding plan needs {n} multiplexors, got "
                              f"{len(self.multiplexors)}")
        seen: list[int] = []
        for k, m in enumerate(self.multiplexors):
            if len(m.controls) != k or set(m.controls) != set(seen) or m.target in seen:
                raise ConfigError(f"multiplexor {k} (target {m.target}) must be controlled by "
                                  f"the {k} qubits prepared before it {seen}")
            if any(not 0 <= mask < 1 << k for mask in m.masks) or not m.masks:
                raise ConfigError(f"multiplexor {k} has invalid masks {m.masks}")
            seen.append(m.target)
        if sorted(seen) != list(range(n)):
            raise ConfigError(f"embedding order {seen} is not a permutation of 0..{n - 1}")

    @property
    def order(self) -> tuple[int, ...]:
        """Logical qubits in preparation order (``order[0]`` is the root)."""
        return tuple(m.target for m in self.multiplexors)

    @property
    def num_angles(self) -> int:
        """Length of ``alpha``."""
        return sum(len(m.masks) for m in self.multiplexors)

    @property
    def num_cnots(self) -> int:
        """CNOTs of the embedding circuit."""
        return sum(m.num_cnots for m in self.multiplexors)

    def cnot_pairs(self) -> list[tuple[int, int]]:
        """All (control, target) logical CNOT pairs in circuit order."""
        return [p for m in self.multiplexors for p in m.cnot_pairs()]

    # ------------------------------------------------------------------ circuit
    def append_to(self, qc: QuantumCircuit, alpha: Sequence) -> None:
        """Append the embedding gates to ``qc`` (qubit q of the plan = ``qc.qubits[q]``)."""
        if len(alpha) != self.num_angles:
            raise ConfigError(f"alpha has {len(alpha)} entries; the plan needs "
                              f"{self.num_angles}")
        offset = 0
        for m in self.multiplexors:
            for kind, i in m.ops():
                if kind == "cx":
                    qc.cx(i, m.target)
                else:
                    qc.ry(alpha[offset + i], m.target)
            offset += len(m.masks)

    def circuit(self, alpha: ParameterVector | Sequence | None = None) -> QuantumCircuit:
        """The embedding circuit on ``num_qubits`` qubits (``alpha`` defaults to parameters)."""
        if alpha is None:
            alpha = ParameterVector("alpha", self.num_angles)
        qc = QuantumCircuit(self.num_qubits, name="embedding")
        self.append_to(qc, alpha)
        return qc

    # ------------------------------------------------------------------- angles
    def angles(self, x: np.ndarray) -> np.ndarray:
        """Embedding angles for one vector (1-D, length <= 2^n) or a batch (2-D)."""
        return angles_via_fit(self.fit, x)

    def fit(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Angles and achieved state fidelities for a batch ``x`` of shape ``(B, <=2^n)``.

        Returns:
            ``(alpha, fidelity)`` of shapes ``(B, num_angles)`` and ``(B,)``; the fidelity is
            ``|<x/|x| | prepared>|^2`` (1 up to rounding for exact plans).
        """
        states = normalise(x, self.num_qubits)
        batch, n = states.shape[0], self.num_qubits
        tensor = states.reshape((batch,) + (2,) * n)
        axes_q = list(range(n - 1, -1, -1))  # qubit held by tensor axis 1 + i
        per_mux: list[np.ndarray] = [np.empty(0)] * n
        for k in range(n - 1, -1, -1):
            m = self.multiplexors[k]
            perm = [0] + [1 + axes_q.index(q) for q in reversed(m.controls)]
            perm.append(1 + axes_q.index(m.target))
            pairs = tensor.transpose(perm).reshape(batch, 1 << k, 2)
            if not m.closed and m.masks[-1]:
                flip = (_popcount(np.arange(1 << k) & m.masks[-1]) & 1).astype(bool)
                pairs = pairs.copy()
                pairs[:, flip, :] = pairs[:, flip, ::-1]
            phi, parent = _fit_level(pairs, m, signed=self.kind != "exact")
            per_mux[k] = phi
            tensor = parent.reshape((batch,) + (2,) * k)
            axes_q = list(reversed(m.controls))
        alpha = np.concatenate(per_mux, axis=1)
        overlap = tensor.reshape(batch)
        return alpha, overlap**2


def _fit_level(
    pairs: np.ndarray, m: Multiplexor, *, signed: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Walsh angles of one multiplexor and the (unnormalised) parent amplitudes.

    ``signed=False``: ``theta = 2 atan2(y1, y0)`` and parent ``|y|`` (non-negative).
    ``signed=True``: ``theta`` wrapped into (-pi, pi] with a signed parent amplitude
    (``RY(theta + 2 pi) = -RY(theta)``); smoother angle functions, used by approximate plans.
    """
    k = len(m.controls)
    y0, y1 = pairs[..., 0], pairs[..., 1]
    masks = np.asarray(m.masks)
    theta_star = 2.0 * np.arctan2(y1, y0)
    if m.is_full and not signed:
        phi_all = walsh_hadamard(theta_star) / (1 << k)
        return phi_all[:, masks], np.hypot(y0, y1)
    theta_star = np.where(theta_star > np.pi, theta_star - 2 * np.pi, theta_star)
    theta_star = np.where(theta_star <= -np.pi, theta_star + 2 * np.pi, theta_star)
    if m.is_full:
        phi_all = walsh_hadamard(theta_star) / (1 << k)
        theta = theta_star
        parent = y0 * np.cos(theta / 2) + y1 * np.sin(theta / 2)
        return phi_all[:, masks], parent
    weight = y0**2 + y1**2
    signs = np.where(
        (_popcount(np.arange(1 << k)[:, None] & masks[None, :]) & 1).astype(bool), -1.0, 1.0
    )  # (2^k, K)
    ws = weight[:, :, None] * signs[None, :, :]
    normal = np.einsum("bck,cl->bkl", ws, signs)
    rhs = np.einsum("bck,bc->bk", ws, theta_star)
    reg = 1e-12 * np.eye(len(masks))[None, :, :]
    phi = np.linalg.solve(normal + reg, rhs[..., None])[..., 0]
    theta = phi @ signs.T
    parent = y0 * np.cos(theta / 2) + y1 * np.sin(theta / 2)
    return phi, parent


def normalise(x: np.ndarray, num_qubits: int) -> np.ndarray:
    """Batch ``x`` (B, d <= 2^n) zero-padded to 2^n and L2-normalised; zero rows -> |0...0>."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2:
        raise ConfigError(f"expected a batch of shape (B, d), got {arr.shape}")
    dim = 1 << num_qubits
    if arr.shape[1] > dim:
        raise ConfigError(
            f"vector length {arr.shape[1]} exceeds 2^{num_qubits} = {dim} amplitudes"
        )
    if not np.all(np.isfinite(arr)):
        raise ConfigError("input vector contains NaN or infinite entries")
    out = np.zeros((arr.shape[0], dim))
    out[:, : arr.shape[1]] = arr
    norms = np.linalg.norm(out, axis=1)
    zero = norms <= _EPS
    out[zero, 0] = 1.0
    norms[zero] = 1.0
    return out / norms[:, None]


def check_order(order: Sequence[int] | None, n: int) -> tuple[int, ...]:
    if order is None:
        return tuple(range(n - 1, -1, -1))
    result = tuple(int(q) for q in order)
    if sorted(result) != list(range(n)):
        raise ConfigError(f"embedding order {list(result)} is not a permutation of 0..{n - 1}")
    return result


def exact_plan(
    num_qubits: int, *, order: Sequence[int] | None = None, merge: bool = True
) -> EmbeddingPlan:
    """The exact tree: all Walsh terms in Gray-code order.

    Args:
        num_qubits: n.
        order: preparation order of the logical qubits (``order[0]`` = root, ``order[-1]`` =
            target of the largest multiplexor). Default ``(n-1, ..., 0)``.
        merge: drop each multiplexor's closing CNOT (``2^n - n - 1`` CNOTs in all) instead
            of emitting it (``2^n - 2``, the textbook count).

    Returns:
        The plan. Within a multiplexor, the most recently prepared control is bit 0 of the
        Gray code (it changes most often), so a target placed next to the qubit prepared just
        before it needs the fewest routed CNOTs.
    """
    seq = check_order(order, num_qubits)
    muxes = []
    for k, target in enumerate(seq):
        controls = tuple(reversed(seq[:k]))
        muxes.append(Multiplexor(target, controls, tuple(gray_code(k)), closed=not merge))
    return EmbeddingPlan(num_qubits, tuple(muxes))


def simulate_embedding(plan: EmbeddingPlan, alpha: np.ndarray) -> np.ndarray:
    """Real statevectors (B, 2^n) prepared by the plan's circuit from ``alpha`` (B, A).

    A small independent gate-by-gate simulator (basis index bit q = qubit q).
    """
    angles = np.atleast_2d(np.asarray(alpha, dtype=float))
    batch, n = angles.shape[0], plan.num_qubits
    state: np.ndarray = np.zeros((batch, 1 << n))
    state[:, 0] = 1.0
    idx = np.arange(1 << n)
    offset = 0
    for m in plan.multiplexors:
        t = m.target
        for kind, i in m.ops():
            if kind == "cx":
                src = np.where((idx >> i) & 1, idx ^ (1 << t), idx)
                state = state[:, src]
                continue
            low = idx[(idx >> t) & 1 == 0]
            high = low | (1 << t)
            c = np.cos(angles[:, offset + i] / 2)[:, None]
            s = np.sin(angles[:, offset + i] / 2)[:, None]
            s0, s1 = state[:, low].copy(), state[:, high].copy()
            state[:, low] = c * s0 - s * s1
            state[:, high] = s * s0 + c * s1
        offset += len(m.masks)
    return state
