"""Hardware backends by name: ``local:ibm_<x>``, ``ibm:<name>``, ``google-qvm:<pid>``,
``google:<pid>``, each resolved to a :class:`HardwareBackend` (the provider's handle, the
catalog device it corresponds to, and the engine to build on it).

=====================  ==========================================  ============================
name                   what runs                                   device compiled for
=====================  ==========================================  ============================
``local:ibm_<x>``      runtime local testing mode on ``Fake<X>()``  catalog ``ibm_<x>`` (equal)
``ibm:<name>``         ``QiskitRuntimeService().backend(name)``    its live calibration
``google-qvm:<pid>``   the noisy QVM of ``<pid>`` (Cirq, offline)   its calibration (the median)
``google:<pid>``       ``cirq_google.get_engine().get_processor``  its live calibration
=====================  ==========================================  ============================

Credentials are never read or written here: ``QiskitRuntimeService()`` uses the saved account
or the ``QISKIT_IBM_*`` environment; ``cirq_google.get_engine()`` the Google Cloud defaults.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qaa_hw.compile.compiled import CompiledAdapter
from qaa_hw.devices.model import DeviceModel
from qaa_hw.hardware.jobs import HardwareEngine, HardwareError

#: The backend kinds (the part before ``:``).
KINDS: tuple[str, ...] = ("local", "ibm", "google-qvm", "google")
_EXAMPLES = "local:ibm_brisbane, ibm:ibm_torino, google-qvm:weber, google:weber"


@dataclass
class HardwareBackend:
    """A resolved backend.

    Attributes:
        label: the name as given (``local:ibm_brisbane``).
        kind: one of :data:`KINDS`.
        handle: the provider object (fake/IBM backend, or a Google processor).
        device: the device model of its current calibration (what to compile for).
    """

    label: str
    kind: str
    handle: Any
    device: DeviceModel

    @property
    def family(self) -> str:
        """``ibm`` or ``google``."""
        return "google" if self.kind.startswith("google") else "ibm"

    def engine(self, compiled: CompiledAdapter, *, tags: Sequence[str] = (),
               mode: str = "batch", max_inputs_per_job: int | None = None) -> HardwareEngine:
        """The engine running ``compiled`` here (``mode`` applies to IBM only)."""
        if self.family == "google":
            from qaa_hw.hardware.google import GoogleEngine

            return GoogleEngine(compiled, self.handle, tags=tags, label=self.label,
                                max_inputs_per_job=max_inputs_per_job)
        from qaa_hw.hardware.ibm import IBMEngine

        return IBMEngine(compiled, self.handle, mode=mode, tags=tags, label=self.label,
                         max_inputs_per_job=max_inputs_per_job)


def _split(name: str) -> tuple[str, str]:
    kind, sep, rest = name.partition(":")
    if not sep or kind not in KINDS or not rest:
        raise HardwareError(
            f"backend {name!r} is not valid; accepted: KIND:NAME with KIND in "
            f"{', '.join(KINDS)} (e.g. {_EXAMPLES})"
        )
    return kind, rest


def _fake_backend(name: str) -> Any:
    from qaa_hw.devices.ibm import _fake_backends, canonical_ibm_name, ibm_device_names
    from qaa_hw.errors import did_you_mean

    canonical = canonical_ibm_name(name)
    if canonical is None:
        hint = did_you_mean(name, ibm_device_names(), n=1)
        raise HardwareError(
            f"unknown local backend {name!r}{hint}; accepted: the fake backends of "
            "qiskit_ibm_runtime, e.g. ibm_brisbane, ibm_torino (`qaa_hw devices list`)"
        )
    module = importlib.import_module("qiskit_ibm_runtime.fake_provider")
    return getattr(module, _fake_backends()[canonical][1])()


def _ibm_backend(name: str) -> Any:
    from qiskit_ibm_runtime import QiskitRuntimeService
    from qiskit_ibm_runtime.accounts import AccountNotFoundError

    try:
        service = QiskitRuntimeService()
    except AccountNotFoundError as e:
        raise HardwareError(
            "no saved IBM Quantum account: run QiskitRuntimeService.save_account(...) once "
            f"or set QISKIT_IBM_TOKEN/QISKIT_IBM_INSTANCE ({e})"
        ) from e
    except Exception as e:  # network or authentication failures of the service
        raise HardwareError(f"cannot reach IBM Quantum: {e}") from e
    try:
        return service.backend(name)
    except Exception as e:  # QiskitBackendNotFoundError and the like
        names = []
        try:
            names = [b.name for b in service.backends()]
        except Exception:  # listing is a courtesy
            names = []
        listed = f"; your account offers {', '.join(names)}" if names else ""
        raise HardwareError(f"unknown IBM backend {name!r}{listed}") from e


def _google_processor(pid: str, *, virtual: bool, seed: int) -> Any:
    from qaa_hw.devices.google import google_device_names

    known = [n.removeprefix("google_") for n in google_device_names()]
    if virtual:
        if pid not in known:
            raise HardwareError(
                f"unknown Google virtual processor {pid!r}; accepted: {', '.join(known)}"
            )
        from qaa_hw.hardware.google import virtual_machine

        return virtual_machine(pid, seed=seed).get_processor(pid)
    try:
        import cirq_google

        return cirq_google.get_engine().get_processor(pid)
    except Exception as e:  # missing project / credentials / unknown processor
        raise HardwareError(
            f"cannot open Google processor {pid!r}: {e} (set GOOGLE_CLOUD_PROJECT and "
            "`gcloud auth application-default login`)"
        ) from e


def resolve_backend(name: str, *, seed: int = 0) -> HardwareBackend:
    """The backend named ``name`` (see the module docstring).

    Args:
        name: ``KIND:NAME``.
        seed: simulator seed of the Google QVM (local IBM mode is seeded per job).

    Raises:
        HardwareError: malformed or unknown name, no saved account, unreachable service.
    """
    kind, rest = _split(name.strip())
    if kind == "local":
        from qaa_hw.hardware.calibration import live_device

        handle = _fake_backend(rest)
        from qaa_hw.devices.catalog import load_device

        device = load_device(rest) if rest.startswith("ibm_") else live_device(handle)
        return HardwareBackend(name, kind, handle, device)
    if kind == "ibm":
        from qaa_hw.hardware.calibration import live_device

        handle = _ibm_backend(rest)
        return HardwareBackend(name, kind, handle, live_device(handle))
    from qaa_hw.hardware.calibration import live_google_device

    pid = rest.removeprefix("google_")
    handle = _google_processor(pid, virtual=kind == "google-qvm", seed=seed)
    return HardwareBackend(name, kind, handle, live_google_device(handle))
