"""Conversion of a :class:`~qaa_hw.devices.model.DeviceModel` to Qiskit objects.

Two public functions:

* :func:`to_target` builds a :class:`qiskit.transpiler.Target` (compiler view).
* :func:`to_aer_noise_model` builds a :class:`qiskit_aer.noise.NoiseModel` (simulator view).

Target contents
---------------
* ``num_qubits`` and ``qubit_properties`` (``t1``, ``t2`` in seconds and ``frequency`` in Hz;
  an infinite T1/T2, as produced by ``scale_noise(device, 0)``, is passed as ``math.inf``,
  which both the transpiler and Aer accept).
* Every native instruction with ``InstructionProperties(duration=..., error=...)`` per qubit
  tuple, exactly as stored in the device: ``rz`` as ``RZGate(Parameter('θ'))`` and the standard
  ``sx``, ``x``, ``id``, ``cx``/``ecr``/``cz`` gates, in the device's native directions.
* ``measure`` on every qubit. Its error is the device's ``measure`` entry (or, if the device has
  none, the qubit's mean assignment error ``(p01 + p10) / 2``) and its duration the device's
  (``None`` if absent). The Target stores one symmetric number; the asymmetric pair lives in the
  Aer noise model.
* ``delay`` on every qubit (no properties), so that scheduling passes (``scheduling_method=
  'alap'``) may pad idle time. ``dt`` is left unset: durations stay in seconds and a scheduled
  circuit's delays are in ``'s'`` units (no rounding to a sample grid).

Aer noise model contents
------------------------
Built with Aer's own machinery, :meth:`qiskit_aer.noise.NoiseModel.from_backend` applied to a
minimal backend wrapping :func:`to_target` (``readout_error=False``), plus our readout errors:

* **Gates** (from :func:`qiskit_aer.noise.device.basic_device_gate_errors` on the Target): for
  every gate and qubit tuple with a non-zero duration, a thermal-relaxation channel of that
  duration on each qubit (tensor product for two-qubit gates, T2 truncated to 2 T1, zero
  temperature), preceded by an ``n``-qubit depolarising channel whose parameter is chosen so that
  the *composition* has exactly the device's average gate infidelity (``error = 1 - F_avg``).
  If relaxation alone already exceeds the device error, no depolarising part is added (the gate
  is then noisier than its calibration). ``rz`` (zero duration, zero error) is ideal.
* **Measure**: no quantum error and no relaxation during the readout duration (this is what
  ``from_backend`` does); instead a classical asymmetric :class:`ReadoutError` per qubit,
  ``[[1 - p(1|0), p(1|0)], [p(0|1), 1 - p(0|1)]]`` from ``prob_meas1_prep0`` and
  ``prob_meas0_prep1``.
* **Delay**: thermal relaxation over the delay's duration on its qubit (``from_backend``'s
  ``RelaxationNoisePass``), so scheduled circuits get idle noise. Unscheduled circuits get *no*
  idle noise: a qubit waiting while others are busy stays perfect.
* Where this differs from the Cirq model of the same device (idle noise above all) is listed
  in :mod:`qaa_hw.devices.cirq_convert`.
* A noiseless device (``scale_noise(device, 0)``) gives an ideal model
  (``noise_model.is_ideal()``), which simulates exactly like no noise model. Zero errors and
  identity channels are skipped individually as well.

:func:`to_aer_noise_model` caches its result per device (about 1.7 s for 127 qubits, a few ms
for a handful): ``DeviceModel`` is hashable and compares its instruction tables on equality, so
a cache hit means an identical calibration. The returned model is shared: treat it as
read-only (``copy.deepcopy`` before mutating). :func:`to_target` returns a fresh object.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Any

from qiskit.circuit import Delay, Measure, Parameter
from qiskit.exceptions import QiskitError
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import InstructionProperties, QubitProperties, Target
from qiskit_aer.noise import NoiseModel, ReadoutError
from qiskit_aer.noise.noiseerror import NoiseError

from qaa_hw.circuits.gates import GATES, NATIVE_GATES
from qaa_hw.devices.model import MEASURE, DeviceModel
from qaa_hw.errors import DeviceError

logger = logging.getLogger(__name__)

_CACHE_SIZE = 16

_GATES: dict[str, Any] = {
    name: GATES[name].qiskit(*([Parameter("θ")] if GATES[name].generator else []))
    for name in NATIVE_GATES[1] + NATIVE_GATES[2]
}


def to_target(device: DeviceModel) -> Target:
    """Qiskit compiler target for ``device``: instructions, errors, durations, T1/T2.

    Args:
        device: the device to convert.

    Returns:
        A :class:`~qiskit.transpiler.Target` usable with ``qiskit.transpile(..., target=...)``
        and ``generate_preset_pass_manager(..., target=...)``, scheduling included. A new
        object on every call (building one takes about a millisecond for 127 qubits).
    """
    n = device.num_qubits
    target = Target(
        description=f"qaa_hw device {device.name}",
        num_qubits=n,
        qubit_properties=[
            QubitProperties(t1=q.t1_s, t2=q.t2_s, frequency=q.frequency_hz) for q in device.qubits
        ],
    )
    for name in device.basis_gates:
        target.add_instruction(
            _GATES[name],
            {
                tuple(qargs): InstructionProperties(duration=p.duration_s, error=p.error)
                for qargs, p in sorted(device.instructions[name].items())
            },
            name=name,
        )
    measured = device.instructions.get(MEASURE, {})
    measure_props: dict[tuple[int, ...], InstructionProperties | None] = {}
    for q, qubit in enumerate(device.qubits):
        entry = measured.get((q,))
        if entry is None:
            measure_props[(q,)] = InstructionProperties(duration=None, error=qubit.readout_error)
        else:
            measure_props[(q,)] = InstructionProperties(
                duration=entry.duration_s, error=entry.error
            )
    target.add_instruction(Measure(), measure_props)
    target.add_instruction(Delay(Parameter("t")), {(q,): None for q in range(n)})
    logger.debug("built Target for %s (%d qubits)", device.name, n)
    return target


class _TargetBackend(BackendV2):
    """The smallest BackendV2 around a Target, so Aer's ``from_backend`` can read it."""

    def __init__(self, target: Target, name: str) -> None:
        super().__init__(name=name)
        self._target = target

    @property
    def target(self) -> Target:
        return self._target

    @property
    def max_circuits(self) -> None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options()

    def run(self, run_input: Any, **options: Any) -> Any:
        raise NotImplementedError("conversion-only backend; simulate with AerSimulator")


