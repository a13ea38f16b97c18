"""Preparation time (Sec. III.C, App. B): the fidelity trajectory against qutip.mesolve, the exact
t_ss against qutip, the bound of Eq. (B5) against an independent evaluation, bound <= exact."""

import numpy as np
import pytest
import qutip

from labctl.errors import InputError, LabctlError
from labctl.sim import steady_state
from labctl.sim.timescales import (
    all_down_fidelity,
    bound_factor,
    fidelity_trajectory,
    preparation_time,
    relaxation_bound,
)


def qutip_model(spin, detunings, rabi, chi, gamma):
    """H and the collective jump operator of Eq. (2), built from qutip's jmat (no labctl code)."""
    n = len(detunings)
    one = qutip.qeye(int(2 * spin + 1))

    def local(op, l):
        return qutip.tensor([op if k == l else one for k in range(n)])

    sx, sz, sp, sm = (qutip.jmat(spin, a) for a in ("x", "z", "+", "-"))
    h = sum(rabi * local(sx, l) + detunings[l] * local(sz, l) for l in range(n))
    for l in range(n):
        for k in range(l):
            h += 0.5j * chi * (local(sp, k) * local(sm, l) - local(sm, k) * local(sp, l))
    jump = np.sqrt(gamma) * sum(local(sm, l) for l in range(n))
    down = qutip.tensor([qutip.basis(int(2 * spin + 1), int(2 * spin))] * n)
    return h, jump, down


def qutip_fidelities(state, times, gamma=1.0):
    h, jump, down = qutip_model(state.spin, state.detunings, state.rabi, state.chi, gamma)
    dims = [[int(2 * state.spin + 1)] * state.n_ensembles, [1] * state.n_ensembles]
    target = qutip.Qobj(state.vector, dims=dims)
    opts = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100000}
    result = qutip.mesolve(h, qutip.ket2dm(down), times, [jump], e_ops=[qutip.ket2dm(target)], options=opts)
    return np.real(np.array(result.expect[0]))


def test_fidelity_trajectory_matches_qutip():
    state = steady_state(1.0, [0.5, -0.5], 1.0, 0.4)
    times = np.linspace(0.0, 4.0, 9)
    ours = fidelity_trajectory(state, times)
    assert np.max(np.abs(ours - qutip_fidelities(state, times))) < 1e-6
    assert np.all(np.diff(ours) >= -1e-12)  # F never decreases


def test_exact_preparation_time_is_the_qutip_crossing():
    state = steady_state(1.0, [0.5, -0.5], 1.0, 1.0)
    result = preparation_time(state)
    assert result.method == "exact" and not result.is_estimate
    before, at = qutip_fidelities(state, [0.0, result.time - 1e-3, result.time])[1:]
    assert 1 - before > 1e-3 > 1 - at - 1e-8
    assert at == pytest.approx(1 - 1e-3, abs=1e-7)


def test_decay_rate_sets_the_time_unit():
    """Rates in a unit where Gamma = 2: the same Gamma t_ss."""
    state = steady_state(1.0, [0.5, -0.5], 1.0, 1.0)
    doubled = steady_state(1.0, [1.0, -1.0], 2.0, 2.0)
    assert preparation_time(doubled, gamma=2.0).time == pytest.approx(preparation_time(state).time, rel=1e-8)


def independent_bound(state, epsilon):
    """(1 - epsilon - F_0) / |2 <sum S^z>| from the product vector and qutip's S^z."""
    n, d = state.n_ensembles, int(2 * state.spin + 1)
    sz = qutip.jmat(state.spin, "z").full()
    total = sum(np.kron(np.kron(np.eye(d**l), sz), np.eye(d ** (n - l - 1))) for l in range(n))
    psi = state.vector
    f0 = abs(psi[-1]) ** 2  # |-S, ..., -S> is the last basis state
    return (1 - epsilon - f0) / abs(2 * np.real(np.vdot(psi, total @ psi)))


@pytest.mark.parametrize(
    "spin, detunings, rabi, chi",
    [
        (1.0, [1.0, -1.0], 2.0, 0.0),
        (2.0, [0.25, -0.25], 1.0, 1.0),
        (2.5, [1.5, -1.5], 2.5, 0.0),
        (0.5, [0.5, 1.0, -1.0, -0.5], 1.0, 1.0),
        (0.5, [0.5, -0.5, 1.0, -1.0], 0.5, 0.5),
    ],
)
def test_bound_is_eq_b5_and_below_the_exact_time(spin, detunings, rabi, chi):
    state = steady_state(spin, detunings, rabi, chi)
    bound = relaxation_bound(state)
    assert bound == pytest.approx(independent_bound(state, 1e-3), rel=1e-10)
    result = preparation_time(state)
    assert result.method == "exact"
    assert result.bound == bound < result.time
    assert result.factor == pytest.approx(result.time / bound)


def test_pair_bound_uses_the_stretched_state_and_eq_b6():
    """F_0 = |c_2S|^2 without a vector; for L = 2 the denominator is 4 Var(S1y + S2y) (Eq. B6)."""
    state = steady_state(30.0, [0.3, -0.3], 30.0, 0.2)
    assert all_down_fidelity(state) == pytest.approx(abs(state.vector[-1]) ** 2, rel=1e-12, abs=1e-300)
    eq_b6 = (1 - 1e-3 - all_down_fidelity(state)) / (4 * state.variance("S1y + S2y"))
    assert relaxation_bound(state) == pytest.approx(eq_b6, rel=1e-10)


def test_large_systems_get_the_scaled_bound():
    pair = steady_state(6.0, [1.0, -1.0], 6.0)  # D = 169 > 150
    result = preparation_time(pair)
    assert result.method == "scaled-bound" and result.is_estimate
    assert result.time == pytest.approx(bound_factor(2) * relaxation_bound(pair))
    quartet = steady_state(0.5, [0.5, 1.0, -1.0, -0.5], 1.0, 1.0)
    forced = preparation_time(quartet, max_dimension=10, factor=7.0)
    assert forced.method == "scaled-bound" and forced.time == pytest.approx(7.0 * relaxation_bound(quartet))
    assert bound_factor(4) == 100.0


def test_large_drive_limit_takes_forever():
    state = steady_state(1.0, [1.0, -1.0], np.inf)
    assert relaxation_bound(state) == np.inf
    assert preparation_time(state).time == np.inf
    with pytest.raises(InputError, match="finite Rabi"):
        fidelity_trajectory(state, [0.0, 1.0])


@pytest.mark.parametrize("epsilon", [0.0, 1.0, -0.1])
def test_epsilon_must_be_a_small_positive_number(epsilon):
    with pytest.raises(InputError, match="epsilon"):
        relaxation_bound(steady_state(1.0, [1.0, -1.0], 1.0), epsilon)


def test_unreached_fidelity_is_reported():
    state = steady_state(1.0, [0.5, -0.5], 1.0, 1.0)
    with pytest.raises(LabctlError, match=r"before Gamma t = 1; raise max_time"):
        preparation_time(state, gamma=2.0, max_time=1.0)
