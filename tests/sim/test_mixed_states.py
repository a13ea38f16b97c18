"""Phase-averaged states and the mixed-state QFI of Eq. (16) (Secs. III.D, IV.B, Fig. 6c)."""

import numpy as np
import pytest
import scipy.linalg as la

from labctl.sim import SpinSum, qfi_mixed, steady_state
from labctl.sim.mixed import operator_matrix


def _sld_qfi(rho, g):
    """QFI from the symmetric logarithmic derivative, rho L + L rho = 2 d rho (full-rank rho)."""
    drho = -1j * (g @ rho - rho @ g)
    sld = la.solve_sylvester(rho, rho, 2 * drho)
    return float(np.real(np.trace(rho @ sld @ sld)))


def test_eigenvalue_formula_matches_sld_on_full_rank_states():
    rng = np.random.default_rng(7)
    g = operator_matrix(1.0, SpinSum(z=(1, -1)))
    for _ in range(5):
        x = rng.normal(size=(9, 9)) + 1j * rng.normal(size=(9, 9))
        rho = x @ x.conj().T
        rho /= np.trace(rho)
        assert qfi_mixed(rho, g) == pytest.approx(_sld_qfi(rho, g), rel=1e-8)


def test_eigenvalue_formula_on_pure_state_is_four_variances():
    state = steady_state(2.0, [0.3, -0.3], 1.0, 0.2)
    rho = np.outer(state.vector, state.vector.conj())
    g = operator_matrix(2.0, SpinSum(x=(1, 1), z=(0.5, -1)))
    assert qfi_mixed(rho, g) == pytest.approx(4 * state.variance(SpinSum(x=(1, 1), z=(0.5, -1))), rel=1e-9)


@pytest.mark.parametrize("spin", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("sigma", [None, 0.4, 2.0])
def test_common_phase_noise_leaves_differential_qfi_unchanged(spin, sigma):
    """Eq. (16): any distribution of the common phase keeps F for S1z - S2z."""
    state = steady_state(spin, [0.35, -0.35], 1.0, 0.3)
    averaged = state.phase_averaged(["common"], sigma=sigma)
    assert averaged.qfi((1, -1)) == pytest.approx(state.qfi(), rel=1e-10)
    if sigma is None:
        assert averaged.purity() < 1 - 1e-3  # the state really is mixed


def test_sector_formula_equals_eigenvalue_formula():
    state = steady_state(1.0, [0.0, 2.0, -2.0, 0.0], 6.0, 1.0)
    for gens in (["common"], ["common", "gradient"]):
        averaged = state.phase_averaged(gens)
        rho = averaged.density_matrix()
        for weights in ((1, -1, -1, 1), (3, 1, -1, -3), (1, 2, 0, -1)):
            dense = qfi_mixed(rho, operator_matrix(1.0, SpinSum(z=weights)))
            assert averaged.qfi(weights) == pytest.approx(dense, rel=1e-9, abs=1e-12)


def test_uniform_average_is_the_limit_of_wide_gaussian():
    state = steady_state(1.0, [0.35, -0.35], 1.0, 0.3)
    uniform = state.phase_averaged(["common"]).density_matrix()
    wide = state.phase_averaged(["common"], sigma=50.0).density_matrix()
    assert np.allclose(uniform, wide, atol=1e-12)


def test_four_ensemble_curvature_qfi_under_common_and_gradient_noise():
    """Sec. IV.B / Fig. 6c (S = 2, Delta_A = 0, Delta_B = 8 chi): the gradient QFI is untouched by
    common-phase noise; the curvature QFI of rho_c+g is ~0.8 % below the pure state's at
    Omega = 64 chi, and loses much more at Omega ~ Delta_B (physics-notes.md)."""
    curvature, gradient = (1, -1, -1, 1), (3, 1, -1, -3)
    strong = steady_state(2.0, [0.0, 4.0, -4.0, 0.0], 64.0, 1.0)
    loss = strong.phase_averaged(["common", "gradient"]).qfi(curvature) / strong.qfi(curvature) - 1
    assert loss == pytest.approx(-0.008, abs=0.001)
    assert strong.phase_averaged(["common"]).qfi(gradient) == pytest.approx(strong.qfi(gradient), rel=1e-10)
    weak = steady_state(2.0, [0.0, 4.0, -4.0, 0.0], 8.0, 1.0)
    assert weak.phase_averaged(["common", "gradient"]).qfi(curvature) / weak.qfi(curvature) < 0.9


def test_x_generator_uses_dense_formula():
    state = steady_state(1.0, [0.35, -0.35], 1.0, 0.3)
    averaged = state.phase_averaged(["common"])
    op = SpinSum(x=(1, -1))
    assert averaged.qfi(op) == pytest.approx(qfi_mixed(averaged.density_matrix(), operator_matrix(1.0, op)))
