"""The master equation of Eq. (2): Hamiltonian, collective jump operator, Liouvillian.

Units: every rate (``rabi`` Omega, ``detunings`` delta_l, ``chi``, ``gamma`` Gamma) is in one
common unit chosen by the caller; the steady state of Eq. (2) does not depend on Gamma, so the
natural unit is the collective decay rate (Gamma = 1, the default of :func:`liouvillian`).

    d rho/dt = -i[H, rho] + Gamma D[sum_l S_l^-] rho,
    H = sum_l Omega S_l^x + sum_l delta_l S_l^z + i chi/2 sum_{l>k} (S_k^+ S_l^- - S_k^- S_l^+).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from labctl.sim.spin import local_operators


def hamiltonian(spin: float, detunings: Sequence[float], rabi: float, chi: float = 0.0) -> sp.csr_matrix:
    """Sparse H of Eq. (2) in the product basis (ensemble 1 most significant)."""
    n = len(detunings)
    sx = local_operators(spin, n, "x")
    sz = local_operators(spin, n, "z")
    h = sum(rabi * sx[l] + detunings[l] * sz[l] for l in range(n))
    if chi != 0.0:
        splus = local_operators(spin, n, "plus")
        sminus = local_operators(spin, n, "minus")
        for l in range(n):
            for k in range(l):
                h = h + 0.5j * chi * (splus[k] @ sminus[l] - sminus[k] @ splus[l])
    return sp.csr_matrix(h)


def jump_operator(spin: float, n_ensembles: int) -> sp.csr_matrix:
    """The collective jump operator sum_l S_l^- (without the factor sqrt(Gamma))."""
    return sp.csr_matrix(sum(local_operators(spin, n_ensembles, "minus")))


def liouvillian(h: sp.spmatrix, jumps: Sequence[sp.spmatrix], rates: Sequence[float] | None = None) -> sp.csr_matrix:
    """Sparse Liouvillian acting on row-major vec(rho) (rho.reshape(-1)).

    With vec(A rho B) = (A kron B^T) vec(rho):
    L = -i(H x 1 - 1 x H^T) + sum_mu rate_mu [K x K* - (K^dag K x 1)/2 - (1 x (K^dag K)^T)/2].
    ``rates`` defaults to 1 for every jump operator.
    """
    dim = h.shape[0]
    one = sp.identity(dim, format="csr", dtype=complex)
    lv = -1j * (sp.kron(h, one) - sp.kron(one, h.T))
    for k, rate in zip(jumps, rates if rates is not None else np.ones(len(jumps)), strict=True):
        kdk = (k.conj().T @ k).tocsr()
        lv = lv + rate * (sp.kron(k, k.conj()) - 0.5 * sp.kron(kdk, one) - 0.5 * sp.kron(one, kdk.T))
    return sp.csr_matrix(lv)


def model_liouvillian(
    spin: float, detunings: Sequence[float], rabi: float, chi: float = 0.0, gamma: float = 1.0
) -> sp.csr_matrix:
    """The Liouvillian of Eq. (2) for the given parameters (Gamma = ``gamma``)."""
    h = hamiltonian(spin, detunings, rabi, chi)
    return liouvillian(h, [jump_operator(spin, len(detunings))], [gamma])
