"""Independent reference simulator: spin ensembles + one lossy cavity mode + drive tones.

This module is a *test-time reference*. It keeps the cavity mode explicitly and never uses an
effective-coupling formula: every number comes from exact (numerical) time evolution or Floquet
analysis of the full time-periodic model. It deliberately shares no code with
``labctl.sequences``.

Model (hbar = 1, angular frequencies in any consistent unit)
-------------------------------------------------------------
Lab frame::

    H(t) = omega_c a^dag a + sum_l omega0_l S_l^z
         + sum_{j,l} ( c_j w_l a^dag S_l^- e^{-i omega_j t} + h.c. )            Raman tones j
         + sum_{k,l} ( (r_kl Omega_k / 2) S_l^+ e^{-i nu_k t} + h.c. )           Rabi tones k

with Lindblad jumps ``sqrt(kappa) a`` (cavity loss) and, optionally, ``sqrt(gamma_l) S_l^-``
(for S = 1/2 the free-space decay of the single spin; for S > 1/2 a decay *within* the ensemble
spin multiplet). Only frequency differences matter, so all frequencies may be given relative to
any common reference.

Frames and sign conventions
---------------------------
* Ensemble l is reported in the frame ``U_l = exp(i frame_l t S_l^z)``. There its bare
  Hamiltonian is ``delta_l S_l^z`` with ``delta_l = omega0_l - frame_l`` and a Rabi tone with
  ``nu_k = frame_l`` acts as ``Omega_k S_l^x`` (real Omega_k; in general
  ``(Omega/2) S^+ + (Omega^*/2) S^- = Re(Omega) S^x - Im(Omega) S^y``). A Rabi tone k on
  ensemble l oscillates as ``S_l^+ exp(i (frame_l - nu_k) t)``: off-resonant cross-talk is kept.
* The cavity is treated in an internal frame rotating at ``cavity_frame`` (see
  :func:`floquet_structure`); it is chosen so that every Raman term
  ``a^dag S_l^- exp(i (cavity_frame - frame_l - omega_j) t)`` oscillates at an integer multiple of
  the base frequency. Reduced spin states do not depend on this choice.
* Basis ordering: product states ``|m_1, ..., m_L>`` with ensemble 1 the most significant
  Kronecker factor and ``m = S, S-1, ..., -S`` inside each factor (the order of qutip's
  ``jmat``). Full states are ``spins (x) Fock`` with the photon number least significant.
* Periodicity: all time dependences (Raman terms after removing one common cavity frame, Rabi
  terms) must be integer multiples of a base frequency ``Omega_b``; ``T = 2 pi / Omega_b``.
  ``Omega_b`` is detected automatically (floating-point gcd) or passed as ``base_frequency``.
  Static detunings (``delta_l``, the cavity detuning) need not be commensurate.

Methods and accuracy
--------------------
* Effective couplings (:func:`effective_spin_couplings`): the single-excitation manifold
  (L spin states + one photon state, loss as ``-i kappa / 2``) is propagated over one period with
  4th-order Magnus steps; the Bloch effective Hamiltonian is built from the exact quasi-energies
  and the period-averaged Floquet modes. Time-step error ~ steps^-4 (~1e-8 relative by default).
* Steady state (:func:`solve_floquet_steady_state`): Floquet-Liouville harmonic expansion of the
  full master equation (spins (x) Fock), solved by GMRES with an exact Schur-complement
  preconditioner. Cutoffs: ``fock_dim`` and ``n_harmonics``; default N = 2R + 4 (R = largest
  harmonic) gives the period average to ~1e-10 and the stroboscopic state to ~1e-8 (S = 1/2).
* Cross-checks: :func:`evolve_density_matrix` integrates the same master equation in time
  (DOP853); the tests compare it with qutip in the lab frame.

Public API
----------
* :class:`CavityModel` - validated lab-frame description.
* :func:`floquet_structure`, :func:`commensurate_base` - base frequency, cavity frame, integer
  harmonics of all terms.
* :func:`effective_spin_couplings`, :func:`split_couplings`, :func:`single_excitation_floquet` -
  effective spin-spin generator with the cavity eliminated exactly (Raman tones only);
  :class:`FloquetResonanceWarning` when no static generator exists.
* :func:`cavity_steady_state`, :func:`solve_floquet_steady_state` - periodic steady state.
* :func:`evolve_density_matrix` - direct time integration of the master equation.
* :func:`fidelity`, :func:`partial_trace_cavity`, :func:`spin_operators`,
  :func:`ensemble_operator`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from math import ceil, pi, sqrt

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp

ComplexArray = NDArray[np.complex128]
FloatArray = NDArray[np.float64]

#: Largest harmonic (|frequency| / base frequency) accepted before the frequencies are declared
#: not usefully commensurate.
MAX_HARMONIC = 20_000


class FloquetResonanceWarning(UserWarning):
    """A Floquet mode is spread over several harmonics: no static H_eff describes the spins."""


# ----------------------------------------------------------------------------------------------
# Model description
# ----------------------------------------------------------------------------------------------


def _as_1d(values: ArrayLike | None, n: int, default: complex, name: str, dtype: type) -> NDArray:
    """Return ``values`` as a 1-d array of length ``n`` (``default`` everywhere if None)."""
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.asarray(values, dtype=dtype).reshape(-1)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have length {n}, got shape {np.shape(values)}")
    return arr


@dataclass(frozen=True)
class CavityModel:
    """Lab-frame description of L spin ensembles, one lossy cavity mode and drive tones.

    Attributes:
        omega_c: cavity frequency.
        kappa: cavity energy decay rate (jump ``sqrt(kappa) a``).
        omega0: (L,) spin (Zeeman) frequencies ``omega0_l``.
        frames: (L,) output-frame frequencies ``frame_l`` (default ``omega0``, i.e. resonant
            frames); the lab passes the Rabi drive frequency of each ensemble.
        raman_frequencies: (J,) tone frequencies ``omega_j`` (same reference as omega_c, omega0).
        raman_couplings: (J,) complex ``c_j``: coefficient of ``a^dag S_l^- e^{-i omega_j t}``.
        cavity_weights: (L,) complex relative cavity coupling ``w_l`` (default 1).
        rabi_frequencies: (K,) microwave tone frequencies ``nu_k``.
        rabi_amplitudes: (K,) complex Rabi frequencies ``Omega_k``.
        rabi_weights: (K, L) relative strength ``r_kl`` of tone k on ensemble l (default 1:
            every tone drives every ensemble).
        spin: ensemble spin S (1/2, 1, 3/2, ...).
        spin_decay: (L,) optional rates ``gamma_l`` of the jump ``sqrt(gamma_l) S_l^-``.
    """

    omega_c: float
    kappa: float
    omega0: FloatArray
    frames: FloatArray | None = None
    raman_frequencies: FloatArray = field(default_factory=lambda: np.zeros(0))
    raman_couplings: ComplexArray = field(default_factory=lambda: np.zeros(0, complex))
    cavity_weights: ComplexArray | None = None
    rabi_frequencies: FloatArray = field(default_factory=lambda: np.zeros(0))
    rabi_amplitudes: ComplexArray = field(default_factory=lambda: np.zeros(0, complex))
    rabi_weights: ComplexArray | None = None
    spin: float = 0.5
    spin_decay: FloatArray | None = None

    def __post_init__(self) -> None:
        omega0 = np.asarray(self.omega0, dtype=float).reshape(-1)
        n_ens = omega0.size
        if n_ens < 1:
            raise ValueError("at least one ensemble is required")
        n_raman = np.size(self.raman_frequencies)
        n_rabi = np.size(self.rabi_frequencies)
        rabi_weights = (
            np.ones((n_rabi, n_ens), complex)
            if self.rabi_weights is None
            else np.asarray(self.rabi_weights, dtype=complex)
        )
        if rabi_weights.shape != (n_rabi, n_ens):
            raise ValueError(f"rabi_weights must have shape {(n_rabi, n_ens)}")
        two_s = 2.0 * float(self.spin)
        if two_s < 1 or abs(two_s - round(two_s)) > 1e-12:
            raise ValueError("spin must be a positive multiple of 1/2")
        if self.kappa < 0:
            raise ValueError("kappa must be >= 0")
        decay = _as_1d(self.spin_decay, n_ens, 0.0, "spin_decay", float)
        if np.any(decay < 0):
            raise ValueError("spin_decay must be >= 0")
        fields = {
            "omega_c": float(self.omega_c),
            "kappa": float(self.kappa),
            "omega0": omega0,
            "frames": _as_1d(self.frames, n_ens, 0.0, "frames", float)
            if self.frames is not None
            else omega0.copy(),
            "raman_frequencies": _as_1d(
                self.raman_frequencies, n_raman, 0.0, "raman_frequencies", float
            ),
            "raman_couplings": _as_1d(
                self.raman_couplings, n_raman, 0.0, "raman_couplings", complex
            ),
            "cavity_weights": _as_1d(self.cavity_weights, n_ens, 1.0, "cavity_weights", complex),
            "rabi_frequencies": _as_1d(
                self.rabi_frequencies, n_rabi, 0.0, "rabi_frequencies", float
            ),
            "rabi_amplitudes": _as_1d(
                self.rabi_amplitudes, n_rabi, 0.0, "rabi_amplitudes", complex
            ),
            "rabi_weights": rabi_weights,
            "spin": float(self.spin),
            "spin_decay": decay,
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @property
    def n_ensembles(self) -> int:
        """Number of ensembles L."""
        return self.omega0.size

    @property
    def spin_dim(self) -> int:
        """Dimension 2S+1 of one ensemble."""
        return int(round(2 * self.spin)) + 1

    @property
    def detunings(self) -> FloatArray:
        """Bare frame detunings ``delta_l = omega0_l - frame_l`` (coefficient of S_l^z)."""
        return self.omega0 - self.frames


# ----------------------------------------------------------------------------------------------
# Periodicity: base frequency, cavity frame and integer harmonics
# ----------------------------------------------------------------------------------------------


def _float_gcd(a: float, b: float, atol: float) -> float:
    """Greatest common divisor of two positive floats (Euclid, remainders below atol are 0)."""
    a, b = max(a, b), min(a, b)
    while b > atol:
        a, b = b, a % b
        if a - b <= atol:  # remainder equal to the divisor up to rounding
            b = 0.0
    return a


def commensurate_base(values: ArrayLike, rtol: float = 1e-9) -> float | None:
    """Largest ``Omega_b`` with every value an integer multiple of it (None if all are ~0).

    Raises:
        ValueError: if the values are not commensurate within ``MAX_HARMONIC`` harmonics.
    """
    vals = np.abs(np.asarray(values, dtype=float).reshape(-1))
    scale = vals.max(initial=0.0)
    if scale == 0.0:
        return None
    atol = rtol * scale
    vals = vals[vals > atol]
    if vals.size == 0:
        return None
    base = float(vals[0])
    for v in vals[1:]:
        base = _float_gcd(base, float(v), atol)
    _check_multiples(vals, base)
    return base


def _check_multiples(values: FloatArray, base: float, rtol: float = 1e-7) -> None:
    """Raise ValueError unless every value is an integer multiple of ``base`` (and not huge)."""
    ratio = np.asarray(values, dtype=float) / base
    if ratio.size and np.max(np.abs(ratio)) > MAX_HARMONIC:
        raise ValueError(
            f"tone frequencies are not usefully commensurate: base frequency {base:.3g} gives "
            f"harmonic {np.max(np.abs(ratio)):.3g} > {MAX_HARMONIC}. Round the frequencies to "
            "multiples of a common base or pass base_frequency."
        )
    off = np.abs(ratio - np.round(ratio))
    if ratio.size and np.max(off) > rtol * max(1.0, float(np.max(np.abs(ratio)))):
        raise ValueError(
            f"frequencies are not integer multiples of base frequency {base:.6g} "
            f"(worst fractional part {np.max(off):.3g})"
        )


@dataclass(frozen=True)
class FloquetStructure:
    """Integer-harmonic description of all time dependences in the internal frame.

    In the internal frame (cavity at ``cavity_frame``, ensemble l at ``frame_l``) the coefficient
    of ``a^dag S_l^-`` from Raman tone j is ``c_j w_l exp(i raman_harmonics[j, l] Omega_b t)`` and
    that of ``S_l^+`` from Rabi tone k is ``(r_kl Omega_k / 2) exp(i rabi_harmonics[k, l]
    Omega_b t)``. Terms with zero amplitude carry harmonic 0 and are ignored.
    """

    base_frequency: float
    cavity_frame: float
    cavity_detuning: float
    raman_harmonics: NDArray[np.int64]
    rabi_harmonics: NDArray[np.int64]

    @property
    def period(self) -> float:
        """Common period T = 2 pi / Omega_b."""
        return 2.0 * pi / self.base_frequency

    @property
    def max_harmonic(self) -> int:
        """Largest |harmonic| of any term."""
        return int(
            max(
                np.max(np.abs(self.raman_harmonics), initial=0),
                np.max(np.abs(self.rabi_harmonics), initial=0),
            )
        )


def floquet_structure(
    model: CavityModel, base_frequency: float | None = None, include_rabi: bool = True
) -> FloquetStructure:
    """Find the base frequency, the internal cavity frame and the harmonics of every term.

    The Raman phase frequencies are ``cavity_frame - frame_l - omega_j``; ``cavity_frame`` is a
    free offset, so only their differences must be commensurate; it is chosen to centre them
    on zero. Rabi phase frequencies ``frame_l - nu_k`` must be multiples of ``Omega_b`` themselves.
    Without any time dependence ``Omega_b`` defaults to 1 (any period is exact).

    Args:
        model: the lab-frame model.
        base_frequency: impose ``Omega_b`` (validated); None = largest possible one.
        include_rabi: whether Rabi tones take part (False for the single-excitation analysis).
    """
    raman_active = np.outer(model.raman_couplings != 0, model.cavity_weights != 0)
    rabi_amp = model.rabi_weights * model.rabi_amplitudes[:, None]
    rabi_active = (rabi_amp != 0) & include_rabi
    raw = -(model.raman_frequencies[:, None] + model.frames[None, :])  # phase - cavity_frame
    rabi_phase = model.frames[None, :] - model.rabi_frequencies[:, None]
    ref = raw[raman_active][0] if raman_active.any() else 0.0
    varying = np.concatenate([raw[raman_active] - ref, rabi_phase[rabi_active]])
    if base_frequency is None:
        base = commensurate_base(varying) or 1.0
    else:
        base = float(base_frequency)
        if base <= 0:
            raise ValueError("base_frequency must be positive")
        _check_multiples(varying, base)
    raman_k = np.where(raman_active, np.round((raw - ref) / base), 0).astype(np.int64)
    active_k = raman_k[raman_active]
    shift = -int(np.round((active_k.max(initial=0) + active_k.min(initial=0)) / 2))
    raman_k = np.where(raman_active, raman_k + shift, 0)
    cavity_frame = -ref + shift * base
    rabi_k = np.where(rabi_active, np.round(rabi_phase / base), 0).astype(np.int64)
    return FloquetStructure(
        base_frequency=base,
        cavity_frame=float(cavity_frame),
        cavity_detuning=float(model.omega_c - cavity_frame),
        raman_harmonics=raman_k,
        rabi_harmonics=rabi_k,
    )


# ----------------------------------------------------------------------------------------------
# Operators
# ----------------------------------------------------------------------------------------------


def spin_operators(spin: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return dense ``(S^+, S^-, S^z)`` in the basis m = S, S-1, ..., -S (qutip ``jmat`` order)."""
    m = spin - np.arange(int(round(2 * spin)) + 1)
    s_plus = np.diag(np.sqrt(spin * (spin + 1) - m[1:] * (m[1:] + 1)), k=1)
    return s_plus, s_plus.T.copy(), np.diag(m)


