"""Figures of the analysis: ellipse fits, calibration fits, phase posteriors and Fisher information.

Figures are built on :class:`matplotlib.figure.Figure` directly and saved through the Agg
renderer, so nothing here touches pyplot, the global backend or a display (never ``plt.show``).
Every function returns its Figure and, when given ``path``, writes a PNG there (creating parent
directories). The helpers ``new_figure``, ``data_and_residual_axes``, ``format_axis`` and
``save_figure`` carry the shared style of all labctl plots.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator

from labctl.analysis.ellipse import EllipseFit, EllipsePhase, as_paired_1d
from labctl.errors import InputError

if TYPE_CHECKING:
    from labctl.analysis.calibration import CalibrationResult
    from labctl.analysis.phase import PhaseEstimate, Posterior
    from labctl.analysis.sensors import SensorEstimate
    from labctl.analysis.squeezing import FisherCurve

__all__ = [
    "data_and_residual_axes",
    "format_axis",
    "format_measurement",
    "new_figure",
    "plot_calibration",
    "plot_ellipse_fit",
    "plot_fisher",
    "plot_posterior",
    "save_figure",
]

DPI = 120
DATA_STYLE = {"color": "0.2", "marker": "o", "markersize": 3, "linestyle": "none", "alpha": 0.8}
MODEL_STYLE = {"color": "tab:red", "linewidth": 1.6}
HISTOGRAM_ABOVE = 2000  # point clouds larger than this are drawn as 2-D histograms
RESIDUAL_SAMPLE = 200_000  # points whose exact distances are drawn in the residual panel


def new_figure(width: float = 6.4, height: float = 4.8) -> Figure:
    """A figure in labctl's style (constrained layout)."""
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def data_and_residual_axes(figure: Figure) -> tuple[Axes, Axes]:
    """A data panel above a residual panel (height ratio 3:1) sharing the x axis."""
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 1))
    data = figure.add_subplot(grid[0])
    residual = figure.add_subplot(grid[1], sharex=data)
    residual.axhline(0.0, color="0.5", linewidth=0.8)
    data.tick_params(labelbottom=False)
    for axes in (data, residual):
        axes.grid(True, alpha=0.3)
    return data, residual


def format_axis(axis: Axis, label: str, unit: str) -> None:
    """Label a matplotlib Axis; SI units get engineering prefixes (e.g. 'MHz', 'µs')."""
    if unit:
        axis.set_major_formatter(EngFormatter(unit=unit))
        axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_label_text(label)


def save_figure(figure: Figure, path: str | Path | None) -> Figure:
    """Write ``figure`` as PNG to ``path`` (parents created) if a path is given; return it."""
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(target, format="png", dpi=DPI)
    return figure


# --------------------------------------------------------------------------------------------
# Calibration fits
# --------------------------------------------------------------------------------------------
_PREFIXES = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}


def format_measurement(value: float, error: float, unit: str) -> str:
    """'value ± error unit' with the digits the error resolves (SI prefix for simple units)."""
    if not math.isfinite(error) or error <= 0:
        return f"{value:.6g} {unit}".strip()
    exponent = 3 * math.floor(math.log10(abs(value)) / 3) if value else 0
    if not unit or ("/" in unit and not unit.startswith("Hz")) or exponent not in _PREFIXES:
        digits = max(2, math.ceil(math.log10(abs(value) / error)) + 2) if value else 2
        return f"{value:.{digits}g} ± {error:.2g} {unit}".strip()
    scale = 10.0**exponent
    decimals = max(0, 1 - math.floor(math.log10(error / scale)))
    shown, spread = value / scale, error / scale
    return f"{shown:.{decimals}f} ± {spread:.{decimals}f} {_PREFIXES[exponent]}{unit}".strip()


def _offset(values: np.ndarray) -> float:
    """A round reference to subtract from x when the span is tiny compared with the values
    (optical frequencies), else 0."""
    span, middle = float(np.ptp(values)), float(np.mean(values))
    if span == 0 or abs(middle) < 1e3 * span:
        return 0.0
    step = 10.0 ** math.floor(math.log10(span))
    return round(middle / step) * step


