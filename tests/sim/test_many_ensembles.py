"""Many ensembles (Sec. IV, App. C, Fig. 5, Fig. 7a): dimerised product + partial swaps against the
Liouvillian null space, the defining properties of the gates (Eq. 21), entanglement structure and
the large-drive sum rule."""

import numpy as np
import pytest

from labctl.sim import hamiltonian, jump_operator, steady_state
from labctl.sim.clebsch import coupled_basis
from labctl.sim.gates import swap_gate, swap_schedule
from labctl.sim.chain import chain_detunings
from labctl.sim.conditions import check_conditions


@pytest.mark.parametrize(
    "spin, detunings, rabi, chi",
    [
        (0.5, [1.0, -1.0, 1.5, -1.5], 2.0, 0.7),  # dimerised
        (0.5, [1.0, 1.5, -1.5, -1.0], 2.0, 0.7),  # crossed (Fig. 5d)
        (0.5, [0.5, 1.2, -1.2, -0.5], 1.0, 0.0),  # crossed without chi
        (0.5, [0.4, -1.1, -0.4, 1.1], 1.3, -0.5),  # interleaved
        (1.0, [1.0, -1.0, 1.5, -1.5], 2.0, 0.7),
        (1.0, [1.0, 1.5, -1.5, -1.0], 2.0, 0.7),
    ],
)
def test_four_ensembles_match_liouvillian_steady_state(brute_force, spin, detunings, rabi, chi):
    state = steady_state(spin, detunings, rabi, chi)
    ref = brute_force(spin, detunings, rabi, chi, method="dense" if spin == 0.5 else "krylov")
    if ref.null_dim is not None:
        assert ref.is_unique
    assert ref.residual < 1e-10
    assert ref.fidelity(state.vector) > 1 - 1e-9


def test_sparse_lu_reports_unique_steady_state_of_spin_one_quartet(brute_force):
    """The largest uniqueness check (D^2 = 6561): shift-invert around zero finds one null vector."""
    detunings = [1.0, 1.5, -1.5, -1.0]
    ref = brute_force(1.0, detunings, 2.0, 0.7, method="lu")
    assert ref.is_unique and ref.gap > 0.05
    assert ref.fidelity(steady_state(1.0, detunings, 2.0, 0.7).vector) > 1 - 1e-9


def chain(edge, bulk, n):
    """Fig. 7a pattern (labctl.sim.chain.chain_detunings; its own tests check it against the figure)."""
    return list(chain_detunings(n, edge, bulk))


@pytest.mark.parametrize("edge, bulk", [(0.6, 1.4), (0.0, np.sqrt(2))])  # generic and AKLT (chi = 1)
def test_six_ensemble_chain_matches_liouvillian_null_space(brute_force, edge, bulk):
    delta = chain(edge, bulk, 6)
    state = steady_state(0.5, delta, 1.5, 1.0)
    ref = brute_force(0.5, delta, 1.5, 1.0, method="krylov")
    assert ref.residual < 1e-10 and ref.fidelity(state.vector) > 1 - 1e-9


def test_chain_schedule_is_the_staircase():
    delta = np.array(chain(0.6, 1.4, 8))
    pairs = check_conditions(delta, 1.0, 1.0)
    schedule = swap_schedule(delta, pairs)
    assert [s.site for s in schedule] == [1, 2, 3, 4, 5, 6]  # U_23, U_34, ... (1-based)
    assert all(s.delta_left == -0.3 for s in schedule)  # -Delta_e/2 travels to the end
    assert [s.delta_right for s in schedule] == [0.7, -0.7] * 3


@pytest.mark.parametrize(
    "spin, detunings, chi",
    [(2.0, [0.7, 1.9, -1.9, -0.7], 0.45), (1.0, [0.3, 0.8, -0.3, 1.7, -0.8, -1.7], 0.6), (0.5, chain(0.4, 1.1, 10), 1.0)],
)
def test_dark_state_conditions_beyond_brute_force(spin, detunings, chi):
    """A pure steady state must satisfy K|psi> = 0 and H|psi> = 0 (Sec. III.A); checked directly
    with the model's operators for systems too large for the Liouvillian."""
    state = steady_state(spin, detunings, 0.9, chi)
    psi = state.vector
    assert np.linalg.norm(jump_operator(spin, len(detunings)) @ psi) < 1e-10
    assert np.linalg.norm(hamiltonian(spin, detunings, 0.9, chi) @ psi) < 1e-10


