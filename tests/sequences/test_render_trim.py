"""Detuning trims (render_trim): an off-resonant Rabi-chain tone whose AC Stark shift takes up a
drive's grid error, checked against computations that share no formula with the renderer:

* a flat bath: Floquet steady states of the time-periodic master equation of two ensembles
  (collective decay, drives, one trim that also reaches the other ensemble) -- the trim removes
  the error, and what it costs is the local dephasing theta^2 Gamma the effective model holds;
* the cavity kept (cavity_reference.py, the toy pair of test_tone_rules): trims computed by
  ``detuning_trims`` restore the fidelity a detuning error destroys, and cost no more than
  the renderer's bound TRIM_COST x sum theta^2.
"""

from __future__ import annotations

from dataclasses import replace

import cavity_reference as cr
import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from test_tone_rules import CASES, GRID, planned, reference_model, snapped

from labctl.sequences import ModelParams
from labctl.sequences.effective import ideal_model, realised_model
from labctl.sequences.render_trim import TRIM_COST, detuning_trims, trim_infidelity, trim_offsets
from labctl.sim.model import hamiltonian, jump_operator, liouvillian
from labctl.sim.spin import local_operators


def floquet_infidelity(spin, detunings, rabi, error, nu, trim: bool, steps=300):
    """Period-averaged 1 - F of the Floquet steady state: ensemble 1 detuned by ``error``; with
    ``trim``, a tone nu above (sign of the error) of Rabi frequency sqrt(2 nu error), which also
    drives ensemble 2 from 5 nu away, whose detuning is set to compensate that cross shift."""
    omega = np.sqrt(2 * nu * error) if trim else 0.0
    cross = omega**2 / (2 * 5 * nu)
    h0 = hamiltonian(spin, [detunings[0] + error, detunings[1] + cross], rabi).toarray()
    sx, sy = ([o.toarray() for o in local_operators(spin, 2, a)] for a in ("x", "y"))
    jump = jump_operator(spin, 2)
    dt = 2 * np.pi / nu / steps
    dim = h0.shape[0]
    step_maps, period = [], np.eye(dim * dim, dtype=complex)
    for k in range(steps):
        t = (k + 0.5) * dt
        h = h0 + omega * (np.cos(nu * t) * sx[0] + np.sin(nu * t) * sy[0]
                          + np.cos(5 * nu * t) * sx[1] + np.sin(5 * nu * t) * sy[1])
        period = la.expm(liouvillian(sp.csr_matrix(h), [jump]).toarray() * dt) @ period
        step_maps.append(period.copy())
    w, v = la.eig(period)
    rho = v[:, np.argmin(np.abs(w - 1))]
    target = ModelParams(spin=spin, detunings=detunings, rabi=rabi).steady_state().vector
    fidelities = []
    for m in step_maps[::10]:
        r = (m @ rho).reshape(dim, dim)
        fidelities.append(np.real(target.conj() @ r @ target / np.trace(r)))
    return 1 - float(np.mean(fidelities)), omega / nu


@pytest.mark.parametrize("spin, detunings, rabi", [(0.5, (0.3, -0.3), 1.0), (1.0, (0.5, -0.5), 3.0)])
def test_flat_bath_trim_cancels_the_error_and_costs_the_dressing_dephasing(spin, detunings, rabi):
    error, nu = 0.3, 400.0  # Gamma = 1
    untrimmed, _ = floquet_infidelity(spin, detunings, rabi, error, nu, trim=False)
    trimmed, theta = floquet_infidelity(spin, detunings, rabi, error, nu, trim=True)
    params = ModelParams(spin=spin, detunings=detunings, rabi=rabi)
    psi = params.steady_state().vector
    dephased = replace(ideal_model(params), dephasing=np.array([theta**2, (theta / 5) ** 2]))  # theta^2 Gamma per ensemble
    predicted = 1 - float(np.real(psi.conj() @ dephased.steady_state() @ psi))
    assert untrimmed > 4 * trimmed
    assert 0.8 * predicted < trimmed < 1.4 * predicted


