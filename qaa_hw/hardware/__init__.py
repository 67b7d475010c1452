"""Quantum hardware as engines: IBM Runtime ``SamplerV2`` (devices and local testing mode) and
Google's Engine interface (processors and the quantum virtual machine), live calibrations,
and mitigation through devices. See ``docs/hardware.md``.

Modules: :mod:`~qaa_hw.hardware.circuits` (what is submitted, QASM exports),
:mod:`~qaa_hw.hardware.jobs` (engine base, job records, cost prediction),
:mod:`~qaa_hw.hardware.ibm`, :mod:`~qaa_hw.hardware.google`,
:mod:`~qaa_hw.hardware.calibration`, :mod:`~qaa_hw.hardware.backends` (names -> backends),
:mod:`~qaa_hw.hardware.mitigation`. Provider SDKs are imported inside functions where they are
heavy, so importing this package stays cheap.
"""
