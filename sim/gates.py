"""Partial-swap gates of Eqs. (22)/(24) and their schedule from the detuning permutation (Eq. 26).

U_{l,l+1}(delta_l, delta_{l+1}, chi) = sum_J e^{i theta_J} P_J, theta_0 = 0,
    e^{i(theta_{J+1} - theta_J)} = (-(delta_l - delta_{l+1}) - i chi (J+1)) / ((delta_l - delta_{l+1}) - i chi (J+1)),
with P_J projecting ensembles l, l+1 (coupled in that order) on total spin J, and delta_l,
delta_{l+1} the detunings at positions l, l+1 *before* the swap (physics-notes.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from labctl.sim.clebsch import coupled_basis


def swap_phases(spin: float, delta_left: float, delta_right: float, chi: float) -> np.ndarray:
    """theta_J, J = 0..2S, of Eq. (24)."""
    diff = delta_left - delta_right
    j = np.arange(int(round(2 * spin)), dtype=float)
    step = np.angle((-diff - 1j * chi * (j + 1)) / (diff - 1j * chi * (j + 1)))
    return np.concatenate(([0.0], np.cumsum(step)))


def swap_gate(spin: float, delta_left: float, delta_right: float, chi: float) -> sp.csr_matrix:
    """U_{l,l+1} of Eq. (22) on the (2S+1)^2-dimensional space of two neighbouring ensembles."""
    return coupled_basis(spin).pair_operator(np.exp(1j * swap_phases(spin, delta_left, delta_right, chi)))


@dataclass(frozen=True)
class Swap:
    """One adjacent transposition: gate on positions (site, site + 1), 0-based, with the
    detunings found there before the swap."""

    site: int
    delta_left: float
    delta_right: float


def dimerised_order(pairs: list[tuple[int, int]]) -> list[int]:
    """Initial arrangement (Eq. 20): pair k occupies positions 2k, 2k+1; entries are target positions."""
    return [position for pair in pairs for position in pair]


def swap_schedule(detunings: np.ndarray, pairs: list[tuple[int, int]]) -> list[Swap]:
    """Adjacent transpositions taking the dimerised order to the target order (bubble sort, Eq. 26).

    ``pairs`` are (k, l) target positions with delta_k = -delta_l, sorted by k; the dimerised
    order places each pair side by side, first member first. The number of swaps is the number
    of inversions, at most L(L-1)/2.
    """
    labels = dimerised_order(pairs)
    current = [float(detunings[p]) for p in labels]
    schedule = []
    n = len(labels)
    for sweep in range(n):
        swapped = False
        for i in range(n - 1 - sweep):
            if labels[i] > labels[i + 1]:
                schedule.append(Swap(i, current[i], current[i + 1]))
                labels[i], labels[i + 1] = labels[i + 1], labels[i]
                current[i], current[i + 1] = current[i + 1], current[i]
                swapped = True
        if not swapped:
            break
    return schedule


def apply_pair_operator(vector: np.ndarray, op: sp.spmatrix, site: int, n_ensembles: int, d: int) -> np.ndarray:
    """Apply a two-ensemble operator to ensembles (site, site + 1) of a product-basis vector."""
    psi = vector.reshape(d**site, d * d, d ** (n_ensembles - site - 2))
    moved = np.moveaxis(psi, 1, 0).reshape(d * d, -1)
    out = (op @ moved).reshape(d * d, psi.shape[0], psi.shape[2])
    return np.moveaxis(out, 0, 1).reshape(-1)
