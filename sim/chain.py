"""Spin chains of Sec. V and App. D: the detuning pattern of Fig. 7(a) and the MPS of Eq. (31).

Pattern (Fig. 7a), ensembles numbered 1..L (L even):

    delta_1 = Delta_e/2,  delta_L = -Delta_e/2,  delta_2k = Delta_b/2,  delta_2k+1 = -Delta_b/2.

Steady state at any Omega (physics-notes.md, "Spin chains"): dimers psi_2(Delta_e) on (1, 2) and
psi_2(Delta_b) on (3, 4), (5, 6), ... (psi_2 = the two-ensemble state of Eq. 9), then the partial
swaps U_{2,3}, U_{3,4}, ..., U_{L-1,L} in this order, with U(-Delta_e/2, +Delta_b/2) on
(2k, 2k+1) and U(-Delta_e/2, -Delta_b/2) on (2k+1, 2k+2) (Eqs. 22, 24). Cutting the staircase
after every second gate gives the matrix product state of Eq. (31), bond dimension 2S + 1:

    vl[m_1, alpha]             = <m_1, alpha | psi_2(Delta_e)>         (bond = ensemble 2's m),
    A[m_a, m_b, alpha, beta]   = (<m_a|<m_b|<beta|) U_bc U_ab (|alpha> (x) |psi_2(Delta_b)>_bc),
    vr[m_L, beta]              = delta_{beta, m_L},

with one cell A per pair of ensembles (2k, 2k+1), k = 1..L/2-1. Since U_bc U_ab is unitary and
psi_2 normalised, A is an isometry from the left bond to (m_a, m_b, right bond),
sum_{m_a m_b beta} A[., ., alpha, beta] A*[., ., alpha', beta] = delta_{alpha alpha'}, and the
state is normalised.

Indices follow the product basis of :mod:`labctl.sim.spin`: position i = S - m, m = S..-S, both
for physical and bond indices. ``rabi = inf`` gives the large-drive limit (Eq. 32).

AKLT point (Sec. V.C, physics-notes): S = 1/2, Delta_e = 0, Delta_b = sqrt(2) chi (bulk
detunings +-chi/sqrt(2)). At Omega = inf the state equals, up to a global phase, the following
construction (checked for L = 4..12, both signs of Delta_b and of chi): spin-1/2 singlets on the
bonds (1,2), (3,4), ..., (L-1,L), then every cell (2k, 2k+1), k = 1..L/2-1, projected on total
spin 1, the edge ensembles 1 and L left as they are. That is the spin-1 AKLT state on the cells
with the two spin-1/2 edge spins bound into an overall singlet (one of the four open-chain
AKLT states).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from labctl.errors import InputError
from labctl.sim import pair
from labctl.sim.conditions import check_conditions
from labctl.sim.gates import swap_gate
from labctl.sim.spin import as_spin, dimension
from labctl.sim.states import MAX_AMPLITUDES, ProductState, check_size


def chain_detunings(n_ensembles: int, edge: float, bulk: float) -> tuple[float, ...]:
    """delta_1..delta_L of Fig. 7(a) for Delta_e = ``edge`` and Delta_b = ``bulk``."""
    n = _chain_length(n_ensembles)
    delta = np.empty(n)
    delta[1:-1:2] = bulk / 2  # ensembles 2, 4, ..., L-2
    delta[2:-1:2] = -bulk / 2  # ensembles 3, 5, ..., L-1
    delta[0], delta[-1] = edge / 2, -edge / 2
    return tuple(float(x) for x in delta)


def _chain_length(n_ensembles: int) -> int:
    if isinstance(n_ensembles, bool) or not isinstance(n_ensembles, (int, np.integer)):
        raise InputError(f"n_ensembles = {n_ensembles!r} must be an even integer >= 2")
    if n_ensembles < 2 or n_ensembles % 2:
        raise InputError(f"n_ensembles = {n_ensembles} must be an even integer >= 2 (Fig. 7a)")
    return int(n_ensembles)


@dataclass(frozen=True, eq=False)
class ChainMPS:
    """The steady state of the Fig. 7(a) chain as the MPS of Eq. (31).

    ``left`` is vl[i_1, alpha] (shape (d, d)), ``cell`` is A[i_a, i_b, alpha, beta] (shape
    (d, d, d, d)), d = 2S + 1; the right boundary vr[i_L, beta] = delta is implicit. Rates
    (``edge`` Delta_e, ``bulk`` Delta_b, ``rabi``, ``chi``) share the unit of :mod:`labctl.sim`.
    """

    spin: float
    n_ensembles: int
    edge: float
    bulk: float
    rabi: float
    chi: float
    left: np.ndarray
    cell: np.ndarray

    @property
    def n_cells(self) -> int:
        """Number of bulk cells (2k, 2k+1), k = 1..L/2-1."""
        return self.n_ensembles // 2 - 1

    @property
    def detunings(self) -> tuple[float, ...]:
        return chain_detunings(self.n_ensembles, self.edge, self.bulk)

    def vector(self, max_amplitudes: int = MAX_AMPLITUDES) -> np.ndarray:
        """Product-basis amplitudes (ensemble 1 most significant), contracted left to right."""
        check_size(self.spin, self.n_ensembles, max_amplitudes)
        d = self.left.shape[0]
        psi = self.left
        for _ in range(self.n_cells):
            psi = np.einsum("pa,xyab->pxyb", psi, self.cell).reshape(-1, d)
        return psi.reshape(-1)

    def steady_state(self, max_amplitudes: int = MAX_AMPLITUDES) -> ProductState:
        """The same state as a :class:`~labctl.sim.states.ProductState` (small L only)."""
        return ProductState(self.spin, self.detunings, self.rabi, self.chi, self.vector(max_amplitudes))

    def log_overlap(self, other: ChainMPS) -> tuple[float, complex]:
        """<self|other> as (ln|<self|other>|, phase factor), by the mixed transfer matrix.

        The environment X[alpha', alpha] (bond of <self|, bond of |other>) starts as vl^dag vl'
        and takes one step X -> sum_{ab} A^{ab dag} X A'^{ab} per cell, O(d^5) operations; it is
        renormalised at every step and its log-norm accumulated, so any L is safe. The right
        boundary closes it with a trace. Returns (-inf, 0) for orthogonal states.
        """
        self._check_same_chain(other)
        d = self.left.shape[0]
        bra = self.cell.conj().reshape(d * d * d, d)  # rows (a, b, alpha'), columns beta'
        ket = other.cell.reshape(d * d, d, d)  # [(a, b), alpha, beta]
        env = self.left.conj().T @ other.left
        log_norm = 0.0
        for _ in range(self.n_cells):
            env = bra.T @ (env @ ket).reshape(d * d * d, d)
            scale = np.linalg.norm(env)
            if scale == 0.0:
                return float("-inf"), 0.0j
            env /= scale
            log_norm += np.log(scale)
        amplitude = np.trace(env)
        if amplitude == 0.0:
            return float("-inf"), 0.0j
        return float(log_norm + np.log(abs(amplitude))), complex(amplitude / abs(amplitude))

    def overlap(self, other: ChainMPS) -> complex:
        """<self|other> (may underflow to 0 for very long chains; use :meth:`log_overlap`)."""
        log_abs, phase = self.log_overlap(other)
        return phase * np.exp(log_abs)

    def fidelity(self, other: ChainMPS) -> float:
        """|<self|other>|^2."""
        return float(np.exp(2 * self.log_overlap(other)[0]))

    def transfer_matrix(self) -> np.ndarray:
        """E[(alpha, alpha'), (beta, beta')] = sum_{ab} A[a,b,alpha,beta] A*[a,b,alpha',beta'] (App. D.3)."""
        d = self.left.shape[0]
        return np.einsum("xyab,xycd->acbd", self.cell, self.cell.conj()).reshape(d * d, d * d)

    def correlation_length(self) -> float:
        """L_corr = -2 / ln|lambda_1| (Eq. D25), in ensembles; lambda_1 is the second-largest
        eigenvalue of the transfer matrix (the largest is 1). 0 on the disorder lines."""
        magnitudes = np.sort(np.abs(np.linalg.eigvals(self.transfer_matrix())))[::-1]
        lambda_1 = magnitudes[1]
        return 0.0 if lambda_1 < 1e-15 else float(-2.0 / np.log(lambda_1))

    def _check_same_chain(self, other: ChainMPS) -> None:
        if other.n_ensembles != self.n_ensembles or other.spin != self.spin:
            raise InputError(
                f"overlap of chains with (L, S) = ({self.n_ensembles}, {self.spin:g}) and "
                f"({other.n_ensembles}, {other.spin:g}): both need the same L and S"
            )


def chain_mps(
    spin: float | str, n_ensembles: int, edge: float, bulk: float, rabi: float, chi: float
) -> ChainMPS:
    """The MPS of Eq. (31) for the chain of Fig. 7(a) at any Omega (``rabi = inf`` allowed).

    Raises :class:`~labctl.errors.ConditionError` when the detunings violate Sec. II (e.g.
    chi = 0 with repeated bulk detunings).
    """
    s = as_spin(spin)
    check_conditions(chain_detunings(n_ensembles, edge, bulk), rabi, chi)
    d = dimension(s)
    left = _dimer(s, edge, rabi, chi)
    # A[a, b, alpha, beta]: |alpha>_a |psi_2(Delta_b)>_bc, then U_ab, then U_bc; beta = c.
    u_ab = swap_gate(s, -edge / 2, bulk / 2, chi).toarray().reshape(d, d, d, d)
    u_bc = swap_gate(s, -edge / 2, -bulk / 2, chi).toarray().reshape(d, d, d, d)
    after_ab = np.einsum("xyab,bc->xyca", u_ab, _dimer(s, bulk, rabi, chi))  # [a, b, c, alpha]
    after_bc = np.einsum("uvyc,xyca->xuav", u_bc, after_ab)  # [a, b, alpha, c]
    return ChainMPS(s, int(n_ensembles), float(edge), float(bulk), float(rabi), float(chi), left, after_bc)


def _dimer(spin: float, delta_diff: float, rabi: float, chi: float) -> np.ndarray:
    """psi_2(Delta)[i_1, i_2]: the two-ensemble steady state (Eq. 9) as a d x d matrix."""
    d = dimension(spin)
    return pair.product_vector(spin, pair.coefficients(spin, delta_diff, rabi, chi)).reshape(d, d)


# -- the AKLT point (Sec. V.C) ----------------------------------------------------------------------


def aklt_mps(n_ensembles: int, rabi: float, chi: float = 1.0) -> ChainMPS:
    """The S = 1/2 chain at the AKLT point Delta_e = 0, Delta_b = sqrt(2) chi (Eq. 34: f_0 = 0)."""
    if not np.isfinite(chi) or chi == 0:
        raise InputError(f"chi = {chi!r}: the AKLT point needs a finite chi != 0 (Delta_b = sqrt(2) chi)")
    return chain_mps(0.5, n_ensembles, 0.0, np.sqrt(2.0) * chi, rabi, chi)


def aklt_fidelity(n_ensembles: int, rabi: float, chi: float = 1.0) -> float:
    """|<psi_ss(Omega)|psi_AKLT>|^2 at the AKLT point; psi_AKLT is the Omega = inf steady state."""
    return aklt_mps(n_ensembles, rabi, chi).fidelity(aklt_mps(n_ensembles, np.inf, chi))


#: Search range of :func:`rabi_for_aklt_fidelity`, in units of |chi|.
RABI_SEARCH_RANGE = (1e-6, 1e8)


def rabi_for_aklt_fidelity(n_ensembles: int, fidelity: float, chi: float = 1.0) -> float:
    """The smallest Omega with aklt_fidelity(n_ensembles, Omega, chi) >= ``fidelity``.

    F(Omega) rises monotonically from 0 (Omega -> 0: all spins down, no overlap with the AKLT
    state for L >= 4) to 1 (Omega -> inf, 1 - F ~ 0.75 L (chi/Omega)^2); this was checked on a
    400-point log grid Omega/chi in [0.02, 1000] for L = 4..1000 (tests/sim/test_chain.py). The
    root is bracketed from the large-drive side (doubling up from the estimate
    Omega ~ |chi| sqrt(0.75 L / -ln F), then halving down) and refined by Brent's method in
    ln Omega. Raises InputError when the target is not in (0, 1) or is not reached within
    Omega/|chi| in ``RABI_SEARCH_RANGE`` (e.g. a fidelity too close to 1 for double precision).
    """
    if not 0.0 < fidelity < 1.0:
        raise InputError(f"fidelity = {fidelity!r}: the AKLT fidelity target must lie in (0, 1)")
    ideal = aklt_mps(n_ensembles, np.inf, chi)
    scale = abs(chi)
    lowest, highest = (scale * x for x in RABI_SEARCH_RANGE)

    def log_excess(log_rabi: float) -> float:
        """ln F(Omega) - ln(target)."""
        return 2 * aklt_mps(n_ensembles, np.exp(log_rabi), chi).log_overlap(ideal)[0] - np.log(fidelity)

    high = max(scale * np.sqrt(0.75 * n_ensembles / -np.log(fidelity)), lowest)
    while log_excess(np.log(high)) < 0:
        high *= 2
        if high > highest:
            best = aklt_fidelity(n_ensembles, highest, chi)
            raise InputError(
                f"AKLT fidelity {fidelity!r} at L = {n_ensembles} is out of reach: even Omega = "
                f"{highest:.3g} |chi| gives {best:.15f}; ask for a lower fidelity"
            )
    low = high / 2
    while log_excess(np.log(low)) >= 0:
        high, low = low, low / 2
        if low < lowest:
            raise InputError(
                f"AKLT fidelity {fidelity!r} at L = {n_ensembles} is already reached at Omega = "
                f"{lowest:.3g} |chi|; ask for a higher fidelity"
            )
    return float(np.exp(brentq(log_excess, np.log(low), np.log(high), xtol=1e-12)))
