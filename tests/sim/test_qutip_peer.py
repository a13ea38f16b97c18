"""The brute-force reference checked in turn against qutip.steadystate (a test-time peer)."""

import numpy as np
import pytest
import qutip

from labctl.sim import hamiltonian, jump_operator, liouvillian_steady_state, steady_state


def _qutip_steady_state(spin, detunings, rabi, chi, gamma=1.0):
    h = qutip.Qobj(hamiltonian(spin, detunings, rabi, chi).toarray())
    k = qutip.Qobj(np.sqrt(gamma) * jump_operator(spin, len(detunings)).toarray())
    return qutip.steadystate(h, [k]).full()


@pytest.mark.parametrize(
    "spin, detunings, rabi, chi, method",
    [
        (1.0, [0.4, -0.4], 1.2, 0.0, "dense"),
        (2.0, [0.3, -0.3], 0.7, 0.5, "dense"),
        (0.5, [1.0, 1.5, -1.5, -1.0], 2.0, 0.7, "dense"),
        (0.5, [0.3, 0.7, -0.7, 0.7, -0.7, -0.3], 1.5, 1.0, "krylov"),
        (2.5, [0.2, -0.2], 1.0, 0.3, "lu"),
    ],
)
def test_brute_force_agrees_with_qutip(spin, detunings, rabi, chi, method):
    ours = liouvillian_steady_state(spin, detunings, rabi, chi, method=method).rho
    theirs = _qutip_steady_state(spin, detunings, rabi, chi)
    assert np.abs(ours - theirs).max() < 1e-8
    psi = steady_state(spin, detunings, rabi, chi).vector
    assert np.real(psi.conj() @ theirs @ psi) > 1 - 1e-8


def test_mixed_steady_state_agrees_with_qutip():
    ours = liouvillian_steady_state(1.0, [0.3, 0.5], 1.0, 0.0).rho
    assert np.abs(ours - _qutip_steady_state(1.0, [0.3, 0.5], 1.0, 0.0)).max() < 1e-8
