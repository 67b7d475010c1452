"""Error mitigation with Mitiq over the noisy executors (never re-implemented here).

Techniques (:mod:`qaa_hw.mitigation.techniques`) are small validated records; estimates are
frozen :class:`MitigatedEstimate` records::

    from qaa_hw.mitigation import ZNE, REM, Combined, mitigate
    est = mitigate(compiled, x, theta, technique=Combined(REM(), ZNE(factory="linear")))
    est.mitigated, est.unmitigated, est.ideal, est.circuits, est.total_shots

Mitiq is imported lazily (only when an estimate is made).
"""

from qaa_hw.mitigation.api import MitigatedEstimate, Mitigator, mitigate
from qaa_hw.mitigation.backends import EXECUTORS
from qaa_hw.mitigation.techniques import DDD, PEC, REM, ZNE, Combined, Technique

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
