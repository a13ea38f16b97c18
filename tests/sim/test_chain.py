"""Spin chains (Sec. V, App. D, Fig. 7): the MPS of Eq. (31) against the product-vector steady state,
the dark-state conditions, brute force, an independently built AKLT state and the closed forms of
physics-notes.md (correlation length, string transfer eigenvalue, F = 0.9 at L ~ 0.21 L_string)."""

import numpy as np
import pytest

from labctl.errors import ConditionError, InputError
from labctl.sim import hamiltonian, jump_operator, steady_state
from labctl.sim.chain import (
    aklt_fidelity,
    aklt_mps,
    chain_detunings,
    chain_mps,
    rabi_for_aklt_fidelity,
)
from labctl.sim.pair import coefficients, product_vector

SQRT2 = np.sqrt(2.0)


def test_chain_detunings_follow_fig_7a():
    e, b = 0.6, 1.4
    assert chain_detunings(6, e, b) == (e / 2, b / 2, -b / 2, b / 2, -b / 2, -e / 2)
    assert chain_detunings(4, e, b) == (e / 2, b / 2, -b / 2, -e / 2)
    assert chain_detunings(2, e, b) == (e / 2, -e / 2)
    for bad in (3, 0, 4.0, True):
        with pytest.raises(InputError, match="even integer"):
            chain_detunings(bad, e, b)


@pytest.mark.parametrize(
    "spin, n, edge, bulk, rabi, chi",
    [
        (0.5, 8, 0.6, 1.4, 1.5, 1.0),
        (0.5, 10, 0.0, SQRT2, 2.0, 1.0),  # AKLT parameters at finite drive
        (0.5, 6, 0.0, SQRT2, np.inf, 1.0),  # the AKLT state itself
        (1.0, 6, 0.3, 1.1, 0.9, -0.7),
        (1.5, 4, 0.3, -1.1, 2.5, 0.4),
        (2.0, 2, 0.8, 0.0, 1.0, 0.5),  # L = 2: just psi_2(Delta_e)
    ],
)
def test_mps_equals_the_steady_state_of_the_chain(spin, n, edge, bulk, rabi, chi):
    mps = chain_mps(spin, n, edge, bulk, rabi, chi)
    vector = mps.vector()
    reference = steady_state(spin, chain_detunings(n, edge, bulk), rabi, chi).vector
    assert abs(np.linalg.norm(vector) - 1) < 1e-12
    assert abs(np.vdot(reference, vector)) ** 2 > 1 - 1e-12
    d = int(2 * spin + 1)
    isometry = np.einsum("xyab,xycb->ac", mps.cell, mps.cell.conj())
    assert np.allclose(isometry, np.eye(d), atol=1e-13)


def test_mps_is_a_dark_state_of_eq_2():
    """Independent of gates and MPS: H|psi> = 0 and (sum_l S_l^-)|psi> = 0 (Sec. III.A)."""
    spin, n, edge, bulk, rabi, chi = 0.5, 8, 0.6, 1.4, 1.5, 1.0
    psi = chain_mps(spin, n, edge, bulk, rabi, chi).vector()
    h = hamiltonian(spin, chain_detunings(n, edge, bulk), rabi, chi)
    assert np.linalg.norm(h @ psi) < 1e-12
    assert np.linalg.norm(jump_operator(spin, n) @ psi) < 1e-12


def test_mps_matches_liouvillian_null_space(brute_force):
    delta = chain_detunings(6, 0.4, -1.2)
    ref = brute_force(0.5, delta, 0.8, 0.6, method="krylov")
    assert ref.residual < 1e-10
    assert ref.fidelity(chain_mps(0.5, 6, 0.4, -1.2, 0.8, 0.6).vector()) > 1 - 1e-9


def test_dimer_chain_is_a_product_of_pair_states():
    """(delta/2, -delta/2, delta/2, ...) is the Fig. 7a pattern with Delta_e = delta, Delta_b = -delta;
    its MPS (non-trivial U_bc gates) must equal the plain product of pair states (Eq. 20)."""
    spin, n, delta, rabi, chi = 1.0, 6, 0.7, 1.3, 0.8
    pair_vector = product_vector(spin, coefficients(spin, delta, rabi, chi))
    expected = np.kron(np.kron(pair_vector, pair_vector), pair_vector)
    got = chain_mps(spin, n, delta, -delta, rabi, chi).vector()
    assert abs(np.vdot(expected, got)) ** 2 > 1 - 1e-12


