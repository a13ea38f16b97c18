"""Exact shot statistics of the Ramsey protocol (Fig. 4a, Eqs. 17-19): the outcome law against a
direct qutip computation, its theta average against quadrature, its symmetries, the CFI against
finite differences and the QFI, and the sampler against the averaged law (chi-square)."""

import math

import numpy as np
import pytest
import qutip
from scipy.linalg import expm
from scipy.special import gammaln
from scipy.stats import chisquare

from labctl.errors import InputError
from labctl.sim import steady_state
from labctl.sim.measurement import (
    cfi_curve,
    classical_fisher,
    excitation_fractions,
    outcome_distribution,
    phase_law,
    ramsey_distribution,
    sample_ramsey,
    sample_shots,
    wigner_small_d,
)
from labctl.sim.spin import magnetic_numbers, spin_matrices


def pair(spin, ratio=0.4, chi=0.0):
    return steady_state(spin, [ratio / 2, -ratio / 2], 1.0, chi)


def _collective(spin, n, component, weights):
    """sum_l weights[l] S_l^component on n ensembles, from qutip's jmat."""
    eye = qutip.qeye(int(2 * spin + 1))
    factors = [[qutip.jmat(spin, component) if k == l else eye for k in range(n)] for l in range(n)]
    return sum(w * qutip.tensor(ops) for w, ops in zip(weights, factors))


def _ket(state):
    d = int(2 * state.spin + 1)
    return qutip.Qobj(state.vector.reshape(-1, 1), dims=[[d] * state.n_ensembles, [1] * state.n_ensembles])


def qutip_pair_law(state, phi, theta):
    """|<m1, m2| R_theta(pi/2) U_phi |psi>|^2 of Eq. (18), every operator built and exponentiated by qutip."""
    s = state.spin
    u_phi = (-1j * phi * _collective(s, 2, "z", [1, -1])).expm()
    u_theta = (-1j * theta * _collective(s, 2, "z", [1, 1])).expm()
    pulse = u_theta.dag() * (-1j * np.pi / 2 * _collective(s, 2, "x", [1, 1])).expm() * u_theta
    amplitudes = (pulse * u_phi * _ket(state)).full().ravel()
    return np.abs(amplitudes.reshape(int(2 * s + 1), -1)) ** 2


def qutip_law(state, alphas):
    """|<m| exp(-i pi sum_l S_l^x / 2) exp(-i sum_l alpha_l S_l^z) |psi>|^2 for L ensembles."""
    s, n = state.spin, state.n_ensembles
    pulse = (-1j * np.pi / 2 * _collective(s, n, "x", [1] * n)).expm()
    rotation = pulse * (-1j * _collective(s, n, "z", alphas)).expm()
    amplitudes = (rotation * _ket(state)).full().ravel()
    return np.abs(amplitudes.reshape((int(2 * s + 1),) * n)) ** 2


# --------------------------------------------------------------------------------------------
# Wigner d and the theta-resolved law
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spin", [0.5, 1.0, 1.5, 3.0, 10.0])
@pytest.mark.parametrize("beta", [0.3, math.pi / 2, 2.5])
def test_wigner_small_d_is_exp_of_sy(spin, beta):
    reference = expm(-1j * beta * spin_matrices(spin).y.toarray())
    assert np.abs(wigner_small_d(spin, beta) - reference).max() < 1e-13


@pytest.mark.parametrize("spin", [50.0, 100.0])
def test_wigner_small_d_accuracy_at_large_spin(spin):
    d = wigner_small_d(spin)
    assert np.abs(d @ d.T - np.eye(d.shape[0])).max() < 1e-13
    k = spin - magnetic_numbers(spin)  # closed form |d_{S,m}(pi/2)| = 2^-S binom(2S, S - m)^(1/2)
    top_row = np.exp(0.5 * (gammaln(2 * spin + 1) - gammaln(k + 1) - gammaln(2 * spin - k + 1)) - spin * math.log(2))
    assert np.abs(np.abs(d[0]) - top_row).max() < 2e-14


