"""Exact shot statistics of the Ramsey protocol (Fig. 4a, Eqs. 17-19) and its L-ensemble form (Sec. IV.B).

Protocol (Sec. III.D). The steady state |psi> acquires the differential phase
U_phi = exp(-i phi (S1z - S2z)); a global pi/2 pulse of random common phase theta,
R_theta(pi/2) = U_theta^dag X U_theta with X = exp(-i pi (S1x + S2x)/2) and
U_theta = exp(-i theta (S1z + S2z)), follows; each ensemble is measured in its z basis, giving m_j
and the excitation fraction p_j = m_j/(2S) + 1/2 (Eq. 18, with the typo of Sec. III.D fixed).

Derivation of the algorithms
----------------------------
1. U_theta^dag on the left multiplies <m_1, m_2| by a phase, so with per-ensemble phases
   alpha = (theta + phi, theta - phi), P(m | phi, theta) = |<m| X exp(-i sum_l alpha_l S_l^z) |psi>|^2.
   The same form, with any alpha_l, describes L ensembles (Sec. IV.B: common phase, gradient
   (3, 1, -1, -3) and curvature (1, -1, -1, 1) of Eq. 30).
2. S^y = Z S^x Z^dag with Z = exp(-i pi S^z / 2), hence exp(-i beta S^x) = Z^dag d(beta) Z with the
   real Wigner matrix d(beta) = exp(-i beta S^y). The left Z^dag is again an outcome phase, so
       P(m | alpha) = | sum_k prod_l d_{m_l k_l}(pi/2) exp(-i (alpha_l + pi/2) k_l) psi_k |^2 :
   the pulse's phase factors become a shift of every alpha_l by pi/2 and the real matrix
   d^S(pi/2), applied along each ensemble axis, does the work (:func:`wigner_small_d`).
3. Averaging theta uniformly over 2 pi removes the cross terms between different total
   magnetisations M = sum_l m_l: with psi_M the projection of U_phi|psi> on the sector M,
       P(m | phi) = sum_M |<m| X |psi_M>|^2,
   computed as one batched product over all sectors (:func:`ramsey_distribution`). Several
   generators with uniformly random phases (common and gradient, rho_c+g) give the sectors of
   their joint eigenvalues.
4. Two ensembles: P(m | phi) is a trigonometric polynomial of degree 2S in 2 phi. Writing
   psi_M(k) for the amplitude with m_1 = m_k, m_2 = M - m_k,
       P(m | phi) = sum_{k,k'} d_{m1 k} d_{m1 k'} exp(2 i phi (m_k' - m_k)) H_{m2}[k, k'],
       H_{m2}[k, k'] = sum_M psi_M(k) conj(psi_M(k')) d_{m2, M - m_k} d_{m2, M - m_k'},
   so its Fourier coefficient of lag l = m_k - m_k' is a sum along the l-th diagonal of H_{m2}:
   O(S^4) for the whole table instead of O(S^5) by sampling (:class:`PhaseLaw`). The CFI of
   Eq. (19) then follows with an analytic derivative.

Symmetries (pair steady states, any chi)
----------------------------------------
* P(m | phi + pi) = P(m | phi): U_pi = exp(-i pi M) up to a global phase, a shift of theta.
* P(m | -phi) = P(m | phi), the same outcome labels: each sector M = -J of Eq. (4) holds one c_J,
  so the averaged law depends only on |c_J|^2 and equals that of a real state, for which complex
  conjugation maps phi to -phi (X* = exp(+i pi S^x / 2) is X conjugated by a pi rotation about z).
  Hence P(m | pi - phi) = P(m | phi) and phi is identifiable in [0, pi/2] only.
* P(m_1, m_2 | pi/2 - phi) = P(m_1, -m_2 | phi) for any state: U_{pi/2} is a common rotation
  times exp(i pi S_2^z), which turns the pulse on ensemble 2 into exp(+i pi S^x / 2), i.e. X
  followed by a pi rotation that flips m_2. The CFI is therefore symmetric about pi/4 and
  vanishes at both ends of [0, pi/2].
* P(m_1, m_2 | phi) = P(-m_1, -m_2 | phi) = P(m_2, m_1 | phi) (theta -> theta + pi flips both
  outcomes; exchanging the ensembles maps phi -> -phi).
* For a fixed theta: P(m_1, m_2 | -phi, theta) = P(-m_2, -m_1 | phi, theta) -- the relabelling is a
  reflection of the (p_1, p_2) plane about the anti-diagonal p_1 + p_2 = 1, as Eq. (17) shows for
  the means.

Numerics
--------
d^S(beta) comes from the eigenvectors of the real symmetric tridiagonal S^x (exact eigenvalues
m substituted): d = Re[Z U diag(e^{-i beta m}) U^T Z^dag]. It is orthogonal to 2e-15 and agrees
with the closed form d_{S,m}(pi/2) = 2^{-S} binom(2S, S - m)^{1/2} to 1e-14 absolute for S <= 100
(3e-14 at S = 200). Elements far below 1e-14 are not resolved relatively, so a probability is
accurate to ~1e-14 sqrt(P) + 1e-28 absolute -- ample for likelihoods of observed outcomes.

Sampling (:func:`sample_ramsey`) uses a different algorithm from the averaged law: it draws the
random phases, computes the exact fixed-phase law P(m | alpha) for each draw (no sector
decomposition) and samples it by inverse CDF, vectorised over batches of draws. Up to
``n_batches`` shots every shot has its own independent phases (exact i.i.d. shots). Beyond that
the first random generator is stratified into ``n_batches`` equal strata with one jittered phase
each (further generators, e.g. the gradient, get one independent uniform phase per stratum),
every shot picks a stratum uniformly at random and shots in one stratum share its phases:
each shot's phase is still exactly uniform, and the only departure from i.i.d. shots is that
phases within one stratum (width 2 pi / n_batches) coincide. At S = 50 and 4096 strata the mean
(p_1, p_2) moves by at most 2S |a| (2 pi/4096) ~ 0.1 outcome cells across a stratum. A second
random generator has no such smallness (its shared phase is a real correlation): with two random
generators, draw at most ``n_batches`` shots per call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import eigh_tridiagonal

from labctl.errors import InputError
from labctl.sim.mixed import sector_labels, z_diagonal
from labctl.sim.spin import dimension, magnetic_numbers

__all__ = [
    "PhaseLaw",
    "cfi_curve",
    "classical_fisher",
    "excitation_fractions",
    "outcome_distribution",
    "phase_law",
    "ramsey_distribution",
    "sample_ramsey",
    "sample_shots",
    "wigner_small_d",
]

#: Complex amplitudes per block of the rotation (8 MB: small blocks keep the transposes in cache).
BATCH_AMPLITUDES = 2**19
#: Distinct random-phase draws of :func:`sample_ramsey` (beyond this, stratified phases are shared).
N_BATCHES = 4096
#: Probabilities below this count as zero in the Fisher information (the table's rounding level).
ZERO_PROBABILITY = 1e-14


# --------------------------------------------------------------------------------------------
# Rotation
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _small_d(spin: float, beta: float) -> np.ndarray:
    m = magnetic_numbers(spin)
    raising = 0.5 * np.sqrt(spin * (spin + 1) - m[1:] * (m[1:] + 1))  # <m+1|S^x|m>
    _, vectors = eigh_tridiagonal(np.zeros(m.size), raising)
    eigenvalues = np.sort(m)  # exact eigenvalues of S^x, ascending like eigh's
    z = np.exp(-0.5j * np.pi * m)
    rotation = (vectors * np.exp(-1j * beta * eigenvalues)) @ vectors.T
    d = (z[:, None] * rotation * z.conj()[None, :]).real
    d.setflags(write=False)
    return d


def wigner_small_d(spin: float, beta: float = math.pi / 2) -> np.ndarray:
    """The real Wigner matrix d^S(beta) = exp(-i beta S^y) in the basis m = S..-S (read-only, cached).

    Built from the eigenvectors of the tridiagonal S^x (see the module docstring for accuracy).
    """
    return _small_d(float(spin), float(beta))


def _rotated_probabilities(amplitudes: np.ndarray, spin: float) -> np.ndarray:
    """|<m| d^{(x)L} |a_b>|^2 for a batch of L-index tensors a_b, shape (B, n, ..., n).

    Each pass contracts the last axis with d (one real GEMM on the stacked real and imaginary
    parts) and moves the new axis to the front, so after L passes the axes are back in order.
    """
    d = wigner_small_d(spin)
    n, batch = d.shape[0], amplitudes.shape[0]
    parts = np.concatenate([amplitudes.real, amplitudes.imag])
    for _ in range(amplitudes.ndim - 1):
        shape = parts.shape
        parts = np.ascontiguousarray(np.moveaxis((parts.reshape(-1, n) @ d.T).reshape(shape), -1, 1))
    return parts[:batch] ** 2 + parts[batch:] ** 2


def _phase_tensor(spin: float, alphas: np.ndarray) -> np.ndarray:
    """prod_l exp(-i (alpha_l + pi/2) m_l) for each row of alphas (B, L) -> (B, n, ..., n)."""
    m = magnetic_numbers(spin)
    factors = np.exp(-1j * (alphas[:, :, None] + np.pi / 2) * m[None, None, :])
    tensor = factors[:, 0]
    for l in range(1, alphas.shape[1]):
        tensor = tensor[..., None] * factors[:, l].reshape((-1,) + (1,) * l + (m.size,))
    return tensor


def _batches(count: int, size: int) -> list[slice]:
    """Slices of ``range(count)`` whose blocks hold about BATCH_AMPLITUDES amplitudes of ``size``."""
    step = max(1, BATCH_AMPLITUDES // size)
    return [slice(start, min(start + step, count)) for start in range(0, count, step)]


# --------------------------------------------------------------------------------------------
# Outcome laws
# --------------------------------------------------------------------------------------------
def _tensor(state) -> np.ndarray:
    """The state's product vector as an L-index tensor (i_l = S - m_l)."""
    return np.asarray(state.vector).reshape((dimension(state.spin),) * state.n_ensembles)


