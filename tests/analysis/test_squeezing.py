"""Tests of labctl.analysis.squeezing: the Wineland parameter from synthetic shots of known truth
(labctl.sim states, exact projection noise, contrast and Gaussian detection noise), and the
Fisher-information curves of Fig. 4(c)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labctl.analysis.squeezing import fisher_curve, wineland_from_shots
from labctl.errors import FitError, InputError
from labctl.sim import steady_state
from labctl.sim.measurement import classical_fisher, sample_shots, wigner_small_d
from labctl.sim.states import ProductState

SPIN = 10.0
CONTRAST = 0.93
DETECTION = 0.03  # standard deviation of each ensemble's readout noise, in units of p


def entangled():
    ratio = 1 / math.sqrt(SPIN)
    return steady_state(SPIN, [ratio / 2, -ratio / 2], 1.0)


def coherent():
    """Ensemble 1 along +x, ensemble 2 along -x: d(pi/2) applied to |S, S> and |S, -S>."""
    d = wigner_small_d(SPIN)
    return ProductState(SPIN, (0.0, 0.0), 1.0, 0.0, np.kron(d[:, 0], d[:, -1]).astype(complex))


def readout(shots, rng):
    """Contrast and independent Gaussian detection noise on each ensemble's p."""
    return tuple(0.5 + CONTRAST * (p - 0.5) + rng.normal(0, DETECTION, p.size) for p in shots)


def runs(n_shots, seed):
    rng = np.random.default_rng(seed)

    def run(state, theta):
        return readout(sample_shots(state, 0.0, n_shots, rng, theta=theta), rng)

    return run(entangled(), 0.0), run(entangled(), math.pi / 2), run(coherent(), 0.0), run(coherent(), math.pi / 2)


def test_coherent_reference_has_unit_wineland_parameter():
    css = coherent()
    assert css.differential_polarization() == pytest.approx(2 * SPIN)
    assert css.variance("S1y + S2y") == pytest.approx(SPIN)
    assert css.wineland() == pytest.approx(1.0)


def test_wineland_from_shots_recovers_the_truth():
    truth = entangled()
    estimate = wineland_from_shots(*runs(40_000, 1), spin=SPIN, n_bootstrap=100, rng=2)
    assert estimate.xi2 == pytest.approx(truth.wineland(), abs=3 * estimate.stderr)
    assert estimate.stderr < 0.1 * truth.wineland()
    assert estimate.stderr_bootstrap == pytest.approx(estimate.stderr, rel=0.3)
    assert estimate.spin == pytest.approx(SPIN, abs=3 * estimate.spin_stderr)
    assert estimate.contrast == pytest.approx(CONTRAST, abs=1e-3)
    assert estimate.detection_variance == pytest.approx(2 * DETECTION**2, rel=0.05)
    assert estimate.spin_length == pytest.approx(truth.differential_polarization(), rel=0.03)
    assert estimate.var_sum_y == pytest.approx(truth.variance("S1y + S2y"), rel=0.1)
    assert estimate.xi2_db < 0 and estimate.warnings == ()


def test_wineland_stderr_matches_the_spread():
    estimates = [wineland_from_shots(*runs(4000, seed)) for seed in range(60)]
    values = np.array([e.xi2 for e in estimates])
    stated = np.mean([e.stderr for e in estimates])
    assert stated / values.std(ddof=1) == pytest.approx(1.0, abs=0.25)
    standard_error = values.std(ddof=1) / math.sqrt(values.size)
    assert abs(values.mean() - entangled().wineland()) < 3 * standard_error + 0.02 * stated


def test_wrong_nominal_spin_and_unresolved_noise():
    y, x, cy, cx = runs(20_000, 3)
    assert any("not the nominal S = 20" in w for w in wineland_from_shots(y, x, cy, cx, spin=20).warnings)
    noisy_reference = (cx[0] + np.random.default_rng(0).normal(0, 1.0, cx[0].size), cx[1])
    with pytest.raises(FitError, match="does not exceed the detection noise"):
        wineland_from_shots(y, x, cy, noisy_reference)
    with pytest.raises(InputError, match="at least 4"):
        wineland_from_shots((y[0][:3], y[1][:3]), x, cy, cx)


def test_fisher_curve_for_fig4c():
    state = steady_state(5, [0.1, -0.1], 1.0)
    curve = fisher_curve(state)
    assert curve.phis.size == 181 and curve.phis[-1] == pytest.approx(math.pi / 2)
    assert curve.qfi == pytest.approx(state.qfi())
    assert curve.cfi[45] == pytest.approx(classical_fisher(state, curve.phis[45]))
    assert curve.sql == 20 and curve.heisenberg == pytest.approx(160)
    assert np.all(curve.cfi <= curve.qfi * (1 + 1e-10)) and curve.sql < curve.qfi < curve.heisenberg


def test_plot_fisher_writes_png(tmp_path):
    from labctl.analysis.plots import plot_fisher

    phis = np.linspace(0, math.pi / 2, 61)
    curves = [fisher_curve(steady_state(10, [r / 2, -r / 2], 1.0), phis) for r in (0.1, 0.3)]
    path = tmp_path / "fisher.png"
    figure = plot_fisher(curves, labels=["Δ/Ω = 1/S", "Δ/Ω = 1/√S"], path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    assert len(figure.axes[0].get_lines()) == 6  # CFI and QFI per curve, SQL, Heisenberg
    assert plot_fisher(curves[0]).axes[0].get_ylim()[0] == 0
    with pytest.raises(InputError, match="labels"):
        plot_fisher(curves, labels=["one"])
