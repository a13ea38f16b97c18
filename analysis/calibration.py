"""Calibration fits: the "fit" and "plot" parts of acquire / fit / plot / update.

Every fit works on plain arrays (never on instruments), uses an lmfit ``Model`` and returns a
:class:`CalibrationResult`: named values with standard errors and units, the reduced chi^2, a
quality verdict ("good"/"bad") with the reasons, ``to_dict()`` for the calibration store and
``plot(path=None)``. SI units at every interface: Hz, s, A, V; rates in s^-1; angular frequencies
only where named (``kappa`` in rad/s).

Quality criteria (a fit is "bad" if any fails):
  * the fit converged and lmfit could estimate the covariance;
  * reduced chi^2 < 3 when the caller gave uncertainties ``stderr`` (then the covariance is
    taken at face value, ``scale_covar=False``; without them lmfit scales it by the reduced chi^2);
  * relative standard error < 50 % for each fit's key parameters (named in its docstring);
  * values in their physical ranges (positive rates, widths and times; frequencies below the
    Nyquist frequency of the sampling; line centres inside the scan; ...);
  * fit-specific residual checks (the gradient map must be linear in the current).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import lmfit
import numpy as np
import scipy.signal
import scipy.stats

from labctl.analysis.ellipse import as_finite_1d, as_paired_1d
from labctl.errors import FitError, InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CalibrationResult",
    "FitData",
    "TransitionFrequency",
    "fit_cavity_transmission",
    "fit_cooperativity",
    "fit_gradient_map",
    "fit_rabi",
    "fit_rabi_rate_per_volt",
    "fit_ramsey",
    "fit_spectroscopy",
    "fit_superradiant_decay",
    "fit_weak_decay",
    "ramsey_transition_frequency",
]

MAX_REDCHI = 3.0
MAX_RELATIVE_ERROR = 0.5
MAX_NFEV = 20000
NONLINEAR_P_VALUE = 0.01  # gradient map: a quadratic term this significant makes the map "bad"


# --------------------------------------------------------------------------------------------
# Model functions (the physics; each is wrapped in an lmfit Model)
# --------------------------------------------------------------------------------------------
def rabi_oscillation(
    x: np.ndarray, rabi_frequency: float, decay_time: float, amplitude: float, offset: float
) -> np.ndarray:
    """p(t) = offset - (amplitude/2) exp(-t/decay_time) cos(2 pi f_R t), starting from ground."""
    return offset - 0.5 * amplitude * np.exp(-x / decay_time) * np.cos(
        2 * np.pi * rabi_frequency * x
    )


def ramsey_fringe(
    x: np.ndarray,
    detuning: float,
    t2_star: float,
    amplitude: float,
    offset: float,
    phase: float,
    envelope_power: float,
) -> np.ndarray:
    """p(tau) = offset + (amplitude/2) exp(-(tau/T2*)^k) cos(2 pi delta tau + phase), k = 1 or 2."""
    envelope = np.exp(-((x / t2_star) ** envelope_power))
    return offset + 0.5 * amplitude * envelope * np.cos(2 * np.pi * detuning * x + phase)


def lorentzian(x: np.ndarray, center: float, fwhm: float, amplitude: float) -> np.ndarray:
    """amplitude (fwhm/2)^2 / ((x - center)^2 + (fwhm/2)^2): peak ``amplitude`` at ``center``."""
    half = 0.5 * fwhm
    return amplitude * half**2 / ((x - center) ** 2 + half**2)


def gaussian_line(x: np.ndarray, center: float, fwhm: float, amplitude: float) -> np.ndarray:
    """amplitude exp(-4 ln2 (x - center)^2 / fwhm^2): peak ``amplitude``, full width ``fwhm``."""
    return amplitude * np.exp(-4 * math.log(2) * (x - center) ** 2 / fwhm**2)


def gradient_map(
    current: np.ndarray, ensemble: np.ndarray, f0: float, alpha: float, g: float, s0: float
) -> np.ndarray:
    """f(l, I) = f0 + alpha I + (l - 1)(g I + s0): transition frequency of ensemble l at I."""
    return f0 + alpha * current + (ensemble - 1) * (g * current + s0)


def superradiant_decay(x: np.ndarray, Gamma: float, delay: float, spin: float) -> np.ndarray:
    """p(t) = 1/2 - (1/2) tanh(S Gamma (t - t_d)): large-S mean-field decay after full inversion."""
    return 0.5 - 0.5 * np.tanh(spin * Gamma * (x - delay))


def exponential_decay(x: np.ndarray, initial: float, rate: float) -> np.ndarray:
    """p(t) = p0 exp(-rate t)."""
    return initial * np.exp(-rate * x)


def linear(x: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """y = slope x + intercept."""
    return slope * x + intercept


def constant(x: np.ndarray, background: float) -> np.ndarray:
    """A flat background."""
    return np.full_like(x, background, dtype=float)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FitData:
    """The data a calibration fit saw: x (1-D), y (1-D, or 2-D with one row per ensemble), yerr."""

    x: np.ndarray
    y: np.ndarray
    yerr: np.ndarray | None
    x_label: str
    x_unit: str
    y_label: str
    y_unit: str


@dataclass(frozen=True)
class CalibrationResult:
    """Outcome of one calibration fit.

    Attributes:
        name: which calibration ("rabi", "ramsey", "spectroscopy", ...).
        values, stderr, units: fitted and derived quantities by name (SI units).
        redchi: reduced chi^2 (meaningful as a test only when ``data.yerr`` is given).
        quality: "good" or "bad"; ``reasons`` lists every failed criterion (empty when good).
        data: the fitted data; ``curve(x)`` evaluates the best-fit model (for plots).
        metadata: fixed inputs of the fit (spin, drive frequency, line shape, ...).
    """

    name: str
    values: Mapping[str, float]
    stderr: Mapping[str, float]
    units: Mapping[str, str]
    redchi: float
    quality: str
    reasons: tuple[str, ...]
    data: FitData = field(repr=False)
    curve: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    @property
    def good(self) -> bool:
        return self.quality == "good"

    def to_dict(self) -> dict:
        """Plain-Python summary for a calibration store (no arrays, JSON-serialisable)."""
        return {
            "name": self.name,
            "values": dict(self.values),
            "stderr": dict(self.stderr),
            "units": dict(self.units),
            "redchi": self.redchi,
            "quality": self.quality,
            "reasons": list(self.reasons),
            "n_points": int(self.data.x.size if self.data.y.ndim == 1 else self.data.y.size),
            "metadata": dict(self.metadata),
        }

    def plot(self, path: str | Path | None = None) -> Figure:
        """Data, best-fit model and residuals; saves a PNG when ``path`` is given."""
        from labctl.analysis.plots import plot_calibration

        return plot_calibration(self, path)


@dataclass(frozen=True)
class TransitionFrequency:
    """Transition frequency resolved from two Ramsey fits at different drive frequencies."""

    frequency: float
    stderr: float
    signs: tuple[int, int]
    runner_up_sigma: float

    def to_dict(self) -> dict:
        return {
            "name": "ramsey_transition_frequency",
            "values": {"transition_frequency": self.frequency},
            "stderr": {"transition_frequency": self.stderr},
            "units": {"transition_frequency": "Hz"},
            "signs": list(self.signs),
        }


# --------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------
def _trace(
    x: object, y: object, stderr: object, names: tuple[str, str], min_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Checked (x, y, yerr) of a 1-D trace: finite, equal lengths, >= min_points, x spanning a
    range, stderr > 0."""
    xs, ys = as_paired_1d(x, y, names)
    if xs.size < min_points:
        raise InputError(
            f"{names[1]} has {xs.size} points; this fit needs at least {min_points} "
            "(one more than its free parameters)"
        )
    _check_span(xs, names[0])
    return xs, ys, _uncertainties(stderr, ys.shape)