def _weights(state, generator) -> np.ndarray:
    """z weights of a phase generator: 'common', 'gradient' or one weight per ensemble."""
    return state.phase_weights(generator)


def _as_phases(phases: Sequence[float], n_ensembles: int) -> np.ndarray:
    alphas = np.asarray(phases, dtype=float)
    if alphas.shape != (n_ensembles,) or not np.all(np.isfinite(alphas)):
        raise InputError(f"phases {phases!r} must be {n_ensembles} finite angles (radians), one per ensemble")
    return alphas


def ramsey_distribution(state, phases: Sequence[float], averaged: Sequence = ()) -> np.ndarray:
    """Outcome law P(m_1..m_L) of exp(-i sum_l alpha_l S_l^z), the pi/2 pulse and a z measurement.

    ``phases`` are the alpha_l (radians); each generator in ``averaged`` ('common', 'gradient' or
    z weights per ensemble) receives an additional uniformly random phase, i.e. the law of the
    phase-averaged state (Eq. 15, rho_c+g of Sec. IV.B). Returns an array of shape (2S+1,)*L
    indexed like the product basis (index i_l <-> m_l = S - i_l).
    """
    psi = _tensor(state)
    alphas = _as_phases(phases, state.n_ensembles)
    rotated = psi * _phase_tensor(state.spin, alphas[None])[0]
    if not averaged:
        return _rotated_probabilities(rotated[None], state.spin)[0]
    labels = sector_labels([z_diagonal(state.spin, state.n_ensembles, _weights(state, g)) for g in averaged])
    flat = rotated.reshape(-1)
    occupied = np.flatnonzero(flat)
    sectors, local = np.unique(labels[occupied], return_inverse=True)
    law = np.zeros(psi.shape)
    for block in _batches(sectors.size, flat.size):
        rows = np.flatnonzero((local >= block.start) & (local < block.stop))
        tensors = np.zeros((block.stop - block.start, flat.size), dtype=complex)
        tensors[local[rows] - block.start, occupied[rows]] = flat[occupied[rows]]
        law += _rotated_probabilities(tensors.reshape((-1,) + psi.shape), state.spin).sum(axis=0)
    return law