def ensemble_operator(op: ArrayLike, ensemble: int, n_ensembles: int) -> sp.csr_matrix:
    """Embed a single-ensemble operator into the L-ensemble product space (ensemble 0 first)."""
    op = sp.csr_matrix(op)
    dim = op.shape[0]
    left = sp.identity(dim**ensemble, format="csr")
    right = sp.identity(dim ** (n_ensembles - ensemble - 1), format="csr")
    return sp.kron(sp.kron(left, op), right, format="csr")


@dataclass(frozen=True)
class FourierOperator:
    """Time-periodic operator ``static + sum_m harmonics[m] exp(i m Omega_b t)``."""

    static: sp.csr_matrix
    harmonics: dict[int, sp.csr_matrix]

    def coefficient_stack(self) -> tuple[NDArray[np.int64], sp.csr_matrix]:
        """Return the harmonic indices and the vertically stacked [static; harmonics...]."""
        orders = np.array(sorted(self.harmonics), dtype=np.int64)
        stack = sp.vstack([self.static] + [self.harmonics[m] for m in orders], format="csr")
        return orders, stack


def _add_harmonic(terms: dict[int, sp.csr_matrix], order: int, op: sp.spmatrix) -> None:
    terms[order] = terms[order] + op if order in terms else sp.csr_matrix(op)