def _check_span(x: np.ndarray, name: str) -> None:
    if np.ptp(x) == 0:
        raise InputError(
            f"all {x.size} values of {name} are equal ({x[0]:.6g}); they must span a range"
        )


def _uncertainties(stderr: object, shape: tuple[int, ...]) -> np.ndarray | None:
    """None, or positive finite uncertainties broadcast to ``shape``."""
    if stderr is None:
        return None
    try:
        errors = np.broadcast_to(np.asarray(stderr, dtype=float), shape)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"stderr must be a positive number or an array of shape {shape} "
            f"(got shape {np.shape(stderr)}): {exc}"
        ) from exc
    bad = np.flatnonzero(~(np.isfinite(errors) & (errors > 0)))
    if bad.size:
        raise InputError(
            f"stderr must be finite and > 0; {bad.size} value(s) are not (first at flat index "
            f"{bad[0]}: {errors.flat[bad[0]]})"
        )
    return np.array(errors)


def _fit(
    name: str,
    model: lmfit.Model,
    params: lmfit.Parameters,
    y: np.ndarray,
    yerr: np.ndarray | None,
    **independent: np.ndarray,
) -> lmfit.model.ModelResult:
    """Run an lmfit least-squares fit; raise FitError unless it converged."""
    weights = None if yerr is None else 1.0 / yerr
    try:
        result = model.fit(
            y, params, weights=weights, scale_covar=yerr is None, max_nfev=MAX_NFEV, **independent
        )
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise FitError(f"the {name} fit failed: {exc}") from exc
    if not result.success:
        raise FitError(
            f"the {name} fit did not converge after {result.nfev} evaluations: {result.message}"
        )
    return result


def _judge(
    *,
    errorbars: bool,
    redchi: float,
    yerr: np.ndarray | None,
    values: Mapping[str, float],
    stderr: Mapping[str, float],
    units: Mapping[str, str],
    key: Sequence[str],
    ranges: Mapping[str, tuple[float, float]],
    extra: Sequence[str],
) -> tuple[str, tuple[str, ...]]:
    """Quality verdict and reasons from the criteria of the module docstring."""
    reasons = list(extra)
    if not errorbars:
        reasons.append("lmfit could not estimate the uncertainties (singular covariance)")
    if yerr is not None and not redchi < MAX_REDCHI:
        reasons.append(
            f"reduced chi^2 = {redchi:.3g} >= {MAX_REDCHI:g}: the model does not describe the data "
            "within their uncertainties"
        )
    for name in key:
        if errorbars and not stderr[name] < MAX_RELATIVE_ERROR * abs(values[name]):
            reasons.append(
                f"{name} = {values[name]:.4g} +- {stderr[name]:.2g} {units[name]}: relative error "
                f">= {MAX_RELATIVE_ERROR:.0%}"
            )
    for name, (low, high) in ranges.items():
        if not low <= values[name] <= high:
            reasons.append(
                f"{name} = {values[name]:.4g} {units[name]} is outside its physical range "
                f"[{low:.4g}, {high:.4g}]"
            )
    return ("bad" if reasons else "good"), tuple(reasons)


