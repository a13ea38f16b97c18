"""Two ensembles (Sec. III): the c_J state against the Liouvillian null space, and the identities
of Eqs. (10)-(12) and Sec. III.D checked on states built independently of each identity."""

import numpy as np
import pytest

from labctl.sim import SpinSum, liouvillian_steady_state, steady_state
from labctl.sim.states import ProductState

# (Delta/Omega, chi/Omega) pairs: Heisenberg, intermediate and SQL-like regimes, with and without chi
REGIMES = [(0.2, 0.0), (1.0, 0.0), (3.0, 0.0), (0.5, 0.4), (1.5, -0.8), (0.0, 0.6)]


@pytest.mark.parametrize("spin", [0.5, 1.0, 1.5, 2.0])
@pytest.mark.parametrize("ratio, chi_ratio", REGIMES)
def test_matches_liouvillian_null_space(brute_force, spin, ratio, chi_ratio):
    omega = 1.3
    delta = ratio * omega
    state = steady_state(spin, [delta / 2, -delta / 2], omega, chi_ratio * omega)
    ref = brute_force(spin, [delta / 2, -delta / 2], omega, chi_ratio * omega)
    assert ref.is_unique
    assert ref.purity == pytest.approx(1.0, abs=1e-9)
    assert ref.fidelity(state.vector) > 1 - 1e-9


@pytest.mark.parametrize("ratio, chi_ratio", [(0.2, 0.0), (1.0, 0.5)])
def test_spin_five_matches_liouvillian_steady_state(brute_force, ratio, chi_ratio):
    state = steady_state(5, [ratio / 2, -ratio / 2], 1.0, chi_ratio)
    ref = brute_force(5, [ratio / 2, -ratio / 2], 1.0, chi_ratio, method="krylov")
    assert ref.residual < 1e-10
    assert ref.fidelity(state.vector) > 1 - 1e-9


def test_negative_first_detuning_and_gamma_independence(brute_force):
    state = steady_state(1.5, [-0.4, 0.4], 0.9, 0.2)
    ref = brute_force(1.5, [-0.4, 0.4], 0.9, 0.2)
    assert ref.fidelity(state.vector) > 1 - 1e-9
    fast_decay = liouvillian_steady_state(1.5, [-0.4, 0.4], 0.9, 0.2, gamma=7.0)
    assert fast_decay.fidelity(state.vector) > 1 - 1e-9


def _b(spin, j, m):
    """Eq. (7), written out here independently of the library."""
    return np.sqrt((2 * spin - j) * (2 * spin + j + 2) * (j + m + 1) * (j - m + 1) / ((2 * j + 1) * (2 * j + 3)))


