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


def extended_hamiltonian(
    spin: float,
    detunings: Sequence[float],
    rabi: Sequence[complex],
    exchange: np.ndarray,
    twist: Sequence[float] | None = None,
) -> sp.csr_matrix:
    """Eq. (2) generalised to what real tones realise (the effective model of a hardware plan):

    H = sum_l [Re(Omega_l) S_l^x - Im(Omega_l) S_l^y + delta_l S_l^z + t_l (S_l^z)^2]
        + sum_{m != l} E_ml S_m^+ S_l^-,

    with a per-ensemble complex Rabi frequency Omega_l, a Hermitian exchange matrix E (its
    diagonal is ignored; Eq. (2) is E_kl = i chi/2 for k < l) and one-axis twists t_l.
    """
    n = len(detunings)
    exchange = np.asarray(exchange, dtype=complex)
    sx, sy, sz = (local_operators(spin, n, a) for a in ("x", "y", "z"))
    splus, sminus = local_operators(spin, n, "plus"), local_operators(spin, n, "minus")
    h = sp.csr_matrix((sx[0].shape[0],) * 2, dtype=complex)
    for l in range(n):
        h = h + rabi[l].real * sx[l] - rabi[l].imag * sy[l] + detunings[l] * sz[l]
        if twist is not None and twist[l] != 0.0:
            h = h + twist[l] * (sz[l] @ sz[l])
        for m in range(n):
            if m != l and exchange[m, l] != 0.0:
                h = h + exchange[m, l] * (splus[m] @ sminus[l])
    return sp.csr_matrix(h)


def decay_jumps(spin: float, decay: np.ndarray, cutoff: float = 1e-14) -> list[sp.csr_matrix]:
    """Jump operators of the correlated decay sum_ml G_ml (S_l^- rho S_m^+ - {S_m^+ S_l^-, rho}/2).

    G (Hermitian, positive semi-definite) = sum_n g_n v_n^* v_n^T gives K_n = sqrt(g_n) sum_l v_nl S_l^-;
    Eq. (2) is G_ml = Gamma for all m, l (one jump sqrt(Gamma) sum_l S_l^-).
    """
    decay = np.asarray(decay, dtype=complex)
    n = decay.shape[0]
    vals, vecs = np.linalg.eigh((decay + decay.conj().T) / 2)
    sminus = local_operators(spin, n, "minus")
    scale = max(float(np.max(np.abs(vals))), 1e-300)
    jumps = []
    for g, v in zip(vals, vecs.T):
        if g > cutoff * scale:
            # G_ml = sum_n g_n conj(u_nm) u_nl with u_n = conj(v): eigh gives G = sum g v v^dag.
            jumps.append(sp.csr_matrix(np.sqrt(g) * sum(np.conj(v[l]) * sminus[l] for l in range(n))))
    return jumps