def _result(
    name: str,
    fit: lmfit.model.ModelResult,
    reported: Mapping[str, tuple[str, str]],
    data: FitData,
    curve: Callable[[np.ndarray], np.ndarray],
    *,
    key: Sequence[str],
    ranges: Mapping[str, tuple[float, float]] | None = None,
    derived: Mapping[str, tuple[float, float, str]] | None = None,
    extra_reasons: Sequence[str] = (),
    metadata: Mapping[str, object] | None = None,
) -> CalibrationResult:
    """Assemble and judge a CalibrationResult.

    ``reported`` maps each reported name to (lmfit parameter name, unit); ``derived`` adds
    (value, stderr, unit) computed outside lmfit.
    """
    values, stderr, units = {}, {}, {}
    for label, (param, unit) in reported.items():
        values[label] = float(fit.params[param].value)
        error = fit.params[param].stderr
        stderr[label] = math.nan if error is None else float(error)
        units[label] = unit
    for label, (value, error, unit) in (derived or {}).items():
        values[label], stderr[label], units[label] = float(value), float(error), unit
    quality, reasons = _judge(
        errorbars=bool(fit.errorbars),
        redchi=float(fit.redchi),
        yerr=data.yerr,
        values=values,
        stderr=stderr,
        units=units,
        key=key,
        ranges=ranges or {},
        extra=extra_reasons,
    )
    return CalibrationResult(
        name=name,
        values=values,
        stderr=stderr,
        units=units,
        redchi=float(fit.redchi),
        quality=quality,
        reasons=reasons,
        data=data,
        curve=curve,
        metadata=dict(metadata or {}),
    )


def _sorted(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


def _median_step(x: np.ndarray) -> float:
    """Median spacing of the distinct sample positions (which must span a range)."""
    return float(np.median(np.diff(np.unique(x))))


def _nyquist(x: np.ndarray) -> float:
    """Highest frequency resolvable by the sampling, 1 / (2 median spacing)."""
    return 0.5 / _median_step(x)


def _dominant_frequency(x: np.ndarray, y: np.ndarray) -> float:
    """Frequency of the strongest non-zero Fourier component of y(x) (for initial guesses).

    The trace is interpolated onto a uniform grid (so non-uniform sampling is fine), its mean
    removed, and zero-padded 8-fold before the FFT.
    """
    xs, ys = _sorted(x, y)
    grid = np.linspace(xs[0], xs[-1], xs.size)
    values = np.interp(grid, xs, ys)
    values -= values.mean()
    n_fft = 8 * grid.size
    spectrum = np.abs(np.fft.rfft(values, n_fft))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(n_fft, d=grid[1] - grid[0])[np.argmax(spectrum)])


def _quadrature_guess(
    x: np.ndarray, y: np.ndarray, frequency: float, envelope: np.ndarray
) -> tuple[float, float]:
    """(amplitude, phase) of y - mean ~ (amplitude/2) envelope cos(2 pi f x + phase), by linear
    least squares on the two quadratures (initial guesses for oscillation fits)."""
    angle = 2 * np.pi * frequency * x
    basis = np.column_stack([envelope * np.cos(angle), envelope * np.sin(angle)])
    (in_phase, quadrature), *_ = np.linalg.lstsq(basis, y - y.mean(), rcond=None)
    return 2 * math.hypot(in_phase, quadrature), math.atan2(-quadrature, in_phase)


def _curve_1d(
    fit: lmfit.model.ModelResult, shift: float = 0.0
) -> Callable[[np.ndarray], np.ndarray]:
    """Best-fit model as a function of x (``shift`` is subtracted from x first)."""
    model, params = fit.model, fit.params
    return lambda x: model.eval(params, x=np.asarray(x, dtype=float) - shift)


# --------------------------------------------------------------------------------------------
# 1. Rabi oscillation
# --------------------------------------------------------------------------------------------
def fit_rabi(durations_s: object, excited: object, stderr: object = None) -> CalibrationResult:
    """Rabi frequency from the excited fraction versus drive-pulse duration.

    Model: p(t) = offset - (amplitude/2) exp(-t/decay_time) cos(2 pi f_R t), for atoms starting
    in the ground state. f_R (``rabi_frequency``, Hz) is the Rabi frequency Omega/2pi, so a pi pulse
    lasts ``pi_time`` = 1/(2 f_R) (s, derived with its propagated error); ``decay_time`` (s) is the
    damping time of the oscillation, ``amplitude`` the contrast (1 ideally), ``offset`` the
    long-time excited fraction (1/2 ideally). Initial frequency from the FFT of the trace.

    Key parameters (relative error < 50 %): rabi_frequency, amplitude. ``decay_time`` is reported
    but only range-checked: with weak damping it is legitimately undetermined.
    """
    t, p, err = _trace(durations_s, excited, stderr, ("durations_s", "excited"), min_points=5)
    span, nyquist = float(np.ptp(t)), _nyquist(t)
    model = lmfit.Model(rabi_oscillation)
    params = model.make_params(
        rabi_frequency=dict(value=max(_dominant_frequency(t, p), 0.5 / span), min=0),
        decay_time=dict(value=3 * span, min=0),
        amplitude=float(np.ptp(p)),
        offset=float(np.mean(p)),
    )
    params.add("pi_time", expr="1 / (2 * rabi_frequency)")
    fit = _fit("rabi", model, params, p, err, x=t)
    units = {
        "rabi_frequency": "Hz",
        "pi_time": "s",
        "decay_time": "s",
        "amplitude": "",
        "offset": "",
    }
    return _result(
        "rabi",
        fit,
        {name: (name, unit) for name, unit in units.items()},
        FitData(t, p, err, "pulse duration", "s", "excited fraction", ""),
        _curve_1d(fit),
        key=("rabi_frequency", "amplitude"),
        ranges={
            "rabi_frequency": (0.0, nyquist),
            "decay_time": (0.0, math.inf),
            "amplitude": (0.0, 1.1),
        },
    )


