"""Four-ensemble sensing of field gradients and curvatures (Sec. IV.B, Eq. 30, Fig. 6c).

Measurement model
-----------------
Ensembles at x_l = x_c + (l - 5/2) d see the phases of Eq. (30) with the common part removed:
ensemble l acquires alpha_l = theta + w^g_l phi_g + w^c_l phi_c with the gradient generator
w^g = (3, 1, -1, -3) and the curvature generator w^c = (1, -1, -1, 1); theta is the common phase
of the pi/2 pulse (random, laser noise) and, in the noisy setting of Sec. IV.B, phi_g is random
too. After the global pi/2 pulse each ensemble is measured in z; the exact law of the outcomes is
:func:`labctl.sim.measurement.ramsey_distribution`, ensemble l reading
O_l = S_l^x sin(alpha_l) + S_l^y cos(alpha_l).

Gradient (common-mode rejection). alpha_1 - alpha_4 = 6 phi_g and alpha_2 - alpha_3 = 2 phi_g are
free of theta and phi_c: on each of the pairs (1, 4) and (2, 3) the common phase and the curvature
act as a common rotation, which the uniform theta removes, so the marginal law of (m_1, m_4) is the
two-ensemble law of the reduced state rho_14 at differential phase 3 phi_g, and that of (m_2, m_3)
the law of rho_23 at phi_g -- both exactly independent of phi_c (tested). The estimator maximises
the composite likelihood sum ln P_14(m_1, m_4 | phi_g) + ln P_23(m_2, m_3 | phi_g): pair (2, 3) fixes
phi_g coarsely, pair (1, 4) -- three times more sensitive, but ambiguous modulo pi/3 -- refines
it, like a vernier. As the pairs are entangled with each other the composite log-likelihood is not
a true one: the error is the sandwich (Godambe) error sqrt(J)/H with H = -sum_shots l'' and
J = sum_shots l'^2 at the maximum. The pair marginals are even in phi_g (exactly at S = 1, to 1e-3
at S = 2), so the window is [0, pi/2] and the sign of the gradient is not determined.

Curvature (common-mode and gradient-noise rejection). With theta and phi_g uniformly random only
phase combinations with zero total weight under both (1, 1, 1, 1) and (3, 1, -1, -3) survive; the
outcome changes Delta m = (a, b, -3a - 2b, 2a + b) that satisfy this carry the curvature as
exp(+-i (6a + 2b) phi_c). No one- or two-body marginal depends on phi_c (no ellipse carries it); the
lowest signals are three-body, S_1^+ (S_2^-)^2 S_3^+ (harmonic 2 phi_c), and four-body,
S_1^+ S_2^- S_3^- S_4^+ (4 phi_c). So the estimator is the exact likelihood with both nuisance
phases integrated out, P(m | phi_c) = sum_s |<m| X |psi_s(phi_c)>|^2 over the joint sectors s of
(M, G_g) (rho_c+g of Sec. IV.B), tabulated as a trigonometric polynomial of degree 8S in phi_c,
with a flat prior on a window of width pi/2 (default [-pi/4, pi/4]): exactly,
P(m | phi_c + pi/2) = P(m with m_3, m_4 negated | phi_c) (exp(-i pi G_c / 2) is a gradient phase
times exp(i pi (S_3^z + S_4^z)), which flips those two outcomes), a law so close to the original
(differences ~1e-3 per outcome at S = 1) that phi_c is in practice known modulo pi/2 only. The
law is also nearly, not exactly, even in phi_c (chi != 0 makes the state complex): with a few
thousand shots a mirror mode near -phi_c is common; the stated error is the width of the MAP's
mode and a warning gives that mode's share of the posterior.

The CFI of this protocol is far below the QFI of rho_c+g (e.g. 3.9 against 17.3 at S = 1,
detunings (Delta_A, Delta_B, -Delta_B, -Delta_A)/2 with (Delta_A, Delta_B, Omega, chi) = (1, 3, 5, 1)):
the global pi/2 pulse and z readout are not the optimal measurement for the curvature; the
estimator is efficient for the measurement it gets.
Exact laws cost (2S+1)^4 outcomes: S <= 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from labctl.analysis.phase import Posterior, TableLikelihood, outcome_counts, phase_posterior, posterior_warnings
from labctl.errors import FitError, InputError
from labctl.sim.measurement import PhaseLaw, ramsey_distribution

__all__ = [
    "CURVATURE",
    "GRADIENT",
    "SensorEstimate",
    "curvature_law",
    "estimate_curvature",
    "estimate_gradient",
    "gradient_pair_laws",
]

GRADIENT = (3.0, 1.0, -1.0, -3.0)
CURVATURE = (1.0, -1.0, -1.0, 1.0)
PAIRS = ((0, 3), (1, 2))  # ensembles (1, 4) and (2, 3), 0-based
GRADIENT_WINDOW = (0.0, math.pi / 2)
CURVATURE_WINDOW = (-math.pi / 4, math.pi / 4)
MAX_SPIN = 3.0


@dataclass(frozen=True)
class SensorEstimate:
    """A gradient or curvature phase (radians) from four-ensemble shots.

    ``posterior`` is the Bayesian posterior (curvature) or None (gradient: composite likelihood
    with a sandwich ``stderr``); ``cramer_rao`` = 1/sqrt(N F_CFI) for the curvature.
    """

    parameter: str
    phi: float
    stderr: float
    n_shots: int
    window: tuple[float, float]
    posterior: Posterior | None = None
    cramer_rao: float | None = None
    warnings: tuple[str, ...] = field(default=())


def _check_state(state) -> None:
    if state.n_ensembles != 4:
        raise InputError(f"four-ensemble sensing needs L = 4, the state has L = {state.n_ensembles}")
    if state.spin > MAX_SPIN:
        raise InputError(
            f"exact four-ensemble laws have (2S+1)^4 outcomes: S <= {MAX_SPIN:g}, got S = {state.spin:g}"
        )


@lru_cache(maxsize=8)
def curvature_law(state) -> PhaseLaw:
    """P(m_1..m_4 | phi_c) with theta and phi_g uniformly random, as a trigonometric polynomial."""
    _check_state(state)
    weights = np.array(CURVATURE)
    degree = int(round(8 * state.spin))  # G_c spans [-4S, 4S]
    averaged = ("common", "gradient")
    return PhaseLaw.from_samples(lambda phi: ramsey_distribution(state, phi * weights, averaged=averaged), degree)


@lru_cache(maxsize=8)
def gradient_pair_laws(state) -> tuple[PhaseLaw, PhaseLaw]:
    """Marginal laws of (m_1, m_4) and (m_2, m_3) against phi_g, theta uniformly random."""
    _check_state(state)
    weights = np.array(GRADIENT)
    degree = int(round(16 * state.spin))  # G_g spans [-8S, 8S]
    joint = PhaseLaw.from_samples(lambda phi: ramsey_distribution(state, phi * weights, averaged=("common",)), degree)
    return joint.marginal(PAIRS[0]), joint.marginal(PAIRS[1])


def _counts(shots: object, state) -> tuple[np.ndarray, int]:
    array = np.asarray(shots, dtype=float)
    if array.ndim != 2 or array.shape[1] != 4 or array.shape[0] == 0:
        raise InputError(f"shots must have one row per shot and 4 columns p1..p4, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputError("shots contain non-finite values")
    return outcome_counts(array, state.spin), array.shape[0]


def estimate_curvature(shots: object, state, *, window: tuple[float, float] = CURVATURE_WINDOW) -> SensorEstimate:
    """Curvature phase phi_c (Eq. 30) with common and gradient phases random (rho_c+g).

    ``shots``: (N, 4) excitation fractions; ``state``: the four-ensemble steady state (S <= 3).
    Posterior with a flat prior on ``window`` (width <= pi/2, see the module docstring); the
    estimate is its MAP, the error the standard deviation of the MAP's mode (the law is nearly,
    not exactly, even in phi_c, so a mirror mode near -phi_c is common: see the warnings).
    """
    counts, n_shots = _counts(shots, state)
    width = window[1] - window[0]
    if not 0 < width <= math.pi / 2 + 1e-12:
        raise InputError(f"window {window!r} must have a width in (0, pi/2]: phi_c is known modulo pi/2 only")
    likelihood = TableLikelihood(curvature_law(state), counts, width)
    likelihood.check_possible(window, state.spin)
    posterior = phase_posterior(likelihood, likelihood.n_coarse, window)
    return SensorEstimate(
        parameter="curvature",
        phi=posterior.map,
        stderr=posterior.mode_std,
        n_shots=n_shots,
        window=window,
        posterior=posterior,
        cramer_rao=likelihood.cramer_rao(posterior.map, n_shots),
        warnings=tuple(posterior_warnings(posterior, window, "phi_c")),
    )


def estimate_gradient(shots: object, state, *, window: tuple[float, float] = GRADIENT_WINDOW) -> SensorEstimate:
    """Gradient phase phi_g (Eq. 30) with the common phase random and the curvature unknown.

    Composite likelihood of the pairs (1, 4) and (2, 3) with a sandwich error (module docstring).
    """
    counts, n_shots = _counts(shots, state)
    pair_counts = (counts.sum(axis=(1, 2)), counts.sum(axis=(0, 3)))
    width = window[1] - window[0]
    pairs = [TableLikelihood(law, c, width) for law, c in zip(gradient_pair_laws(state), pair_counts)]
    for pair in pairs:
        pair.check_possible(window, state.spin)
    n_coarse = max(pair.n_coarse for pair in pairs)
    composite = phase_posterior(lambda phis: sum(pair(phis) for pair in pairs), n_coarse, window)
    phi = composite.map
    stderr = _sandwich_error(pairs, counts, phi)
    notes = posterior_warnings(composite, window, "phi_g")
    return SensorEstimate(
        parameter="gradient", phi=phi, stderr=stderr, n_shots=n_shots, window=window, warnings=tuple(notes)
    )


def _sandwich_error(pairs: list[TableLikelihood], counts: np.ndarray, phi: float) -> float:
    """sqrt(J)/H for the composite log-likelihood at phi (shot scores add across the two pairs)."""
    n = counts.shape[0]
    scores = []
    for pair, axes in zip(pairs, PAIRS):
        first, second = pair.scores(phi)
        table_first, table_second = np.zeros(n * n), np.zeros(n * n)
        table_first[pair.outcomes], table_second[pair.outcomes] = first, second
        scores.append((table_first.reshape(n, n), table_second.reshape(n, n), axes))
    index = np.indices(counts.shape)
    total_first = sum(first[index[a], index[b]] for first, _, (a, b) in scores)
    total_second = sum(second[index[a], index[b]] for _, second, (a, b) in scores)
    hessian = -float(np.sum(counts * total_second))
    if hessian <= 0:
        raise FitError(f"the composite likelihood has no maximum at phi_g = {phi:.4f} (curvature {hessian:.3g})")
    return math.sqrt(float(np.sum(counts * total_first**2))) / hessian
