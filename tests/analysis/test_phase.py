"""Tests of labctl.analysis.phase: the Bayesian phase estimator on shots simulated by
labctl.sim.measurement.sample_shots (per-shot random theta, independent of the averaged law the
estimator uses) -- coverage, efficiency against 1/sqrt(N F_CFI), stated errors against the spread
-- and the ellipse wrapper, the Gaussian model, the posterior grid and the input errors."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

from labctl.analysis import PhaseEstimate, ellipse_phase, estimate_phase
from labctl.analysis.phase import phase_posterior
from labctl.errors import FitError, InputError
from labctl.sim import steady_state
from labctl.sim.measurement import sample_shots

N_SHOTS = 2000


@lru_cache(maxsize=None)
def model(spin: float):
    """Delta/Omega = 1/sqrt(S), the regime of Fig. 4(b); one object per S so law tables are cached."""
    ratio = 1 / math.sqrt(spin)
    return steady_state(spin, [ratio / 2, -ratio / 2], 1.0)


@lru_cache(maxsize=None)
def repetitions(spin: float, phi: float, n_reps: int) -> dict[str, np.ndarray]:
    """Bayesian estimates from n_reps seeded sets of N_SHOTS shots.

    S <= 10: every set drawn on its own (one random theta per shot). S = 50: one draw of
    n_reps * N_SHOTS shots split into sets (4096 stratified thetas shared across sets), which
    keeps the sampling cost at a few seconds.
    """
    state = model(spin)
    rng = np.random.default_rng(int(1000 * spin + 100 * phi))
    if spin <= 10:
        sets = [sample_shots(state, phi, N_SHOTS, rng) for _ in range(n_reps)]
    else:
        p1, p2 = sample_shots(state, phi, n_reps * N_SHOTS, rng)
        sets = list(zip(p1.reshape(n_reps, N_SHOTS), p2.reshape(n_reps, N_SHOTS)))
    estimates = [estimate_phase(p1, p2, spin, "bayes", state=state) for p1, p2 in sets]
    return {
        "phi": np.array([e.phi for e in estimates]),
        "stderr": np.array([e.stderr for e in estimates]),
        "inside_95": np.array([e.interval_95[0] <= phi <= e.interval_95[1] for e in estimates]),
        "cramer_rao": np.array([e.cramer_rao for e in estimates]),
    }


@pytest.mark.parametrize("spin, n_reps", [(10.0, 100), (50.0, 60)])
@pytest.mark.parametrize("phi", [0.1, math.pi / 4, 1.0])
def test_bayes_coverage(spin, n_reps, phi):
    """phi within 2 stated standard errors, and inside the 95 % HPD interval, in >= 90 % of the sets."""
    runs = repetitions(spin, phi, n_reps)
    within = np.abs(runs["phi"] - phi) <= 2 * runs["stderr"]
    assert within.mean() >= 0.9
    assert runs["inside_95"].mean() >= 0.9


@pytest.mark.parametrize("phi", [0.1, math.pi / 4, 1.3])
def test_bayes_is_efficient_and_states_its_spread(phi):
    """S = 10, N = 2000, 150 sets: std within 1.2 x 1/sqrt(N F_CFI), stated stderr = spread, no bias."""
    runs = repetitions(10.0, phi, 150)
    spread = runs["phi"].std(ddof=1)
    bound = 1 / math.sqrt(N_SHOTS * _cfi(10.0, phi))
    assert spread / bound < 1.2
    assert spread / bound > 0.85  # cannot beat the Cramer-Rao bound by more than the sampling error
    assert runs["stderr"].mean() / spread == pytest.approx(1.0, abs=0.15)
    assert abs(runs["phi"].mean() - phi) < 3 * spread / math.sqrt(runs["phi"].size)
    assert runs["cramer_rao"].mean() == pytest.approx(bound, rel=0.05)


@pytest.mark.parametrize("phi", [0.1, math.pi / 4])
def test_bayes_is_efficient_at_spin_fifty(phi):
    runs = repetitions(50.0, phi, 60)
    spread = runs["phi"].std(ddof=1)
    assert spread * math.sqrt(N_SHOTS * _cfi(50.0, phi)) < 1.2
    assert runs["stderr"].mean() / spread == pytest.approx(1.0, abs=0.2)


def _cfi(spin: float, phi: float) -> float:
    from labctl.sim.measurement import classical_fisher

    return classical_fisher(model(spin), phi)


# --------------------------------------------------------------------------------------------
# Result, ellipse wrapper, CSV input
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shots():
    return sample_shots(model(10.0), 0.6, 3000, 7)


def test_bayes_result_carries_the_posterior(shots):
    p1, p2 = shots
    result = estimate_phase(p1, p2, 10, "bayes", delta_over_rabi=1 / math.sqrt(10))
    assert isinstance(result, PhaseEstimate) and result.method == "bayes" and result.model == "exact"
    assert result.n_shots == 3000 and result.warnings == ()
    assert result.phi == result.map and 0 <= result.phi <= math.pi / 2
    assert result.interval_95[0] < result.interval_68[0] < result.phi < result.interval_68[1] < result.interval_95[1]
    assert result.posterior_mean == pytest.approx(result.phi, abs=0.3 * result.stderr)
    grid, density = result.posterior.grid, result.posterior.density
    assert np.trapezoid(density, grid) == pytest.approx(1.0)
    assert abs(result.phi - 0.6) < 4 * result.stderr
    # a state object and delta_over_rabi give the same model
    again = estimate_phase(p1, p2, 10, "bayes", state=model(10.0))
    assert again.phi == pytest.approx(result.phi, abs=1e-9)


def test_ellipse_method_wraps_ellipse_phase(shots):
    p1, p2 = shots
    result = estimate_phase(p1, p2, 10, n_bootstrap=50, rng=3)
    reference = ellipse_phase(p1, p2, n_bootstrap=50, rng=3)
    assert result.method == "ellipse" and result.posterior is None and result.cramer_rao is None
    assert result.phi == reference.phi and result.stderr == reference.stderr
    assert result.ellipse.fit.conic == reference.fit.conic
    with_model = estimate_phase(p1, p2, 10, "ellipse", state=model(10.0), n_bootstrap=0)
    assert with_model.cramer_rao == pytest.approx(1 / math.sqrt(3000 * _cfi(10.0, with_model.phi)))


def test_shots_from_csv(tmp_path, shots):
    p1, p2 = shots
    path = tmp_path / "shots.csv"
    path.write_text("p1,p2\n" + "\n".join(f"{a:.6f},{b:.6f}" for a, b in zip(p1, p2)))
    from_file = estimate_phase(path, None, 10, "bayes", state=model(10.0))
    assert from_file.phi == pytest.approx(estimate_phase(p1, p2, 10, "bayes", state=model(10.0)).phi, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Gaussian model
# --------------------------------------------------------------------------------------------
def test_gaussian_model_agrees_with_exact_where_valid():
    state = steady_state(50, [1.0, -1.0], 1.0)  # Delta/Omega = 2: |c_J|^2 localised far from J = 0
    p1, p2 = sample_shots(state, 0.5, 5000, 2)
    exact = estimate_phase(p1, p2, 50, "bayes", state=state)
    gaussian = estimate_phase(p1, p2, 50, "bayes", state=state, model="gaussian")
    assert gaussian.model == "gaussian" and gaussian.warnings == ()
    assert gaussian.phi == pytest.approx(exact.phi, abs=0.5 * exact.stderr)
    assert gaussian.stderr == pytest.approx(exact.stderr, rel=0.1)


def test_gaussian_model_warns_where_invalid(shots):
    p1, p2 = shots
    result = estimate_phase(p1, p2, 10, "bayes", state=model(10.0), model="gaussian")
    text = " ".join(result.warnings)
    assert "not localised" in text and "total variation" in text


# --------------------------------------------------------------------------------------------
# Posterior grid
# --------------------------------------------------------------------------------------------
def test_phase_posterior_resolves_a_narrow_gaussian():
    width = 1e-5
    posterior = phase_posterior(lambda x: -0.5 * ((x - 0.4321) / width) ** 2, 65)
    assert posterior.map == pytest.approx(0.4321, abs=1e-3 * width)
    assert posterior.mean == pytest.approx(0.4321, abs=1e-3 * width)
    assert posterior.std == pytest.approx(width, rel=1e-3)
    assert np.subtract(*posterior.interval_68[::-1]) == pytest.approx(2 * width, rel=0.03)
    assert np.subtract(*posterior.interval_95[::-1]) == pytest.approx(4 * width, rel=0.03)
    assert posterior.n_modes == 1


def test_phase_posterior_at_the_edge_and_with_two_modes():
    edge = phase_posterior(lambda x: -0.5 * (x / 0.01) ** 2, 65)
    assert edge.map == 0.0 and edge.interval_68[0] == 0.0
    assert edge.interval_68[1] == pytest.approx(0.01, rel=0.03)  # half-normal: 68 % within 1 sigma
    two = phase_posterior(lambda x: np.logaddexp(-0.5 * ((x - 0.3) / 1e-3) ** 2, -0.5 * ((x - 1.2) / 1e-3) ** 2), 65)
    assert two.n_modes == 2 and two.mean == pytest.approx(0.75, abs=1e-6)


def test_estimate_warns_near_the_edge():
    p1, p2 = sample_shots(model(10.0), 0.0, 500, 1)
    result = estimate_phase(p1, p2, 10, "bayes", state=model(10.0))
    assert any("edge of its identifiable range" in w for w in result.warnings)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
def test_off_grid_values_are_named(shots):
    p1, p2 = (np.array(a, copy=True) for a in shots)
    p1[[3, 8]] = [0.51, 1.2]
    with pytest.raises(InputError, match=r"2 of 3000 shots .* k/20.*#3: \(0\.51"):
        estimate_phase(p1, p2, 10, "bayes", state=model(10.0))


def test_impossible_shots_are_named():
    """At Delta/Omega = 2 and S = 50 both ensembles fully excited has probability < 1e-17 at every phi."""
    state = steady_state(50, [1.0, -1.0], 1.0)
    p1, p2 = sample_shots(state, 0.5, 200, 1)
    p1, p2 = np.append(p1, [1.0, 1.0, 1.0]), np.append(p2, [1.0, 1.0, 0.99])
    with pytest.raises(FitError, match=r"3 shots in 2 outcome\(s\).*\(p1, p2\) = \(1, 1\) x 2"):
        estimate_phase(p1, p2, 50, "bayes", state=state)


def test_bad_arguments():
    p1, p2 = sample_shots(model(10.0), 0.6, 100, 1)
    with pytest.raises(InputError, match="method"):
        estimate_phase(p1, p2, 10, "fourier")
    with pytest.raises(InputError, match="needs the state model"):
        estimate_phase(p1, p2, 10, "bayes")
    with pytest.raises(InputError, match="not both"):
        estimate_phase(p1, p2, 10, "bayes", state=model(10.0), delta_over_rabi=0.3)
    with pytest.raises(InputError, match="S = 3"):
        estimate_phase(p1, p2, 10, "bayes", state=steady_state(3, [0.1, -0.1], 1.0))
    with pytest.raises(InputError, match="model"):
        estimate_phase(p1, p2, 10, "bayes", state=model(10.0), model="poisson")
    with pytest.raises(InputError, match="same length"):
        estimate_phase(p1, p2[:-1], 10, "bayes", state=model(10.0))


# --------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------
def test_plot_posterior_writes_png(tmp_path, shots):
    from labctl.analysis.plots import plot_posterior

    p1, p2 = shots
    path = tmp_path / "plots" / "posterior.png"
    figure = plot_posterior(estimate_phase(p1, p2, 10, "bayes", state=model(10.0)), truth=0.6, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    assert "±" in figure.axes[0].get_title()
    with pytest.raises(InputError, match="posterior"):
        plot_posterior(estimate_phase(p1, p2, 10, n_bootstrap=0))