def fit_rabi_rate_per_volt(
    amplitudes_V: object,
    rabi_frequencies_Hz: object,
    stderr: object = None,
    *,
    offset: bool = False,
) -> CalibrationResult:
    """Rabi rate per volt of drive amplitude from Rabi frequencies at several amplitudes.

    Model: f_R(V) = rate_per_volt * V (through zero, the default: the Rabi frequency is
    proportional to the drive field) or, with ``offset=True``, f_R(V) = rate_per_volt * V +
    offset_Hz (absorbs a leakage or calibration offset). ``rate_per_volt`` in Hz/V.
    """
    volts, rates, err = _trace(
        amplitudes_V,
        rabi_frequencies_Hz,
        stderr,
        ("amplitudes_V", "rabi_frequencies_Hz"),
        min_points=2 + offset,
    )
    model = lmfit.Model(linear)
    slope, intercept = (
        np.polyfit(volts, rates, 1) if offset else (volts @ rates / (volts @ volts), 0.0)
    )
    params = model.make_params(
        slope=float(slope), intercept=dict(value=float(intercept), vary=offset)
    )
    fit = _fit("rabi rate per volt", model, params, rates, err, x=volts)
    reported = {"rate_per_volt": ("slope", "Hz/V")} | (
        {"offset_Hz": ("intercept", "Hz")} if offset else {}
    )
    return _result(
        "rabi_rate_per_volt",
        fit,
        reported,
        FitData(volts, rates, err, "drive amplitude", "V", "Rabi frequency", "Hz"),
        _curve_1d(fit),
        key=("rate_per_volt",),
        ranges={"rate_per_volt": (0.0, math.inf)},
        metadata={"through_zero": not offset},
    )


# --------------------------------------------------------------------------------------------
# 2. Ramsey fringes
# --------------------------------------------------------------------------------------------
RAMSEY_ENVELOPES = {"gaussian": 2.0, "exponential": 1.0}


def fit_ramsey(
    delays_s: object,
    excited: object,
    stderr: object = None,
    *,
    drive_frequency_Hz: float | None = None,
    detuning_sign: int | None = None,
    decay: str = "gaussian",
) -> CalibrationResult:
    """Detuning and T2* from Ramsey fringes (excited fraction versus free-evolution time).

    Model: p(tau) = offset + (amplitude/2) exp(-(tau/T2*)^k) cos(2 pi delta tau + phase), with
    k = 2 (``decay="gaussian"``, inhomogeneous broadening of an ensemble) or k = 1
    (``"exponential"``). ``detuning`` delta = |f_transition - f_drive| (Hz), ``t2_star`` (s),
    ``phase`` (rad, wrapped to (-pi, pi]).

    Sign ambiguity: the fringes are even in delta, so one trace gives only |delta|. Convention:
    delta = f_transition - f_drive, so ``detuning_sign=+1`` means the transition lies above the
    drive. With ``drive_frequency_Hz`` and a known ``detuning_sign`` the result also holds
    ``transition_frequency`` = f_drive + sign |delta|. Without a known sign, fit two traces taken
    at different drive frequencies and combine them with :func:`ramsey_transition_frequency`.

    Key parameters (relative error < 50 %): detuning, t2_star.
    """
    if decay not in RAMSEY_ENVELOPES:
        raise InputError(f"decay must be one of {sorted(RAMSEY_ENVELOPES)}, got {decay!r}")
    if detuning_sign not in (None, 1, -1):
        raise InputError(f"detuning_sign must be +1, -1 or None, got {detuning_sign!r}")
    if detuning_sign is not None and drive_frequency_Hz is None:
        raise InputError("detuning_sign needs drive_frequency_Hz to give the transition frequency")
    if drive_frequency_Hz is not None and not (
        isinstance(drive_frequency_Hz, (int, float)) and math.isfinite(drive_frequency_Hz)
    ):
        raise InputError(
            f"drive_frequency_Hz must be a finite frequency in Hz, got {drive_frequency_Hz!r}"
        )
    tau, p, err = _trace(delays_s, excited, stderr, ("delays_s", "excited"), min_points=6)
    span, nyquist = float(np.ptp(tau)), _nyquist(tau)
    power, detuning = RAMSEY_ENVELOPES[decay], max(_dominant_frequency(tau, p), 0.5 / span)
    t2_star = span / 2
    amplitude, phase = _quadrature_guess(tau, p, detuning, np.exp(-((tau / t2_star) ** power)))
    model = lmfit.Model(ramsey_fringe)
    params = model.make_params(
        detuning=dict(value=detuning, min=0),
        t2_star=dict(value=t2_star, min=0),
        amplitude=amplitude,
        offset=float(np.mean(p)),
        phase=phase,
        envelope_power=dict(value=power, vary=False),
    )
    fit = _fit("ramsey", model, params, p, err, x=tau)
    derived = {"phase": (_wrap(fit.params["phase"].value), _stderr(fit, "phase"), "rad")}
    if detuning_sign is not None:
        transition = drive_frequency_Hz + detuning_sign * fit.params["detuning"].value
        derived["transition_frequency"] = (transition, _stderr(fit, "detuning"), "Hz")
    units = {"detuning": "Hz", "t2_star": "s", "amplitude": "", "offset": ""}
    return _result(
        "ramsey",
        fit,
        {name: (name, unit) for name, unit in units.items()},
        FitData(tau, p, err, "free-evolution time", "s", "excited fraction", ""),
        _curve_1d(fit),
        key=("detuning", "t2_star"),
        ranges={"detuning": (0.0, nyquist), "t2_star": (0.0, math.inf), "amplitude": (0.0, 1.1)},
        derived=derived,
        metadata={
            "drive_frequency_Hz": drive_frequency_Hz,
            "detuning_sign": detuning_sign,
            "decay": decay,
        },
    )