def _require_pair(state) -> None:
    if state.n_ensembles != 2:
        raise InputError(
            f"this two-ensemble protocol (Sec. III.D) needs L = 2; the state has L = {state.n_ensembles}"
        )


def outcome_distribution(state, phi: float, theta: float | None = None) -> np.ndarray:
    """P(m_1, m_2 | phi, theta) of Eq. (18), or its uniform average over theta for ``theta=None``.

    Returns a (2S+1) x (2S+1) array P[i_1, i_2] with m_j = S - i_j, i.e. p_j = 1 - i_j/(2S)
    (:func:`excitation_fractions`).
    """
    _require_pair(state)
    if theta is None:
        return ramsey_distribution(state, (phi, -phi), averaged=("common",))
    return ramsey_distribution(state, (theta + phi, theta - phi))


def excitation_fractions(spin: float) -> np.ndarray:
    """p = m/(2S) + 1/2 in basis order m = S..-S, i.e. 1, 1 - 1/(2S), ..., 0."""
    return magnetic_numbers(spin) / (2 * spin) + 0.5


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------
def _random_phases(n_draws: int, n_generators: int, stratified: bool, rng: np.random.Generator) -> np.ndarray:
    """Uniform phases in [0, 2 pi), shape (n_draws, n_generators); the first column stratified."""
    phases = rng.uniform(0.0, 2 * np.pi, (n_draws, n_generators))
    if stratified and n_generators:
        phases[:, 0] = 2 * np.pi * (np.arange(n_draws) + rng.random(n_draws)) / n_draws
    return phases


