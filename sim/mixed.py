"""Mixed states from phase noise and their quantum Fisher information (Eqs. 15, 16; Sec. IV.B).

A pure state exposed to a random phase exp(-i theta G), G = sum_l w_l S_l^z, becomes
rho = int d theta P(theta) U_theta |psi><psi| U_theta^dag. For theta uniform over 2 pi (and
integer eigenvalue differences of G, as for the common phase or the gradient (3, 1, -1, -3)) the
coherences between different eigenvalues of G vanish: rho is block diagonal in the sectors of
G, and each block is the rank-one projection of |psi> on its sector. Then, for any generator
K diagonal in the product basis, Eq. (16) reduces to
    F(rho, K) = 4 sum_s p_s Var_s(K),
the sector-weighted variance (the eigenvalue formula keeps the terms whose partner eigenvalue
is zero; within a sector those give exactly 4 p_s Var_s). Gaussian phases, or generators that
are not diagonal, use :func:`qfi_mixed` on the dense density matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labctl.errors import InputError
from labctl.sim.operators import SpinSum
from labctl.sim.spin import dimension, magnetic_numbers, spin_matrices

#: Largest density matrix (in rows) formed densely.
MAX_DENSE_DIM = 6000


def qfi_mixed(rho: np.ndarray, generator: np.ndarray, cutoff: float = 1e-12) -> float:
    """QFI of a density matrix for the Hermitian generator (Eq. 16):
    F = 2 sum_{lambda_k + lambda_l > 0} (lambda_k - lambda_l)^2 / (lambda_k + lambda_l) |<k|G|l>|^2.

    ``cutoff`` (relative to the largest eigenvalue) decides which eigenvalues count as zero.
    """
    rho = np.asarray(rho)
    vals, vecs = np.linalg.eigh((rho + rho.conj().T) / 2)
    vals = np.where(vals > cutoff * vals.max(), vals, 0.0)
    g = vecs.conj().T @ (generator @ vecs)
    lk, ll = np.meshgrid(vals, vals, indexing="ij")
    total = lk + ll
    weight = np.divide((lk - ll) ** 2, total, out=np.zeros_like(total), where=total > 0)
    return float(2.0 * np.sum(weight * np.abs(g) ** 2))


def z_diagonal(spin: float, n_ensembles: int, weights: Sequence[float]) -> np.ndarray:
    """Diagonal of sum_l w_l S_l^z in the product basis."""
    m = magnetic_numbers(spin)
    total = np.zeros(1)
    for w in weights:
        total = (total[:, None] + w * m[None, :]).reshape(-1)
    if total.size != m.size**n_ensembles:
        raise InputError(f"need {n_ensembles} weights, got {len(weights)}")
    return total


def sector_labels(diagonals: Sequence[np.ndarray]) -> np.ndarray:
    """Integer sector index of every product-basis state for the joint eigenvalues of the G's."""
    keys = np.stack([np.round(2 * g).astype(np.int64) for g in diagonals], axis=1)
    _, labels = np.unique(keys, axis=0, return_inverse=True)
    return labels.reshape(-1)


def operator_matrix(spin: float, op: SpinSum) -> np.ndarray:
    """Dense matrix of a one-body SpinSum in the product basis (small systems)."""
    ops = spin_matrices(spin)
    d, n = dimension(spin), op.n_ensembles
    total = np.zeros((d**n, d**n), dtype=complex)
    for l in range(n):
        local = (op.coeffs[l, 0] * ops.x + op.coeffs[l, 1] * ops.y + op.coeffs[l, 2] * ops.z).toarray()
        total += np.kron(np.kron(np.eye(d**l), local), np.eye(d ** (n - l - 1)))
    return total


class PhaseAveragedState:
    """rho_c (Eq. 15) or rho_c+g (Sec. IV.B): a pure state averaged over random phases.

    ``diagonals`` holds, for each phase generator G, its eigenvalue on every product-basis state.
    ``sigma=None`` means theta uniform over 2 pi; otherwise theta is Gaussian with that standard
    deviation, which multiplies the coherence between states i, j by exp(-sigma^2 (g_i - g_j)^2 / 2).
    """

    def __init__(self, vector: np.ndarray, diagonals: Sequence[np.ndarray], *, sigma: float | None,
                 spin: float, n_ensembles: int):
        if sigma is not None and not (np.isfinite(sigma) and sigma >= 0):
            raise InputError(f"sigma = {sigma!r} must be a finite phase spread >= 0 (radians), or None for uniform phases")
        self.vector = vector
        self.diagonals = list(diagonals)
        self.sigma = sigma
        self.spin = spin
        self.n_ensembles = n_ensembles
        self.labels = sector_labels(self.diagonals)

    def sector_weights(self) -> np.ndarray:
        """p_s, the probability of each phase sector (uniform averaging)."""
        return np.bincount(self.labels, weights=np.abs(self.vector) ** 2)

    def density_matrix(self) -> np.ndarray:
        """Dense rho (small systems only)."""
        dim = self.vector.size
        if dim > MAX_DENSE_DIM:
            raise InputError(
                f"a dense density matrix of dimension {dim} exceeds {MAX_DENSE_DIM}; "
                "use qfi() with a z generator and uniform phases, which needs none"
            )
        rho = np.outer(self.vector, self.vector.conj())
        if self.sigma is None:
            return rho * (self.labels[:, None] == self.labels[None, :])
        for g in self.diagonals:
            rho = rho * np.exp(-0.5 * self.sigma**2 * (g[:, None] - g[None, :]) ** 2)
        return rho

    def qfi(self, generator: SpinSum | Sequence[float]) -> float:
        """QFI of rho for a phase generator (z weights per ensemble or a SpinSum), Eq. (16)."""
        op = generator if isinstance(generator, SpinSum) else SpinSum(z=generator)
        if op.n_ensembles != self.n_ensembles:
            raise InputError(f"generator {op!r} is for {op.n_ensembles} ensembles, the state has {self.n_ensembles}")
        if self.sigma is None and op.is_diagonal:
            g = z_diagonal(self.spin, self.n_ensembles, op.coeffs[:, 2])
            prob = np.abs(self.vector) ** 2
            p_s = np.bincount(self.labels, weights=prob)
            mean_s = np.bincount(self.labels, weights=prob * g)
            occupied = p_s > 0
            return float(4.0 * (np.sum(prob * g**2) - np.sum(mean_s[occupied] ** 2 / p_s[occupied])))
        return qfi_mixed(self.density_matrix(), operator_matrix(self.spin, op))

    def purity(self) -> float:
        """tr rho^2."""
        if self.sigma is None:
            return float(np.sum(self.sector_weights() ** 2))
        rho = self.density_matrix()
        return float(np.real(np.vdot(rho, rho)))