def _wrap(angle: float) -> float:
    """Angle wrapped to (-pi, pi]."""
    return math.pi - (math.pi - angle) % (2 * math.pi)


def _stderr(fit: lmfit.model.ModelResult, name: str) -> float:
    error = fit.params[name].stderr
    return math.nan if error is None else float(error)


def ramsey_transition_frequency(
    first: CalibrationResult, second: CalibrationResult
) -> TransitionFrequency:
    """Transition frequency from two Ramsey fits at different drive frequencies (signs unknown).

    Each trace allows f = f_drive +- |delta|; the pair of signs whose two candidates agree best
    (in units of their combined standard error) is chosen and the candidates are averaged with
    inverse-variance weights. Raises FitError if no pair agrees within 3 sigma or if the second
    best pair also does (choose drive frequencies differing by a sizeable fraction of |delta|).
    """
    for label, result in (("first", first), ("second", second)):
        if result.name != "ramsey" or result.metadata.get("drive_frequency_Hz") is None:
            raise InputError(
                f"the {label} result must be a fit_ramsey result with drive_frequency_Hz set"
            )
        if not result.stderr["detuning"] > 0:
            raise InputError(
                f"the {label} Ramsey fit has no usable detuning error ({result.stderr['detuning']})"
            )
    drives = (first.metadata["drive_frequency_Hz"], second.metadata["drive_frequency_Hz"])
    if drives[0] == drives[1]:
        raise InputError(
            f"the two Ramsey traces share the drive frequency {drives[0]} Hz; they must differ"
        )
    deltas = (first["detuning"], second["detuning"])
    errors = (first.stderr["detuning"], second.stderr["detuning"])
    combined = math.hypot(*errors)
    choices = sorted(
        (abs(drives[0] + s1 * deltas[0] - drives[1] - s2 * deltas[1]) / combined, (s1, s2))
        for s1 in (1, -1)
        for s2 in (1, -1)
    )
    (best, signs), (runner_up, _) = choices[0], choices[1]
    if best > 3:
        raise FitError(
            "no choice of detuning signs makes the two Ramsey traces agree (best mismatch "
            f"{best:.1f} "
            "sigma); check the drive frequencies and the fits"
        )
    if runner_up <= 3:
        raise FitError(
            f"the detuning signs are ambiguous (two choices agree within {runner_up:.1f} sigma); "
            "take the second trace at a drive frequency further from the first"
        )
    candidates = np.array([drives[0] + signs[0] * deltas[0], drives[1] + signs[1] * deltas[1]])
    weights = 1 / np.square(errors)
    return TransitionFrequency(
        frequency=float(weights @ candidates / weights.sum()),
        stderr=float(1 / math.sqrt(weights.sum())),
        signs=signs,
        runner_up_sigma=float(runner_up),
    )


# --------------------------------------------------------------------------------------------
# 3. Spectroscopy lines and 6. cavity transmission
# --------------------------------------------------------------------------------------------
LINESHAPES = {"lorentzian": lorentzian, "gaussian": gaussian_line}


def _fit_lines(
    name: str, f: np.ndarray, y: np.ndarray, err: np.ndarray | None, lineshape: str, n_lines: int
) -> tuple[lmfit.model.ModelResult, float, list[str]]:
    """Fit a constant background plus ``n_lines`` lines; returns the fit, the frequency reference
    subtracted from f (keeps optical frequencies well conditioned) and the line prefixes ordered
    by increasing centre frequency."""
    reference = 0.5 * (f.min() + f.max())
    shifted = f - reference
    xs, ys = _sorted(shifted, y)
    background = float(np.median(ys))
    sign = 1.0 if ys.max() - background >= background - ys.min() else -1.0
    peaks, properties = scipy.signal.find_peaks(sign * (ys - background), prominence=0)
    if peaks.size < n_lines:
        raise FitError(f"found {peaks.size} line(s) in the {name} scan, expected {n_lines}")
    strongest = np.sort(peaks[np.argsort(properties["prominences"])[-n_lines:]])
    widths = scipy.signal.peak_widths(sign * (ys - background), strongest, rel_height=0.5)[0]
    model = lmfit.Model(constant)
    params = model.make_params(background=background)
    prefixes = [f"l{k + 1}_" for k in range(n_lines)]
    for prefix, peak, width in zip(prefixes, strongest, widths, strict=True):
        line = lmfit.Model(LINESHAPES[lineshape], prefix=prefix)
        model = model + line
        params.update(
            line.make_params(
                center=float(xs[peak]),
                fwhm=dict(value=max(float(width), 1.0) * _median_step(xs), min=0),
                amplitude=float(ys[peak] - background),
            )
        )
    fit = _fit(name, model, params, y, err, x=shifted)
    order = sorted(prefixes, key=lambda prefix: fit.params[f"{prefix}center"].value)
    return fit, reference, order