def full_hamiltonian(
    model: CavityModel, structure: FloquetStructure, fock_dim: int
) -> tuple[FourierOperator, list[sp.csr_matrix]]:
    """Internal-frame Hamiltonian on spins (x) Fock(fock_dim) and the Lindblad jump operators.

    ``H(t) = Delta_c a^dag a + sum_l delta_l S_l^z + sum_m V_m exp(i m Omega_b t)`` with
    ``Delta_c = omega_c - cavity_frame`` and ``V_{-m} = V_m^dag``.
    """
    n_ens = model.n_ensembles
    s_plus, s_minus, s_z = spin_operators(model.spin)
    spin_id = sp.identity(model.spin_dim**n_ens, format="csr")
    a_fock = sp.csr_matrix(np.diag(np.sqrt(np.arange(1, fock_dim)), k=1))
    fock_id = sp.identity(fock_dim, format="csr")
    a = sp.kron(spin_id, a_fock, format="csr")

    def on_spin(op: ArrayLike, ens: int) -> sp.csr_matrix:
        return sp.kron(ensemble_operator(op, ens, n_ens), fock_id, format="csr")

    static = structure.cavity_detuning * (a.T @ a)
    terms: dict[int, sp.csr_matrix] = {}
    jumps = [sqrt(model.kappa) * a] if model.kappa > 0 else []
    for ens in range(n_ens):
        static = static + model.detunings[ens] * on_spin(s_z, ens)
        lower = on_spin(s_minus, ens)
        emit = a.T @ lower
        for j, c in enumerate(model.raman_couplings * model.cavity_weights[ens]):
            if c != 0:
                order = int(structure.raman_harmonics[j, ens])
                _add_harmonic(terms, order, c * emit)
                _add_harmonic(terms, -order, np.conj(c) * emit.T)
        for k, amp in enumerate(model.rabi_weights[:, ens] * model.rabi_amplitudes):
            if amp != 0:
                order = int(structure.rabi_harmonics[k, ens])
                _add_harmonic(terms, order, 0.5 * amp * lower.T)
                _add_harmonic(terms, -order, 0.5 * np.conj(amp) * lower)
        if model.spin_decay[ens] > 0:
            jumps.append(sqrt(model.spin_decay[ens]) * lower)
    return FourierOperator(sp.csr_matrix(static), terms), jumps


