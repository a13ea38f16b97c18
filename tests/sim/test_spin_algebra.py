"""Spin matrices, Clebsch-Gordan coefficients and the model's operators against qutip."""

import numpy as np
import pytest
import qutip

from labctl.errors import InputError
from labctl.sim import as_spin, hamiltonian, jump_operator, spin_matrices
from labctl.sim.clebsch import coupled_basis, lowest_weight_amplitudes
from labctl.sim.spin import magnetic_numbers

SPINS = [0.5, 1.0, 1.5, 2.0, 2.5]


@pytest.mark.parametrize("s", SPINS)
def test_spin_matrices_match_qutip_jmat(s):
    ours = spin_matrices(s)
    for axis in "xyz":
        assert np.allclose(getattr(ours, axis).toarray(), qutip.jmat(s, axis).full(), atol=1e-14)
    assert np.allclose(ours.plus.toarray(), qutip.jmat(s, "+").full(), atol=1e-14)


@pytest.mark.parametrize("s", [0.5, 3.0, 7.5])
def test_commutation_relations(s):
    ops = spin_matrices(s)
    x, y, z = (o.toarray() for o in (ops.x, ops.y, ops.z))
    assert np.allclose(x @ y - y @ x, 1j * z)
    assert np.allclose(x @ x + y @ y + z @ z, s * (s + 1) * np.eye(x.shape[0]))


@pytest.mark.parametrize("value, expected", [(0.5, 0.5), ("3/2", 1.5), (2, 2.0), ("1e6", 1e6)])
def test_as_spin_accepts_half_integers(value, expected):
    assert as_spin(value) == expected


@pytest.mark.parametrize("bad", [0, -1, 0.3, "abc", 1.25, float("nan")])
def test_as_spin_rejects_with_message(bad):
    with pytest.raises(InputError, match="spin"):
        as_spin(bad)


@pytest.mark.parametrize("s", SPINS)
def test_coupled_basis_matches_qutip_clebsch(s):
    basis = coupled_basis(s)
    m = magnetic_numbers(s)
    for block in basis.blocks:
        for row, j in enumerate(range(block.j_min, block.j_min + block.cg.shape[0])):
            for col, index in enumerate(block.index):
                i1, i2 = divmod(int(index), basis.d)
                assert block.cg[row, col] == pytest.approx(qutip.clebsch(s, s, j, m[i1], m[i2], block.M), abs=1e-12)


@pytest.mark.parametrize("s", SPINS)
def test_lowest_weight_closed_form_matches_qutip(s):
    m = magnetic_numbers(s)
    for j, (i1, i2, amp) in enumerate(lowest_weight_amplitudes(s)):
        ref = [qutip.clebsch(s, s, j, m[a], m[b], -j) for a, b in zip(i1, i2)]
        assert np.allclose(amp, ref, atol=1e-12)


def test_lowest_weight_states_are_normalised_at_large_spin():
    for j, (_, _, amp) in enumerate(lowest_weight_amplitudes(60.0)):
        assert np.sum(amp**2) == pytest.approx(1.0, abs=1e-10), j


def test_coupled_basis_is_orthonormal_at_larger_spin():
    for block in coupled_basis(12.0).blocks:
        assert np.allclose(block.cg @ block.cg.T, np.eye(block.cg.shape[0]), atol=1e-11)


def test_hamiltonian_and_jump_match_qutip_construction():
    s, delta, omega, chi = 1.0, [0.3, -0.7, 0.7, -0.3], 1.1, 0.4
    n = len(delta)
    d = int(2 * s + 1)

    def site(op, l):
        return qutip.tensor([op if k == l else qutip.qeye(d) for k in range(n)])

    sp_, sm = qutip.jmat(s, "+"), qutip.jmat(s, "-")
    h = sum(omega * site(qutip.jmat(s, "x"), l) + delta[l] * site(qutip.jmat(s, "z"), l) for l in range(n))
    for l in range(n):
        for k in range(l):
            h += 0.5j * chi * (site(sp_, k) * site(sm, l) - site(sm, k) * site(sp_, l))
    k_ = sum(site(sm, l) for l in range(n))
    assert np.allclose(hamiltonian(s, delta, omega, chi).toarray(), h.full())
    assert np.allclose(jump_operator(s, n).toarray(), k_.full())
