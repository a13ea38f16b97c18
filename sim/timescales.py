"""Preparation time of the pure steady state (Sec. III.C, Sec. V.C, App. B).

Start from all spins down, |m = -S>^L, evolve under Eq. (2) and follow the fidelity
F(t) = <psi_ss|rho(t)|psi_ss>. F never decreases (dF/dt = Gamma <psi|K rho K^dag|psi> >= 0,
physics-notes "Dynamics"), so the preparation time t_ss is the first time with 1 - F(t) < epsilon
(the paper uses epsilon = 1e-3).

* :func:`relaxation_bound` -- the lower bound of Eq. (B5),
  Gamma t_ss >= (1 - epsilon - F_0) / |2 <sum_j S_j^z>_ss|, F_0 = F(0);
* :func:`fidelity_trajectory` -- F(t) from the Liouvillian of Eq. (2) (small systems);
* :func:`preparation_time` -- the exact t_ss for small systems, else the bound times a factor
  calibrated on the exact cases (:func:`bound_factor`), flagged as an estimate. Physics-notes
  quotes 20-90x; here the measured ratio t_ss / bound is 18-121 for L = 2 and 58-338 for
  L = 4-6, growing with L.

Times are returned as Gamma t (units of 1/Gamma). The state's rates and ``gamma`` share one unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as sla
from scipy.optimize import brentq

from labctl.errors import InputError, LabctlError
from labctl.sim.model import model_liouvillian
from labctl.sim.operators import SpinSum
from labctl.sim.spin import dimension
from labctl.sim.states import PairState, SteadyState

#: Largest product dimension D = (2S+1)^L evolved exactly (the Liouvillian has D^2 rows). Cost
#: grows like D^2 x Gamma t_ss: ~0.1 s for D = 25, ~1 s for D = 49, ~10 s for D = 121 at t_ss ~ 30/Gamma.
EXACT_DIMENSION_LIMIT = 150

#: t_ss / bound for two ensembles, used when the exact evolution is out of reach. Measured on the
#: exact cases L = 2, S = 1..5, Delta/Omega in {1/S, 1/sqrt(S), 1}, chi in {0, Gamma},
#: Omega/Gamma in {S/2, S, 2S}: 18..121 overall, 18..36 at Omega >= S Gamma (the fast-preparation
#: regime of Sec. III.C), where it hardly depends on S (about 32, 27, 23 at Delta/Omega = 1/S,
#: 1/sqrt(S), 1 and chi = 0). Expect the estimate within a factor ~2 at Omega >= S Gamma, ~4 below.
PAIR_BOUND_FACTOR = 30.0

#: t_ss / bound per ensemble for L >= 4: the bound falls like 1/L (<sum S^z> grows with L) while
#: t_ss does not grow as fast. Measured: L = 4, S = 1/2 (sensor, crossed and dimerised patterns,
#: chi in {Gamma/2, Gamma}, Omega/Gamma in {1/2, 1, 2}): 58..338, geometric mean 100;
#: L = 4, S = 1: 70..81; L = 6, S = 1/2 chains (Fig. 7a, Omega = 1..3 chi, chi = Gamma): 115..157.
CHAIN_BOUND_FACTOR_PER_ENSEMBLE = 25.0


def bound_factor(n_ensembles: int) -> float:
    """The calibrated t_ss / bound: 30 for L = 2, 25 L for L >= 4 (see the constants above)."""
    return PAIR_BOUND_FACTOR if n_ensembles == 2 else CHAIN_BOUND_FACTOR_PER_ENSEMBLE * n_ensembles


#: Grid points per segment of the exact search.
_GRID = 32


@dataclass(frozen=True)
class PreparationTime:
    """Gamma t_ss and how it was obtained.

    ``time``: Gamma t_ss (exact, or ``factor`` x ``bound``); ``bound``: Eq. (B5);
    ``method``: "exact" or "scaled-bound"; ``factor``: time / bound (measured when exact).
    """

    time: float
    bound: float
    method: str
    factor: float
    epsilon: float

    @property
    def is_estimate(self) -> bool:
        return self.method != "exact"


def all_down_fidelity(state: SteadyState) -> float:
    """F_0 = |<-S, ..., -S|psi_ss>|^2.

    For two ensembles no vector is needed: |-S, -S> is exactly |J = 2S, M = -2S> (the stretched
    state, Clebsch-Gordan coefficient 1), and every other |J, -J> of Eq. (4) has M = -J > -2S,
    so F_0 = |c_{2S}|^2.
    """
    if isinstance(state, PairState):
        return float(abs(state.coefficients[-1]) ** 2)
    return float(abs(state.vector[-1]) ** 2)  # m = -S is the last index of every ensemble


def relaxation_bound(state: SteadyState, epsilon: float = 1e-3) -> float:
    """Eq. (B5): Gamma t_ss >= (1 - epsilon - F_0) / |2 <sum_j S_j^z>_ss|, in units of 1/Gamma.

    0 when the all-down state is already within epsilon; inf when <sum_j S_j^z> = 0 (e.g. the
    large-drive limit, whose singlets take infinitely long to prepare).
    """
    _check_epsilon(epsilon)
    reach = 1.0 - epsilon - all_down_fidelity(state)
    if reach <= 0:
        return 0.0
    polarization = abs(state.expect(SpinSum(z=np.ones(state.n_ensembles))))
    if polarization <= 1e-12 * state.spin * state.n_ensembles:  # zero up to rounding
        return float("inf")
    return reach / (2 * polarization)


def fidelity_trajectory(state: SteadyState, times: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """F(t) = <psi_ss|rho(t)|psi_ss> from all spins down at the given times (>= 0, increasing),
    t in the inverse of the state's rate unit. Exact (Krylov/Taylor propagation of Eq. 2)."""
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise InputError("times must be a 1-D sequence of non-negative, non-decreasing times")
    evolution = _Evolution(state, gamma)
    rho, now, out = evolution.initial, 0.0, []
    for t in times:
        rho, now = evolution.propagate(rho, t - now), t
        out.append(evolution.fidelity(rho))
    return np.array(out)


