"""Linear combinations of one-body spin operators, sum_l (a_l S_l^x + b_l S_l^y + c_l S_l^z).

Such combinations are what the paper measures and estimates: ``SpinSum(x=(1, -1))`` is
S_1^x - S_2^x (Eq. 11), ``SpinSum(z=(1, -1, -1, 1))`` the curvature generator of Eq. (30).
The string form ``"S1x - S2x"`` (ensembles numbered from 1, as in the paper) is accepted
wherever a ``SpinSum`` is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labctl.errors import InputError

_AXES = "xyz"
_TERM = re.compile(r"\s*([+-]?)\s*(\d*\.?\d*(?:[eE][+-]?\d+)?)\s*\*?\s*S(\d+)([xyz])\s*")


@dataclass(frozen=True, eq=False)
class SpinSum:
    """Hermitian operator sum_l sum_a coeffs[l, a] S_l^a with real coefficients (a = x, y, z)."""

    coeffs: np.ndarray  # shape (L, 3)

    def __init__(self, x: Sequence[float] | None = None, y: Sequence[float] | None = None,
                 z: Sequence[float] | None = None, *, coeffs: np.ndarray | None = None):
        if coeffs is None:
            parts = {a: v for a, v in zip(_AXES, (x, y, z)) if v is not None}
            if not parts:
                raise InputError("SpinSum needs at least one of x=, y=, z= (coefficients per ensemble)")
            lengths = {a: len(v) for a, v in parts.items()}
            if len(set(lengths.values())) != 1:
                raise InputError(f"SpinSum coefficient lists differ in length: {lengths}; give one value per ensemble")
            n = next(iter(lengths.values()))
            coeffs = np.zeros((n, 3))
            for a, v in parts.items():
                coeffs[:, _AXES.index(a)] = v
        coeffs = np.asarray(coeffs, dtype=float)
        if coeffs.ndim != 2 or coeffs.shape[1] != 3 or not np.all(np.isfinite(coeffs)):
            raise InputError(f"SpinSum coefficients must be finite with shape (L, 3), got {coeffs.shape}")
        object.__setattr__(self, "coeffs", coeffs)

    @property
    def n_ensembles(self) -> int:
        return self.coeffs.shape[0]

    @property
    def is_diagonal(self) -> bool:
        """True when only S^z terms appear (diagonal in the product basis)."""
        return not np.any(self.coeffs[:, :2])

    @classmethod
    def parse(cls, text: str, n_ensembles: int) -> SpinSum:
        """Parse ``"S1x - S2x + 0.5 S3z"`` (ensembles 1..n_ensembles)."""
        coeffs = np.zeros((n_ensembles, 3))
        pos = 0
        stripped = text.strip()
        if not stripped:
            raise InputError("empty operator string; write e.g. 'S1x - S2x'")
        while pos < len(stripped):
            m = _TERM.match(stripped, pos)
            if not m or m.end() == pos:
                raise InputError(
                    f"cannot read operator {text!r} at {stripped[pos:]!r}; write terms like 'S1x', '- 0.5 S2z'"
                )
            sign, number, site, axis = m.groups()
            if pos > 0 and not sign:
                raise InputError(f"missing '+' or '-' before {m.group(0).strip()!r} in {text!r}")
            value = float(number) if number not in ("", ".") else 1.0
            l = int(site)
            if not 1 <= l <= n_ensembles:
                raise InputError(f"ensemble S{l} in {text!r} does not exist: valid ensembles are 1..{n_ensembles}")
            coeffs[l - 1, _AXES.index(axis)] += -value if sign == "-" else value
            pos = m.end()
        return cls(coeffs=coeffs)

    def __add__(self, other: SpinSum) -> SpinSum:
        if not isinstance(other, SpinSum):
            return NotImplemented
        if other.n_ensembles != self.n_ensembles:
            raise InputError(f"cannot add operators on {self.n_ensembles} and {other.n_ensembles} ensembles")
        return SpinSum(coeffs=self.coeffs + other.coeffs)

    def __sub__(self, other: SpinSum) -> SpinSum:
        return self + (-1.0) * other

    def __mul__(self, factor: float) -> SpinSum:
        return SpinSum(coeffs=float(factor) * self.coeffs)

    __rmul__ = __mul__

    def __neg__(self) -> SpinSum:
        return (-1.0) * self

    def __repr__(self) -> str:
        terms = [
            f"{'-' if v < 0 else '+'} {abs(v):g} S{l + 1}{_AXES[a]}"
            for l, a in zip(*np.nonzero(self.coeffs))
            for v in [self.coeffs[l, a]]
        ]
        body = " ".join(terms).lstrip("+ ") or "0"
        return f"SpinSum({body!r})"


def as_spin_sum(op: SpinSum | str, n_ensembles: int) -> SpinSum:
    """Coerce a SpinSum or its string form, checking the number of ensembles."""
    if isinstance(op, str):
        return SpinSum.parse(op, n_ensembles)
    if not isinstance(op, SpinSum):
        raise InputError(f"expected a SpinSum or a string like 'S1x - S2x', got {type(op).__name__}")
    if op.n_ensembles != n_ensembles:
        raise InputError(f"operator {op!r} is for {op.n_ensembles} ensembles, the state has {n_ensembles}")
    return op


def z_generator(weights: Sequence[float]) -> SpinSum:
    """The phase generator sum_l weights[l] S_l^z (e.g. (1, -1) for a differential phase)."""
    return SpinSum(z=weights)
