"""labctl.analysis: ellipse fitting and phase of Eq. (17), calibration fits.

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

__all__ = [
    "CalibrationResult",
    "EllipseFit",
    "EllipsePhase",
    "FitData",
    "TransitionFrequency",
    "ellipse_phase",
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
]
