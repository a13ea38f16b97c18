"""Passes that fix the physical scales: the collective decay rate Gamma and the coil current.

``scale_pass``: a target compiled in units of Gamma gets the fastest Gamma the apparatus allows
(every rate of Eq. (2) scales with it); a target with a physical Gamma keeps it.
``gradient_pass``: the smallest coil current whose ensemble frequency separations meet the
error budget of hardware-mapping.md -- Rabi cross-talk (Delta >~ Omega sqrt(c_L / eps)),
Gamma-comb side channels (Delta >~ (kappa/2) sqrt(2 n_pairs / eps)) and the rotating-wave
approximation of the chi tones (2 chi / Delta <= beat tolerance) -- within the coil's limits.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labctl.errors import PlanError
from labctl.sequences.budget import SHARES, comb_side_channel_infidelity, rabi_crosstalk_infidelity
from labctl.sequences.plan_types import HardwarePlan

TWO_PI = 2 * np.pi


def separations(frequencies_hz: np.ndarray) -> np.ndarray:
    """Matrix of f_l - f_m."""
    f = np.asarray(frequencies_hz)
    return f[None, :] - f[:, None]


def min_separation(frequencies_hz: np.ndarray) -> float:
    d = np.abs(separations(frequencies_hz))
    return float(np.min(d[np.triu_indices(d.shape[0], 1)]))


def required_separation(plan: HardwarePlan) -> dict[str, float]:
    """Minimal ensemble separation (Hz) demanded by each criterion, for the plan's rates (rad/s)."""
    p, hw, cal = plan.params, plan.hardware, plan.calibration
    eps = hw.budget.infidelity
    n = p.n_ensembles
    unit = np.abs(separations(np.arange(n, dtype=float)))  # equal spacing, in units of Delta
    rabi_hz = abs(p.rabi) / TWO_PI
    out = {
        # 1 - F = rabi_crosstalk_infidelity(Omega, Delta * unit) is quadratic in Omega / Delta
        "rabi_crosstalk": rabi_hz * np.sqrt(rabi_crosstalk_infidelity(1.0, unit) / (SHARES["rabi_crosstalk"] * eps)),
        "comb_side_channels": cal.kappa_hz * np.sqrt(comb_side_channel_infidelity(1.0, unit) / (SHARES["comb_side_channels"] * eps)),
        "chi_rwa": 2 * abs(p.chi) / TWO_PI / hw.budget.beat_tolerance,
    }
    out["required"] = max(out.values()) * plan.separation_factor
    return out


def available_separation(plan: HardwarePlan, current_a: float | np.ndarray) -> float | np.ndarray:
    """Smallest ensemble frequency separation at one current or at each of an array of currents."""
    cal = plan.calibration
    currents = np.atleast_1d(np.asarray(current_a, dtype=float))
    f = np.asarray(cal.transition_hz_at_zero_current)[:, None] + np.asarray(cal.transition_hz_per_a)[:, None] * currents
    rows, cols = np.triu_indices(f.shape[0], 1)
    seps = np.min(np.abs(f[cols] - f[rows]), axis=0)
    return float(seps[0]) if np.ndim(current_a) == 0 else seps


def _current_grid(plan: HardwarePlan, n: int = 4001) -> np.ndarray:
    i_max = plan.hardware.coil.max_current_a
    grid = np.linspace(-i_max, i_max, n)
    return grid[np.argsort(np.abs(grid), kind="stable")]


