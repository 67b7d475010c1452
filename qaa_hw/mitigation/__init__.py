"""Error mitigation with Mitiq over the noisy executors (never re-implemented here).

Techniques (:mod:`qaa_hw.mitigation.techniques`) are small validated records; estimates are
frozen :class:`MitigatedEstimate` records::

    from qaa_hw.mitigation import ZNE, REM, Combined, mitigate
    est = mitigate(compiled, x, theta, technique=Combined(REM(), ZNE(factory="linear")))
    est.mitigated, est.unmitigated, est.ideal, est.circuits, est.total_shots

Modules: ``techniques`` (records), ``api`` (:func:`mitigate`, :class:`Mitigator`),
``estimators`` (the Mitiq calls), ``backends`` (metered Aer/Cirq execution), ``lowering``
(Cirq → timed native Qiskit circuits), ``idle`` (idle windows for DDD). Importing this package
is cheap: the names below load their module (and Cirq, Qiskit, Mitiq) on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qaa_hw.mitigation.api import MitigatedEstimate, Mitigator, mitigate
    from qaa_hw.mitigation.techniques import DDD, EXECUTORS, PEC, REM, ZNE, Combined, Technique

_WHERE = {
    "MitigatedEstimate": "api",
    "Mitigator": "api",
    "mitigate": "api",
    "EXECUTORS": "techniques",
    "DDD": "techniques",
    "PEC": "techniques",
    "REM": "techniques",
    "ZNE": "techniques",
    "Combined": "techniques",
    "Technique": "techniques",
}

__all__ = [
    "DDD",
    "EXECUTORS",
    "PEC",
    "REM",
    "ZNE",
    "Combined",
    "MitigatedEstimate",
    "Mitigator",
    "Technique",
    "mitigate",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qaa_hw.mitigation' has no attribute {name!r}")
    return getattr(importlib.import_module(f"qaa_hw.mitigation.{_WHERE[name]}"), name)
