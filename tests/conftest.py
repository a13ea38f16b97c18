"""Shared fixtures: brute-force references are expensive, so each is computed once per session."""

from functools import lru_cache

import pytest

from labctl.sim import liouvillian_steady_state


@lru_cache(maxsize=None)
def _brute(spin, detunings, rabi, chi, method):
    return liouvillian_steady_state(spin, list(detunings), rabi, chi, method=method)


@pytest.fixture(scope="session")
def brute_force():
    """brute_force(spin, detunings, rabi, chi=0, method="auto") -> LiouvillianSteadyState (cached)."""

    def get(spin, detunings, rabi, chi=0.0, method="auto"):
        return _brute(float(spin), tuple(float(x) for x in detunings), float(rabi), float(chi), method)

    return get