@pytest.mark.parametrize("spin", [0.5, 1.0, 1.5])
def test_swap_gate_satisfies_eq21(spin):
    """U H(delta_l, delta_l+1) U^dag = H(delta_l+1, delta_l) on the pair and U (S_l^- + S_l+1^-) U^dag is unchanged."""
    a, b, chi, omega = 0.8, -0.35, 0.55, 0.9
    u = swap_gate(spin, a, b, chi).toarray()
    assert np.allclose(u @ u.conj().T, np.eye(u.shape[0]), atol=1e-12)
    h_before = hamiltonian(spin, [a, b], omega, chi).toarray()
    h_after = hamiltonian(spin, [b, a], omega, chi).toarray()
    k = jump_operator(spin, 2).toarray()
    assert np.allclose(u @ h_before @ u.conj().T, h_after, atol=1e-12)
    assert np.allclose(u @ k @ u.conj().T, k, atol=1e-12)


def test_projectors_resolve_identity():
    basis = coupled_basis(2.0)
    total = basis.pair_operator(np.ones(5)).toarray()
    assert np.allclose(total, np.eye(25), atol=1e-12)


def test_entanglement_structure_of_fig5():
    """S_vn(rho_12) = 0 for the dimerised order; > 0 for rho_12, rho_13, rho_14 in the crossed order."""
    dimer = steady_state(2.0, [2.0, -2.0, 3.0, -3.0], 30.0, 1.0)
    crossed = steady_state(2.0, [2.0, 3.0, -3.0, -2.0], 30.0, 1.0)
    assert dimer.entropy([1, 2]) == pytest.approx(0.0, abs=1e-9)
    assert dimer.entropy([1, 3]) > 0.1
    for subset in ([1, 2], [1, 3], [1, 4]):
        assert crossed.entropy(subset) > 0.1
    # a reduced state is a density matrix; its entropy agrees with its spectrum
    rho = crossed.reduced_density_matrix([1, 3])
    p = np.linalg.eigvalsh(rho)
    p = p[p > 1e-15]
    assert np.trace(rho).real == pytest.approx(1.0)
    assert crossed.entropy([1, 3]) == pytest.approx(-np.sum(p * np.log(p)), rel=1e-9)


@pytest.mark.parametrize("spin", [0.5, 1.0, 2.0])
def test_four_ensemble_sum_rule(spin):
    """App. C, Eq. (C11) corrected: F_++++ + F_++-- + F_+-+- + F_+--+ = 64 S(S+1)/3 at Omega -> inf."""
    for rabi, tol in ((np.inf, 1e-12), (1e5, 1e-5)):
        fom = steady_state(spin, [1.0, 3.0, -3.0, -1.0], rabi, 1.0).figures_of_merit()
        total = sum(fom[f"qfi_{mode}"] for mode in ("++++", "++--", "+-+-", "+--+"))
        assert total == pytest.approx(64 * spin * (spin + 1) / 3, rel=tol)


def test_qfi_matrix_is_four_covariances():
    state = steady_state(1.0, [0.5, 1.5, -1.5, -0.5], 2.0, 0.8)
    fisher = state.qfi_matrix()
    w = np.array([1, -1, -1, 1])
    assert np.allclose(fisher, fisher.T)
    assert w @ fisher @ w == pytest.approx(state.qfi(w), rel=1e-12)
    assert state.qfi(w) == pytest.approx(4 * state.variance("S1z - S2z - S3z + S4z"), rel=1e-12)


def test_equivalent_pairings_give_the_same_state():
    """(a, -a, a, -a) with chi != 0 can be paired (1,2)(3,4) or (1,4)(2,3): the state is unique."""
    from labctl.sim.gates import apply_pair_operator
    from labctl.sim.steady import dimerised_vector

    delta = np.array([0.7, -0.7, 0.7, -0.7])
    direct = steady_state(1.0, delta, 1.2, 0.5).vector
    other = dimerised_vector(1.0, delta, [(0, 3), (1, 2)], 1.2, 0.5)
    for swap in swap_schedule(delta, [(0, 3), (1, 2)]):
        other = apply_pair_operator(other, swap_gate(1.0, swap.delta_left, swap.delta_right, 0.5), swap.site, 4, 3)
    assert abs(np.vdot(direct, other)) ** 2 == pytest.approx(1.0, abs=1e-12)