def plot_calibration(result: CalibrationResult, path: str | Path | None = None) -> Figure:
    """Data (with error bars if known), best-fit model and residuals of a calibration fit.

    A 2-D ``result.data.y`` (gradient map) is drawn as one colour per row (ensemble). When the x
    span is tiny compared with x itself (optical frequencies) x is shown relative to a round offset.
    """
    data = result.data
    figure = new_figure(8.5, 5.0)
    top, bottom = data_and_residual_axes(figure)
    grid = np.linspace(data.x.min(), data.x.max(), 400)
    offset = _offset(data.x)
    rows = np.atleast_2d(data.y)
    errors = [None] * len(rows) if data.yerr is None else np.atleast_2d(data.yerr)
    model_at_data, model_on_grid = (
        np.atleast_2d(result.curve(data.x)),
        np.atleast_2d(result.curve(grid)),
    )
    several = len(rows) > 1
    for row, (values, row_errors) in enumerate(zip(rows, errors, strict=True)):
        colour = f"C{row}" if several else DATA_STYLE["color"]
        label = f"ensemble {row + 1}" if several else "data"
        points = DATA_STYLE | {"color": colour}
        top.errorbar(data.x - offset, values, yerr=row_errors, label=label, **points)
        top.plot(
            grid - offset,
            model_on_grid[row],
            **(MODEL_STYLE | ({"color": colour} if several else {})),
        )
        bottom.errorbar(data.x - offset, values - model_at_data[row], yerr=row_errors, **points)
    if not several:
        top.plot([], [], label="fit", **MODEL_STYLE)
    top.legend(loc="best", fontsize="small")
    text = "\n".join(
        f"{name} = {format_measurement(value, result.stderr[name], result.units[name])}"
        for name, value in result.values.items()
    )
    top.text(
        1.02,
        1.0,
        text,
        transform=top.transAxes,
        va="top",
        ha="left",
        fontsize="small",
        family="monospace",
    )
    verdict = result.quality if result.quality == "good" else f"bad: {'; '.join(result.reasons)}"
    top.set_title(
        f"{result.name} (reduced chi² = {result.redchi:.3g}): {verdict}",
        fontsize="small",
        wrap=True,
    )
    x_label = (
        data.x_label
        if offset == 0
        else f"{data.x_label} − {EngFormatter(unit=data.x_unit)(offset)}"
    )
    format_axis(top.yaxis, data.y_label, data.y_unit)
    format_axis(bottom.xaxis, x_label, data.x_unit)
    format_axis(bottom.yaxis, "residual", data.y_unit)
    return save_figure(figure, path)


# --------------------------------------------------------------------------------------------
# Ellipse fits
# --------------------------------------------------------------------------------------------
def _draw_cloud(axes: Axes, x: np.ndarray, y: np.ndarray, figure: Figure) -> None:
    """Scatter for few points, log-scaled 2-D histogram for many."""
    if x.size > HISTOGRAM_ABOVE:
        *_, image = axes.hist2d(x, y, bins=120, cmap="Greys", norm=LogNorm())
        figure.colorbar(image, ax=axes, label="shots per bin")
    else:
        axes.plot(x, y, **(DATA_STYLE | {"markersize": 2, "alpha": 0.5}))


def plot_ellipse_fit(
    p1: object, p2: object, fit_or_phase: EllipseFit | EllipsePhase, path: str | Path | None = None
) -> Figure:
    """The (p1, p2) shots, the fitted ellipse and the orthogonal residuals around it.

    Left: the shot cloud (2-D histogram above 2000 shots), the ellipse and its centre; the title
    gives phi +- stderr for an :class:`EllipsePhase`. Right: signed point-to-ellipse distance
    against the polar angle about the centre (a random subset of 200 000 points at most), where
    systematic structure would reveal a misfit.
    """
    x, y = as_paired_1d(p1, p2, ("p1", "p2"))
    if isinstance(fit_or_phase, EllipsePhase):
        phase, fit = fit_or_phase, fit_or_phase.fit
        title = f"φ = {phase.phi:.4f} ± {phase.stderr:.2g} rad ({phase.n_shots} shots)"
        if phase.warnings:
            title += f"\n{len(phase.warnings)} warning(s): see EllipsePhase.warnings"
    elif isinstance(fit_or_phase, EllipseFit):
        fit, title = fit_or_phase, f"ellipse fit ({fit_or_phase.n_points} points)"
    else:
        raise InputError(
            f"fit_or_phase must be an EllipseFit or EllipsePhase, got {type(fit_or_phase).__name__}"
        )
    figure = new_figure(11.0, 4.8)
    cloud, residual = figure.subplots(1, 2, width_ratios=(1, 1.3))
    _draw_cloud(cloud, x, y, figure)
    cloud.plot(*fit.points(400), **MODEL_STYLE, label="fit")
    cloud.plot(*fit.center, marker="+", color=MODEL_STYLE["color"], markersize=10, linestyle="none")
    cloud.set_aspect("equal", adjustable="datalim")
    cloud.set_title(title, fontsize="small")
    cloud.set_xlabel("p1")
    cloud.set_ylabel("p2")
    cloud.legend(loc="upper right", fontsize="small")
    if x.size > RESIDUAL_SAMPLE:
        keep = np.random.default_rng(0).choice(x.size, RESIDUAL_SAMPLE, replace=False)
        x, y = x[keep], y[keep]
    angle = np.arctan2(y - fit.center[1], x - fit.center[0])
    distance = fit.distances(x, y)
    _draw_cloud(residual, angle, distance, figure)
    residual.axhline(0.0, color=MODEL_STYLE["color"], linewidth=1.0)
    residual.set_xlabel("polar angle about the centre (rad)")
    residual.set_ylabel("signed distance to the ellipse")
    residual.set_title(
        f"RMS distance {fit.rms_residual:.3g} ({fit.residual_kind})", fontsize="small"
    )
    return save_figure(figure, path)