def _commutator_superop(op: sp.spmatrix) -> sp.csr_matrix:
    """Superoperator of ``rho -> -i [op, rho]`` for row-major vec (vec(A rho B) = A (x) B^T)."""
    ident = sp.identity(op.shape[0], format="csr")
    return (-1j * (sp.kron(op, ident) - sp.kron(ident, op.T))).tocsr()


def _dissipator_superop(jump: sp.spmatrix) -> sp.csr_matrix:
    """Superoperator of ``D[J] rho = J rho J^dag - {J^dag J, rho} / 2`` (row-major vec)."""
    ident = sp.identity(jump.shape[0], format="csr")
    jdj = (jump.conj().T @ jump).tocsr()
    anticommutator = sp.kron(jdj, ident) + sp.kron(ident, jdj.T)
    return (sp.kron(jump, jump.conj()) - 0.5 * anticommutator).tocsr()


def liouvillian(hamiltonian: FourierOperator, jumps: list[sp.csr_matrix]) -> FourierOperator:
    """Fourier components of the Lindblad generator (row-major vectorisation)."""
    static = _commutator_superop(hamiltonian.static)
    for jump in jumps:
        static = static + _dissipator_superop(jump)
    harmonics = {m: _commutator_superop(v) for m, v in hamiltonian.harmonics.items()}
    return FourierOperator(static.tocsr(), harmonics)


# ----------------------------------------------------------------------------------------------
# Time-domain master equation (cross-checks)
# ----------------------------------------------------------------------------------------------


