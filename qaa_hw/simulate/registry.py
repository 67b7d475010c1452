"""The engines by name (for the CLI and YAML only) and the choice of an engine by capability.

Every engine class declares its :class:`~qaa_hw.simulate.engine.Capabilities`; code that needs
an engine asks for capabilities (:func:`choose_engine`) and builds it with
:func:`make_engine`. The names below are the vocabulary of ``qaa_hw simulate --engine`` and of
the sweep specs' ``engine`` setting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qaa_hw.errors import ConfigError
from qaa_hw.simulate.engine import Capabilities, Engine
from qaa_hw.simulate.executors import AerExecutor, CirqExecutor
from qaa_hw.simulate.noisy import DensityMatrixEngine, FastNoisyEngine
from qaa_hw.simulate.statevector import StatevectorEngine

if TYPE_CHECKING:
    from qaa_hw.compile.compiled import CompiledAdapter

#: Engine classes by name, in the order :func:`choose_engine` considers them (cheapest first).
ENGINES: dict[str, type[Engine]] = {
    "statevector": StatevectorEngine,
    "fast": FastNoisyEngine,
    "exact": DensityMatrixEngine,
    "aer": AerExecutor,
    "cirq": CirqExecutor,
}


def noisy_engines() -> tuple[str, ...]:
    """Names of the engines that simulate device noise."""
    return tuple(name for name, cls in ENGINES.items() if cls.capabilities.noisy)


def make_engine(name: str, compiled: CompiledAdapter, **options: Any) -> Engine:
    """The engine named ``name`` for ``compiled``, built with the keyword ``options`` of its
    class (``noise`` for every engine, ``prep_noise`` for ``fast``, ...).

    Raises:
        ConfigError: unknown name.
    """
    if name not in ENGINES:
        raise ConfigError(f"engine={name!r} is not valid; accepted: {', '.join(ENGINES)}")
    build: Callable[..., Engine] = ENGINES[name]  # every engine takes (compiled, **options)
    return build(compiled, **options)


def choose_engine(need: Capabilities) -> str:
    """The first engine of :data:`ENGINES` whose capabilities cover ``need``.

    Raises:
        ConfigError: no engine can do it.
    """
    for name, cls in ENGINES.items():
        if cls.capabilities.covers(need):
            return name
    raise ConfigError(f"no engine offers {need}")
