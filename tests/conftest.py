"""Shared fixtures: brute-force references are expensive, so each is computed once per session."""

import os

# Small dense matrices dominate these tests: multi-threaded BLAS only adds contention on a
# shared 2-core machine (10x slower when another process holds a core). Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from functools import lru_cache  # noqa: E402

import pytest  # noqa: E402

from labctl.sim import liouvillian_steady_state  # noqa: E402


@lru_cache(maxsize=None)
def _brute(spin, detunings, rabi, chi, method):
    return liouvillian_steady_state(spin, list(detunings), rabi, chi, method=method)


@pytest.fixture(scope="session")
def brute_force():
    """brute_force(spin, detunings, rabi, chi=0, method="auto") -> LiouvillianSteadyState (cached)."""

    def get(spin, detunings, rabi, chi=0.0, method="auto"):
        return _brute(float(spin), tuple(float(x) for x in detunings), float(rabi), float(chi), method)

    return get
