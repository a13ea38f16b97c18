"""labctl.analysis: ellipse fitting and phase estimation (Eqs. 17-19), squeezing from data (Eq. 12),
four-ensemble gradient/curvature sensing (Sec. IV.B), calibration fits.

Importing this package has no side effects (no matplotlib backend selection, no files): plots
live in :mod:`labctl.analysis.plots`, imported only when a plot is requested.
"""

from labctl.analysis.calibration import (
    CalibrationResult,
    FitData,
    TransitionFrequency,
    fit_cavity_transmission,
    fit_cooperativity,
    fit_gradient_map,
    fit_rabi,
    fit_rabi_rate_per_volt,
    fit_ramsey,
    fit_spectroscopy,
    fit_superradiant_decay,
    fit_weak_decay,
    ramsey_transition_frequency,
)
from labctl.analysis.ellipse import (
    EllipseFit,
    EllipsePhase,
    ellipse_phase,
    fit_ellipse,
    load_shots_csv,
)
from labctl.analysis.phase import PhaseEstimate, Posterior, estimate_phase
from labctl.analysis.sensors import SensorEstimate, estimate_curvature, estimate_gradient
from labctl.analysis.squeezing import FisherCurve, WinelandEstimate, fisher_curve, wineland_from_shots

__all__ = [
    "CalibrationResult",
    "EllipseFit",
    "EllipsePhase",
    "FisherCurve",
    "FitData",
    "PhaseEstimate",
    "Posterior",
    "SensorEstimate",
    "TransitionFrequency",
    "WinelandEstimate",
    "ellipse_phase",
    "estimate_curvature",
    "estimate_gradient",
    "estimate_phase",
    "fisher_curve",
    "fit_cavity_transmission",
    "fit_cooperativity",
    "fit_ellipse",
    "fit_gradient_map",
    "fit_rabi",
    "fit_rabi_rate_per_volt",
    "fit_ramsey",
    "fit_spectroscopy",
    "fit_superradiant_decay",
    "fit_weak_decay",
    "load_shots_csv",
    "ramsey_transition_frequency",
    "wineland_from_shots",
]