# --------------------------------------------------------------------------------------------
# Phase posteriors and Fisher information (Eqs. 10, 19; Fig. 4c)
# --------------------------------------------------------------------------------------------
def plot_posterior(
    estimate: PhaseEstimate | SensorEstimate, truth: float | None = None, path: str | Path | None = None
) -> Figure:
    """The posterior density of a Bayesian phase estimate on its grid, with the MAP, the 68 % and
    95 % highest-density intervals, the Gaussian of width 1/sqrt(N F_CFI) about the MAP for
    comparison, and an optional true value."""
    posterior: Posterior | None = getattr(estimate, "posterior", None)
    if posterior is None:
        raise InputError(
            f"plot_posterior needs a Bayesian estimate with a posterior (method='bayes' or a curvature "
            f"estimate), got {type(estimate).__name__} without one"
        )
    figure = new_figure()
    axes = figure.add_subplot()
    grid, density = posterior.grid, posterior.density
    shading = ((posterior.interval_95, 0.15, "95 % HPD"), (posterior.interval_68, 0.3, "68 % HPD"))
    for (low, high), alpha, label in shading:
        inside = (grid >= low) & (grid <= high)
        colour = MODEL_STYLE["color"]
        axes.fill_between(grid, density, where=inside, color=colour, alpha=alpha, linewidth=0, label=label)
    axes.plot(grid, density, color="0.2", linewidth=1.2, label="posterior")
    axes.axvline(posterior.map, color=MODEL_STYLE["color"], linewidth=1.2, label="MAP")
    bound = getattr(estimate, "cramer_rao", None)
    if bound and math.isfinite(bound):
        gaussian = np.exp(-0.5 * ((grid - posterior.map) / bound) ** 2) / (bound * math.sqrt(2 * math.pi))
        axes.plot(grid, gaussian, color="tab:blue", linestyle="--", linewidth=1.0, label="1/√(N F_CFI)")
    if truth is not None:
        axes.axvline(truth, color="tab:green", linestyle=":", linewidth=1.5, label="truth")
    name = "φ" if getattr(estimate, "parameter", None) is None else f"φ ({estimate.parameter})"
    title = f"{name} = {estimate.phi:.5f} ± {estimate.stderr:.2g} rad ({estimate.n_shots} shots)"
    axes.set_title(title, fontsize="small")
    axes.set_xlabel(f"{name} (rad)")
    axes.set_ylabel("posterior density (1/rad)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    return save_figure(figure, path)


def plot_fisher(
    curves: FisherCurve | Sequence[FisherCurve], labels: Sequence[str] | None = None, path: str | Path | None = None
) -> Figure:
    """Classical Fisher information (Eq. 19) against phi with the QFI (Eqs. 10/16) as a dashed
    line of the same colour, and the standard-quantum and Heisenberg limits (Fig. 4c)."""
    curves = [curves] if not isinstance(curves, Sequence) else list(curves)
    if labels is not None and len(labels) != len(curves):
        raise InputError(f"got {len(labels)} labels for {len(curves)} curves")
    figure = new_figure()
    axes = figure.add_subplot()
    for k, curve in enumerate(curves):
        label = labels[k] if labels is not None else f"S = {curve.spin:g}"
        axes.plot(curve.phis, curve.cfi, color=f"C{k}", linewidth=1.6, label=f"CFI, {label}")
        axes.axhline(curve.qfi, color=f"C{k}", linestyle="--", linewidth=1.0, label=f"QFI, {label}")
    spins = sorted({curve.spin for curve in curves})
    if len(spins) == 1:
        axes.axhline(curves[0].sql, color="0.5", linestyle=":", linewidth=1.0, label="SQL 4S")
        axes.axhline(curves[0].heisenberg, color="0.2", linestyle=":", linewidth=1.0, label="16S(S+1)/3")
    axes.set_xlabel("differential phase φ (rad)")
    axes.set_ylabel("Fisher information (1/rad²)")
    axes.set_xlim(min(c.phis.min() for c in curves), max(c.phis.max() for c in curves))
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    return save_figure(figure, path)