def toy_pair(budget: float):
    """The toy pair of test_tone_rules; a tighter budget spreads the drives (3, 5, 9 kappa apart
    for 0.3, 0.1, 0.03), so the trims sit further from their drives in units of kappa."""
    params, positions, hardware, calibration = CASES["pair"]
    plan = planned(params, positions, calibration, budget=budget, margin=0.1, **hardware)
    return plan, snapped(plan)


@pytest.fixture(scope="module")
def pair():
    return toy_pair(0.3)


@pytest.mark.parametrize("budget, error_in_gamma", [(0.3, 3.0), (0.3, 10.0), (0.03, 3.0)])
def test_trims_restore_the_steady_state_with_the_cavity_kept(budget, error_in_gamma):
    plan, (drive, atom, tones) = toy_pair(budget)
    gamma = plan.params.gamma
    off = np.asarray(atom) + np.array([error_in_gamma * gamma / (2 * np.pi), 0.0])  # ensemble 1's transition moved
    nominal, _ = realised_model(0.5, plan.chain, drive, np.asarray(atom), tones, set(plan.intended))
    wrong, _ = realised_model(0.5, plan.chain, drive, off, tones, set(plan.intended))
    trims = detuning_trims(plan.chain, drive, wrong.detunings - nominal.detunings, lambda hz: round(hz / GRID) * GRID)
    played = tones + [t.tone for t in trims]
    trimmed, _ = realised_model(0.5, plan.chain, drive, off, played, set(plan.intended))
    assert np.allclose(trimmed.detunings, nominal.detunings, atol=1e-12 * gamma)  # the model's second order
    psi = plan.params.steady_state().vector

    def cavity_fidelity(atoms, tone_set):
        rho = cr.cavity_steady_state(reference_model(plan, drive, atoms, tone_set, with_rabi=True), fock_dim=3)
        return cr.fidelity(rho, psi)

    reference, untrimmed, restored = cavity_fidelity(atom, tones), cavity_fidelity(off, tones), cavity_fidelity(off, played)
    assert reference - untrimmed > 0.3  # the error alone is fatal
    assert reference - restored <= trim_infidelity(trims)  # the renderer's bound holds ...
    assert reference - restored > 0.05 * trim_infidelity(trims)  # ... and is not vacuous
    assert trim_infidelity(trims) == pytest.approx(TRIM_COST * sum(t.theta**2 for t in trims))


def test_trim_offsets_follow_the_sign_and_stay_clear_of_other_drives():
    drive = np.array([0.0, 100.0, 400.0, 600.0])
    offsets = trim_offsets(drive, np.array([1.0, -1.0, 1.0, -2.0]))
    assert np.all(np.sign(offsets) == [1, -1, 1, -1])
    assert offsets[1] == pytest.approx(-0.4 * 100.0)  # towards ensemble 1, 100 away
    assert offsets[2] == pytest.approx(0.4 * 200.0)  # towards ensemble 4, 200 away
    assert offsets[0] == pytest.approx(0.4 * 100.0)  # towards ensemble 2
    assert offsets[3] == pytest.approx(-0.4 * 200.0)
    assert np.allclose(trim_offsets(drive), 0.4 * np.array([100.0, 100.0, 200.0, 200.0]))


def test_trims_solve_mixed_signs_and_near_zero_errors(pair):
    """An error close to zero next to large ones: the neighbours' trims push it, so its own trim
    must sit on the side opposite to its error's sign; the solver finds it."""
    plan, (drive, atom, tones) = pair
    gamma = plan.params.gamma
    for errors in (np.array([5.0, 1e-6]) * gamma, np.array([-5.0, 1e-6]) * gamma, np.array([0.0, 4.0]) * gamma):
        trims = detuning_trims(plan.chain, drive, errors, lambda hz: round(hz / GRID) * GRID)
        before, _ = realised_model(0.5, plan.chain, drive, np.asarray(atom), tones)
        after, _ = realised_model(0.5, plan.chain, drive, np.asarray(atom), tones + [t.tone for t in trims])
        assert np.allclose(after.detunings - before.detunings, -errors, atol=1e-9 * gamma)
        assert all(t.tone.role == "trim" and t.theta > 0 for t in trims)
