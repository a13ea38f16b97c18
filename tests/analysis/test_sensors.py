"""Tests of labctl.analysis.sensors: the four-ensemble measurement model (which marginals carry
which phase), and recovery of the gradient and curvature phases of Eq. (30) from shots simulated by
labctl.sim.measurement.sample_ramsey with per-shot random common (and gradient) phases."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

from labctl.analysis.sensors import (
    CURVATURE,
    GRADIENT,
    curvature_law,
    estimate_curvature,
    estimate_gradient,
)
from labctl.errors import InputError
from labctl.sim import steady_state
from labctl.sim.measurement import ramsey_distribution, sample_ramsey

G, C = np.array(GRADIENT), np.array(CURVATURE)
N_SHOTS = 4000  # <= 4096: every shot gets its own random phases


@lru_cache(maxsize=None)
def curvature_state():
    """(Delta_A, Delta_B, Omega, chi) = (1, 3, 5, 1): the curvature CFI peaks at ~4 (QFI of rho_c+g 17)."""
    return steady_state(1, [0.5, 1.5, -1.5, -0.5], 5.0, 1.0)


@lru_cache(maxsize=None)
def gradient_state():
    """Delta_A = 0.6, Delta_B = 6: the pair (1, 4) holds most of the gradient information (~80 of 97)."""
    return steady_state(1, [0.3, 3.0, -3.0, -0.3], 4.0, 0.2)


def marginal(law, keep):
    return law.sum(axis=tuple(axis for axis in range(4) if axis not in keep))


def test_pair_marginals_see_the_gradient_but_not_the_curvature():
    state = gradient_state()
    laws = [ramsey_distribution(state, 0.4 * G + c * C, averaged=("common",)) for c in (0.0, 0.9)]
    for pair in ((0, 3), (1, 2)):
        assert np.abs(marginal(laws[0], pair) - marginal(laws[1], pair)).max() < 1e-14
    other_gradient = ramsey_distribution(state, 0.5 * G, averaged=("common",))
    assert np.abs(marginal(other_gradient, (0, 3)) - marginal(laws[0], (0, 3))).max() > 1e-3


def test_curvature_appears_first_in_three_body_marginals():
    state = curvature_state()
    laws = [ramsey_distribution(state, c * C, averaged=("common", "gradient")) for c in (0.1, 0.9)]
    for pair in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]:
        assert np.abs(marginal(laws[0], pair) - marginal(laws[1], pair)).max() < 1e-14
    assert np.abs(marginal(laws[0], (0, 1, 2)) - marginal(laws[1], (0, 1, 2))).max() > 1e-4


def test_curvature_law_quarter_period_negates_two_outcomes():
    state = curvature_state()
    law = curvature_law(state)
    table = law.probabilities(np.array([0.2, 0.2 + math.pi / 2])).T.reshape(2, *law.shape)
    assert np.abs(table[1] - table[0][:, :, ::-1, ::-1]).max() < 1e-14
    assert np.abs(table[1] - table[0]).max() > 1e-4
    direct = ramsey_distribution(state, 0.2 * C, averaged=("common", "gradient"))
    assert np.abs(table[0] - direct).max() < 1e-14


def _repeat(estimator, state, phases, random, n_reps, seed):
    rng = np.random.default_rng(seed)
    results = [estimator(sample_ramsey(state, phases, N_SHOTS, rng, random=random), state) for _ in range(n_reps)]
    return np.array([r.phi for r in results]), np.array([r.stderr for r in results]), results


@pytest.mark.parametrize("phi_c", [-0.5, 0.2])
def test_curvature_is_recovered_with_common_and_gradient_noise(phi_c):
    phis, errors, results = _repeat(estimate_curvature, curvature_state(), phi_c * C, ("common", "gradient"), 30, 7)
    assert np.mean(np.abs(phis - phi_c) <= 2 * errors) >= 0.85
    spread = phis.std(ddof=1)
    assert errors.mean() / spread == pytest.approx(1.0, abs=0.3)
    assert abs(phis.mean() - phi_c) < 3 * spread / math.sqrt(phis.size)
    assert results[0].cramer_rao == pytest.approx(spread, rel=0.3)
    assert results[0].parameter == "curvature" and results[0].posterior is not None


@pytest.mark.parametrize("phi_g", [0.1, 0.4, 1.2])
def test_gradient_is_recovered_with_common_noise_and_unknown_curvature(phi_g):
    phis, errors, results = _repeat(estimate_gradient, gradient_state(), phi_g * G + 0.3 * C, ("common",), 30, 3)
    assert np.mean(np.abs(phis - phi_g) <= 2 * errors) >= 0.85
    assert errors.mean() / phis.std(ddof=1) == pytest.approx(1.0, abs=0.3)
    assert abs(phis.mean() - phi_g) < 3 * phis.std(ddof=1) / math.sqrt(phis.size)
    assert results[0].parameter == "gradient" and results[0].warnings == ()


def test_sensor_input_errors():
    state = curvature_state()
    with pytest.raises(InputError, match="4 columns"):
        estimate_curvature(np.full((10, 3), 0.5), state)
    with pytest.raises(InputError, match="L = 4"):
        estimate_gradient(np.full((10, 4), 0.5), steady_state(1, [0.5, -0.5], 1.0))
    with pytest.raises(InputError, match="width"):
        estimate_curvature(np.full((10, 4), 0.5), state, window=(0.0, 2.0))
    with pytest.raises(InputError, match="not excitation fractions"):
        estimate_curvature(np.full((10, 4), 0.3), state)


def test_plot_posterior_of_a_curvature_estimate(tmp_path):
    from labctl.analysis.plots import plot_posterior

    state = curvature_state()
    estimate = estimate_curvature(sample_ramsey(state, 0.2 * C, 2000, 1, random=("common", "gradient")), state)
    path = tmp_path / "curvature.png"
    figure = plot_posterior(estimate, truth=0.2, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "curvature" in figure.axes[0].get_title()