def to_aer_noise_model(device: DeviceModel) -> NoiseModel:
    """Aer noise model of ``device``: relaxation + depolarising gate errors and readout errors.

    See the module docstring for exactly which channels are included.

    Args:
        device: the device to convert.

    Returns:
        A :class:`~qiskit_aer.noise.NoiseModel` for physical circuits compiled to
        :func:`to_target` (qubit ``i`` of the circuit is physical qubit ``i``). It is ideal
        (``is_ideal()``) for a noiseless device. The object is cached per device: do not
        mutate it.

    Raises:
        DeviceError: if Aer rejects the device's numbers.
    """
    return _to_aer_noise_model_cached(device)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _to_aer_noise_model_cached(device: DeviceModel) -> NoiseModel:
    target = to_target(device)
    # Relaxation (gates and delays) only where some coherence time is finite: this keeps a
    # noiseless device's model free of no-op delay passes, so it stays ``is_ideal()``.
    finite_coherence = any(math.isfinite(q.t1_s) or math.isfinite(q.t2_s) for q in device.qubits)
    try:
        noise_model = NoiseModel.from_backend(
            _TargetBackend(target, name=device.name),
            gate_error=True,
            readout_error=False,
            thermal_relaxation=finite_coherence,
            temperature=0,
        )
        for q, qubit in enumerate(device.qubits):
            p1_0, p0_1 = qubit.prob_meas1_prep0, qubit.prob_meas0_prep1
            if p1_0 == 0.0 and p0_1 == 0.0:
                continue
            noise_model.add_readout_error(ReadoutError([[1 - p1_0, p1_0], [p0_1, 1 - p0_1]]), [q])
    except (NoiseError, QiskitError) as e:
        raise DeviceError(
            f"device {device.name!r} cannot be converted to an Aer noise model: {e}"
        ) from e
    logger.debug("built Aer NoiseModel for %s", device.name)
    return noise_model
