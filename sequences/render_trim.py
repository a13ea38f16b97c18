"""Detuning trims: off-resonant Rabi-chain tones whose AC Stark shifts take up the drives' grid errors.

A loop that fits the HDAWG's memory puts tones on a grid of f_s / N (tens of Hz), while a drive
must sit within ~1 % of Gamma (often well below 1 Hz) of its planned frequency. When no loop
length puts every drive close enough (render_grid), the renderer keeps the loop that misses
least and adds one *trim* per ensemble whose detuning is off: a Rabi-chain tone nu_k away from
ensemble k's drive (on the grid; on the side that gives the needed sign). By the Rabi rule of
hardware-mapping.md, which :func:`labctl.sequences.effective.realised_model` applies to every
Rabi-chain tone, trim k shifts ensemble m by

    -|Omega_km|^2 / (2 nu_km),   Omega_km = 2 pi r_m V_k,   nu_km = 2 pi (f_trim,k - f~_m),

and its power |V_k|^2 is continuous: the L powers solve the linear system
sum_k pi r_m^2 |V_k|^2 / nu_km[Hz] = e_m, where e_m = rendered - planned detuning (rad/s) before trims.

Offsets: |nu_k| = ``TRIM_FRACTION`` x the distance from drive k to the nearest other drive on the
trim's side, so that the trim acts mostly on its own ensemble (halved, then quartered, when the
powers have no non-negative solution).

Cost: a trim dresses its ensemble (its dipole follows the tone with amplitude theta = Omega / nu).
In a flat bath the dressing is a local dephasing of rate theta^2 Gamma (Floquet steady states of
L = 2 agree to 10-25 %; it costs 3-80 theta^2 depending on the state), which
:func:`~labctl.sequences.effective.realised_model` puts into the effective model with the cavity's
response at the sideband. Gamma is cavity mediated, and the cavity filters the dressing: with the
cavity kept (tests/sequences/cavity_reference.py, the toy pair) the fidelity loss per sum theta^2
falls with nu / kappa: 0.8-0.95 at nu = kappa/4, 0.5 at 0.75 kappa, 0.35-0.45 at 1.5-2 kappa and
0.19 at 3.75 kappa -- more than the filtered dephasing alone predicts at these small offsets. The renderer bounds the cost by
``TRIM_COST`` x sum theta_k^2 and refuses trims above ``TRIM_SHARE`` of ``[budget] infidelity``; it
also refuses trims whose fourth-order shift (theta^2 / 4 of the shift; not in the model) exceeds
the drives' share of the tolerance. A longer loop (smaller errors) or wider drive spacing (larger
nu) lowers both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from labctl.errors import RenderError
from labctl.sequences.signal_chain import SignalChain, Tone

TWO_PI = 2 * np.pi
#: Trim offset as a fraction of the distance to the nearest other drive.
TRIM_FRACTION = 0.4
#: Bound on the fidelity loss per theta^2 of a trim, through a cavity (module docstring).
TRIM_COST = 1.0
#: Share of ``[budget] infidelity`` the trims may take.
TRIM_SHARE = 0.2


@dataclass(frozen=True)
class Trim:
    """One trim as rendered: its tone, offset from its ensemble's drive (Hz), the shift it was
    solved for on that ensemble (rad/s) and its dressing theta = |Omega / nu| there."""

    tone: Tone
    offset_hz: float
    shift: float
    theta: float

    def to_dict(self) -> dict:
        return {"label": self.tone.label, "ensemble": self.tone.ensembles[0], "offset_hz": self.offset_hz,
                "rabi_hz": abs(self.tone.coupling_hz), "shift_rad_s": self.shift, "theta": self.theta}


def trim_offsets(drive_hz: np.ndarray, errors: np.ndarray | None = None, fraction: float = TRIM_FRACTION) -> np.ndarray:
    """Signed offset (Hz) of each ensemble's trim from its drive. Above the drive lowers the
    detuning (-|Omega|^2 / 2 nu < 0), so the side follows the sign of the error e_k; the distance
    is ``fraction`` x the gap to the nearest other drive on that side (either side for an edge
    drive facing out). Without ``errors``: the unsigned distance to the nearest drive either side."""
    drive = np.asarray(drive_hz, dtype=float)
    gaps = drive[None, :] - drive[:, None]  # (k, m): f~_m - f~_k
    np.fill_diagonal(gaps, np.nan)
    nearest = np.nanmin(np.abs(gaps), axis=1)
    if errors is None:
        return fraction * nearest
    side = np.where(np.asarray(errors) >= 0, 1.0, -1.0)
    ahead = np.where(np.sign(gaps) == side[:, None], np.abs(gaps), np.inf)
    distance = np.min(ahead, axis=1)
    return side * fraction * np.where(np.isfinite(distance), distance, nearest)


def detuning_trims(chain: SignalChain, drive_hz: np.ndarray, errors: np.ndarray, on_grid) -> list[Trim]:
    """Trims that cancel ``errors`` (rendered - planned detunings, rad/s) of the ensembles driven at
    ``drive_hz`` (Hz, as rendered); ``on_grid(hz)`` returns the playable microwave frequency nearest
    ``hz``. Refuses (RenderError) when the powers have no non-negative solution."""
    drive = np.asarray(drive_hz, dtype=float)
    errors = np.asarray(errors, dtype=float)
    rate = np.asarray(chain.calibration.rabi_hz_per_v, dtype=float)  # r_m, Hz per V
    if not np.any(errors):
        return []
    scale = float(np.max(np.abs(errors)))
    for fraction in (TRIM_FRACTION, TRIM_FRACTION / 2, TRIM_FRACTION / 4):  # closer trims act more locally
        need = errors  # what each ensemble's own trim must cover: its error less its neighbours' trims
        for _ in range(len(errors) + 1):
            offsets = trim_offsets(drive, need, fraction)
            trim_hz = np.array([on_grid(f + offset) for f, offset in zip(drive, offsets)])
            nu = trim_hz[None, :] - drive[:, None]  # nu_km (Hz), index (m, k)
            if np.any(nu == 0.0):  # a trim on another ensemble's line would drive it
                misfit = np.inf
                break
            matrix = np.pi * rate[:, None] ** 2 / nu  # rad/s per V^2, to second order
            power, misfit = nnls(matrix, errors)
            own = np.diag(matrix) * power
            side = np.sign(errors - (matrix @ power - own))
            if misfit <= 1e-6 * scale * np.sqrt(len(errors)) or np.array_equal(side, np.sign(need)):
                break
            need = errors - (matrix @ power - own)
        if misfit <= 1e-6 * scale * np.sqrt(len(errors)):
            break
    else:
        raise RenderError(f"render: detuning trims cannot cancel the drives' grid errors "
                          f"{np.array2string(errors / TWO_PI, precision=3)} Hz (no non-negative trim powers; "
                          f"residual {misfit / TWO_PI:.3g} Hz)")
    trims = []
    for k in np.flatnonzero(power):
        rf = chain.awg_hz("rabi", float(trim_hz[k]))
        tone = chain.awg_tone("rabi", rf, float(np.sqrt(power[k])), "trim", f"trim {k + 1}", (int(k) + 1,))
        theta = abs(tone.coupling_hz) / abs(nu[k, k])
        trims.append(Trim(tone, float(nu[k, k]), -float(matrix[k, k] * power[k]), float(theta)))
    return trims


def trim_infidelity(trims: list[Trim]) -> float:
    """Bound on the trims' cost, 1 - F <= TRIM_COST x sum theta_k^2 (module docstring)."""
    return TRIM_COST * float(sum(t.theta**2 for t in trims))


def affordable_errors(infidelity_budget: float) -> float:
    """Largest sum_k |e_k| / nu_k of the errors trims take up whose bound, TRIM_COST x sum 2 |e_k| / nu_k,
    stays within half their share of the budget (a loop to prefer for its length)."""
    return TRIM_SHARE * infidelity_budget / (2 * TRIM_COST) / 2


def higher_order_shift(trims: list[Trim]) -> np.ndarray:
    """Bound (rad/s) on the shift each trim leaves out at fourth order, theta^2 / 4 x its shift
    (exact for one tone, Omega^4 / 8 nu^3; with several tones the cross terms are of the same order)."""
    return np.array([t.theta**2 / 4 * abs(t.shift) for t in trims])
