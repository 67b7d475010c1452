"""Every test here runs with one torch thread (``one_torch_thread`` in tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _threads(one_torch_thread: None) -> None:
    """Apply the shared fixture to every test of this folder."""