def _centre(
    fit: lmfit.model.ModelResult, prefix: str, reference: float
) -> tuple[float, float, str]:
    return reference + fit.params[f"{prefix}center"].value, _stderr(fit, f"{prefix}center"), "Hz"


def fit_spectroscopy(
    frequencies_Hz: object,
    signal: object,
    stderr: object = None,
    *,
    lineshape: str = "lorentzian",
    n_lines: int = 1,
) -> CalibrationResult:
    """Transition frequencies of spectroscopy lines (signal versus drive frequency).

    Model: background + sum_k line_k(f), with a Lorentzian line amplitude_k (w_k/2)^2 /
    ((f - f_k)^2 + (w_k/2)^2) or (``lineshape="gaussian"``) amplitude_k exp(-4 ln2 (f - f_k)^2 /
    w_k^2). Reported per line k = 1..n_lines, numbered by increasing frequency (one line per
    ensemble in a gradient): ``transition_frequency_k`` f_k (Hz), ``fwhm_k`` w_k (Hz, full width
    at half maximum), ``amplitude_k`` (signal units; negative for dips); and ``background``.
    Initial guesses from the most prominent peaks (or dips) and their half-maximum widths.

    Key parameters (relative error < 50 %): every fwhm_k and amplitude_k; centres must lie in the
    scanned range and widths be positive and narrower than the scan.
    """
    if lineshape not in LINESHAPES:
        raise InputError(f"lineshape must be one of {sorted(LINESHAPES)}, got {lineshape!r}")
    if isinstance(n_lines, bool) or not isinstance(n_lines, int) or n_lines < 1:
        raise InputError(f"n_lines must be a positive integer, got {n_lines!r}")
    f, y, err = _trace(
        frequencies_Hz, signal, stderr, ("frequencies_Hz", "signal"), min_points=3 * n_lines + 2
    )
    fit, reference, prefixes = _fit_lines("spectroscopy", f, y, err, lineshape, n_lines)
    reported, derived = {"background": ("background", "")}, {}
    for k, prefix in enumerate(prefixes, start=1):
        derived[f"transition_frequency_{k}"] = _centre(fit, prefix, reference)
        reported[f"fwhm_{k}"] = (f"{prefix}fwhm", "Hz")
        reported[f"amplitude_{k}"] = (f"{prefix}amplitude", "")
    lines = range(1, n_lines + 1)
    return _result(
        "spectroscopy",
        fit,
        reported,
        FitData(f, y, err, "drive frequency", "Hz", "signal", ""),
        _curve_1d(fit, reference),
        key=[f"{q}_{k}" for k in lines for q in ("fwhm", "amplitude")],
        ranges={f"transition_frequency_{k}": (f.min(), f.max()) for k in lines}
        | {f"fwhm_{k}": (0.0, float(np.ptp(f))) for k in lines},
        derived=derived,
        metadata={"lineshape": lineshape, "n_lines": n_lines},
    )


def fit_cavity_transmission(
    frequencies_Hz: object, transmission: object, stderr: object = None
) -> CalibrationResult:
    """Cavity resonance and linewidth kappa from transmission versus probe frequency.

    Model: T(f) = background + peak (kappa/4pi)^2 / ((f - f_c)^2 + (kappa/4pi)^2), a Lorentzian
    whose FWHM in Hz is kappa/2pi. Reported: ``resonance_frequency`` f_c (Hz), ``kappa_over_2pi``
    (Hz, the FWHM), ``kappa`` (rad/s, = 2 pi FWHM, the energy decay rate), ``peak`` and
    ``background`` (transmission units).

    Key parameters (relative error < 50 %): kappa_over_2pi, peak; the peak must be positive and the
    resonance inside the scan.
    """
    f, y, err = _trace(
        frequencies_Hz, transmission, stderr, ("frequencies_Hz", "transmission"), min_points=5
    )
    fit, reference, (prefix,) = _fit_lines("cavity transmission", f, y, err, "lorentzian", 1)
    width, width_error = fit.params[f"{prefix}fwhm"].value, _stderr(fit, f"{prefix}fwhm")
    return _result(
        "cavity_transmission",
        fit,
        {
            "kappa_over_2pi": (f"{prefix}fwhm", "Hz"),
            "peak": (f"{prefix}amplitude", ""),
            "background": ("background", ""),
        },
        FitData(f, y, err, "probe frequency", "Hz", "transmission", ""),
        _curve_1d(fit, reference),
        key=("kappa_over_2pi", "peak"),
        ranges={
            "resonance_frequency": (f.min(), f.max()),
            "kappa_over_2pi": (0.0, float(np.ptp(f))),
            "peak": (0.0, math.inf),
        },
        derived={
            "resonance_frequency": _centre(fit, prefix, reference),
            "kappa": (2 * math.pi * width, 2 * math.pi * width_error, "rad/s"),
        },
    )


