"""Exact pure steady states of Eq. (2): the public entry point :func:`steady_state`.

* L = 2: the |J, -J> expansion with the recurrence of Eqs. (8)/(9) -> :class:`PairState`;
* even L >= 4: the dimerised product of pair states (Eq. 20) followed by the partial-swap gates
  of Eqs. (22)/(24), one per adjacent transposition of the detuning permutation (Eq. 26)
  -> :class:`ProductState`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labctl.sim import pair
from labctl.sim.conditions import check_conditions, validate_parameters
from labctl.sim.gates import apply_pair_operator, dimerised_order, swap_gate, swap_schedule
from labctl.sim.spin import as_spin, dimension
from labctl.sim.states import MAX_AMPLITUDES, PairState, ProductState, SteadyState, check_size


def steady_state(
    spin: float | str,
    detunings: Sequence[float],
    rabi: float,
    chi: float = 0.0,
    *,
    max_amplitudes: int = MAX_AMPLITUDES,
) -> SteadyState:
    """The unique pure steady state of Eq. (2).

    Parameters
    ----------
    spin : S of every ensemble (1/2, 1, 3/2, ...; ``"3/2"`` accepted).
    detunings : delta_1..delta_L, in the common rate unit (e.g. Gamma = 1).
    rabi : Omega > 0; ``float("inf")`` gives the large-drive limit.
    chi : chiral exchange amplitude of Eq. (2).
    max_amplitudes : refuse product vectors larger than this ((2S+1)^L complex numbers).

    Raises :class:`~labctl.errors.ConditionError` when the conditions of Sec. II are violated
    (the error names the ensembles and the rule), and
    :class:`~labctl.errors.StateTooLargeError` when L >= 4 and (2S+1)^L exceeds ``max_amplitudes``.
    """
    s = as_spin(spin)
    pairs = check_conditions(detunings, rabi, chi)
    delta, omega, chi = validate_parameters(detunings, rabi, chi)
    if delta.size == 2:
        return PairState(s, delta, omega, chi)
    check_size(s, delta.size, max_amplitudes)
    vector = dimerised_vector(s, delta, pairs, omega, chi)
    d = dimension(s)
    for swap in swap_schedule(delta, pairs):
        gate = swap_gate(s, swap.delta_left, swap.delta_right, chi)
        vector = apply_pair_operator(vector, gate, swap.site, delta.size, d)
    return ProductState(s, delta, omega, chi, vector)


def dimerised_vector(
    spin: float, delta: np.ndarray, pairs: list[tuple[int, int]], rabi: float, chi: float
) -> np.ndarray:
    """Eq. (20): the product of pair states on positions (1,2), (3,4), ... of the dimerised order."""
    order = dimerised_order(pairs)
    vector = np.ones(1, dtype=complex)
    for k in range(0, len(order), 2):
        first, second = delta[order[k]], delta[order[k + 1]]
        vector = np.kron(vector, pair.product_vector(spin, pair.coefficients(spin, first - second, rabi, chi)))
    return vector