@pytest.mark.parametrize("spin", [0.5, 1.0, 1.5, 3.0])
@pytest.mark.parametrize("phi, theta", [(0.3, 1.1), (1.2, -0.4), (0.0, 2.0), (2.5, 4.0)])
def test_theta_resolved_law_matches_qutip(spin, phi, theta):
    state = pair(spin, 0.6, chi=0.3)
    law = outcome_distribution(state, phi, theta)
    assert law.shape == (int(2 * spin + 1),) * 2
    assert np.abs(law - qutip_pair_law(state, phi, theta)).max() < 1e-12


def test_four_ensemble_law_matches_qutip():
    state = steady_state(0.5, [1.0, 1.5, -1.5, -1.0], 2.0, 0.7)
    alphas = [0.3, -1.1, 0.7, 2.0]
    assert np.abs(ramsey_distribution(state, alphas) - qutip_law(state, alphas)).max() < 1e-12


@pytest.mark.parametrize("spin, chi", [(1.0, 0.0), (3.0, 0.3), (20.0, 0.0), (7.5, -0.5)])
def test_laws_are_normalised(spin, chi):
    state = pair(spin, 0.3, chi)
    for law in (outcome_distribution(state, 0.4), outcome_distribution(state, 0.4, 1.3)):
        assert law.min() > -1e-15
        assert law.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("spin", [1.5, 3.0, 10.0])
@pytest.mark.parametrize("phi, theta", [(0.35, 1.3), (1.0, -2.2)])
def test_marginal_means_follow_eq17(spin, phi, theta):
    state = pair(spin, 0.4)
    a = state.differential_polarization() / (4 * spin)
    law = outcome_distribution(state, phi, theta)
    p = excitation_fractions(spin)
    assert law.sum(axis=1) @ p == pytest.approx(a * math.sin(phi + theta) + 0.5, abs=1e-13)
    assert law.sum(axis=0) @ p == pytest.approx(a * math.sin(phi - theta) + 0.5, abs=1e-13)


def test_marginal_means_with_chi_follow_the_heisenberg_form():
    """With chi != 0, <S_j^y> != 0 and Eq. (17) generalises to <S_j^x> sin(alpha_j) + <S_j^y> cos(alpha_j)."""
    spin, phi, theta = 3.0, 0.35, 1.3
    state = pair(spin, 0.4, chi=0.4)
    assert abs(state.expect("S1y")) > 0.1
    law = outcome_distribution(state, phi, theta)
    m = magnetic_numbers(spin)
    for j, alpha, marginal in ((1, theta + phi, law.sum(axis=1)), (2, theta - phi, law.sum(axis=0))):
        expected = state.expect(f"S{j}x") * math.sin(alpha) + state.expect(f"S{j}y") * math.cos(alpha)
        assert marginal @ m == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------------
# The theta average and its symmetries
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spin, chi", [(1.0, 0.0), (2.5, 0.3), (6.0, 0.0)])
def test_average_equals_equispaced_theta_quadrature(spin, chi):
    """P(m | phi, theta) is a trigonometric polynomial of degree <= 4S in theta, so K > 4S
    equispaced nodes (any offset) average it exactly."""
    state = pair(spin, 0.5, chi)
    n_nodes = int(4 * spin) + 2
    thetas = 0.37 + 2 * np.pi * np.arange(n_nodes) / n_nodes
    quadrature = np.mean([outcome_distribution(state, 0.7, theta) for theta in thetas], axis=0)
    assert np.abs(quadrature - outcome_distribution(state, 0.7)).max() < 1e-14