def preparation_time(
    state: SteadyState,
    gamma: float = 1.0,
    epsilon: float = 1e-3,
    *,
    max_dimension: int = EXACT_DIMENSION_LIMIT,
    factor: float | None = None,
    max_time: float = 1e3,
) -> PreparationTime:
    """Gamma t_ss from all spins down (Sec. III.C): exact when D = (2S+1)^L <= ``max_dimension``
    (and Omega finite), else ``factor`` x :func:`relaxation_bound` (method "scaled-bound");
    ``factor`` defaults to :func:`bound_factor` of L.

    The exact search propagates rho(t) on a grid of segments of length ``factor`` x bound
    until 1 - F < epsilon, then refines the crossing by Brent's method from the last grid point
    (F is non-decreasing, so the first crossing is the only one). ``max_time`` caps Gamma t.
    """
    bound = relaxation_bound(state, epsilon)
    factor = bound_factor(state.n_ensembles) if factor is None else factor
    if bound == 0.0:  # the all-down state is already within epsilon
        return PreparationTime(0.0, 0.0, "exact", factor, epsilon)
    if dimension(state.spin) ** state.n_ensembles > max_dimension or not np.isfinite(state.rabi):
        return PreparationTime(factor * bound, bound, "scaled-bound", factor, epsilon)
    segment = min(factor * bound, max_time) / gamma
    time = gamma * _exact_crossing(_Evolution(state, gamma), epsilon, segment, max_time / gamma)
    return PreparationTime(time, bound, "exact", time / bound, epsilon)


class _Evolution:
    """rho(t) = exp(L t) rho(0) for the Liouvillian of Eq. (2), on row-major vec(rho)."""

    def __init__(self, state: SteadyState, gamma: float):
        if not (np.isfinite(gamma) and gamma > 0):
            raise InputError(f"gamma = {gamma!r} must be a finite decay rate > 0")
        if not np.isfinite(state.rabi):
            raise InputError("the dynamics needs a finite Rabi frequency (rabi = inf is a limit, not a drive)")
        self.gamma = gamma
        self.psi = state.vector
        self.dim = self.psi.size
        self.lv = model_liouvillian(state.spin, state.detunings, state.rabi, state.chi, gamma).tocsr()
        self.initial = np.zeros(self.dim**2, dtype=complex)
        self.initial[-1] = 1.0  # |-S..-S><-S..-S|

    def fidelity(self, rho: np.ndarray) -> float:
        return float(np.real(np.vdot(self.psi, rho.reshape(self.dim, self.dim) @ self.psi)))

    def propagate(self, rho: np.ndarray, duration: float) -> np.ndarray:
        return rho if duration == 0 else sla.expm_multiply(self.lv * duration, rho)

    def grid(self, rho: np.ndarray, duration: float) -> np.ndarray:
        """rho at duration * k / _GRID, k = 0.._GRID (rows)."""
        return sla.expm_multiply(self.lv, rho, start=0.0, stop=duration, num=_GRID + 1, endpoint=True)


def _exact_crossing(evolution: _Evolution, epsilon: float, segment: float, max_time: float) -> float:
    """First t with 1 - F(t) < epsilon (times in the inverse of the state's rate unit)."""
    rho, start = evolution.initial, 0.0
    while start <= max_time:
        states = evolution.grid(rho, segment)
        infidelity = np.array([1.0 - evolution.fidelity(r) for r in states])
        below = np.flatnonzero(infidelity < epsilon)
        if below.size:
            k = int(below[0])  # k >= 1: the segment's first point was above epsilon
            step = segment / _GRID
            left = states[k - 1]
            tau = brentq(
                lambda t: 1.0 - evolution.fidelity(evolution.propagate(left, t)) - epsilon, 0.0, step, xtol=1e-12
            )
            return start + (k - 1) * step + tau
        rho, start = states[-1], start + segment
    raise LabctlError(
        f"1 - F(t) did not fall below epsilon = {epsilon:g} before Gamma t = {evolution.gamma * max_time:g}; "
        "raise max_time"
    )


def _check_epsilon(epsilon: float) -> None:
    if not 0.0 < epsilon < 1.0:
        raise InputError(f"epsilon = {epsilon!r} must lie in (0, 1) (the paper uses 1e-3)")