# --------------------------------------------------------------------------------------------
# 4. Gradient map
# --------------------------------------------------------------------------------------------
def _linear_rss(
    columns: list[np.ndarray], f: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, float]:
    """Weighted linear least squares: coefficients and residual sum of squares."""
    design = np.column_stack(columns) * weights[:, None]
    coefficients = np.linalg.lstsq(design, f * weights, rcond=None)[0]
    residual = f * weights - design @ coefficients
    return coefficients, float(residual @ residual)


def _nonlinearity(
    current: np.ndarray, ensemble: np.ndarray, f: np.ndarray, weights: np.ndarray, linear_rss: float
) -> tuple[float, float]:
    """F-test of the linear map against one with extra (I^2, (l-1) I^2) terms: (F, p-value)."""
    step = ensemble - 1
    columns = [np.ones_like(current), current, step * current, step, current**2, step * current**2]
    _, quadratic_rss = _linear_rss(columns, f, weights)
    dof = f.size - len(columns)
    if linear_rss <= 1e-24 * float(np.sum((f * weights) ** 2)):
        return 0.0, 1.0  # exactly linear
    statistic = (linear_rss - quadratic_rss) / 2 / max(quadratic_rss / dof, np.finfo(float).tiny)
    return statistic, float(scipy.stats.f.sf(statistic, 2, dof))


def fit_gradient_map(
    currents_A: object, frequencies_Hz: object, stderr: object = None
) -> CalibrationResult:
    """Magnetic-gradient calibration from transition frequencies of L ensembles at K coil currents.

    Model (joint, linear): f(l, I) = f0 + alpha I + (l - 1)(g I + s0) for ensembles l = 1..L
    (rows of ``frequencies_Hz``, shape (L, K)) and currents I_k (A). ``g`` = d(Delta omega0/2pi)/dI
    (Hz/A) is the change of the neighbour spacing per ampere, ``s0`` (Hz) the spacing at zero
    current, ``f0`` (Hz) the frequency of ensemble 1 at zero current and ``alpha`` (Hz/A) its
    common shift per ampere.

    Residual check: the map must be linear. An F-test against the model with extra terms
    beta I^2 + (l - 1) gamma I^2 flags a significant curvature (p < 0.01) as "bad". Key parameter
    (relative error < 50 %): g. Needs L >= 2 ensembles, K >= 3 currents and L K >= 8 values.
    """
    current = as_finite_1d(currents_A, "currents_A")
    try:
        f = np.asarray(frequencies_Hz, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"frequencies_Hz must be a 2-D array of numbers (L ensembles x K currents): {exc}"
        ) from exc
    if f.ndim != 2 or f.shape[1] != current.size:
        raise InputError(
            f"frequencies_Hz must have shape (L ensembles, {current.size} currents), got {f.shape}"
        )
    n_ensembles, n_currents = f.shape
    if n_ensembles < 2 or n_currents < 3 or f.size < 8:
        raise InputError(
            "a gradient map needs >= 2 ensembles, >= 3 currents and >= 8 values, got shape "
            f"{f.shape}"
        )
    bad = np.argwhere(~np.isfinite(f))
    if bad.size:
        first = tuple(int(index) for index in bad[0])
        raise InputError(
            f"frequencies_Hz contains {len(bad)} non-finite value(s), first at (ensemble, current) "
            f"index {first}: {f[first]}; all values must be finite"
        )
    _check_span(current, "currents_A")
    err = _uncertainties(stderr, f.shape)
    ensemble = np.repeat(np.arange(1, n_ensembles + 1), n_currents).astype(float)
    currents = np.tile(current, n_ensembles)
    weights = np.ones(f.size) if err is None else 1 / err.ravel()
    step = ensemble - 1
    guess, linear_rss = _linear_rss(
        [np.ones_like(currents), currents, step * currents, step], f.ravel(), weights
    )
    statistic, p_value = _nonlinearity(currents, ensemble, f.ravel(), weights, linear_rss)
    model = lmfit.Model(gradient_map, independent_vars=["current", "ensemble"])
    params = model.make_params(f0=guess[0], alpha=guess[1], g=guess[2], s0=guess[3])
    fit = _fit(
        "gradient map",
        model,
        params,
        f.ravel(),
        None if err is None else err.ravel(),
        current=currents,
        ensemble=ensemble,
    )
    rows = np.arange(1, n_ensembles + 1, dtype=float)[:, None]

    def curve(x: np.ndarray) -> np.ndarray:
        return fit.model.eval(
            fit.params, current=np.asarray(x, dtype=float)[None, :], ensemble=rows
        )

    extra = []
    if p_value < NONLINEAR_P_VALUE:
        extra.append(
            "the map is not linear in the current: quadratic terms (I^2, (l-1) I^2) are "
            "significant "
            f"(F = {statistic:.3g}, p = {p_value:.2g} < {NONLINEAR_P_VALUE})"
        )
    units = {"g": "Hz/A", "s0": "Hz", "f0": "Hz", "alpha": "Hz/A"}
    return _result(
        "gradient_map",
        fit,
        {name: (name, unit) for name, unit in units.items()},
        FitData(current, f, err, "coil current", "A", "transition frequency", "Hz"),
        curve,
        key=("g",),
        extra_reasons=extra,
        metadata={"n_ensembles": n_ensembles, "nonlinearity_p_value": p_value},
    )