@pytest.mark.parametrize("spin, chi", [(1.5, 0.0), (3.0, 0.4), (8.0, -0.2)])
def test_symmetries_of_the_averaged_law(spin, chi):
    """Documented in labctl.sim.measurement: even and pi-periodic in phi (identifiable range
    [0, pi/2]), centrally symmetric and exchange symmetric in (m1, m2), and the law at pi/2 - phi
    is the law at phi with m2 -> -m2."""
    state = pair(spin, 0.5, chi)
    phi = 0.3
    law = outcome_distribution(state, phi)
    assert np.abs(outcome_distribution(state, -phi) - law).max() < 1e-14
    assert np.abs(outcome_distribution(state, phi + np.pi) - law).max() < 1e-14
    assert np.abs(outcome_distribution(state, np.pi - phi) - law).max() < 1e-14
    assert np.abs(law[::-1, ::-1] - law).max() < 1e-14
    assert np.abs(law.T - law).max() < 1e-14
    assert np.abs(outcome_distribution(state, np.pi / 2 - phi) - law[:, ::-1]).max() < 1e-14
    assert np.abs(outcome_distribution(state, 0.5) - law).max() > 1e-3  # phi does matter


def test_theta_resolved_sign_flip_reflects_about_the_antidiagonal():
    """P(m1, m2 | -phi, theta) = P(-m2, -m1 | phi, theta), as Eq. (17) shows for the means."""
    state = pair(3.0, 0.5, chi=0.3)
    law = outcome_distribution(state, 0.4, 0.9)
    flipped = outcome_distribution(state, -0.4, 0.9)
    assert np.abs(flipped - law[::-1, ::-1].T).max() < 1e-14
    assert np.abs(flipped - law).max() > 1e-3


@pytest.mark.parametrize("spin, chi", [(3.0, 0.3), (10.0, 0.0)])
def test_phase_law_table_matches_outcome_distribution(spin, chi):
    state = pair(spin, 0.3, chi)
    law = phase_law(state)
    phis = np.array([0.0, 0.2, 0.9, 1.5, 2.8])
    table = law.probabilities(phis).T.reshape(phis.size, *law.shape)
    for phi, values in zip(phis, table):
        assert np.abs(values - outcome_distribution(state, phi)).max() < 1e-14


# --------------------------------------------------------------------------------------------
# Classical Fisher information (Eq. 19)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spin, ratio, chi", [(1.5, 0.4, 0.0), (3.0, 0.4, 0.4), (10.0, 0.2, 0.0)])
def test_cfi_matches_finite_differences(spin, ratio, chi):
    state = pair(spin, ratio, chi)
    step = 1e-5
    for phi in (0.1, 0.7, 1.4):
        law = outcome_distribution(state, phi)
        slope = (outcome_distribution(state, phi + step) - outcome_distribution(state, phi - step)) / (2 * step)
        kept = law > 1e-14
        assert classical_fisher(state, phi) == pytest.approx(np.sum(slope[kept] ** 2 / law[kept]), rel=1e-7)


@pytest.mark.parametrize("spin, ratio, chi", [(0.5, 0.3, 0.0), (2.0, 1.0, 0.5), (10.0, 0.1, 0.0), (20.0, 0.05, 0.0)])
def test_cfi_never_exceeds_qfi(spin, ratio, chi):
    state = pair(spin, ratio, chi)
    phis = np.linspace(0, np.pi, 181)
    cfi = cfi_curve(state, phis)
    assert np.all(cfi <= state.qfi() * (1 + 1e-10))
    assert np.all(cfi >= 0)
    assert np.abs(cfi - cfi[::-1]).max() < 1e-8 * state.qfi()  # F(pi - phi) = F(phi)


