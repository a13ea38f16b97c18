"""The conditions of Sec. II for a unique pure steady state of Eq. (2), and the pairing they imply.

1. L is even;
2. every detuning delta_k has a partner delta_l = -delta_k (l != k), pairs disjoint;
3. if chi = 0, all detunings are non-zero and distinct;
4. Omega > 0 (Omega = inf stands for the large-drive limit).

Ensembles are numbered 1..L in messages, as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labctl.errors import ConditionError, InputError

#: Relative tolerance for "equal" and "opposite" detunings, in units of the largest rate.
RELATIVE_TOLERANCE = 1e-9


def _as_real_vector(name: str, values: Sequence[float]) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} = {values!r} must be a sequence of real numbers") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InputError(f"{name} must be finite; ensembles {_names(bad)} have {arr[bad].tolist()}")
    return arr


def _as_rate(name: str, value: float, *, allow_inf: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} = {value!r} must be a real number") from None
    if np.isnan(x) or (np.isinf(x) and not allow_inf):
        raise InputError(f"{name} = {value!r} must be finite")
    return x


def _names(indices) -> str:
    return ", ".join(str(int(i) + 1) for i in indices)


def validate_parameters(detunings: Sequence[float], rabi: float, chi: float) -> tuple[np.ndarray, float, float]:
    """Type/shape checks shared by every entry point; returns (detunings, rabi, chi) as floats."""
    delta = _as_real_vector("detunings", detunings)
    omega = _as_rate("rabi", rabi, allow_inf=True)
    chi_ = _as_rate("chi", chi)
    return delta, omega, chi_


def tolerance(delta: np.ndarray, chi: float) -> float:
    """Absolute tolerance below which two detunings count as equal (or opposite)."""
    scale = max(float(np.max(np.abs(delta))), abs(chi))
    return RELATIVE_TOLERANCE * scale if scale > 0 else 0.0


def pair_ensembles(delta: np.ndarray, tol: float) -> tuple[list[tuple[int, int]], list[int]]:
    """Greedy pairing: each ensemble, in order, takes the nearest later unpaired partner -delta.

    Returns the pairs (k, l), k < l, 0-based, sorted by k, and the ensembles left without a
    partner (0-based). Any valid pairing gives the same steady state (Sec. IV.A).
    """
    n = delta.size
    partner = [-1] * n
    for k in range(n):
        if partner[k] >= 0:
            continue
        for l in range(k + 1, n):
            if partner[l] < 0 and abs(delta[k] + delta[l]) <= tol:
                partner[k], partner[l] = l, k
                break
    pairs = [(k, partner[k]) for k in range(n) if partner[k] > k]
    return pairs, [k for k in range(n) if partner[k] < 0]


def check_conditions(detunings: Sequence[float], rabi: float, chi: float = 0.0) -> list[tuple[int, int]]:
    """Check the conditions of Sec. II; return the pairing (0-based pairs) or raise ConditionError.

    The error names the offending ensembles (1-based) and the rule they break.
    """
    delta, omega, chi = validate_parameters(detunings, rabi, chi)
    n = delta.size
    if not omega > 0:
        raise ConditionError(f"rabi = {rabi!r}: the Rabi frequency Omega must be > 0 (Sec. II); at Omega = 0 the steady state is trivial")
    if n % 2:
        raise ConditionError(
            f"L = {n} ensembles: a pure steady state needs an even number of ensembles (Sec. II); "
            f"add or remove one ensemble (detunings = {delta.tolist()})"
        )
    tol = tolerance(delta, chi)
    if chi == 0.0:
        zero = np.flatnonzero(np.abs(delta) <= tol)
        if zero.size:
            raise ConditionError(
                f"ensembles {_names(zero)} have detuning 0 while chi = 0: without chiral exchange every "
                "detuning must be non-zero (Sec. II); give them non-zero detunings or set chi != 0"
            )
        for k in range(n):
            same = [l for l in range(k + 1, n) if abs(delta[k] - delta[l]) <= tol]
            if same:
                raise ConditionError(
                    f"ensembles {_names([k, *same])} share the detuning {delta[k]:g} while chi = 0: without "
                    "chiral exchange all detunings must be distinct (Sec. II); make them distinct or set chi != 0"
                )
    pairs, unpaired = pair_ensembles(delta, tol)
    if unpaired:
        lone = ", ".join(f"{i + 1} (delta = {delta[i]:g})" for i in unpaired)
        raise ConditionError(
            f"ensembles {lone} have no partner with the opposite detuning: every delta_k needs its own "
            "delta_l = -delta_k (Sec. II)"
        )
    return pairs