# --------------------------------------------------------------------------------------------
# 5. Collective decay and 7. cooperativity
# --------------------------------------------------------------------------------------------
def fit_superradiant_decay(
    times_s: object, excited: object, spin: float, stderr: object = None
) -> CalibrationResult:
    """Collective decay rate Gamma from superradiant decay after full inversion of N = 2S atoms.

    Model (large-S mean field): p(t) = 1/2 - (1/2) tanh(S Gamma (t - t_d)), with ``Gamma`` the
    single-atom collective rate (s^-1) of the jump operator sqrt(Gamma) sum S^- of Eq. (2) and
    ``delay`` t_d (s) the time of the emission peak; the spin ``spin`` = S = N/2 is given.
    Initial guess from a straight-line fit of atanh(1 - 2p) = S Gamma (t - t_d).

    Key parameter (relative error < 50 %): Gamma (> 0).
    """
    if not (isinstance(spin, (int, float)) and math.isfinite(spin) and spin > 0):
        raise InputError(f"spin must be a positive number S = N/2, got {spin!r}")
    t, p, err = _trace(times_s, excited, stderr, ("times_s", "excited"), min_points=3)
    span = float(np.ptp(t))
    inside = (p > 0.05) & (p < 0.95)
    if np.count_nonzero(inside) >= 2 and np.ptp(t[inside]) > 0:
        rate, intercept = np.polyfit(t[inside], np.arctanh(1 - 2 * p[inside]), 1)
        gamma, delay = max(rate, 1 / span) / spin, -intercept / max(rate, 1 / span)
    else:
        gamma, delay = 4 / (spin * span), float(np.median(t))
    model = lmfit.Model(superradiant_decay)
    params = model.make_params(
        Gamma=dict(value=gamma, min=0), delay=float(delay), spin=dict(value=float(spin), vary=False)
    )
    fit = _fit("superradiant decay", model, params, p, err, x=t)
    return _result(
        "superradiant_decay",
        fit,
        {"Gamma": ("Gamma", "1/s"), "delay": ("delay", "s")},
        FitData(t, p, err, "time", "s", "excited fraction", ""),
        _curve_1d(fit),
        key=("Gamma",),
        ranges={"Gamma": (0.0, math.inf), "delay": (t.min() - span, t.max() + span)},
        metadata={"spin": float(spin)},
    )


def fit_weak_decay(times_s: object, excited: object, stderr: object = None) -> CalibrationResult:
    """Total decay rate of a weakly excited symmetric state.

    Model (weak excitation, p << 1): p(t) = p0 exp(-(N Gamma + gamma) t), with N Gamma the
    collective (superradiant) and gamma the single-atom emission rate. One trace gives only the
    sum ``rate`` = N Gamma + gamma (s^-1) and ``initial`` = p0; traces at several N separate
    them (:func:`fit_cooperativity`). Initial guess from a straight-line fit of log p.

    Key parameter (relative error < 50 %): rate (> 0); p0 must lie in (0, 1].
    """
    t, p, err = _trace(times_s, excited, stderr, ("times_s", "excited"), min_points=3)
    span = float(np.ptp(t))
    positive = p > 0
    if np.count_nonzero(positive) >= 2 and np.ptp(t[positive]) > 0:
        slope, intercept = np.polyfit(t[positive], np.log(p[positive]), 1)
        rate, initial = max(-slope, 1 / span), float(np.exp(intercept))
    else:
        rate, initial = 1 / span, float(np.max(p))
    model = lmfit.Model(exponential_decay)
    params = model.make_params(initial=initial, rate=dict(value=rate, min=0))
    fit = _fit("weak-excitation decay", model, params, p, err, x=t)
    return _result(
        "weak_decay",
        fit,
        {"rate": ("rate", "1/s"), "initial": ("initial", "")},
        FitData(t, p, err, "time", "s", "excited fraction", ""),
        _curve_1d(fit),
        key=("rate",),
        ranges={"rate": (0.0, math.inf), "initial": (0.0, 1.0)},
    )


def fit_cooperativity(
    atom_numbers: object, decay_rates_per_s: object, stderr: object = None
) -> CalibrationResult:
    """Single-atom cooperativity C = Gamma / gamma from decay rates at several atom numbers.

    Model (weak excitation of the symmetric state): rate(N) = gamma + N Gamma, with ``Gamma`` the
    collective rate per atom and ``gamma`` the single-atom emission rate (both s^-1, App. E).
    ``cooperativity`` = Gamma / gamma, its standard error propagated with the full covariance of
    (Gamma, gamma): their correlation is negative, which makes C less certain than the
    uncorrelated estimate would say.

    Key parameters (relative error < 50 %): Gamma, gamma, cooperativity (all > 0).
    """
    n_atoms, rates, err = _trace(
        atom_numbers, decay_rates_per_s, stderr, ("atom_numbers", "decay_rates_per_s"), min_points=3
    )
    slope, intercept = np.polyfit(n_atoms, rates, 1)
    model = lmfit.Model(linear)
    params = model.make_params(slope=float(slope), intercept=float(intercept))
    params.add("cooperativity", expr="slope / intercept")
    fit = _fit("cooperativity", model, params, rates, err, x=n_atoms)
    return _result(
        "cooperativity",
        fit,
        {
            "Gamma": ("slope", "1/s"),
            "gamma": ("intercept", "1/s"),
            "cooperativity": ("cooperativity", ""),
        },
        FitData(n_atoms, rates, err, "atom number N", "", "decay rate", "1/s"),
        _curve_1d(fit),
        key=("Gamma", "gamma", "cooperativity"),
        ranges={
            "Gamma": (0.0, math.inf),
            "gamma": (0.0, math.inf),
            "cooperativity": (0.0, math.inf),
        },
    )