def _inverse_cdf(laws: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat outcome indices: counts[b] draws from each normalised row laws[b] (by inverse CDF).

    The rows' CDFs are offset by their row number to form one increasing array, so a single
    searchsorted serves the whole block; the offset limits the CDF's resolution to
    rows x 2.2e-16 (< 3e-11 even for S = 1/2, statistically irrelevant).
    """
    cdf = np.cumsum(laws, axis=1)
    cdf /= cdf[:, -1:]
    rows = np.arange(laws.shape[0])
    cdf += rows[:, None]
    targets = np.repeat(rows, counts) + rng.random(int(counts.sum()))
    flat = np.searchsorted(cdf.reshape(-1), targets, side="right")
    return flat - np.repeat(rows, counts) * laws.shape[1]


def sample_ramsey(
    state,
    phases: Sequence[float],
    n_shots: int,
    rng: np.random.Generator | int | None = None,
    random: Sequence = ("common",),
    *,
    n_batches: int = N_BATCHES,
) -> np.ndarray:
    """Draw shots of the L-ensemble Ramsey protocol: excitation fractions, shape (n_shots, L).

    ``phases`` are the fixed alpha_l; each generator in ``random`` adds a uniformly random phase
    drawn anew per shot (see the module docstring for the batching beyond ``n_batches`` shots).
    """
    if isinstance(n_shots, bool) or not isinstance(n_shots, (int, np.integer)) or n_shots < 1:
        raise InputError(f"n_shots = {n_shots!r} must be a positive integer")
    rng = np.random.default_rng(rng)
    alphas = _as_phases(phases, state.n_ensembles)
    weights = np.array([_weights(state, g) for g in random]).reshape(len(random), state.n_ensembles)
    n_draws = min(int(n_shots), int(n_batches)) if len(random) else 1
    draws = _random_phases(n_draws, len(random), n_draws < n_shots, rng)
    if n_draws == n_shots:
        counts = np.ones(n_draws, dtype=int)
    else:
        counts = rng.multinomial(n_shots, np.full(n_draws, 1 / n_draws))
    psi = _tensor(state)
    outcomes = []
    for block in _batches(n_draws, psi.size):
        tensors = psi[None] * _phase_tensor(state.spin, alphas[None] + draws[block] @ weights)
        laws = _rotated_probabilities(tensors, state.spin).reshape(tensors.shape[0], -1)
        outcomes.append(_inverse_cdf(laws, counts[block], rng))
    index = np.unravel_index(rng.permutation(np.concatenate(outcomes)), psi.shape)
    two_s = 2 * state.spin
    return np.column_stack([1.0 - i / two_s for i in index])


def sample_shots(
    state,
    phi: float,
    n_shots: int,
    rng: np.random.Generator | int | None = None,
    theta: float | None = None,
    *,
    n_batches: int = N_BATCHES,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw (p_1, p_2) shots of the protocol of Fig. 4(a) at differential phase phi.

    ``theta=None`` draws the common phase uniformly per shot (see the module docstring); a number
    fixes it. Independent of :func:`outcome_distribution`'s sector average, so tests of phase
    estimators built on the averaged law are not circular.
    """
    _require_pair(state)
    if theta is None:
        shots = sample_ramsey(state, (phi, -phi), n_shots, rng, ("common",), n_batches=n_batches)
    else:
        shots = sample_ramsey(state, (theta + phi, theta - phi), n_shots, rng, ())
    return shots[:, 0], shots[:, 1]


# --------------------------------------------------------------------------------------------
# The law as a trigonometric polynomial; classical Fisher information (Eq. 19)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PhaseLaw:
    """An outcome law that is a trigonometric polynomial in one phase:

        P(o | phi) = sum_h [coefficients[o, h] cos(h phi) + coefficients[o, H + h] sin(h phi)]

    over the H integer ``harmonics`` h; ``shape`` is the outcome grid (flat index o in C order).
    """

    harmonics: np.ndarray
    coefficients: np.ndarray  # (n_outcomes, 2 H): cosine then sine coefficients
    shape: tuple[int, ...]

    @classmethod
    def from_complex(cls, harmonics: np.ndarray, amplitudes: np.ndarray, shape: tuple[int, ...]) -> PhaseLaw:
        """From P = Re sum_h amplitudes[o, h] exp(-i h phi), i.e. cos and sin coefficients Re, Im."""
        return cls(harmonics, np.hstack([amplitudes.real, amplitudes.imag]), shape)

    def basis(self, phis: np.ndarray, derivative: int = 0) -> np.ndarray:
        """(2 n_harmonics, n_phi) matrix B with d^k P / d phi^k = coefficients @ B, k = ``derivative``."""
        angle = np.outer(self.harmonics, np.atleast_1d(phis))
        h = self.harmonics[:, None].astype(float) ** derivative
        cos, sin = np.cos(angle + derivative * np.pi / 2), np.sin(angle + derivative * np.pi / 2)
        return np.vstack([h * cos, h * sin])

    def probabilities(self, phis: np.ndarray) -> np.ndarray:
        """P(o | phi), shape (n_outcomes, n_phi)."""
        return self.coefficients @ self.basis(phis)

    def fisher(self, phis: np.ndarray) -> np.ndarray:
        """Classical Fisher information sum_o P'(o|phi)^2 / P(o|phi) (Eq. 19) at each phi.

        Outcomes with P < ZERO_PROBABILITY (the table's rounding level) are left out.
        """
        p = self.probabilities(phis)
        dp = self.coefficients @ self.basis(phis, derivative=1)
        kept = p > ZERO_PROBABILITY
        return np.sum(np.divide(dp**2, p, out=np.zeros_like(p), where=kept), axis=0)

    def marginal(self, keep: Sequence[int]) -> PhaseLaw:
        """The law of the outcome axes ``keep`` (summing the coefficient table over the others)."""
        others = tuple(axis for axis in range(len(self.shape)) if axis not in keep)
        table = self.coefficients.reshape(*self.shape, -1).sum(axis=others)  # kept axes in increasing order
        order = [sorted(keep).index(axis) for axis in keep] + [len(keep)]
        shape = tuple(self.shape[axis] for axis in keep)
        return PhaseLaw(self.harmonics, table.transpose(order).reshape(-1, self.coefficients.shape[1]), shape)

    @classmethod
    def from_samples(cls, law: Callable[[float], np.ndarray], degree: int) -> PhaseLaw:
        """Fourier table of a 2 pi-periodic law of integer harmonics <= degree, from 2 degree + 1
        equispaced samples (exact for such a trigonometric polynomial)."""
        n_samples = 2 * degree + 1
        samples = np.stack([law(2 * np.pi * k / n_samples) for k in range(n_samples)])
        spectrum = np.fft.rfft(samples.reshape(n_samples, -1), axis=0) / n_samples  # e^{+i h phi} parts
        scale = np.where(np.arange(degree + 1) == 0, 1.0, 2.0)[:, None]
        return cls.from_complex(np.arange(degree + 1), (scale * spectrum).conj().T, samples.shape[1:])


def _pair_gram(state) -> np.ndarray:
    """H_{m2}[k, k'] of the module docstring, shape (n, n, n) = (m2, k, k')."""
    psi = _tensor(state)
    d = wigner_small_d(state.spin)
    n = d.shape[0]
    k = np.arange(n)
    second = np.arange(2 * n - 1)[None, :] - k[:, None]  # index of m_2 = M - m_k in sector s = i1 + i2
    inside = (second >= 0) & (second < n)
    second = np.clip(second, 0, n - 1)
    sector_amplitudes = np.where(inside, psi[k[:, None], second], 0.0)  # (k, sector)
    occupied = np.flatnonzero(np.any(sector_amplitudes != 0, axis=0))
    columns = sector_amplitudes[:, occupied][None] * np.where(inside[:, occupied], d[:, second[:, occupied]], 0.0)
    return columns @ columns.conj().transpose(0, 2, 1)


@lru_cache(maxsize=8)
def phase_law(state) -> PhaseLaw:
    """The theta-averaged two-ensemble law P(m_1, m_2 | phi) as a trigonometric polynomial.

    Harmonics 2l, l = 0..2S; the coefficient of lag l = m_k - m_k' is the sum along the l-th
    diagonal of H_{m2} (module docstring, item 4), O(S^4) in total (0.1 s at S = 50). Cached per
    state object.
    """
    _require_pair(state)
    d = wigner_small_d(state.spin)
    gram = _pair_gram(state)
    n = d.shape[0]
    lags = np.empty((n, n, n), dtype=complex)  # (lag, m1, m2)
    for lag in range(n):
        products = d[:, : n - lag] * d[:, lag:]  # d_{m1 k} d_{m1 k+lag}
        lags[lag] = products @ np.diagonal(gram, offset=lag, axis1=1, axis2=2).T
    # P = a_0 + 2 Re sum_{l>0} a_l exp(-2 i l phi)   (m_k - m_{k+l} = l)
    scale = np.where(np.arange(n) == 0, 1.0, 2.0)[:, None, None]
    return PhaseLaw.from_complex(2 * np.arange(n), (scale * lags).reshape(n, n * n).T, (n, n))


def cfi_curve(state, phis: Sequence[float] | np.ndarray) -> np.ndarray:
    """Classical Fisher information F_phi of Eq. (19) at each phi (analytic derivative)."""
    return phase_law(state).fisher(np.asarray(phis, dtype=float))


def classical_fisher(state, phi: float) -> float:
    """F_phi = sum_m P(m|phi) (d ln P(m|phi) / d phi)^2 of Eq. (19), theta averaged uniformly."""
    return float(cfi_curve(state, [phi])[0])