def scale_pass(plan: HardwarePlan) -> HardwarePlan:
    """Choose Gamma (rad/s) and express the parameters in rad/s."""
    p, hw, cal = plan.params, plan.hardware, plan.calibration
    if not np.isfinite(p.rabi):
        raise PlanError("pass 'scale': rabi = inf (the large-drive limit) cannot be played; give a finite Rabi frequency")
    if p.n_ensembles != hw.n_ensembles:
        raise PlanError(
            f"pass 'scale': the target has L = {p.n_ensembles} ensembles, the hardware "
            f"'{hw.name}' ({hw.source}) traps {hw.n_ensembles}"
        )
    if p.unit == "rad/s":
        return replace(plan, notes=plan.notes + (f"Gamma = {p.gamma:.6g} rad/s as requested by the target",))
    kappa = TWO_PI * cal.kappa_hz
    n = p.n_ensembles
    # comb tone l has coupling c_gamma / w_l: the weakest-coupled ensemble sets the limit
    w_min = min(cal.relative_coupling)
    limits = {"bad-cavity limit ([raman] bad_cavity_margin)": (hw.raman.bad_cavity_margin * w_min) ** 2 * kappa / (4 * n)}
    rabi_gamma = abs(p.rabi)  # Omega in units of Gamma
    if rabi_gamma > 0:
        inverse_rates = sum(1.0 / r for r in cal.rabi_hz_per_v)
        limits["Rabi amplitude ([rabi] max_amplitude_v)"] = TWO_PI * hw.rabi.max_amplitude_v / (rabi_gamma * inverse_rates)
    best = float(np.max(available_separation(plan, _current_grid(plan, 401))))
    unit_plan = replace(plan, params=p.scaled(1.0))
    need = required_separation(unit_plan)  # per unit Gamma for the rate-proportional criteria
    for key in ("rabi_crosstalk", "chi_rwa"):
        if need[key] > 0:
            limits[f"coil current for {key.replace('_', ' ')} ([coil] max_current_a)"] = best / need[key]
    binding = min(limits, key=limits.get)
    gamma = 0.9 * limits[binding]
    note = f"Gamma = {gamma:.6g} rad/s (Gamma/2pi = {gamma / TWO_PI:.4g} Hz): 90 % of the {binding} bound"
    return replace(plan, params=p.scaled(gamma), notes=plan.notes + (note,))


def gradient_pass(plan: HardwarePlan) -> HardwarePlan:
    """The smallest |coil current| meeting every separation criterion."""
    need = required_separation(plan)
    hw = plan.hardware
    grid = _current_grid(plan)
    seps = available_separation(plan, grid)
    ok = np.flatnonzero(seps >= need["required"])
    if ok.size == 0:
        best = int(np.argmax(seps))
        criterion = max((k for k in need if k != "required"), key=need.get)
        raise PlanError(
            f"pass 'gradient': the ensembles need a frequency separation of {need['required']:.6g} Hz "
            f"({criterion.replace('_', ' ')}), but the coil gives at most {seps[best]:.6g} Hz "
            f"(at {grid[best]:+.4g} A, limit [coil] max_current_a = {hw.coil.max_current_a:g} A); "
            "lower the Rabi frequency or chi, or raise the error budget"
        )
    current = _refine_current(plan, grid[ok[0]], need["required"])
    atom_hz = tuple(plan.calibration.transition_hz(current))
    report = {**need, "achieved": available_separation(plan, current), "current_a": current}
    ramp = abs(current) / hw.coil.max_ramp_a_per_s
    return replace(plan, coil_current_a=current, atom_hz=atom_hz, gradient=report, coil_ramp_s=ramp,
                   notes=plan.notes + _gradient_map_check(plan))


def _gradient_map_check(plan: HardwarePlan, tolerance: float = 0.25) -> tuple[str, ...]:
    """Compare the calibrated slopes between ensembles with the hardware's nominal gradient."""
    nominal = np.diff(plan.hardware.nominal_slopes_hz_per_a())
    measured = np.diff(plan.calibration.transition_hz_per_a)
    scale = np.max(np.abs(nominal))
    if scale == 0 or np.all(np.abs(measured - nominal) <= tolerance * scale):
        return ()
    worst = int(np.argmax(np.abs(measured - nominal)))
    return (
        f"gradient map: the calibrated slope between ensembles {worst + 1} and {worst + 2} is "
        f"{measured[worst]:.4g} Hz/A, the hardware's nominal gradient gives {nominal[worst]:.4g} Hz/A "
        f"(off by more than {tolerance:.0%}): check the positions, the ensemble order or the calibration",
    )


def _refine_current(plan: HardwarePlan, current: float, required: float) -> float:
    """Bisect towards zero current between a failing and the first passing grid point."""
    step = plan.hardware.coil.max_current_a * 2 / 4000
    lo, hi = current - np.sign(current) * step, current
    if np.sign(lo) != np.sign(hi) or available_separation(plan, lo) >= required:
        return current
    for _ in range(50):
        mid = (lo + hi) / 2
        if available_separation(plan, mid) >= required:
            hi = mid
        else:
            lo = mid
    return float(hi)
