"""What a set of tones realises: the effective model of Eq. (2), by the rules of hardware-mapping.md.

Frames: ensemble l lives in the frame of its own Rabi drive, at the drive frequency
f~_l = f_0,l - delta_l^prog / 2pi. Rates are angular (rad/s) inside this module.

Raman tones j (optical frequency omega_j, coupling c_j, relative cavity coupling w_l):
    photon detuning   D_jl = omega_j + omega~_l - omega_c
    a product (j', j) couples ensembles (m, l) iff  omega_j' - omega_j = omega~_l - omega~_m, then
    H_eff = sum_ml J_ml S_m^+ S_l^-,   J_ml = sum_(j',j) c_j'^* w_m^* c_j w_l / (D_jl + i kappa/2).
    With J = J_h - (i/2) G (J_h, G Hermitian): chi_kl = -2i (J_h)_kl for k < l (a real part of
    (J_h)_kl is a non-chiral exchange), G_ml the correlated decay (Eq. 2: G_ml = Gamma), and the
    diagonal J_h,ll S^+S^- = J_h,ll [S(S+1) + S^z - (S^z)^2]: a detuning shift +J_h,ll and a
    one-axis twist -J_h,ll (S^z)^2.
Rabi tones k (frequency nu_k, Rabi frequency Omega_km on ensemble m):
    resonant with ensemble m (nu_k = omega~_m): Re(Omega) S^x - Im(Omega) S^y;
    off resonance by nu_km = nu_k - omega~_m: a shift -|Omega_km|^2 / (2 nu_km) S_m^z (the next
    order is ~ theta_km^2 / 4 of it, theta_km = |Omega_km / nu_km|), and a
    dressing: the spin's dipole follows the tone with amplitude theta_km = |Omega_km / nu_km|, so
    every Raman tone j that makes ensemble m emit also scatters photons at D_jm + nu_km whose
    jump operator is S_m^z (which is not the collective jump). Each such sideband is a local
    dephasing of rate theta_km^2 |c_j w_m|^2 kappa / ((D_jm + nu_km)^2 + kappa^2/4); for a flat
    bath (kappa -> infinity) it is theta^2 Gamma (Floquet steady states of L = 2 agree to 10-25 %,
    tests/sequences/test_render_trim.py). With the cavity kept the loss is larger (render_trim
    bounds it); this term is the part the model can hold.
Every other product of tones oscillates at epsilon = (omega_j' - omega_j) - (omega~_l - omega~_m)
and is a *beat*: listed with its residual coupling |J|/|epsilon| when within the guard band.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from labctl.sequences.params import ModelParams
from labctl.sequences.signal_chain import SignalChain, Tone
from labctl.sim.bruteforce import solve_steady_state
from labctl.sim.model import decay_jumps, extended_hamiltonian
from labctl.sim.spin import local_operators

TWO_PI = 2 * np.pi
#: Products whose beat frequency is below this fraction of the frequencies involved are static.
STATIC_RELATIVE = 1e-9
#: Largest product-space dimension (2S+1)^L for which the planning pass computes infidelities exactly.
EXACT_DIMENSION = 36


@dataclass(frozen=True)
class Beat:
    """An unwanted tone product: tones (j', j) on ensembles (m, l) off resonance by ``epsilon_hz``."""

    tones: tuple[str, str]
    ensembles: tuple[int, int]
    epsilon_hz: float
    coupling_hz: float  # |J| / 2pi of the product
    residual: float  # |J| / |epsilon| (infinite for an unintended static product)
    chain: str

    def describe(self) -> str:
        m, l = self.ensembles
        what = "static (unintended)" if self.epsilon_hz == 0.0 else f"off by {self.epsilon_hz:+.6g} Hz"
        return (
            f"tones '{self.tones[0]}' x '{self.tones[1]}' on ensembles ({m}, {l}): {what}, "
            f"coupling {self.coupling_hz:.3g} Hz, residual {self.residual:.3g}"
        )

    def to_dict(self) -> dict:
        return {
            "tones": list(self.tones),
            "ensembles": list(self.ensembles),
            "epsilon_hz": self.epsilon_hz,
            "coupling_hz": self.coupling_hz,
            "residual": self.residual if np.isfinite(self.residual) else "inf",
            "chain": self.chain,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Beat:
        residual = float("inf") if d["residual"] == "inf" else float(d["residual"])
        return cls(tuple(d["tones"]), tuple(d["ensembles"]), d["epsilon_hz"], d["coupling_hz"], residual, d["chain"])


@dataclass(frozen=True)
class EffectiveModel:
    """Eq. (2) as realised: per-ensemble detunings and (complex) Rabi frequencies, the complex
    coupling matrix J (H_eff = sum J_ml S_m^+ S_l^-, including the correlated decay as its
    anti-Hermitian part), all in rad/s. ``rabi_shifts`` and ``raman_shifts`` break the detuning
    down: ``detunings = programmed + raman_shifts + rabi_shifts``. ``dephasing`` holds the local
    rates gamma_m of D[S_m^z] from off-resonant Rabi tones (module docstring; None = none)."""

    spin: float
    programmed: np.ndarray
    rabi_shifts: np.ndarray
    raman_shifts: np.ndarray
    rabi: np.ndarray
    couplings: np.ndarray
    dephasing: np.ndarray | None = None

    @property
    def local_dephasing(self) -> np.ndarray:
        """gamma_m of sum_m gamma_m D[S_m^z] (zeros when none)."""
        return np.zeros(self.n_ensembles) if self.dephasing is None else np.asarray(self.dephasing)

    @property
    def n_ensembles(self) -> int:
        return len(self.programmed)

    @property
    def detunings(self) -> np.ndarray:
        return self.programmed + self.raman_shifts + self.rabi_shifts

    @property
    def hermitian(self) -> np.ndarray:
        return (self.couplings + self.couplings.conj().T) / 2

    @property
    def decay(self) -> np.ndarray:
        """G = i (J - J^dag): the correlated decay matrix (Eq. 2: Gamma everywhere)."""
        return 1j * (self.couplings - self.couplings.conj().T)

    @property
    def chi(self) -> np.ndarray:
        """chi_kl = Re(-2i J_h,kl) for k < l (upper triangle; zero elsewhere)."""
        return np.triu(np.real(-2j * self.hermitian), 1)

    @property
    def nonchiral(self) -> np.ndarray:
        """Real (non-chiral) exchange Re J_h,kl for k < l, absent from Eq. (2)."""
        return np.triu(np.real(self.hermitian), 1)

    @property
    def twist(self) -> np.ndarray:
        """One-axis twist coefficients t_l of t_l (S_l^z)^2 (= -J_h,ll); none for S = 1/2,
        where (S^z)^2 = 1/4 is a constant."""
        if self.spin == 0.5:
            return np.zeros(self.n_ensembles)
        return -np.real(np.diag(self.hermitian))

    def exchange(self) -> np.ndarray:
        """Off-diagonal Hermitian exchange matrix E_ml of sum_{m != l} E_ml S_m^+ S_l^-."""
        e = self.hermitian.copy()
        np.fill_diagonal(e, 0.0)
        return e

    def steady_state(self):
        """The steady state of this model (density matrix; small systems)."""
        h = extended_hamiltonian(self.spin, self.detunings, self.rabi, self.exchange(), self.twist)
        sz = local_operators(self.spin, self.n_ensembles, "z")
        dephasing = [np.sqrt(g) * sz[m] for m, g in enumerate(self.local_dephasing) if g > 0]
        return solve_steady_state(h, decay_jumps(self.spin, self.decay) + dephasing, method="krylov").rho

    def scaled(self, factor: float) -> EffectiveModel:
        """Every rate multiplied by ``factor`` (a change of unit)."""
        return replace(
            self,
            programmed=self.programmed * factor,
            rabi_shifts=self.rabi_shifts * factor,
            raman_shifts=self.raman_shifts * factor,
            rabi=self.rabi * factor,
            couplings=self.couplings * factor,
            dephasing=None if self.dephasing is None else self.dephasing * factor,
        )

    def with_spin(self, spin: float) -> EffectiveModel:
        return replace(self, spin=spin)

    def summary(self, unit: float = 1.0) -> dict:
        """Plain numbers for reports (rates divided by ``unit``, e.g. the target Gamma)."""
        return {
            "detunings": (self.detunings / unit).tolist(),
            "rabi": [[z.real / unit, z.imag / unit] for z in self.rabi],
            "chi": (self.chi / unit).tolist(),
            "nonchiral": (self.nonchiral / unit).tolist(),
            "twist": (self.twist / unit).tolist(),
            "decay": [[[z.real / unit, z.imag / unit] for z in row] for row in self.decay],
            "dephasing": (self.local_dephasing / unit).tolist(),
        }


def ideal_model(params: ModelParams) -> EffectiveModel:
    """Eq. (2) itself in the EffectiveModel form: J_kl = i chi/2 - i Gamma/2 (k < l), J_ll = -i Gamma/2."""
    n = params.n_ensembles
    upper = np.triu(np.ones((n, n)), 1)
    couplings = 0.5j * params.chi * (upper - upper.T) - 0.5j * params.gamma * np.ones((n, n))
    zero = np.zeros(n)
    return EffectiveModel(params.spin, np.array(params.detunings), zero, zero, np.full(n, params.rabi, complex), couplings)


def static_tolerance(*frequency_sets_hz: np.ndarray) -> float:
    """Beat frequencies below this (Hz) count as static: rounding of the largest frequency involved."""
    scale = max((float(np.max(np.abs(f))) for f in frequency_sets_hz if np.size(f)), default=1.0)
    return STATIC_RELATIVE * scale


def realised_model(
    spin: float,
    chain: SignalChain,
    drive_hz: np.ndarray,
    atom_hz: np.ndarray,
    tones: list[Tone],
    intended: set[tuple[str, str, int, int]] | None = None,
    guard_band: float = 100.0,
) -> tuple[EffectiveModel, list[Beat]]:
    """Apply the rules of the module docstring to the stabilisation tones.

    ``intended`` lists the static products (labels j', j and 1-based ensembles m, l) that are
    meant to be there besides the self terms and the comb's own products; any other static
    product is reported as an unintended beat with infinite residual.
    Returns the effective model and the beats within the guard band.
    """
    programmed = TWO_PI * (atom_hz - drive_hz)
    rabi_tones = [t for t in tones if t.chain == "rabi"]
    raman = [t for t in tones if t.chain == "raman"]
    rabi, rabi_shifts, dressing, rabi_beats = _rabi_terms(chain, drive_hz, rabi_tones, guard_band)
    couplings, raman_beats = _raman_terms(chain, drive_hz, raman, intended or set(), guard_band)
    raman_shifts = np.real(np.diag((couplings + couplings.conj().T) / 2))
    dephasing = _dressing_dephasing(chain, drive_hz, raman, dressing)
    model = EffectiveModel(spin, programmed, rabi_shifts, raman_shifts, rabi, couplings, dephasing)
    return model, rabi_beats + raman_beats


def _rabi_terms(chain: SignalChain, drive_hz: np.ndarray, tones: list[Tone], guard_band: float):
    """Rabi frequencies, shifts, dressings [(m, theta^2, nu_km in rad/s)] and beats of the Rabi-chain tones."""
    n = len(drive_hz)
    rabi = np.zeros(n, dtype=complex)
    shifts = np.zeros(n)
    dressing, beats = [], []
    tol = static_tolerance(drive_hz)
    for tone in tones:
        for m in range(n):
            omega = TWO_PI * chain.rabi_on(tone, m + 1)
            if omega == 0:
                continue
            nu = TWO_PI * (tone.frequency_hz - drive_hz[m])
            if abs(nu) <= TWO_PI * tol:
                rabi[m] += omega
                continue
            shifts[m] -= abs(omega) ** 2 / (2 * nu)
            residual = abs(omega) / abs(nu)
            dressing.append((m, residual**2, nu))
            if abs(nu) < guard_band * abs(omega):
                beats.append(Beat((tone.label, tone.label), (m + 1, m + 1), nu / TWO_PI, abs(omega) / TWO_PI, residual, "rabi"))
    return rabi, shifts, dressing, beats


def _dressing_dephasing(chain: SignalChain, drive_hz: np.ndarray, raman: list[Tone], dressing: list) -> np.ndarray:
    """gamma_m = sum_k theta_km^2 sum_j |c_j w_m|^2 kappa / ((D_jm + nu_km)^2 + kappa^2/4) (module docstring)."""
    gamma = np.zeros(len(drive_hz))
    if not raman or not dressing:
        return gamma
    cal = chain.calibration
    kappa = TWO_PI * cal.kappa_hz
    w = np.asarray(cal.relative_coupling)
    c2 = np.abs(TWO_PI * np.array([chain.raman_coupling(t) for t in raman])) ** 2
    order = chain.hardware.raman.aom_order
    offset = cal.raman_carrier_hz - cal.cavity_resonance_hz
    detuning = TWO_PI * ((offset + order * np.array([t.rf_hz for t in raman]))[:, None] + drive_hz[None, :])  # D_jm
    for m, theta2, nu in dressing:
        gamma[m] += theta2 * w[m] ** 2 * np.sum(c2 * kappa / ((detuning[:, m] + nu) ** 2 + kappa**2 / 4))
    return gamma


def _product_arrays(chain: SignalChain, drive_hz: np.ndarray, tones: list[Tone], first: np.ndarray, second: np.ndarray):
    """Beat frequency eps (Hz) and coupling J (rad/s) of every product (j', j) on every (m, l),
    for tones j' in ``first`` and j in ``second`` (index arrays); arrays indexed (j', j, m, l)."""
    cal, hw = chain.calibration, chain.hardware
    kappa = TWO_PI * cal.kappa_hz
    w = np.asarray(cal.relative_coupling)
    order = hw.raman.aom_order
    rf = np.array([t.rf_hz for t in tones])
    c = TWO_PI * np.array([chain.raman_coupling(t) for t in tones])
    # photon detuning D_jl = omega_j + omega~_l - omega_c, from exact-ish differences (Hz)
    carrier_offset = cal.raman_carrier_hz - cal.cavity_resonance_hz
    detuning_hz = (carrier_offset + order * rf[second])[:, None] + drive_hz[None, :]
    inverse = 1.0 / (TWO_PI * detuning_hz + 0.5j * kappa)  # (j, l)
    tone_diff = order * (rf[first][:, None] - rf[second][None, :])  # omega_j' - omega_j [Hz]
    ens_diff = drive_hz[None, :] - drive_hz[:, None]  # omega~_l - omega~_m [Hz], index (m, l)
    eps = tone_diff[:, :, None, None] - ens_diff[None, None, :, :]
    amp = np.conj(c[first])[:, None, None, None] * c[second][None, :, None, None]
    amp = amp * (w[None, None, :, None] * w[None, None, None, :]) * inverse[None, :, None, :]
    return eps, amp, static_tolerance(rf, drive_hz)


def _beats(tones, eps, amp, tol, first, second, intended, guard_band, keep) -> list[Beat]:
    """Unwanted products among (first x second): near-static ones within the guard band, and
    unintended static ones (infinite residual). ``keep(jp, j, m, l)`` filters duplicates."""
    beats = []
    static = np.abs(eps) <= tol
    near = (np.abs(eps) < guard_band * np.abs(amp) / TWO_PI) & ~static
    for a, b, m, l in zip(*np.nonzero(near)):
        jp, j = first[a], second[b]
        if keep(jp, j, m, l):
            coupling = float(abs(amp[a, b, m, l]) / TWO_PI)
            beats.append(Beat((tones[jp].label, tones[j].label), (m + 1, l + 1), float(eps[a, b, m, l]), coupling,
                              coupling / abs(float(eps[a, b, m, l])), "raman"))
    for a, b, m, l in zip(*np.nonzero(static & (np.abs(amp) > 0))):
        jp, j = first[a], second[b]
        if jp == j and m == l:
            continue  # self term
        if tones[jp].role == tones[j].role == "gamma_comb":
            continue  # the comb's collective decay and its side channels: physical, in the model
        if (tones[jp].label, tones[j].label, m + 1, l + 1) in intended or not keep(jp, j, m, l):
            continue
        beats.append(Beat((tones[jp].label, tones[j].label), (m + 1, l + 1), 0.0, float(abs(amp[a, b, m, l]) / TWO_PI),
                          float("inf"), "raman"))
    return beats


def _raman_terms(chain: SignalChain, drive_hz: np.ndarray, tones: list[Tone], intended: set, guard_band: float):
    """J_ml from every static product, and the beats of every near-static one."""
    n = len(drive_hz)
    if not tones:
        return np.zeros((n, n), dtype=complex), []
    idx = np.arange(len(tones))
    eps, amp, tol = _product_arrays(chain, drive_hz, tones, idx, idx)
    couplings = np.einsum("abml->ml", np.where(np.abs(eps) <= tol, amp, 0.0))

    def once(jp, j, m, l):  # a product and its conjugate partner are reported once
        return jp < j or (jp == j and m <= l)

    return couplings, _beats(tones, eps, amp, tol, idx, idx, intended, guard_band, once)


def product_beats(chain: SignalChain, drive_hz: np.ndarray, tones: list[Tone], first_new: int,
                  intended: set, guard_band: float) -> list[Beat]:
    """The beats that involve at least one of the tones from index ``first_new`` on."""
    old, new, every = np.arange(first_new), np.arange(first_new, len(tones)), np.arange(len(tones))
    beats = []
    for first, second in ((new, every), (old, new)):
        if first.size and second.size:
            eps, amp, tol = _product_arrays(chain, drive_hz, tones, first, second)
            beats += _beats(tones, eps, amp, tol, first, second, intended, guard_band, lambda *_: True)
    return beats


def infidelity(model: EffectiveModel, target_vector: np.ndarray, unit: float = 1.0) -> float:
    """1 - <psi|rho_ss|psi> for the model's steady state and the target pure state; rates are
    divided by ``unit`` (e.g. Gamma) first, which keeps the solver well conditioned."""
    rho = model.scaled(1.0 / unit).steady_state()
    return float(max(0.0, 1.0 - np.real(np.vdot(target_vector, rho @ target_vector))))