def evolve_density_matrix(
    model: CavityModel,
    rho0: ArrayLike,
    times: ArrayLike,
    fock_dim: int,
    base_frequency: float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> ComplexArray:
    """Integrate the full master equation in the internal frame (DOP853, tight tolerances).

    Args:
        model: the lab-frame model.
        rho0: initial density matrix on spins (x) Fock(fock_dim) at t = times[0], internal frame.
        times: increasing output times (t = 0 is the phase reference of all tones).
        fock_dim: Fock-space cutoff.
        base_frequency: passed to :func:`floquet_structure`.

    Returns:
        (len(times), d, d) density matrices, spins in the output frames and the cavity in the frame
        ``floquet_structure(model, base_frequency).cavity_frame``.
    """
    structure = floquet_structure(model, base_frequency)
    generator = liouvillian(*full_hamiltonian(model, structure, fock_dim))
    orders, stack = generator.coefficient_stack()
    omega = structure.base_frequency * orders
    rho0 = np.asarray(rho0, dtype=complex)
    dim = rho0.shape[0]
    n_terms = orders.size + 1

    def rhs(t: float, vec: ComplexArray) -> ComplexArray:
        parts = (stack @ vec).reshape(n_terms, dim * dim)
        return parts[0] + np.exp(1j * omega * t) @ parts[1:]

    times = np.asarray(times, dtype=float)
    sol = solve_ivp(
        rhs,
        (times[0], times[-1]),
        rho0.reshape(-1),
        method="DOP853",
        t_eval=times,
        rtol=rtol,
        atol=atol,
    )
    if not sol.success:
        raise RuntimeError(f"time integration failed: {sol.message}")
    return sol.y.T.reshape(times.size, dim, dim)


# ----------------------------------------------------------------------------------------------
# Effective spin couplings: single-excitation Floquet analysis
# ----------------------------------------------------------------------------------------------


def _single_excitation_generator(
    model: CavityModel, structure: FloquetStructure
) -> tuple[ComplexArray, NDArray[np.int64], ComplexArray]:
    """Single-excitation Hamiltonian ``H1(t) = static + sum_m X_m exp(i m Omega_b t)``.

    Basis: ``|l>`` = ensemble l raised once from ``m = -S`` with the cavity empty (l = 0..L-1),
    then ``|photon>`` = all spins at ``m = -S`` with one photon. Non-Hermitian: the photon state
    carries ``-i kappa / 2`` and spin state l carries ``-i S gamma_l`` (their jumps leave the
    manifold; ``<S^+ S^-> = 2S``). Energies are relative to the decoupled zero-excitation state.
    """
    n_ens = model.n_ensembles
    static = np.diag(
        np.concatenate(
            [
                model.detunings - 1j * model.spin * model.spin_decay,
                [structure.cavity_detuning - 0.5j * model.kappa],
            ]
        )
    ).astype(complex)
    amplitude = sqrt(2 * model.spin)  # <-S| S^- |-S+1>
    terms: dict[int, ComplexArray] = {}
    for ens in range(n_ens):
        for j, c in enumerate(model.raman_couplings * model.cavity_weights[ens]):
            if c == 0:
                continue
            order = int(structure.raman_harmonics[j, ens])
            for m, (row, col), value in (
                (order, (n_ens, ens), amplitude * c),
                (-order, (ens, n_ens), amplitude * np.conj(c)),
            ):
                terms.setdefault(m, np.zeros((n_ens + 1, n_ens + 1), complex))[row, col] += value
    orders = np.array(sorted(terms), dtype=np.int64)
    stack = np.array([terms[m] for m in orders]).reshape(-1, n_ens + 1, n_ens + 1)
    return static, orders, stack


def _magnus4_steps(
    static: ComplexArray,
    orders: NDArray[np.int64],
    stack: ComplexArray,
    omega_b: float,
    n_steps: int,
) -> ComplexArray:
    """Propagators over [k h, (k+1) h], h = T / n_steps (4th-order Gauss-Legendre Magnus)."""
    h = 2.0 * pi / omega_b / n_steps
    start = np.arange(n_steps) * h
    nodes = [start + (0.5 - sqrt(3) / 6) * h, start + (0.5 + sqrt(3) / 6) * h]
    gens = []
    for t in nodes:
        phases = np.exp(1j * omega_b * np.outer(t, orders))
        gens.append(-1j * (static + np.einsum("tm,mij->tij", phases, stack)))
    a1, a2 = gens
    magnus = 0.5 * h * (a1 + a2) + (sqrt(3) / 12) * h**2 * (a2 @ a1 - a1 @ a2)
    return sla.expm(magnus)


def _prefix_products(steps: ComplexArray) -> ComplexArray:
    """``out[k] = steps[k-1] ... steps[0]`` for k = 0..n (out[0] = identity)."""
    out = np.empty((steps.shape[0] + 1,) + steps.shape[1:], complex)
    out[0] = np.eye(steps.shape[1])
    for k, step in enumerate(steps):
        out[k + 1] = step @ out[k]
    return out


@dataclass(frozen=True)
class SingleExcitationFloquet:
    """Floquet data of the single-excitation manifold (see :func:`single_excitation_floquet`).

    Attributes:
        quasi_energies: (L,) complex quasi-energies of the spin-like Floquet modes, on the branch
            of each mode's dominant spin harmonic (Im = -decay rate / 2).
        spin_modes: (L, L) period-averaged spin projection of each mode (columns).
        mode_purity: (L,) fraction of each mode's spin weight in its dominant harmonic. Values
            well below 1 mean a beat is resonant with a detuning difference: the spins then see
            a time-dependent coupling that no static H_eff in the output frames describes.
        stroboscopic_modes: (L, L) spin projection at t = 0 mod T.
        period_propagator: (L+1, L+1) one-period propagator (spin states, then photon).
        structure: the Floquet structure used.
        n_steps: time steps per period.
    """

    quasi_energies: ComplexArray
    spin_modes: ComplexArray
    mode_purity: FloatArray
    stroboscopic_modes: ComplexArray
    period_propagator: ComplexArray
    structure: FloquetStructure
    n_steps: int

    def effective_hamiltonian(self, stroboscopic: bool = False) -> ComplexArray:
        """Bloch effective Hamiltonian ``B diag(quasi_energies) B^-1`` on the spin block."""
        modes = self.stroboscopic_modes if stroboscopic else self.spin_modes
        return modes @ np.diag(self.quasi_energies) @ np.linalg.inv(modes)


def single_excitation_floquet(
    model: CavityModel, base_frequency: float | None = None, steps_per_cycle: int = 48
) -> SingleExcitationFloquet:
    """Exact Floquet analysis of the single-excitation manifold (Raman tones only).

    The propagator over one period is a time-ordered product of 4th-order Magnus steps, with
    ``steps_per_cycle`` steps per cycle of the fastest frequency in the problem. Its L spin-like
    eigenvectors (all but the one with the largest photon weight) are followed over the period;
    the Fourier series of each mode's spin projection fixes the quasi-energy branch (dominant
    harmonic) and gives the period-averaged mode.
    """
    structure = floquet_structure(model, base_frequency, include_rabi=False)
    static, orders, stack = _single_excitation_generator(model, structure)
    omega_b = structure.base_frequency
    fastest = (
        omega_b * structure.max_harmonic
        + np.max(np.abs(np.diag(static)))
        + np.sum(np.abs(stack), axis=(0, 1)).max(initial=0.0)
    )
    n_steps = max(16, steps_per_cycle * ceil(fastest / omega_b))
    props = _prefix_products(_magnus4_steps(static, orders, stack, omega_b, n_steps))
    period_prop = props[-1]
    evals, evecs = np.linalg.eig(period_prop)
    n_ens = model.n_ensembles
    photon_like = int(np.argmax(np.abs(evecs[n_ens]) ** 2 / np.sum(np.abs(evecs) ** 2, axis=0)))
    spin_like = np.delete(np.arange(n_ens + 1), photon_like)
    evals, evecs = evals[spin_like], evecs[:, spin_like]
    period = structure.period
    eps = 1j * np.log(evals) / period  # principal branch, Re in (-Omega_b/2, Omega_b/2]
    t_grid = np.arange(n_steps) * (period / n_steps)
    spin_traj = (props[:-1, :n_ens, :] @ evecs) * np.exp(1j * np.outer(t_grid, eps))[:, None, :]
    spectrum = np.fft.fft(spin_traj, axis=0) / n_steps  # (harmonic, spin component, mode)
    weights = np.sum(np.abs(spectrum) ** 2, axis=1)  # (harmonic, mode)
    dominant = np.argmax(weights, axis=0)
    signed = np.where(dominant < n_steps // 2, dominant, dominant - n_steps)
    modes = spectrum[dominant, :, np.arange(n_ens)].T
    return SingleExcitationFloquet(
        quasi_energies=eps - signed * omega_b,
        spin_modes=modes,
        mode_purity=weights[dominant, np.arange(n_ens)] / weights.sum(axis=0),
        stroboscopic_modes=evecs[:n_ens],
        period_propagator=period_prop,
        structure=structure,
        n_steps=n_steps,
    )


def effective_spin_couplings(
    model: CavityModel,
    base_frequency: float | None = None,
    steps_per_cycle: int = 48,
    include_bare: bool = False,
    stroboscopic: bool = False,
    min_purity: float = 0.9,
) -> ComplexArray:
    """Effective spin-spin generator ``J`` (L x L): ``H_eff = sum_ml J_ml S_m^+ S_l^-``.

    The cavity is eliminated exactly (numerically): the single-excitation manifold
    {one ensemble raised by one, cavity empty} + {all spins at -S, one photon} is propagated with
    the full time-dependent Hamiltonian over one common period (photon loss as ``-i kappa / 2``),
    and the Bloch effective Hamiltonian of the spin block is formed from the exact quasi-energies
    and the period-averaged (zero-harmonic) spin projections of the spin-like Floquet modes::

        H1 = B diag(eps) B^-1,      J = (H1 - diag(delta_l - i S gamma_l)) / (2S)

    Why this choice: it is the Bloch effective Hamiltonian of the Floquet (Sambe) operator for
    the model space {spin states, harmonic 0}. Its eigenvalues are the exact quasi-energies
    (error only from the time step, ~ steps_per_cycle^-4, typically 1e-8 relative) and its
    eigenvectors are the period-averaged spin parts of the exact Floquet modes, so
    ``exp(-i H1 t)`` reproduces the slow, period-averaged spin dynamics. Residual differences to
    other effective-Hamiltonian conventions (des Cloizeaux, van Vleck) come from photon dressing
    of the modes, O(|J| |c|^2/|D|^2), and from micromotion at beat frequencies nu_b,
    O(|J|^2/|nu_b|); the stroboscopic variant (modes at t = 0) differs from the period average
    by the same micromotion terms. Branches: each quasi-energy is taken on the branch of its
    mode's dominant spin harmonic, so bare detunings larger than Omega_b are returned as is.

    Conventions: entry ``[m, l]`` is the coefficient of ``S_m^+ S_l^-`` (amplitude from l to m)
    in the output frames. Hermitian part = coherent exchange and self shifts, anti-Hermitian part
    ``-(i/2) G``: ``G = i (J - J^dag)`` is the decay-rate matrix of the induced dissipator
    ``sum_ml G_ml (S_l^- rho S_m^+ - ...)``. Rabi tones are ignored (they do not conserve the
    excitation number). For S > 1/2 only the exchange (quadratic) part is probed; the division
    by 2S normalises ``<-S+1| S^+ S^- |-S+1> = 2S``.

    Args:
        model: the lab-frame model.
        base_frequency: see :func:`floquet_structure`.
        steps_per_cycle: Magnus steps per cycle of the fastest frequency (error ~ steps^-4).
        include_bare: if True add the bare single-spin coefficients ``delta_l - i gamma_l / 2``
            to the diagonal (for S = 1/2, where ``delta S^z = delta S^+ S^- + const``, this
            returns the full single-excitation effective Hamiltonian ``H1``).
        stroboscopic: use the t = 0 spin projections instead of the period average.
        min_purity: warn (:class:`FloquetResonanceWarning`) if a mode has less than this
            fraction of its spin weight in its dominant harmonic, i.e. a beat frequency is
            resonant with a difference of detunings and the spins see a time-dependent coupling.
    """
    floquet = single_excitation_floquet(model, base_frequency, steps_per_cycle)
    if floquet.mode_purity.min() < min_purity:
        warnings.warn(
            f"Floquet mode purities {np.round(floquet.mode_purity, 3)}: a beat is resonant with "
            "a detuning difference; the static effective couplings are not meaningful",
            FloquetResonanceWarning,
            stacklevel=2,
        )
    h1 = floquet.effective_hamiltonian(stroboscopic)
    bare_h1 = np.diag(model.detunings - 1j * model.spin * model.spin_decay)
    couplings = (h1 - bare_h1) / (2 * model.spin)
    if include_bare:
        couplings += np.diag(model.detunings - 0.5j * model.spin_decay)
    return couplings


def split_couplings(couplings: ArrayLike) -> tuple[ComplexArray, ComplexArray]:
    """Split ``J = Jh - (i/2) G`` into the Hermitian part Jh and the decay-rate matrix G."""
    j = np.asarray(couplings, dtype=complex)
    return 0.5 * (j + j.conj().T), 1j * (j - j.conj().T)


# ----------------------------------------------------------------------------------------------
# Periodic steady state: Floquet-Liouville harmonic expansion
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloquetSteadyState:
    """Periodic steady state ``rho(t) = sum_n rho_n exp(i n Omega_b t)`` of the master equation.

    Attributes:
        harmonics: (H,) harmonic indices n = -N..N.
        density_harmonics: (H, d, d) Fourier components on spins (x) Fock (internal frame).
        structure: Floquet structure (base frequency, cavity frame).
        spin_dim: spin Hilbert-space dimension (2S+1)^L.
        fock_dim: Fock cutoff.
        residual: ||A x - b|| of the truncated harmonic linear system.
        iterations: GMRES iterations used.
    """

    harmonics: NDArray[np.int64]
    density_harmonics: ComplexArray
    structure: FloquetStructure
    spin_dim: int
    fock_dim: int
    residual: float
    iterations: int

    def full_state(self, time: float | None = None) -> ComplexArray:
        """Period-averaged state (time None) or the state at ``time`` (spins (x) Fock)."""
        if time is None:
            return self.density_harmonics[self.harmonics == 0][0]
        phases = np.exp(1j * self.structure.base_frequency * self.harmonics * time)
        return np.tensordot(phases, self.density_harmonics, axes=1)

    def spin_state(self, time: float | None = None) -> ComplexArray:
        """Reduced spin density matrix (cavity traced out), period-averaged or at ``time``."""
        return partial_trace_cavity(self.full_state(time), self.spin_dim, self.fock_dim)

    def photon_number(self) -> float:
        """Period-averaged mean photon number."""
        rho = self.full_state().reshape(self.spin_dim, self.fock_dim, self.spin_dim, self.fock_dim)
        return float(np.real(np.einsum("apap,p->", rho, np.arange(self.fock_dim))))

    def harmonic_weights(self) -> FloatArray:
        """Frobenius norm of each harmonic (decay towards the edges shows truncation quality)."""
        return np.linalg.norm(self.density_harmonics, axis=(1, 2))


def partial_trace_cavity(rho: ArrayLike, spin_dim: int, fock_dim: int) -> ComplexArray:
    """Trace the cavity out of a density matrix on spins (x) Fock (photon least significant)."""
    rho = np.asarray(rho).reshape(spin_dim, fock_dim, spin_dim, fock_dim)
    return np.einsum("apbp->ab", rho)


class _HarmonicSystem:
    """Matrix-free truncated Floquet-Liouville system with one row replaced by the trace.

    Unknown ``(n, alpha)`` (flat index ``(n + N) D + alpha``) is component alpha of rho_n,
    n = -N..N. Row ``(n, alpha)`` reads ``[(L0 - i n Omega_b) rho_n + sum_m L_m rho_{n-m}]_alpha``,
    except ``trace_row`` (a population equation of rho_0, redundant by trace preservation),
    which reads ``Tr rho_0``. Harmonics outside [-N, N] are dropped.
    """

    def __init__(self, generator: FourierOperator, n_max: int, omega_b: float, trace_row: int):
        self.dim = generator.static.shape[0]
        self.side = int(round(sqrt(self.dim)))
        self.n_max = n_max
        self.n_harm = 2 * n_max + 1
        self.size = self.n_harm * self.dim
        self.shifts = -1j * omega_b * np.arange(-n_max, n_max + 1)
        self.terms = [(0, generator.static.tocsr())] + [
            (m, op.tocsr()) for m, op in generator.harmonics.items() if abs(m) < self.n_harm
        ]
        self.terms_csc = [(m, op.tocsc()) for m, op in self.terms]
        self.trace_row = trace_row
        self.trace_cols = n_max * self.dim + np.arange(self.side) * (self.side + 1)

    def matvec(self, x: ComplexArray) -> ComplexArray:
        """Apply the system matrix."""
        xs = x.reshape(self.n_harm, self.dim)
        out = self.shifts[:, None] * xs
        for m, op in self.terms:
            src = slice(max(0, -m), self.n_harm - max(0, m))
            dst = slice(max(0, m), self.n_harm + min(0, m))
            out[dst] += (op @ xs[src].T).T
        out = out.reshape(-1)
        out[self.trace_row] = x[self.trace_cols].sum()
        return out

    def rows(self, index: NDArray[np.int64]) -> sp.csr_matrix:
        """Rows ``index`` (sorted flat indices) of the system matrix, as a sparse matrix."""
        harm, alpha = np.divmod(index, self.dim)
        parts = []
        for h in np.unique(harm):
            sel = np.nonzero(harm == h)[0]
            parts.append((sel, (h * self.dim + alpha[sel]), np.full(sel.size, self.shifts[h])))
            for m, op in self.terms:
                if 0 <= h - m < self.n_harm:
                    sub = op[alpha[sel]].tocoo()
                    parts.append((sel[sub.row], (h - m) * self.dim + sub.col, sub.data))
        block = _assemble(parts, (index.size, self.size)).tolil()
        pos = np.searchsorted(index, self.trace_row)
        if pos < index.size and index[pos] == self.trace_row:
            block.rows[pos] = list(self.trace_cols)
            block.data[pos] = [1.0] * self.side
        return block.tocsr()

    def columns(self, index: NDArray[np.int64]) -> sp.csc_matrix:
        """Columns ``index`` (flat indices) of the system matrix, as a sparse matrix."""
        harm, alpha = np.divmod(index, self.dim)
        parts = []
        for h in np.unique(harm):
            sel = np.nonzero(harm == h)[0]
            parts.append((h * self.dim + alpha[sel], sel, np.full(sel.size, self.shifts[h])))
            for m, op in self.terms_csc:
                if 0 <= h + m < self.n_harm:
                    sub = op[:, alpha[sel]].tocoo()
                    parts.append(((h + m) * self.dim + sub.row, sel[sub.col], sub.data))
        block = _assemble(parts, (self.size, index.size)).tocsr()
        block = block.multiply(
            (np.arange(self.size) != self.trace_row)[:, None].astype(float)
        ).tocsr()
        trace_hits = np.nonzero(np.isin(index, self.trace_cols))[0]
        trace = sp.csr_matrix(
            (np.ones(trace_hits.size), (np.full(trace_hits.size, self.trace_row), trace_hits)),
            shape=block.shape,
        )
        return (block + trace).tocsc()


def _assemble(
    parts: list[tuple[NDArray, NDArray, NDArray]], shape: tuple[int, int]
) -> sp.coo_matrix:
    """Sum (row, col, value) triplets into a sparse matrix."""
    rows, cols, vals = (np.concatenate(p) for p in zip(*parts))
    return sp.coo_matrix((vals, (rows, cols)), shape=shape)


def _slow_indices(
    energies: FloatArray, spin_dim: int, fock_dim: int, n_max: int, omega_b: float, cutoff: float
) -> NDArray[np.int64]:
    """Unknowns (n, i, j) with i, j photon-vacuum states and |E_i - E_j + n Omega_b| <= cutoff."""
    dim = spin_dim * fock_dim
    vac = np.arange(spin_dim) * fock_dim
    freq = energies[vac][:, None] - energies[vac][None, :]
    picked = []
    for n in range(-n_max, n_max + 1):
        i, j = np.nonzero(np.abs(freq + n * omega_b) <= cutoff)
        picked.append((n + n_max) * dim * dim + vac[i] * dim + vac[j])
    return np.sort(np.concatenate(picked))


class _SchurPreconditioner:
    """Exact solve of ``P = [[A_XX, A_XY], [A_YX, M_YY]]``, an approximation of the system A.

    X are the slow spin-sector unknowns (near-singular in the static part), Y all others, and
    ``M = diag_n (L0 - i n Omega_b)`` is the block-diagonal static part. Because the Hamiltonian
    static part is diagonal and the jump terms only lower excitations, ``M = D + N`` with D
    diagonal and N nilpotent, so ``M_YY^-1`` is an exact finite Neumann series. The Schur
    complement ``A_XX - A_XY M_YY^-1 A_YX`` (a numerically formed second-order effective spin
    Liouvillian) is factorised densely. P is only a preconditioner: GMRES solves A exactly.
    """

    def __init__(
        self, system: _HarmonicSystem, static: sp.csr_matrix, slow: NDArray[np.int64], depth: int
    ):
        fast_mask = np.ones(system.size, bool)
        fast_mask[slow] = False
        self.slow = slow
        self.depth = depth
        self.n_harm, self.dim = system.n_harm, system.dim
        diag = np.tile(static.diagonal(), self.n_harm) + np.repeat(system.shifts, self.dim)
        if np.min(np.abs(diag[fast_mask]), initial=np.inf) < 1e-12 * np.max(np.abs(diag)):
            raise ValueError(
                "static part is singular outside the spin sector (kappa = 0 with fock_dim > 1?)"
            )
        self.diag_inv = np.where(fast_mask, 1.0 / np.where(fast_mask, diag, 1.0), 0.0)
        self.lowering = (static - sp.diags(static.diagonal())).tocsr()
        self.lowering.eliminate_zeros()
        self.a_xy = system.rows(slow)
        a_yx = sp.diags(fast_mask.astype(float)) @ system.columns(slow)
        self.k_yx = self._fast_solve_sparse(a_yx.tocsr())
        schur = (self.a_xy[:, slow] - self.a_xy @ self.k_yx).toarray()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sla.LinAlgWarning)
            self.lu_slow = sla.lu_factor(schur, check_finite=False)
        pivots = np.abs(np.diag(self.lu_slow[0]))
        if pivots.min() <= 1e-13 * pivots.max():
            raise RuntimeError(
                "the effective spin Liouvillian is singular: the steady state is not unique "
                "(add cavity-mediated or free-space dissipation)"
            )

    def _lower(self, z: ComplexArray) -> ComplexArray:
        """Apply the nilpotent part N (harmonic-diagonal) to a flat vector."""
        zs = z.reshape(self.n_harm, self.dim)
        return (self.lowering @ zs.T).T.reshape(-1)

    def _fast_solve(self, rhs: ComplexArray) -> ComplexArray:
        """``M_YY^-1 rhs`` (entries on X ignored / returned as 0), exact Neumann series."""
        z = self.diag_inv * rhs
        for _ in range(self.depth):
            z = self.diag_inv * (rhs - self._lower(z))
        return z

    def _fast_solve_sparse(self, rhs: sp.csr_matrix) -> sp.csr_matrix:
        """Sparse-matrix version of :meth:`_fast_solve` (columns = right-hand sides)."""
        lower = sp.kron(sp.identity(self.n_harm), self.lowering, format="csr")
        d_inv = sp.diags(self.diag_inv)
        z = d_inv @ rhs
        for _ in range(self.depth):
            z = d_inv @ (rhs - lower @ z)
        return z.tocsr()

    def solve(self, rhs: ComplexArray) -> ComplexArray:
        """Solve ``P z = rhs``."""
        u = self._fast_solve(rhs)
        z_slow = sla.lu_solve(self.lu_slow, rhs[self.slow] - self.a_xy @ u)
        z = u - self.k_yx @ z_slow
        z[self.slow] = z_slow
        return z


def default_harmonic_cutoff(structure: FloquetStructure) -> int:
    """Default truncation N = 2 R + 4, R the largest harmonic of any term (0 if static).

    Two-photon coherences and photon-photon beats reach harmonic 2R; with N = 2R + 4 the
    period-averaged state is typically converged to ~1e-11 and the stroboscopic one to ~1e-8.
    """
    return 2 * structure.max_harmonic + 4 if structure.max_harmonic else 0


def solve_floquet_steady_state(
    model: CavityModel,
    fock_dim: int = 3,
    n_harmonics: int | None = None,
    base_frequency: float | None = None,
    tol: float = 1e-11,
    slow_cutoff: float | None = None,
    max_iterations: int = 400,
) -> FloquetSteadyState:
    """Periodic steady state of the full master equation by a Floquet-Liouville expansion.

    ``rho(t) = sum_{|n|<=N} rho_n exp(i n Omega_b t)`` turns ``d rho/dt = L(t) rho`` into the
    linear system ``(L0 - i n Omega_b) rho_n + sum_m L_m rho_{n-m} = 0`` (harmonics outside
    [-N, N] dropped), with one population equation of rho_0 replaced by ``Tr rho_0 = 1``. It is
    solved with right-preconditioned GMRES; the preconditioner is exact on the block-diagonal
    static part for all fast unknowns and on a numerically formed Schur complement (effective
    Liouvillian) for the slow spin-sector unknowns. The only approximations are the Fock cutoff
    ``fock_dim`` and the harmonic cutoff ``n_harmonics`` (= N); check convergence in both.

    Args:
        model: the lab-frame model (kappa > 0 or spin decay needed for a unique steady state).
        fock_dim: Fock-space cutoff (photon numbers 0..fock_dim-1).
        n_harmonics: harmonic cutoff N (default :func:`default_harmonic_cutoff`).
        base_frequency: see :func:`floquet_structure`.
        tol: required relative residual of the linear system.
        slow_cutoff: spin-sector unknowns with |frequency| <= slow_cutoff are treated exactly in
            the preconditioner (default: max(Omega_b / 2, 3 x largest Rabi amplitude)).
        max_iterations: GMRES iteration cap.

    Raises:
        RuntimeError: if GMRES does not reach ``tol`` (e.g. no unique steady state).
    """
    structure = floquet_structure(model, base_frequency)
    hamiltonian, jumps = full_hamiltonian(model, structure, fock_dim)
    generator = liouvillian(hamiltonian, jumps)
    omega_b = structure.base_frequency
    n_max = default_harmonic_cutoff(structure) if n_harmonics is None else int(n_harmonics)
    spin_dim = model.spin_dim**model.n_ensembles
    dim = spin_dim * fock_dim

    trace_row = n_max * dim * dim  # population of state 0 (top spin state, vacuum) in rho_0
    system = _HarmonicSystem(generator, n_max, omega_b, trace_row)
    rhs = np.zeros(system.size, complex)
    rhs[trace_row] = 1.0

    if slow_cutoff is None:
        rabi = np.abs(model.rabi_weights * model.rabi_amplitudes[:, None])
        slow_cutoff = max(0.5 * omega_b, 3.0 * rabi.max(initial=0.0))
    slow = _slow_indices(
        np.real(hamiltonian.static.diagonal()), spin_dim, fock_dim, n_max, omega_b, slow_cutoff
    )
    # nilpotency index of the jump part: each jump lowers a photon or one ensemble's m by one
    depth = (fock_dim - 1) + int(round(2 * model.spin)) * model.n_ensembles
    precond = _SchurPreconditioner(system, generator.static, slow, depth)
    operator = spla.LinearOperator(
        (system.size, system.size), matvec=lambda v: system.matvec(precond.solve(v)), dtype=complex
    )
    counter = {"n": 0}

    def count(_: object) -> None:
        counter["n"] += 1

    restart = 40
    y, info = spla.gmres(
        operator,
        rhs,
        x0=np.zeros_like(rhs),
        rtol=tol,
        atol=0.0,
        restart=restart,
        maxiter=ceil(max_iterations / restart),
        callback=count,
        callback_type="pr_norm",
    )
    solution = precond.solve(y)
    residual = float(np.linalg.norm(system.matvec(solution) - rhs))
    if info != 0 or residual > 10 * tol:
        raise RuntimeError(
            f"Floquet steady state did not converge (info={info}, residual={residual:.2e}); "
            "is the steady state unique (kappa > 0 with Raman coupling, or spin decay)?"
        )
    harmonics = np.arange(-n_max, n_max + 1)
    return FloquetSteadyState(
        harmonics=harmonics,
        density_harmonics=solution.reshape(harmonics.size, dim, dim),
        structure=structure,
        spin_dim=spin_dim,
        fock_dim=fock_dim,
        residual=residual,
        iterations=counter["n"],
    )


def cavity_steady_state(
    model: CavityModel,
    fock_dim: int = 3,
    n_harmonics: int | None = None,
    time: float | None = None,
    base_frequency: float | None = None,
    tol: float = 1e-11,
) -> ComplexArray:
    """Reduced spin density matrix of the periodic steady state, in the output frames.

    Period-averaged by default; ``time`` gives the state at that time (``time=0`` is the
    stroboscopic state at t = 0 mod T). Basis |m_1..m_L>, ensemble 1 most significant,
    m = S..-S. See :func:`solve_floquet_steady_state` for the method and parameters.
    """
    state = solve_floquet_steady_state(model, fock_dim, n_harmonics, base_frequency, tol)
    return state.spin_state(time)


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def fidelity(rho: ArrayLike, psi: ArrayLike) -> float:
    """Fidelity ``<psi| rho |psi>`` of a density matrix with a pure state (psi normalised here)."""
    psi = np.asarray(psi, dtype=complex).reshape(-1)
    psi = psi / np.linalg.norm(psi)
    return float(np.real(psi.conj() @ np.asarray(rho) @ psi))
