"""Tests of the cavity reference simulator against answers that need no effective-coupling formula.

Independent references used here: exact diagonalisation of problems that are static in a
suitable frame, the single-spin Rabi / optical-Bloch problem, qutip's ``mesolve`` of the
lab-frame master equation, exact time evolution over one period (fixed-point property of the
Floquet steady state), and convergence in every numerical cutoff.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
import scipy.linalg as sla

import cavity_reference as cr

KAPPA = 1.0


def chain_model(
    n_ens: int,
    spacing: float,
    detunings: list[float],
    *,
    delta_c: float = 3.0,
    chi_coupling: float = 0.05,
    comb_coupling: float = 0.1,
    rabi: float = 0.02,
    spin: float = 0.5,
) -> cr.CavityModel:
    """Gradient chain with one Raman tone pair per neighbour pair, a resonant comb and Rabi drives.

    Pair k: tones (w_a, c) and (w_a - (frame_{k+1} - frame_k), i c) with w_a placing the photon of
    ensemble k at omega_c + delta_c (+ 7 k to separate the pairs); comb tone l at omega_c - frame_l.
    Frequencies are multiples of 0.5 (kappa = 1). Caveat (used on purpose below): for L = 3 with
    the comb on, pair-2 photons beat with comb side channels at 0.5 = the detuning difference, so
    no static H_eff exists; the steady state is still exact.
    """
    omega0 = spacing * np.arange(n_ens)
    frames = omega0 - np.asarray(detunings)
    omega_c = 0.0
    freqs, couplings = [], []
    for k in range(n_ens - 1):
        w_a = omega_c + delta_c + 7.0 * k - frames[k]
        freqs += [w_a, w_a - (frames[k + 1] - frames[k])]
        couplings += [chi_coupling, 1j * chi_coupling]
    for l in range(n_ens):
        freqs.append(omega_c - frames[l])
        couplings.append(comb_coupling)
    return cr.CavityModel(
        omega_c=omega_c,
        kappa=KAPPA,
        omega0=omega0,
        frames=frames,
        raman_frequencies=freqs,
        raman_couplings=couplings,
        rabi_frequencies=frames,
        rabi_amplitudes=[rabi] * n_ens,
        spin=spin,
    )


def static_rotating_hamiltonian(model: cr.CavityModel, common_frame: float) -> np.ndarray:
    """Single-excitation H of a ONE-tone model in the frame where it is static.

    All spins rotate at ``common_frame`` and the photon at ``omega_j + common_frame`` (the
    frequency of the emitted photon), so ``a^dag S_l^- e^{-i omega_j t}`` loses its time
    dependence. Basis: ensemble l raised (l = 0..L-1), then the photon.
    """
    (omega_j,), (c,) = model.raman_frequencies, model.raman_couplings
    n = model.n_ensembles
    ham = np.zeros((n + 1, n + 1), complex)
    ham[np.arange(n), np.arange(n)] = model.omega0 - common_frame
    ham[n, n] = model.omega_c - omega_j - common_frame - 0.5j * model.kappa
    amp = np.sqrt(2 * model.spin) * c * model.cavity_weights
    ham[n, :n] = amp
    ham[:n, n] = amp.conj()
    return ham


# ----------------------------------------------------------------------------------------------
# Model and frequency bookkeeping
# ----------------------------------------------------------------------------------------------


def test_model_validates_shapes_and_spin() -> None:
    with pytest.raises(ValueError, match="frames"):
        cr.CavityModel(omega_c=0.0, kappa=1.0, omega0=[0.0, 1.0], frames=[0.0])
    with pytest.raises(ValueError, match="rabi_weights"):
        cr.CavityModel(
            omega_c=0.0, kappa=1.0, omega0=[0.0, 1.0], rabi_frequencies=[0.0],
            rabi_amplitudes=[0.1], rabi_weights=[[1.0]],
        )
    with pytest.raises(ValueError, match="raman_couplings"):
        cr.CavityModel(omega_c=0.0, kappa=1.0, omega0=[0.0], raman_frequencies=[1.0, 2.0],
                       raman_couplings=[0.1])
    with pytest.raises(ValueError, match="spin"):
        cr.CavityModel(omega_c=0.0, kappa=1.0, omega0=[0.0], spin=0.7)
    model = cr.CavityModel(omega_c=0.0, kappa=1.0, omega0=[1.0, 2.0], frames=[0.5, 2.5])
    np.testing.assert_allclose(model.detunings, [0.5, -0.5])
    np.testing.assert_allclose(model.cavity_weights, [1.0, 1.0])


def test_commensurate_base_detection() -> None:
    assert cr.commensurate_base([1.5, -10.5, 3.0, 0.0]) == pytest.approx(1.5, rel=1e-12)
    assert cr.commensurate_base([0.0, 0.0]) is None
    with pytest.raises(ValueError, match="commensurate"):
        cr.commensurate_base([1.0, np.sqrt(2.0)])
    model = chain_model(2, 10.0, [0.25, -0.25])
    with pytest.raises(ValueError, match="multiples"):
        cr.floquet_structure(model, base_frequency=0.7)
    structure = cr.floquet_structure(model)
    # every Raman term oscillates at its integer harmonic in the internal cavity frame
    phase = (
        structure.cavity_frame
        - model.frames[None, :]
        - model.raman_frequencies[:, None]
    )
    np.testing.assert_allclose(
        phase, structure.raman_harmonics * structure.base_frequency, atol=1e-9
    )
    np.testing.assert_allclose(
        model.frames[None, :] - model.rabi_frequencies[:, None],
        structure.rabi_harmonics * structure.base_frequency,
        atol=1e-9,
    )


def test_fidelity() -> None:
    psi = np.array([1.0, 1.0j, 0.0, 0.0]) / np.sqrt(2)
    rho = np.outer(psi, psi.conj())
    assert cr.fidelity(rho, psi) == pytest.approx(1.0)
    assert cr.fidelity(rho, 3.0 * psi) == pytest.approx(1.0)
    assert cr.fidelity(rho, [0, 0, 1, 0]) == pytest.approx(0.0)
    assert cr.fidelity(np.eye(4) / 4, [1, 0, 0, 0]) == pytest.approx(0.25)


# ----------------------------------------------------------------------------------------------
# (i), (ii): effective couplings against exactly solvable cases
# ----------------------------------------------------------------------------------------------


def test_no_tones_gives_bare_detunings_exactly() -> None:
    model = cr.CavityModel(
        omega_c=3.0, kappa=KAPPA, omega0=[0.0, 10.0, 20.0], frames=[0.25, 9.5, 21.0]
    )
    full = cr.effective_spin_couplings(model, include_bare=True)
    np.testing.assert_allclose(full, np.diag([-0.25, 0.5, -1.0]), atol=1e-12)
    np.testing.assert_allclose(cr.effective_spin_couplings(model), 0.0, atol=1e-12)


@pytest.mark.parametrize("kappa", [0.0, KAPPA])
@pytest.mark.parametrize("spin", [0.5, 1.0])
def test_single_tone_matches_static_two_level_problem(kappa: float, spin: float) -> None:
    frame = 4.3  # delta = -0.3
    omega_c = 1.0
    model = cr.CavityModel(
        omega_c=omega_c, kappa=kappa, omega0=[4.0], frames=[frame],
        raman_frequencies=[omega_c + 3.0 - frame], raman_couplings=[0.1 * np.exp(0.4j)],
        spin=spin,
    )
    energies = np.linalg.eigvals(static_rotating_hamiltonian(model, frame))
    spin_like = energies[np.argmin(np.abs(energies - model.detunings[0]))]
    floquet = cr.single_excitation_floquet(model)
    assert floquet.quasi_energies[0] == pytest.approx(spin_like, abs=1e-11)
    couplings = cr.effective_spin_couplings(model)
    expected = (spin_like - model.detunings[0]) / (2 * spin)
    assert couplings[0, 0] == pytest.approx(expected, abs=1e-11)
    hermitian, decay = cr.split_couplings(couplings)
    assert decay[0, 0] == pytest.approx(-2 * spin_like.imag / (2 * spin), abs=1e-11)
    assert (decay[0, 0] > 1e-6) == (kappa > 0)
    assert hermitian[0, 0].imag == pytest.approx(0.0, abs=1e-15)


def test_one_tone_two_frames_is_time_dependent_but_exactly_solvable() -> None:
    """Two ensembles in frames 9.5 apart: periodic in the output frames, static in a common one.

    In the output frames the Floquet modes' period averages do not mix the ensembles, so
    H_eff must be diagonal with the exact static eigenvalues, ensemble 2 shifted by the frame
    difference.
    """
    frames = np.array([0.25, 9.75])
    model = cr.CavityModel(
        omega_c=0.0, kappa=KAPPA, omega0=[0.0, 10.0], frames=frames,
        raman_frequencies=[2.0 - frames[0]], raman_couplings=[0.3],
        cavity_weights=[1.0, 0.8 * np.exp(1.0j)],
    )
    structure = cr.floquet_structure(model)
    assert structure.max_harmonic > 0  # genuinely time dependent in the internal frame
    energies = np.linalg.eigvals(static_rotating_hamiltonian(model, frames[0]))
    bare = model.omega0 - frames[0]
    exact = [energies[np.argmin(np.abs(energies - b))] for b in bare]
    expected = np.diag([exact[0], exact[1] - (frames[1] - frames[0])])
    full = cr.effective_spin_couplings(model, include_bare=True)
    np.testing.assert_allclose(full, expected, atol=1e-10)


def test_effective_couplings_converge_in_time_step() -> None:
    model = chain_model(3, 10.0, [0.5, 0.0, -0.5], comb_coupling=0.0)
    coarse, default, fine = (
        cr.effective_spin_couplings(model, steps_per_cycle=n) for n in (24, 48, 96)
    )
    scale = np.abs(fine).max()
    step_error = np.abs(default - fine).max()
    assert step_error < 1e-7 * scale
    assert step_error < np.abs(coarse - default).max() / 10  # 4th order: ratio ~ 16
    # period-averaged and stroboscopic generators differ by micromotion only: same spectrum
    strob = cr.effective_spin_couplings(model, stroboscopic=True, include_bare=True)
    full = cr.effective_spin_couplings(model, include_bare=True)
    np.testing.assert_allclose(
        np.sort_complex(np.linalg.eigvals(strob)), np.sort_complex(np.linalg.eigvals(full)),
        atol=1e-12,
    )
    assert np.abs(strob - full).max() > 1e-6


def test_resonant_beat_is_flagged() -> None:
    """Pair-2 and comb photons beat at 0.5 = detuning difference: no static H_eff exists."""
    model = chain_model(3, 10.0, [0.5, 0.0, -0.5])
    floquet = cr.single_excitation_floquet(model)
    assert floquet.mode_purity.min() < 0.8
    with pytest.warns(cr.FloquetResonanceWarning):
        cr.effective_spin_couplings(model)


# ----------------------------------------------------------------------------------------------
# (iii): Rabi drives in the output frame
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("omega", [0.2, 0.15 - 0.1j])
def test_rabi_tone_acts_as_omega_sx_in_drive_frame(omega: complex) -> None:
    """Lab term (Omega/2)(S^+ e^{-i nu t} + h.c.) -> Re(Omega) S^x - Im(Omega) S^y + delta S^z."""
    nu, omega0 = 5.0, 5.1
    model = cr.CavityModel(
        omega_c=0.0, kappa=KAPPA, omega0=[omega0], frames=[nu],
        rabi_frequencies=[nu], rabi_amplitudes=[omega],
    )
    s_plus, s_minus, s_z = cr.spin_operators(0.5)
    s_x, s_y = (s_plus + s_minus) / 2, (s_plus - s_minus) / 2j
    ham = omega.real * s_x - omega.imag * s_y + (omega0 - nu) * s_z
    down = np.diag([0.0, 1.0]).astype(complex)  # basis m = +1/2, -1/2
    times = np.linspace(0.0, 20.0, 9)
    states = cr.evolve_density_matrix(model, down, times, fock_dim=1)
    for t, rho in zip(times, states):
        u = sla.expm(-1j * ham * t)
        np.testing.assert_allclose(rho, u @ down @ u.conj().T, atol=1e-9)
    if omega.imag == 0:  # explicit sign: starting from |down>, <S^y> grows as +sin(Omega t)/2
        assert np.real(np.trace(states[1] @ s_y)) > 0.1


def test_rabi_steady_state_matches_single_spin_bloch_problem() -> None:
    """No cavity coupling, spin decay, no cross-talk: product of single-spin steady states."""
    detunings, gammas, omegas = [0.03, -0.05], [0.02, 0.04], [0.05, 0.03]
    omega0 = np.array([0.0, 10.0])
    frames = omega0 - detunings
    model = cr.CavityModel(
        omega_c=0.0, kappa=KAPPA, omega0=omega0, frames=frames,
        rabi_frequencies=frames, rabi_amplitudes=omegas, rabi_weights=np.eye(2),
        spin_decay=gammas,
    )
    singles = [
        qutip.steadystate(
            w * qutip.jmat(0.5, "x") + d * qutip.jmat(0.5, "z"), [np.sqrt(g) * qutip.jmat(0.5, "-")]
        ).full()
        for d, g, w in zip(detunings, gammas, omegas)
    ]
    rho = cr.cavity_steady_state(model, fock_dim=1)
    np.testing.assert_allclose(rho, np.kron(*singles), atol=1e-10)


def test_rabi_cross_talk_steady_state_is_periodic_fixed_point() -> None:
    """With cross-talk on (every tone drives every ensemble) the state is periodic, not static."""
    detunings, gammas, omegas = [0.03, -0.05], [0.02, 0.04], [0.3, 0.2]
    omega0 = np.array([0.0, 2.0])
    frames = omega0 - detunings
    model = cr.CavityModel(
        omega_c=0.0, kappa=KAPPA, omega0=omega0, frames=frames,
        rabi_frequencies=frames, rabi_amplitudes=omegas, spin_decay=gammas,
    )
    state = cr.solve_floquet_steady_state(model, fock_dim=1)
    period = state.structure.period
    rho0 = state.full_state(0.0)
    out = cr.evolve_density_matrix(model, rho0, [0.0, period / 3, period], fock_dim=1)
    np.testing.assert_allclose(out[1], state.full_state(period / 3), atol=1e-9)
    np.testing.assert_allclose(out[2], rho0, atol=1e-9)
    assert np.abs(state.density_harmonics[state.harmonics != 0]).max() > 1e-3


def test_spin_one_rabi_steady_state_matches_qutip() -> None:
    model = cr.CavityModel(
        omega_c=0.0, kappa=KAPPA, omega0=[1.0], frames=[0.96],
        rabi_frequencies=[0.96], rabi_amplitudes=[0.05], spin=1.0, spin_decay=[0.03],
    )
    expected = qutip.steadystate(
        0.05 * qutip.jmat(1.0, "x") + 0.04 * qutip.jmat(1.0, "z"),
        [np.sqrt(0.03) * qutip.jmat(1.0, "-")],
    ).full()
    np.testing.assert_allclose(cr.cavity_steady_state(model, fock_dim=1), expected, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# (iv): qutip cross-check of the full time-dependent master equation in the LAB frame
# ----------------------------------------------------------------------------------------------


def lab_frame_qutip_evolution(
    model: cr.CavityModel, rho0: np.ndarray, times: np.ndarray, fock_dim: int
) -> list[np.ndarray]:
    """Evolve the lab-frame master equation with qutip (no frames, explicit e^{-i w t})."""
    n = model.n_ensembles
    spin = model.spin
    ids = [qutip.qeye(model.spin_dim)] * n

    def on(op: qutip.Qobj, l: int) -> qutip.Qobj:
        return qutip.tensor(*(ids[:l] + [op] + ids[l + 1 :]), qutip.qeye(fock_dim))

    a = qutip.tensor(*ids, qutip.destroy(fock_dim))
    ham: list = [model.omega_c * a.dag() * a]
    for l in range(n):
        ham[0] = ham[0] + model.omega0[l] * on(qutip.jmat(spin, "z"), l)
        emit = a.dag() * on(qutip.jmat(spin, "-"), l)
        for w, c in zip(model.raman_frequencies, model.raman_couplings * model.cavity_weights[l]):
            ham += [[c * emit, lambda t, w=w: np.exp(-1j * w * t)]]
            ham += [[np.conj(c) * emit.dag(), lambda t, w=w: np.exp(1j * w * t)]]
        rabi = model.rabi_amplitudes * model.rabi_weights[:, l]
        for nu, amp in zip(model.rabi_frequencies, rabi):
            raise_op = on(qutip.jmat(spin, "+"), l)
            ham += [[0.5 * amp * raise_op, lambda t, nu=nu: np.exp(-1j * nu * t)]]
            ham += [[0.5 * np.conj(amp) * raise_op.dag(), lambda t, nu=nu: np.exp(1j * nu * t)]]
    dims = [[model.spin_dim] * n + [fock_dim]] * 2
    result = qutip.mesolve(
        qutip.QobjEvo(ham),
        qutip.Qobj(rho0, dims=dims),
        times,
        c_ops=[np.sqrt(model.kappa) * a],
        options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 100_000},
    )
    return [state.full() for state in result.states]


def to_rotating_frame(
    model: cr.CavityModel, rho_lab: np.ndarray, t: float, cavity_frame: float, fock_dim: int
) -> np.ndarray:
    """Apply U = exp(i t (cavity_frame a^dag a + sum_l frame_l S_l^z)) (diagonal in the basis)."""
    m = model.spin - np.arange(model.spin_dim)
    energy = np.zeros(1)
    for frame in model.frames:
        energy = np.add.outer(energy, frame * m).reshape(-1)
    energy = np.add.outer(energy, cavity_frame * np.arange(fock_dim)).reshape(-1)
    phase = np.exp(1j * energy * t)
    return phase[:, None] * rho_lab * phase.conj()[None, :]


def test_master_equation_matches_qutip_in_lab_frame() -> None:
    frames = np.array([0.75, 6.25])
    model = cr.CavityModel(
        omega_c=2.0, kappa=KAPPA, omega0=[1.0, 6.0], frames=frames,
        raman_frequencies=[3.25, 3.25 - 5.5, 1.0], raman_couplings=[0.15, 0.15j, 0.1],
        cavity_weights=[1.0, 0.9],
        rabi_frequencies=frames, rabi_amplitudes=[0.2, 0.1 + 0.1j],
    )
    fock_dim = 3
    structure = cr.floquet_structure(model)
    spin_state = np.array([0.6, 0.8j, 0.0, 0.0])  # ensemble 1 up, ensemble 2 in a superposition
    psi = np.kron(spin_state, np.array([np.sqrt(0.7), np.sqrt(0.3), 0.0]))
    rho0 = np.outer(psi, psi.conj())
    times = np.linspace(0.0, 6.0, 7)
    ours = cr.evolve_density_matrix(model, rho0, times, fock_dim)
    lab = lab_frame_qutip_evolution(model, rho0, times, fock_dim)
    for t, mine, theirs in zip(times, ours, lab):
        rotated = to_rotating_frame(model, theirs, t, structure.cavity_frame, fock_dim)
        np.testing.assert_allclose(mine, rotated, atol=2e-8)
    assert np.abs(ours[-1] - ours[0]).max() > 0.05  # the check is not vacuous


# ----------------------------------------------------------------------------------------------
# Effective couplings vs. full dynamics
# ----------------------------------------------------------------------------------------------


def test_single_excitation_propagator_and_effective_dynamics() -> None:
    """Magnus propagator == master equation; H_eff reproduces stroboscopic spin dynamics."""
    model = chain_model(2, 10.0, [0.0, 0.0], chi_coupling=0.3, delta_c=4.0, comb_coupling=0.0,
                        rabi=0.0)
    floquet = cr.single_excitation_floquet(model)
    period = floquet.structure.period
    fock_dim = 2
    excited_1 = 1 * fock_dim  # |up, down; 0>: spin index 1 (m1 = +1/2, m2 = -1/2)
    single = [1 * fock_dim, 2 * fock_dim, 3 * fock_dim + 1]  # |ud,0>, |du,0>, |dd,1>
    rho0 = np.zeros((8, 8), complex)
    rho0[excited_1, excited_1] = 1.0
    n_periods = np.arange(0, 61, 12)
    states = cr.evolve_density_matrix(model, rho0, n_periods * period, fock_dim)
    h1 = floquet.effective_hamiltonian()
    psi0 = np.array([1.0, 0.0, 0.0])
    for n, rho in zip(n_periods, states):
        amp = np.linalg.matrix_power(floquet.period_propagator, n) @ psi0
        np.testing.assert_allclose(rho[np.ix_(single, single)], np.outer(amp, amp.conj()),
                                   atol=1e-8)
        spins = sla.expm(-1j * h1 * n * period) @ psi0[:2]
        np.testing.assert_allclose(np.abs(amp[:2]) ** 2, np.abs(spins) ** 2, atol=0.02)
    transferred = np.abs(amp[1]) ** 2
    assert transferred > 0.1  # the exchange did act over the simulated time


# ----------------------------------------------------------------------------------------------
# (v): Floquet steady state of the full model: fixed point, physicality, convergence
# ----------------------------------------------------------------------------------------------


Solved = tuple[cr.CavityModel, cr.FloquetSteadyState]


@pytest.fixture(scope="module")
def three_ensembles() -> Solved:
    model = chain_model(3, 10.0, [0.5, 0.0, -0.5])
    return model, cr.solve_floquet_steady_state(model, fock_dim=3)


def test_steady_state_is_physical(three_ensembles: Solved) -> None:
    model, state = three_ensembles
    assert state.structure.base_frequency == pytest.approx(0.5)
    assert state.residual < 1e-10
    harm = state.density_harmonics
    np.testing.assert_allclose(harm[::-1], harm.conj().transpose(0, 2, 1), atol=1e-12)
    for rho in (state.spin_state(), state.spin_state(0.0), state.spin_state(1.234)):
        assert rho.shape == (8, 8)
        assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(rho, rho.conj().T, atol=1e-12)
        assert np.linalg.eigvalsh(rho).min() > -1e-9
    assert 0 < state.photon_number() < 0.05
    np.testing.assert_allclose(
        cr.cavity_steady_state(model, fock_dim=3), state.spin_state(), atol=1e-10
    )


def test_steady_state_is_fixed_point_of_exact_period_map(three_ensembles: Solved) -> None:
    model, state = three_ensembles
    period = state.structure.period
    rho0 = state.full_state(0.0)
    out = cr.evolve_density_matrix(model, rho0, [0.0, 0.4 * period, period], fock_dim=3)
    np.testing.assert_allclose(out[1], state.full_state(0.4 * period), atol=1e-7)
    np.testing.assert_allclose(out[2], rho0, atol=1e-7)


def test_steady_state_converges_in_harmonics_and_fock_cutoff(three_ensembles: Solved) -> None:
    model, state = three_ensembles
    n_default = state.harmonics.max()
    weights = state.harmonic_weights()
    assert max(weights[0], weights[-1]) < 1e-7 * weights[n_default]  # edges nearly empty
    more_harmonics = cr.solve_floquet_steady_state(model, fock_dim=3, n_harmonics=n_default + 16)
    assert np.abs(more_harmonics.spin_state() - state.spin_state()).max() < 1e-9
    assert np.abs(more_harmonics.spin_state(0.0) - state.spin_state(0.0)).max() < 1e-6
    fewer = cr.solve_floquet_steady_state(model, fock_dim=3, n_harmonics=n_default // 2)
    assert np.abs(fewer.spin_state() - state.spin_state()).max() > 1e-9  # cutoff does matter
    more_photons = cr.solve_floquet_steady_state(model, fock_dim=4)
    assert np.abs(more_photons.spin_state() - state.spin_state()).max() < 1e-4


def test_spin_one_steady_state_is_fixed_point() -> None:
    model = chain_model(2, 10.0, [0.25, -0.25], spin=1.0, rabi=0.03)
    # S = 1 has three-photon / third-order harmonics up to 3R: the stroboscopic state needs
    # more than the default 2R + 4 harmonics for 1e-9 (the period average does not)
    n_max = 3 * cr.floquet_structure(model).max_harmonic + 4
    state = cr.solve_floquet_steady_state(model, fock_dim=3, n_harmonics=n_max)
    assert state.spin_state().shape == (9, 9)
    period = state.structure.period
    out = cr.evolve_density_matrix(model, state.full_state(0.0), [0.0, period], fock_dim=3)
    np.testing.assert_allclose(out[-1], out[0], atol=1e-9)
    default = cr.solve_floquet_steady_state(model, fock_dim=3)
    np.testing.assert_allclose(default.spin_state(), state.spin_state(), atol=1e-10)


def test_only_photon_detunings_matter() -> None:
    """Shifting omega_c and all Raman tones by an 'optical' offset changes nothing."""
    model = chain_model(2, 10.0, [0.25, -0.25])
    offset = 1000.25
    shifted = cr.CavityModel(
        omega_c=model.omega_c + offset, kappa=model.kappa, omega0=model.omega0,
        frames=model.frames, raman_frequencies=model.raman_frequencies + offset,
        raman_couplings=model.raman_couplings, rabi_frequencies=model.rabi_frequencies,
        rabi_amplitudes=model.rabi_amplitudes,
    )
    np.testing.assert_allclose(
        cr.effective_spin_couplings(shifted), cr.effective_spin_couplings(model), atol=1e-11
    )
    np.testing.assert_allclose(
        cr.cavity_steady_state(shifted), cr.cavity_steady_state(model), atol=1e-10
    )


def test_steady_state_without_dissipation_channel_fails_loudly() -> None:
    model = cr.CavityModel(
        omega_c=0.0, kappa=KAPPA, omega0=[0.0, 10.0], rabi_frequencies=[0.0, 10.0],
        rabi_amplitudes=[0.05, 0.05],
    )  # no Raman coupling, no spin decay: the spin steady state is not unique
    with pytest.raises(RuntimeError, match="unique"):
        cr.solve_floquet_steady_state(model, fock_dim=2)