def test_fig4c_cfi_approaches_qfi_near_pi_over_4_and_drops_at_the_ends():
    """Fig. 4(c) qualitatively, S = 20. Around pi/4 (+-0.3 rad) the CFI averages 96 % of the QFI at
    Delta/Omega = 1/S (with a shallow dip to 92 % exactly at pi/4, where the ellipse is a circle);
    at Delta/Omega = 1/sqrt(S) it reaches only ~66 % (0.74 at S = 50, 0.78 at S = 100: the ratio
    grows slowly with S). Both vanish at phi = 0 and pi/2 (the law is even about both ends)."""
    spin = 20.0
    window = math.pi / 4 + np.linspace(-0.3, 0.3, 25)
    for ratio, lower, upper in ((1 / spin, 0.94, 1.0), (1 / math.sqrt(spin), 0.6, 0.7)):
        state = pair(spin, ratio)
        qfi = state.qfi()
        middle = cfi_curve(state, window) / qfi
        assert lower < middle.mean() <= upper and middle.min() > lower - 0.05
        edges = cfi_curve(state, [0.0, 0.01, math.pi / 2 - 0.01, math.pi / 2]) / qfi
        assert edges[0] < 1e-12 and edges[3] < 1e-12
        assert edges[1] < 0.25 * middle.mean() and edges[2] == pytest.approx(edges[1], rel=1e-8)


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------
def chi_square_p_value(observed: np.ndarray, expected: np.ndarray) -> float:
    """Pearson chi-square p value after pooling the cells with fewer than 5 expected counts."""
    observed, expected = observed.ravel(), expected.ravel()
    rare = expected < 5
    obs = np.append(observed[~rare], observed[rare].sum())
    exp = np.append(expected[~rare], expected[rare].sum())
    return chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def histogram(p1, p2, spin):
    n = int(2 * spin + 1)
    i1 = np.rint((1 - p1) * 2 * spin).astype(int)
    i2 = np.rint((1 - p2) * 2 * spin).astype(int)
    return np.bincount(i1 * n + i2, minlength=n * n).reshape(n, n)


@pytest.mark.parametrize("spin, phi, n_batches", [(2.0, 0.4, 4096), (6.0, 1.1, 4096), (6.0, 0.2, 128)])
def test_sampled_shots_follow_the_averaged_law(spin, phi, n_batches):
    """n_batches = 4096 > n_shots: one random theta per shot; 128: stratified shared thetas."""
    state = pair(spin, 0.4, chi=0.2)
    n_shots = 4000 if n_batches > 4000 else 40_000
    p1, p2 = sample_shots(state, phi, n_shots, np.random.default_rng(11), n_batches=n_batches)
    assert p1.shape == p2.shape == (n_shots,)
    expected = outcome_distribution(state, phi) * n_shots
    assert chi_square_p_value(histogram(p1, p2, spin), expected) > 1e-3


def test_sampled_shots_at_fixed_theta_follow_the_resolved_law():
    state = pair(3.0, 0.4)
    p1, p2 = sample_shots(state, 0.3, 20_000, 5, theta=1.2)
    expected = outcome_distribution(state, 0.3, 1.2) * 20_000
    assert chi_square_p_value(histogram(p1, p2, 3.0), expected) > 1e-3


def test_sample_ramsey_is_reproducible_and_on_the_grid():
    state = steady_state(1.0, [1.0, 1.5, -1.5, -1.0], 2.0, 0.7)
    shots = sample_ramsey(state, [0.1, 0.2, -0.3, 0.0], 500, 3, random=("common", "gradient"))
    again = sample_ramsey(state, [0.1, 0.2, -0.3, 0.0], 500, 3, random=("common", "gradient"))
    assert shots.shape == (500, 4) and np.array_equal(shots, again)
    assert set(np.unique(shots)) <= {0.0, 0.5, 1.0}


def test_two_ensemble_functions_reject_other_inputs():
    quad = steady_state(0.5, [1.0, 1.5, -1.5, -1.0], 2.0, 0.7)
    with pytest.raises(InputError, match="L = 2"):
        outcome_distribution(quad, 0.1)
    with pytest.raises(InputError, match="n_shots"):
        sample_shots(pair(1.0), 0.1, 0, 1)
    with pytest.raises(InputError, match="one per ensemble"):
        ramsey_distribution(quad, [0.1, 0.2])
