"""Brute-force reference: the null space of the Liouvillian of Eq. (2), for small systems.

This is the independent check of the closed forms: it knows nothing of c_J, Clebsch-Gordan
coefficients or gates, only H, the jump operator and linear algebra. Three methods:

* ``"dense"`` (default when the Liouvillian has at most ``dense_limit`` rows): the full spectrum;
  exact null-space dimension and dissipative gap;
* ``"lu"``: one sparse LU factorisation of L - sigma (reverse Cuthill-McKee order, sigma a tiny
  shift) serves shift-invert Arnoldi (ARPACK) -- the eigenvalues nearest zero give the
  null-space dimension and, as the smallest -Re lambda among them, a gap estimate -- and inverse
  iteration for the null vector (rate sigma/gap per step). Fill-in makes it cost seconds to a
  minute beyond D^2 ~ 5000;
* ``"krylov"``: GMRES on L with the equation of rho_00 replaced by tr rho = 1, preconditioned
  by the exact inverse of its Lyapunov part rho -> A rho + rho A^dag - sigma rho,
  A = -iH - K^dag K / 2 (Bartels-Stewart on the Schur form of A, O(D^3) per application).
  Fast (L = 4, S = 1 in a fraction of a second) and accurate to the residual it reports, but it
  finds *a* steady state: it says nothing about uniqueness (``null_dim`` is None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from scipy.linalg.lapack import ztrsyl
from scipy.sparse.csgraph import reverse_cuthill_mckee

from labctl.errors import InputError, LabctlError
from labctl.sim.conditions import validate_parameters
from labctl.sim.model import hamiltonian, jump_operator, liouvillian
from labctl.sim.spin import as_spin

METHODS = ("auto", "dense", "lu", "krylov")


@dataclass(frozen=True)
class LiouvillianSteadyState:
    """Result of :func:`liouvillian_steady_state`.

    ``rho`` is a steady state (trace 1, Hermitian). When ``null_dim > 1`` it is one element of
    the null space and ``null_space`` holds a basis of it; ``null_dim`` is None when the method
    does not determine it (krylov). ``gap`` is the dissipative gap min(-Re lambda) over non-zero
    eigenvalues (exact for dense, an estimate from the eigenvalues found for lu, nan for krylov).
    ``residual`` is ||L(rho)||_F.
    """

    rho: np.ndarray
    null_dim: int | None
    gap: float
    eigenvalues: np.ndarray
    method: str
    residual: float
    null_space: tuple[np.ndarray, ...]

    @property
    def is_unique(self) -> bool:
        if self.null_dim is None:
            raise LabctlError(f"uniqueness is not determined by method {self.method!r}; use 'dense' or 'lu'")
        return self.null_dim == 1

    @property
    def purity(self) -> float:
        return float(np.real(np.vdot(self.rho, self.rho)))

    def fidelity(self, psi: np.ndarray) -> float:
        """<psi|rho|psi> for a normalised pure state psi."""
        return float(np.real(np.vdot(psi, self.rho @ psi)))


def liouvillian_steady_state(
    spin: float | str,
    detunings: Sequence[float],
    rabi: float,
    chi: float = 0.0,
    gamma: float = 1.0,
    *,
    method: str = "auto",
    n_eigenvalues: int = 8,
    dense_limit: int = 2500,
    null_tolerance: float = 1e-9,
) -> LiouvillianSteadyState:
    """Steady state(s) of Eq. (2) from the Liouvillian's null space, with a uniqueness report.

    No conditions are checked: violating parameters are exactly what this is for.
    """
    s = as_spin(spin)
    delta, omega, chi = validate_parameters(detunings, rabi, chi)
    if not np.isfinite(omega):
        raise InputError("the brute-force Liouvillian needs a finite rabi")
    h = hamiltonian(s, delta, omega, chi)
    k = np.sqrt(gamma) * jump_operator(s, delta.size)
    return solve_steady_state(
        h, [k], method=method, n_eigenvalues=n_eigenvalues, dense_limit=dense_limit, null_tolerance=null_tolerance
    )


def solve_steady_state(
    h: sp.spmatrix,
    jumps: Sequence[sp.spmatrix],
    *,
    method: str = "auto",
    n_eigenvalues: int = 8,
    dense_limit: int = 2500,
    null_tolerance: float = 1e-9,
) -> LiouvillianSteadyState:
    """Steady state(s) of d rho/dt = -i[H, rho] + sum_mu D[K_mu] rho for any H and jumps
    (rates folded into the K_mu), by one of the methods of the module docstring."""
    if method not in METHODS:
        raise InputError(f"method = {method!r}; valid: {', '.join(METHODS)}")
    h = sp.csr_matrix(h)
    jumps = [sp.csr_matrix(k) for k in jumps]
    lv = liouvillian(h, jumps)
    if method == "auto":
        method = "dense" if lv.shape[0] <= dense_limit else "lu"
    if method == "krylov":
        rho = _krylov_steady_state(h.toarray(), [k.toarray() for k in jumps])
        return _result(lv, rho, None, float("nan"), np.array([]), method, (rho,))
    if method == "dense":
        vals, vecs = la.eig(lv.toarray())
        solve = None
    else:
        shift = 1e-7 * max(abs(lv).max(), 1.0)
        solve = _shifted_solver(lv, shift)
        opinv = sla.LinearOperator(lv.shape, matvec=solve, dtype=complex)
        n_eig = min(n_eigenvalues, lv.shape[0] - 2)
        vals, vecs = sla.eigs(lv, k=n_eig, sigma=shift, OPinv=opinv, which="LM", tol=1e-13)
    order = np.argsort(np.abs(vals))
    vals, vecs = vals[order], vecs[:, order]
    is_null = np.abs(vals) < null_tolerance * max(abs(lv).max(), 1.0)
    null_dim = int(np.count_nonzero(is_null))
    nonzero = vals[~is_null]
    gap = float(np.min(-nonzero.real)) if nonzero.size else float("nan")
    null_vectors = [vecs[:, i] for i in np.flatnonzero(is_null)] or [vecs[:, 0]]
    if null_dim == 1 and solve is not None:
        null_vectors = [_inverse_iteration(solve, null_vectors[0])]
    dim = h.shape[0]
    null_space = tuple(_as_density(v.reshape(dim, dim)) for v in null_vectors)
    return _result(lv, null_space[0], null_dim, gap, vals[:n_eigenvalues], method, null_space)


def _result(lv, rho, null_dim, gap, eigenvalues, method, null_space) -> LiouvillianSteadyState:
    residual = float(np.linalg.norm(lv @ rho.reshape(-1)))
    return LiouvillianSteadyState(rho, null_dim, gap, eigenvalues, method, residual, null_space)


def _as_density(rho: np.ndarray) -> np.ndarray:
    trace = np.trace(rho)
    rho = rho / trace if abs(trace) > 1e-12 else rho / np.linalg.norm(rho)
    return (rho + rho.conj().T) / 2


def _shifted_solver(lv: sp.csr_matrix, shift: float):
    """x -> (L - shift)^{-1} x through one sparse LU in reverse Cuthill-McKee order."""
    n = lv.shape[0]
    perm = reverse_cuthill_mckee((abs(lv) + abs(lv.T)).tocsr(), symmetric_mode=True)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(n)
    shifted = (lv - shift * sp.identity(n, format="csr"))[perm][:, perm]
    lu = sla.splu(shifted.tocsc(), permc_spec="NATURAL")
    return lambda x: lu.solve(np.asarray(x, dtype=complex).reshape(-1)[perm])[inverse]


def _inverse_iteration(solve, vec: np.ndarray, steps: int = 3) -> np.ndarray:
    for _ in range(steps):
        vec = solve(vec)
        vec = vec / np.linalg.norm(vec)
    return vec


def _krylov_steady_state(h: np.ndarray, jumps: list[np.ndarray], shift: float = 0.05, tol: float = 1e-13) -> np.ndarray:
    """Bordered GMRES for L(rho) = 0, tr rho = 1, with the Lyapunov part inverted exactly.

    The Lyapunov part is shifted by ``shift`` times the largest decay rate ||sum K^dag K||.
    """
    dim = h.shape[0]
    decay = sum((k.conj().T @ k for k in jumps), np.zeros((dim, dim), complex))
    a = -1j * h - 0.5 * decay
    shift = shift * max(np.linalg.norm(decay, 2), 1e-300)
    schur, unitary = la.schur(a - 0.5 * shift * np.eye(dim), output="complex")

    def lindblad(x: np.ndarray) -> np.ndarray:
        rho = x.reshape(dim, dim)
        return a @ rho + rho @ a.conj().T + sum(k @ rho @ k.conj().T for k in jumps)

    def bordered(x: np.ndarray) -> np.ndarray:
        out = lindblad(x).reshape(-1)
        out[0] = np.trace(x.reshape(dim, dim))
        return out

    def lyapunov_inverse(x: np.ndarray) -> np.ndarray:
        c = unitary.conj().T @ x.reshape(dim, dim) @ unitary
        y, scale, info = ztrsyl(schur, schur, c, trana="N", tranb="C")
        if info < 0:
            raise LabctlError(f"LAPACK ztrsyl failed (info = {info})")
        return (unitary @ (y / scale) @ unitary.conj().T).reshape(-1)

    n = dim * dim
    rhs = np.zeros(n, dtype=complex)
    rhs[0] = 1.0
    x, info = sla.gmres(
        sla.LinearOperator((n, n), matvec=bordered, dtype=complex),
        rhs,
        M=sla.LinearOperator((n, n), matvec=lyapunov_inverse, dtype=complex),
        rtol=tol,
        atol=0.0,
        restart=min(n, 400),
        maxiter=20,
    )
    if info != 0:
        raise LabctlError(f"GMRES did not converge to {tol:g} for the steady state (info = {info}); use method='lu'")
    return _as_density(x.reshape(dim, dim))
