"""Compiled adapters per (spec, device, seed), compiled once per run."""

from __future__ import annotations

import logging
from collections.abc import Callable

from qaa_hw.circuits.spec import QAASpec
from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel

logger = logging.getLogger(__name__)


class CompileCache:
    """Compiled adapters per (spec, device, seed), compiled once per run.

    An explicit object handed to whoever needs compiled adapters (no module-level state).

    Args:
        loader: ``name -> DeviceModel`` (default :func:`qaa_hw.devices.catalog.load_device`).
    """

    def __init__(self, loader: Callable[[str], DeviceModel] | None = None) -> None:
        if loader is None:
            from qaa_hw.devices.catalog import load_device

            loader = load_device
        self._loader = loader
        self._compiled: dict[tuple[QAASpec, str, int], CompiledAdapter] = {}

    def get(self, spec: QAASpec, device: str | DeviceModel, *, seed: int = 0) -> CompiledAdapter:
        """The adapter compiled for ``device`` (a catalog name or a model)."""
        name = device if isinstance(device, str) else device.name
        key = (spec, name, int(seed))
        if key not in self._compiled:
            from qaa_hw.compile.api import compile_adapter  # imports Qiskit's transpiler

            model = self._loader(device) if isinstance(device, str) else device
            self._compiled[key] = compile_adapter(spec, model, seed=seed)
            logger.info("compiled %d-qubit adapter for %s: %s", spec.num_qubits, name,
                        self._compiled[key].method)
        return self._compiled[key]