@pytest.mark.parametrize("spin", [0.5, 2.0, 7.5, 40.0])
@pytest.mark.parametrize("ratio, chi", [(0.05, 0.0), (0.7, 0.0), (0.3, 0.25)])
def test_qfi_is_eq10_and_eq11_holds(spin, ratio, chi):
    state = steady_state(spin, [ratio / 2, -ratio / 2], 1.0, chi)
    c = state.coefficients
    j = np.arange(c.size)
    eq10 = 4 * np.sum(np.abs(c) ** 2 * _b(spin, j, -j) ** 2)
    assert state.qfi() == pytest.approx(eq10, rel=1e-12)
    # Eq. (11): <S1x - S2x> = -(Delta / 4 Omega) F
    assert state.differential_polarization() == pytest.approx(-ratio / 4 * state.qfi(), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("spin", [1.0, 3.5, 30.0])
@pytest.mark.parametrize("chi", [0.0, 0.3])
def test_equal_collective_variances(spin, chi):
    """Sec. III.D: Var(S1y + S2y) = Var(S1x + S2x) = sum_J |c_J|^2 J / 2."""
    state = steady_state(spin, [0.2, -0.2], 1.0, chi)
    c = state.coefficients
    closed = np.sum(np.abs(c) ** 2 * np.arange(c.size)) / 2
    assert state.variance("S1y + S2y") == pytest.approx(closed, rel=1e-12)
    assert state.variance("S1x + S2x") == pytest.approx(closed, rel=1e-12)


def test_wineland_parameter_definition():
    spin = 10.0
    state = steady_state(spin, [0.05, -0.05], 1.0)
    xi2 = 4 * spin * state.variance("S1y+S2y") / state.expect("S1x-S2x") ** 2
    assert state.wineland() == pytest.approx(xi2, rel=1e-12)
    assert state.wineland() < 1.0  # squeezed below the coherent-state value


@pytest.mark.parametrize("spin", [0.5, 1.0, 2.5, 6.0])
@pytest.mark.parametrize("chi", [0.0, 0.6])
def test_j_basis_observables_match_product_basis(spin, chi):
    """Every covariance from the J-basis algebra equals the one from the product vector."""
    rng = np.random.default_rng(int(10 * spin) + int(10 * chi))
    state = steady_state(spin, [0.45, -0.45], 0.8, chi)
    vector_state = ProductState(spin, state.detunings, state.rabi, state.chi, state.vector)
    ops = [SpinSum(coeffs=rng.normal(size=(2, 3))) for _ in range(5)] + ["S1x - S2x", "S2y", "S1z + S2z"]
    assert np.allclose(state.covariance_matrix(ops), vector_state.covariance_matrix(ops), atol=1e-12)
    assert np.allclose([state.expect(o) for o in ops], [vector_state.expect(o) for o in ops], atol=1e-12)


@pytest.mark.parametrize("spin", [1.0, 5.0, 25.0])
def test_large_drive_limit_reaches_heisenberg_qfi(spin):
    bound = 16 * spin * (spin + 1) / 3
    values = [steady_state(spin, [0.5, -0.5], omega).qfi() for omega in (10.0, 1e3, 1e6)]
    assert values[-1] == pytest.approx(bound, rel=1e-6)
    assert values[0] < values[1] < values[2] <= bound * (1 + 1e-12)
    assert steady_state(spin, [0.5, -0.5], np.inf).qfi() == pytest.approx(bound, rel=1e-14)


def test_singlet_limit_is_rotation_invariant():
    state = steady_state(3.0, [0.5, -0.5], np.inf)
    for op in ("S1x + S2x", "S1y + S2y", "S1z + S2z"):
        assert state.variance(op) == pytest.approx(0.0, abs=1e-12)
    for op in ("S1x - S2x", "S1y - S2y", "S1z - S2z"):
        assert 4 * state.variance(op) == pytest.approx(16 * 3 * 4 / 3, rel=1e-12)


@pytest.mark.parametrize("spin", [1e4, 1e6])
def test_identities_hold_at_large_spin(spin):
    """At S = 10^4..10^6 no brute force exists; the identities of Eqs. (11) and Sec. III.D,
    computed through different matrix elements, must still hold, and the scalings of Sec. III.B."""
    for ratio in (1 / spin, 1 / np.sqrt(spin), 1.0):
        state = steady_state(spin, [ratio / 2, -ratio / 2], 1.0)
        assert np.linalg.norm(state.coefficients) == pytest.approx(1.0, rel=1e-12)
        qfi = state.qfi()
        assert state.differential_polarization() == pytest.approx(-ratio / 4 * qfi, rel=1e-8)
        assert state.variance("S1y + S2y") == pytest.approx(state.variance("S1x + S2x"), rel=1e-8)
        assert 0 < qfi <= 16 * spin * (spin + 1) / 3
    heisenberg = steady_state(spin, [0.5 / spin, -0.5 / spin], 1.0)
    assert heisenberg.qfi() / spin**2 > 1.0  # F ~ S^2 at Delta/Omega = 1/S
    sql = steady_state(spin, [0.5, -0.5], 1.0)
    assert sql.qfi() / spin < 10.0  # F ~ S at Delta/Omega = 1
