"""Coupling two spin-S ensembles: Clebsch-Gordan coefficients <S m1; S m2 | J M>.

Condon-Shortley phases, ensemble ``l`` first in the coupling (the convention under which the
recurrence of Eqs. (8)/(9) and the gates of Eqs. (22)/(24) hold, physics-notes.md).

Two independent routes are used:

* :func:`lowest_weight_amplitudes` -- closed form for the states |J, -J> that make up the two-ensemble
  steady state (Eq. 4); log-factorials keep it exact for large S;
* :class:`CoupledBasis` -- every |J, M>, from the eigenvectors of J^2 in each M block (a symmetric
  tridiagonal matrix in the m1 basis), with the Condon-Shortley sign fixed by
  <S S; S M-S | J M> > 0 for M >= 0 and the symmetry
  <S -m1; S -m2 | J -M> = (-1)^(2S-J) <S m1; S m2 | J M> for M < 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh_tridiagonal
from scipy.special import gammaln

from labctl.sim.spin import dimension, magnetic_numbers


def lowest_weight_amplitudes(spin: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each J = 0..2S: basis indices (i1, i2) and amplitudes <S m1; S m2 | J, -J>.

    Closed form of the stretched coefficient (m1 + m2 = J)
        <j1 m1; j2 m2 | J J> = (-1)^(j1-m1)
            sqrt[(2J+1)! (j1+j2-J)! / ((j1+j2+J+1)! (J+j1-j2)! (J-j1+j2)!)]
            sqrt[(j1+m1)! (j2+m2)! / ((j1-m1)! (j2-m2)!)],
    mapped to M = -J by <S m1; S m2 | J -J> = (-1)^(2S-J) <S -m1; S -m2 | J J>; log-factorials
    keep it accurate for large S.
    """
    two_s = int(round(2 * spin))
    m = magnetic_numbers(spin)
    out = []
    for J in range(two_s + 1):
        # |J, -J>: m1 + m2 = -J. Mirror: mu1 = -m1, mu2 = -m2, mu1 + mu2 = J.
        m1 = m[(m >= -J - spin - 1e-9) & (m <= spin - J + 1e-9)]  # m2 = -J - m1 in [-S, S]
        mu1, mu2 = -m1, J + m1
        log_norm = 0.5 * (
            gammaln(2 * J + 2) + gammaln(two_s - J + 1) - gammaln(two_s + J + 2) - 2 * gammaln(J + 1)
        )
        log_m = 0.5 * (
            gammaln(spin + mu1 + 1) + gammaln(spin + mu2 + 1) - gammaln(spin - mu1 + 1) - gammaln(spin - mu2 + 1)
        )
        sign = np.where(np.round(spin - mu1).astype(int) % 2, -1.0, 1.0) * (-1.0) ** (two_s - J)
        i1 = np.round(spin - m1).astype(int)
        i2 = np.round(spin + J + m1).astype(int)  # m2 = -J - m1
        out.append((i1, i2, sign * np.exp(log_norm + log_m)))
    return out


@dataclass(frozen=True)
class CouplingBlock:
    """All |J, M> of one magnetisation M: ``cg[J - Jmin, k] = <S m1_k; S M-m1_k | J M>``."""

    M: int
    j_min: int
    index: np.ndarray  # flat product indices i1 * d + i2 of the block's states, m1 descending
    cg: np.ndarray


class CoupledBasis:
    """The total-angular-momentum basis of two spin-S ensembles, block by block in M."""

    def __init__(self, spin: float):
        self.spin = spin
        self.d = dimension(spin)

    @cached_property
    def blocks(self) -> list[CouplingBlock]:
        """One :class:`CouplingBlock` per total magnetisation M = -2S, ..., 2S."""
        s, d = self.spin, self.d
        m = magnetic_numbers(s)
        two_s = d - 1
        upper = {M: self._upper_block_cg(M) for M in range(two_s + 1)}
        blocks = []
        for M in range(-two_s, two_s + 1):
            m1 = m[(M - m >= -s - 1e-9) & (M - m <= s + 1e-9)]  # descending
            i1 = np.round(s - m1).astype(int)
            i2 = np.round(s - (M - m1)).astype(int)
            if M >= 0:
                cg = upper[M]
            else:
                # <S m1; S m2 | J M> = (-1)^(2S-J) <S -m1; S -m2 | J -M>; -m1 runs ascending.
                mirror = upper[-M][:, ::-1]
                j = np.arange(-M, -M + mirror.shape[0])
                cg = mirror * np.where((two_s - j) % 2, -1.0, 1.0)[:, None]
            blocks.append(CouplingBlock(M, abs(M), i1 * d + i2, cg))
        return blocks

    def _upper_block_cg(self, M: int) -> np.ndarray:
        """CG matrix of block M >= 0, rows J = M..2S, columns m1 = S, S-1, ... (descending)."""
        s = self.spin
        m1 = s - np.arange(int(round(2 * s)) - M + 1)
        m2 = M - m1
        if m1.size == 1:
            return np.ones((1, 1))
        # J^2 = J1^2 + J2^2 + 2 J1z J2z + J1+ J2- + J1- J2+ is tridiagonal in m1 at fixed M.
        diag = 2 * s * (s + 1) + 2 * m1 * m2
        off = np.sqrt(s * (s + 1) - m1[1:] * (m1[1:] + 1)) * np.sqrt(s * (s + 1) - m2[1:] * (m2[1:] - 1))
        _, vecs = eigh_tridiagonal(diag, off)
        cg = vecs.T  # rows: J ascending from M (eigenvalues J(J+1) ascending)
        # Condon-Shortley: the coefficient with m1 = S (first column) is positive.
        return cg * np.sign(cg[:, :1])

    def pair_operator(self, phases: np.ndarray) -> sp.csr_matrix:
        """sum_J phases[J] P_J on the two-ensemble space (d^2 x d^2, sparse).

        P_J projects onto total spin J, coupling the first factor before the second.
        """
        rows, cols, vals = [], [], []
        for b in self.blocks:
            j = np.arange(b.j_min, b.j_min + b.cg.shape[0])
            block = b.cg.T @ (phases[j][:, None] * b.cg)
            rr, cc = np.meshgrid(b.index, b.index, indexing="ij")
            rows.append(rr.ravel())
            cols.append(cc.ravel())
            vals.append(block.ravel())
        n = self.d**2
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )


@lru_cache(maxsize=16)
def coupled_basis(spin: float) -> CoupledBasis:
    """Cached :class:`CoupledBasis` for spin S."""
    return CoupledBasis(spin)
