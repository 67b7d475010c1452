"""Ablations of the QAA layer: what is left of the adapter without (parts of) its circuit.

Each is a :class:`~qaa_hw.adapters.qaa.QAALinear` with the same frozen base layer, the same
down-projection and the same zero-initialised trainable up-projection; only the readout
between them changes:

* :class:`FrozenCircuitLinear`: the circuit with its random initial angles frozen (only
  ``up`` trains);
* :class:`ConstantReadoutLinear`: a trainable constant readout (``qaa_bias``, one value per
  output) that ignores the input: the adapter is a learned bias ``up · b``;
* :class:`NoCircuitLinear`: the first ``O`` components of the normalised (padded)
  down-projected input, no circuit, nothing between down and up is trained;
* :class:`QuadraticLinear`: the function class QAA computes, without the circuit: a
  trainable symmetric matrix per output, ``out_o = x̂ᵀ M_o x̂`` (``d (d + 1) / 2`` values
  each), initialised to the ideal circuit's quadratic form at the initial angles, so it
  starts from the same function as QAA.

The ones without a circuit declare ``has_circuit = False`` and ignore the backend.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from qaa_hw.adapters.backends import IdealBackend, normalised_rows, quadratic_readout
from qaa_hw.adapters.qaa import QAAConfig, QAALinear
from qaa_hw.adapters.surrogate import polarised_quadratic_form


class FrozenCircuitLinear(QAALinear):
    """QAA with its circuit angles frozen at their random initial values."""

    frozen = ("qaa_theta",)


class ConstantReadoutLinear(QAALinear):
    """A learned constant readout ``b`` (initialised to the circuit's readout of ``e_0``)."""

    frozen = ("qaa_theta",)
    has_circuit = False

    def __init__(self, base_layer: nn.Linear, config: QAAConfig, **kw: object) -> None:
        super().__init__(base_layer, config, **kw)  # type: ignore[arg-type]
        e0 = torch.zeros(1, self.spec.dim, dtype=torch.float64)
        e0[0, 0] = 1.0
        with torch.no_grad():
            b = IdealBackend().readout(self.spec, e0, self.qaa_theta.double())[0]
        self.qaa_bias = nn.Parameter(b.to(torch.float32))

    def qaa_readout(self, x: Tensor) -> Tensor:
        """The constant, broadcast to ``[..., O]``."""
        return self.qaa_bias.expand(*x.shape[:-1], self.qaa_bias.shape[0])


class NoCircuitLinear(QAALinear):
    """Readout = the first ``O`` components of the normalised down-projected input."""

    frozen = ("qaa_theta",)
    has_circuit = False

    def qaa_readout(self, x: Tensor) -> Tensor:
        """``normalise(pad(down x))[..., :O]``."""
        h = x.to(self.qaa_down.dtype) @ self.qaa_down.T
        return normalised_rows(h, self.spec.dim)[..., :self.spec.output_dim]


class QuadraticLinear(QAALinear):
    """A trainable symmetric quadratic form per output (QAA's function class, no circuit)."""

    frozen = ("qaa_theta",)
    has_circuit = False

    def __init__(self, base_layer: nn.Linear, config: QAAConfig, **kw: object) -> None:
        super().__init__(base_layer, config, **kw)  # type: ignore[arg-type]
        dim = self.spec.dim
        theta = self.qaa_theta.detach().double()
        with torch.no_grad():
            q = polarised_quadratic_form(
                lambda x: IdealBackend().readout(self.spec, x, theta), dim)
        rows, cols = torch.triu_indices(dim, dim)
        self.register_buffer("qaa_triu", torch.stack((rows, cols)), persistent=False)
        self.qaa_quad = nn.Parameter(q[:, rows, cols].to(torch.float32))

    def matrices(self) -> Tensor:
        """``M [O, d, d]`` (symmetric) from the trained upper triangles."""
        num_out, dim = self.qaa_quad.shape[0], self.spec.dim
        m = self.qaa_quad.new_zeros(num_out, dim, dim)
        triu: Tensor = self.qaa_triu  # type: ignore[assignment]
        m[:, triu[0], triu[1]] = self.qaa_quad
        return m + m.transpose(1, 2) - torch.diag_embed(torch.diagonal(m, dim1=1, dim2=2))

    def qaa_readout(self, x: Tensor) -> Tensor:
        """``x̂ᵀ M_o x̂``."""
        h = x.to(self.qaa_down.dtype) @ self.qaa_down.T
        return quadratic_readout(h, self.matrices())


#: QAA ablation methods and their layer classes (``qaa`` itself is :class:`QAALinear`).
ABLATIONS: dict[str, type[QAALinear]] = {
    "qaa-frozen": FrozenCircuitLinear,
    "qaa-const": ConstantReadoutLinear,
    "qaa-nocircuit": NoCircuitLinear,
    "quadratic": QuadraticLinear,
}
