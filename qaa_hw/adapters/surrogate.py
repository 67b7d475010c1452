"""The classical surrogate of a trained QAA adapter: its readout as quadratic forms.

With an exact amplitude embedding, every readout of the circuit is a quadratic form of the
normalised input, ``out_o(x) = x̂ᵀ Q_o x̂`` with ``Q_o`` fixed by the angles and (on a noisy
backend) the device's noise. A trained :class:`~qaa_hw.adapters.qaa.QAALinear` is therefore
the classical map

    ``delta(x) = scale * up( [x̂ᵀ Q_o x̂]_o ),  x̂ = normalise(pad(down · x))``

which costs ``O(outputs · d²)`` per token on a CPU, no circuit at all.

* :func:`polarised_quadratic_form` reads ``Q`` from any readout function that is such a form,
  with ``d (d + 1) / 2`` evaluations (basis vectors and normalised pair sums); used for the
  ideal statevector backend and, in tests, as an independent check of the noisy engine's
  own :meth:`~qaa_hw.adapters.backends.NoisyBackend.quadratic_form`.
* :func:`export_surrogate` returns one :class:`SurrogateLayer` per QAA layer of a model, for
  the backend the layers run on (ideal, noisy, or a mitigated backend with a quadratic form).
* :func:`surrogate_flops` counts the arithmetic per token.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from qaa_hw.adapters.backends import QAABackend, quadratic_readout
from qaa_hw.errors import ConfigError


def polarised_quadratic_form(fn: Callable[[Tensor], Tensor], dim: int, *,
                             chunk: int = 8192) -> Tensor:
    """``Q [O, d, d]`` (float64, symmetric) of ``fn(x̂) = [x̂ᵀ Q_o x̂]_o`` by polarisation.

    ``Q_ii = fn(e_i)`` and ``Q_ij = fn((e_i + e_j)/√2) - (Q_ii + Q_jj)/2``.

    Args:
        fn: rows ``[B, d]`` (unit norm, float64) -> ``[B, O]``.
        dim: d.
        chunk: rows per call.
    """
    eye = torch.eye(dim, dtype=torch.float64)
    diag = torch.cat([fn(eye[s:s + chunk]).to(torch.float64) for s in range(0, dim, chunk)])
    num_out = diag.shape[1]
    q = torch.zeros(num_out, dim, dim, dtype=torch.float64)
    idx = torch.arange(dim)
    q[:, idx, idx] = diag.T
    rows, cols = torch.triu_indices(dim, dim, offset=1)
    for s in range(0, rows.numel(), chunk):
        i, j = rows[s:s + chunk], cols[s:s + chunk]
        x = torch.zeros(i.numel(), dim, dtype=torch.float64)
        x[torch.arange(i.numel()), i] = 1 / math.sqrt(2)
        x[torch.arange(i.numel()), j] = 1 / math.sqrt(2)
        off = fn(x).to(torch.float64) - (diag[i] + diag[j]) / 2  # [B, O]
        q[:, i, j] = off.T
        q[:, j, i] = off.T
    return q


def backend_quadratic_form(backend: QAABackend, spec: object, theta: Tensor, dim: int
                           ) -> Tensor:
    """``Q`` of ``backend`` at ``theta``: its own quadratic form where it has one (noisy and
    ZNE backends), else by polarisation of its readout (ideal)."""
    own = getattr(backend, "quadratic_form", None)
    with torch.no_grad():
        if own is not None:
            return own(theta.detach(), spec.readout).to(torch.float64)  # type: ignore[attr-defined]
        return polarised_quadratic_form(
            lambda x: backend.readout(spec, x, theta.detach().double()),  # type: ignore[arg-type]
            dim)


@dataclass(frozen=True)
class SurrogateLayer:
    """One QAA layer as classical arrays (float64).

    Attributes:
        down: ``[w, in_features]`` down-projection.
        q: ``[O, d, d]`` quadratic forms (``d = 2^n >= w``).
        up: ``[out_features, O]``.
        scale: output multiplier.
    """

    down: Tensor
    q: Tensor
    up: Tensor
    scale: float

    def delta(self, x: Tensor) -> Tensor:
        """``scale * up(x̂ᵀ Q x̂)`` for rows ``x [..., in_features]`` (float64)."""
        h = x.to(torch.float64) @ self.down.T
        return quadratic_readout(h, self.q) @ self.up.T * self.scale

    def flops(self) -> int:
        """Multiply-adds x 2 per token (see :func:`surrogate_flops`)."""
        w, k = self.down.shape
        return surrogate_flops(k, w, self.q.shape[1], self.q.shape[0], self.up.shape[0])


def surrogate_flops(in_features: int, width: int, dim: int, outputs: int, out_features: int
                    ) -> int:
    """FLOPs per token: down ``2 w k``, normalise ``3 d``, forms ``O (2 d² + 2 d)``,
    up ``2 O m``."""
    return (2 * width * in_features + 3 * dim + outputs * (2 * dim * dim + 2 * dim)
            + 2 * outputs * out_features)


def export_surrogate(model: nn.Module) -> dict[str, SurrogateLayer]:
    """Every QAA layer of ``model`` as a :class:`SurrogateLayer`, on its current backend.

    Raises:
        ConfigError: no QAA layer, or a layer without a circuit (ablations).
    """
    from qaa_hw.adapters.qaa import qaa_layers

    out = {}
    for name, layer in qaa_layers(model):
        if not layer.has_circuit:
            raise ConfigError(f"layer {name!r} has no circuit to export")
        q = backend_quadratic_form(layer.backend, layer.spec, layer.qaa_theta, layer.spec.dim)
        out[name] = SurrogateLayer(down=layer.qaa_down.detach().double(), q=q,
                                   up=layer.qaa_up.detach().double(), scale=layer.scaling)
    if not out:
        raise ConfigError("the model has no QAA layer; call inject_qaa first")
    return out
