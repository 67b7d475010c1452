"""Fixtures of the mitigation tests (helpers live in ``_mitigation_fixtures``)."""

from __future__ import annotations

import pytest
from _mitigation_fixtures import brisbane, compiled_on

from qaa_hw.compile.compiled import CompiledAdapter


@pytest.fixture(scope="module")
def brisbane3() -> CompiledAdapter:
    """A 3-qubit, 1-layer adapter on ibm_brisbane (ECR gates, real calibration)."""
    return compiled_on(brisbane())
