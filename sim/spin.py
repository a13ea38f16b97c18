"""Spin-S algebra in the product basis of L ensembles.

Basis convention (architecture.md): within one ensemble the states are ordered
m = S, S-1, ..., -S (the order of qutip's ``jmat``); for L ensembles the product basis
|m_1, ..., m_L> has ensemble 1 as the most significant factor of the Kronecker product.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from labctl.errors import InputError


def as_spin(spin: float | int | str | Fraction) -> float:
    """Validate a spin quantum number S (1/2, 1, 3/2, ...) and return it as a float.

    Accepts numbers and strings such as ``"3/2"``. ``2S`` must be a positive integer.
    """
    try:
        value = Fraction(spin) if isinstance(spin, str) else Fraction(spin).limit_denominator(2)
    except (TypeError, ValueError, ZeroDivisionError):
        raise InputError(f"spin = {spin!r} is not a number; give S = 1/2, 1, 3/2, ...") from None
    if not np.isfinite(float(value)) or value <= 0 or (2 * value).denominator != 1:
        raise InputError(f"spin = {spin!r} is not a positive multiple of 1/2; valid: S = 1/2, 1, 3/2, ...")
    if not isinstance(spin, str) and abs(float(spin) - float(value)) > 1e-9 * float(value):
        raise InputError(f"spin = {spin!r} is not a positive multiple of 1/2; valid: S = 1/2, 1, 3/2, ...")
    return float(value)


def dimension(spin: float) -> int:
    """Number of Zeeman states 2S + 1 of one ensemble."""
    return int(round(2 * spin)) + 1


def magnetic_numbers(spin: float) -> np.ndarray:
    """The m values S, S-1, ..., -S in basis order."""
    return spin - np.arange(dimension(spin))


class SpinMatrices(NamedTuple):
    """Sparse spin-S operators of one ensemble (CSR, complex)."""

    x: sp.csr_matrix
    y: sp.csr_matrix
    z: sp.csr_matrix
    plus: sp.csr_matrix
    minus: sp.csr_matrix


@lru_cache(maxsize=32)
def spin_matrices(spin: float) -> SpinMatrices:
    """S^x, S^y, S^z, S^+, S^- for one spin S in the basis m = S, ..., -S."""
    m = magnetic_numbers(spin)
    d = m.size
    # S^+ |m> = sqrt(S(S+1) - m(m+1)) |m+1>: from basis index i to i-1.
    raising = np.sqrt(spin * (spin + 1) - m[1:] * (m[1:] + 1))
    plus = sp.diags(raising, 1, shape=(d, d), format="csr", dtype=complex)
    minus = plus.conj().T.tocsr()
    z = sp.diags(m, 0, shape=(d, d), format="csr", dtype=complex)
    return SpinMatrices(
        x=((plus + minus) / 2).tocsr(),
        y=((plus - minus) / 2j).tocsr(),
        z=z,
        plus=plus,
        minus=minus,
    )


def embed(op: sp.spmatrix, site: int, n_ensembles: int) -> sp.csr_matrix:
    """Operator ``op`` acting on ensemble ``site`` (0-based) of ``n_ensembles``."""
    d = op.shape[0]
    left = sp.identity(d**site, format="csr", dtype=complex)
    right = sp.identity(d ** (n_ensembles - site - 1), format="csr", dtype=complex)
    return sp.kron(sp.kron(left, op, format="csr"), right, format="csr")


def local_operators(spin: float, n_ensembles: int, component: str) -> list[sp.csr_matrix]:
    """The list [S_1^c, ..., S_L^c] for c in {x, y, z, plus, minus}, embedded in the product space."""
    op = getattr(spin_matrices(spin), component)
    return [embed(op, site, n_ensembles) for site in range(n_ensembles)]