def test_transfer_matrix_overlap_matches_vectors():
    a = chain_mps(1.0, 6, 0.3, 1.1, 0.9, 0.7)
    b = chain_mps(1.0, 6, 0.5, -1.1, 2.9, 0.7)
    assert abs(a.overlap(b) - np.vdot(a.vector(), b.vector())) < 1e-13
    assert abs(a.fidelity(b) - abs(np.vdot(a.vector(), b.vector())) ** 2) < 1e-13


def test_long_chain_stays_normalised():
    mps = aklt_mps(1000, 20.0)
    assert abs(mps.log_overlap(mps)[0]) < 1e-10
    assert 0 < aklt_fidelity(1000, 20.0) < 1


def test_overlap_needs_equal_chains():
    with pytest.raises(InputError, match="same L and S"):
        aklt_mps(4, 1.0).overlap(aklt_mps(6, 1.0))


def test_chain_needs_the_conditions_of_sec_ii():
    with pytest.raises(ConditionError):
        chain_mps(0.5, 6, 0.6, 1.4, 1.0, 0.0)  # chi = 0 with repeated bulk detunings


# -- AKLT ----------------------------------------------------------------------------------------


def independent_aklt(n: int) -> np.ndarray:
    """Spin-1/2 singlets on (1,2), (3,4), ..., (L-1,L); then each cell (2k, 2k+1) projected on total
    spin 1 (P_1 = 1 - |s><s|); the edge spins 1 and L are left as they are. Built with numpy only."""
    singlet = np.array([0.0, 1.0, -1.0, 0.0]) / SQRT2  # (|up down> - |down up>)/sqrt 2, m = +1/2 first
    triplet_projector = np.eye(4) - np.outer(singlet, singlet)
    psi = np.ones(1)
    for _ in range(n // 2):
        psi = np.kron(psi, singlet)
    for site in range(1, n - 1, 2):  # 0-based first member of the cell (2k, 2k+1)
        block = psi.reshape(2**site, 4, -1)
        psi = np.einsum("ij,ajb->aib", triplet_projector, block).reshape(-1)
    return psi / np.linalg.norm(psi)


@pytest.mark.parametrize("n", [4, 6, 8, 12])
@pytest.mark.parametrize("chi, sign", [(1.0, 1), (1.0, -1), (-0.3, 1)])
def test_large_drive_aklt_point_is_the_aklt_state(n, chi, sign):
    """Delta_e = 0, Delta_b = +-sqrt(2) chi, Omega = inf equals the construction above (up to a phase)."""
    mps = chain_mps(0.5, n, 0.0, sign * SQRT2 * chi, np.inf, chi)
    assert abs(np.vdot(independent_aklt(n), mps.vector())) ** 2 > 1 - 1e-12


def test_aklt_correlation_length_is_2_over_ln3():
    assert aklt_mps(8, np.inf).correlation_length() == pytest.approx(2 / np.log(3), rel=1e-12)


def f_amplitudes(edge, bulk, chi):
    """f_1, f_0 of Eq. (34) (S = 1/2, Omega = inf)."""
    den = ((edge + bulk) / 2 + 1j * chi) * ((edge - bulk) / 2 + 1j * chi)
    f1 = -(chi**2 + 1j * chi * bulk) / den
    f0 = ((bulk**2 - edge**2) / 2 - chi**2 + 1j * chi * edge) / den
    return f1, f0


@pytest.mark.parametrize("edge, bulk", [(0.3, 1.1), (2.0, 0.5), (0.7, 0.7), (1.0, 3.0), (0.0, np.sqrt(8.0))])
def test_correlation_length_follows_eq_d26(edge, bulk):
    """lambda_1 = (|f_0|^2 - |f_1|^2)/4 (Eq. D26); L_corr = 0 on the disorder lines
    Delta_b^2 = Delta_e^2 and Delta_b^2 = Delta_e^2 + 8 chi^2."""
    f1, f0 = f_amplitudes(edge, bulk, 1.0)
    lambda_1 = abs(abs(f0) ** 2 - abs(f1) ** 2) / 4
    expected = 0.0 if lambda_1 < 1e-12 else -2 / np.log(lambda_1)
    assert chain_mps(0.5, 4, edge, bulk, np.inf, 1.0).correlation_length() == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("rabi", [3.0, 5.0, 20.0])
def test_string_transfer_eigenvalue_at_finite_drive(rabi):
    """AKLT parameters, phi = pi, Omega >= 3 chi: leading eigenvalue of sum e^{i pi (m_a + m_b)} A (x) A*
    is (2 Omega^2 - 3 chi^2)/(2 Omega^2 + 3 chi^2) (physics-notes, string length)."""
    cell = aklt_mps(4, rabi).cell
    m = np.array([0.5, -0.5])
    string = np.exp(1j * np.pi * (m[:, None] + m[None, :]))
    transfer = np.einsum("xy,xyab,xycd->acbd", string, cell, cell.conj()).reshape(4, 4)
    eigenvalues = np.linalg.eigvals(transfer)
    leading = eigenvalues[np.argmax(abs(eigenvalues))]
    assert leading == pytest.approx((2 * rabi**2 - 3) / (2 * rabi**2 + 3), abs=1e-12)


def test_fidelity_crosses_090_near_a_fifth_of_the_string_length():
    """F = 0.9 at L ~ 0.21 L_string, L_string ~ (2/3)(Omega/chi)^2: Omega = 20 chi gives L ~ 56."""
    rabi = 20.0
    expected = 0.21 * (2 / 3) * rabi**2
    lengths = np.arange(4, 200, 2)
    fidelities = np.array([aklt_fidelity(int(n), rabi) for n in lengths])
    assert np.all(np.diff(fidelities) < 0)
    crossing = lengths[np.argmax(fidelities < 0.9)]
    assert abs(crossing - expected) < 0.2 * expected


def test_fidelity_approaches_one_as_inverse_square_drive():
    """1 - F ~ (chi/Omega)^2 at large Omega."""
    ratio = (1 - aklt_fidelity(20, 200.0)) / (1 - aklt_fidelity(20, 400.0))
    assert ratio == pytest.approx(4.0, rel=1e-3)


@pytest.mark.parametrize("n", [4, 10, 100, 1000])
def test_aklt_fidelity_increases_with_drive(n):
    """The monotonicity rabi_for_aklt_fidelity relies on (Omega/chi from 0.02 to 1000)."""
    fidelities = np.array([aklt_fidelity(n, rabi) for rabi in np.geomspace(0.02, 1e3, 60)])
    assert np.all(np.diff(fidelities) >= 0)
    assert fidelities[-1] > 0.999


@pytest.mark.parametrize("n, target, chi", [(4, 0.5, 1.0), (56, 0.9, 1.0), (200, 0.99, -0.5), (10, 1e-6, 2.0)])
def test_rabi_for_aklt_fidelity_is_the_smallest_drive(n, target, chi):
    rabi = rabi_for_aklt_fidelity(n, target, chi)
    assert aklt_fidelity(n, rabi, chi) == pytest.approx(target, rel=1e-9)
    assert aklt_fidelity(n, rabi * (1 - 1e-6), chi) < target


def test_rabi_for_fidelity_090_agrees_with_the_string_length():
    """L = 56 needs Omega ~ 20 chi (F = 0.9 at L ~ 0.21 L_string, +-20 % in L, i.e. +-10 % in Omega)."""
    assert rabi_for_aklt_fidelity(56, 0.9) == pytest.approx(20.0, rel=0.1)


@pytest.mark.parametrize("target, message", [(1.0, r"in \(0, 1\)"), (0.0, r"in \(0, 1\)"), (1 - 1e-16, "out of reach")])
def test_unreachable_aklt_fidelity_is_reported(target, message):
    with pytest.raises(InputError, match=message):
        rabi_for_aklt_fidelity(10, target)


def test_aklt_needs_nonzero_chi():
    with pytest.raises(InputError, match="chi"):
        aklt_fidelity(6, 2.0, chi=0.0)
