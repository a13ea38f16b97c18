"""Tests of labctl.analysis.plots: figures are built and written as PNG files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from labctl.analysis.calibration import (
    fit_cooperativity,
    fit_gradient_map,
    fit_rabi,
    fit_spectroscopy,
    gradient_map,
    lorentzian,
    rabi_oscillation,
)
from labctl.analysis.ellipse import ellipse_phase, fit_ellipse
from labctl.analysis.plots import format_measurement, plot_calibration, plot_ellipse_fit
from labctl.errors import InputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def shots(n, seed=0):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * math.pi, n)
    p1 = 0.5 + 0.3 * np.sin(0.7 + theta) + rng.normal(0, 0.02, n)
    p2 = 0.5 + 0.3 * np.sin(0.7 - theta) + rng.normal(0, 0.02, n)
    return np.clip(p1, 0, 1), np.clip(p2, 0, 1)


@pytest.mark.parametrize("n", [300, 20_000], ids=["scatter", "histogram"])
def test_plot_ellipse_phase_writes_png(tmp_path, n):
    p1, p2 = shots(n)
    path = tmp_path / "nested" / "dir" / "ellipse.png"
    figure = plot_ellipse_fit(p1, p2, ellipse_phase(p1, p2, n_bootstrap=20, rng=0), path)
    assert isinstance(figure, Figure)
    assert_png(path)


def test_plot_ellipse_fit_without_path_writes_nothing(tmp_path):
    p1, p2 = shots(200)
    figure = plot_ellipse_fit(list(p1), list(p2), fit_ellipse(p1, p2, refine=True))
    assert isinstance(figure, Figure) and list(tmp_path.iterdir()) == []
    assert "orthogonal" in figure.axes[-1].get_title()


def test_plot_ellipse_fit_rejects_other_objects():
    p1, p2 = shots(50)
    with pytest.raises(InputError, match="EllipseFit or EllipsePhase"):
        plot_ellipse_fit(p1, p2, {"phi": 0.7})
    with pytest.raises(InputError, match="same length"):
        plot_ellipse_fit(p1, p2[:-1], fit_ellipse(p1, p2))


def _rabi():
    rng = np.random.default_rng(1)
    t = np.linspace(0, 2e-6, 60)
    return fit_rabi(
        t, rabi_oscillation(t, 2.3e6, 1.5e-6, 0.95, 0.5) + rng.normal(0, 0.02, t.size), 0.02
    )


def _gradient():
    rng = np.random.default_rng(2)
    currents = np.linspace(-1, 1, 5)
    f = np.array([gradient_map(currents, ensemble, 6.8e9, 1e6, 2e5, 3e4) for ensemble in (1, 2, 3)])
    return fit_gradient_map(currents, f + rng.normal(0, 1e3, f.shape))


def _optical_lines():
    rng = np.random.default_rng(3)
    f = 3.5e14 + np.linspace(-5e6, 5e6, 150)
    y = 0.1 + lorentzian(f, 3.5e14 + 1e6, 5e5, -0.3) + lorentzian(f, 3.5e14 - 2e6, 5e5, -0.3)
    return fit_spectroscopy(f, y + rng.normal(0, 0.01, f.size), n_lines=2)


def _bad_cooperativity():
    atoms = np.array([100, 200, 400, 800.0])
    return fit_cooperativity(atoms, 5e4 + 2e3 * atoms, 1.0)  # curvature-free but tiny errors


@pytest.mark.parametrize(
    "make",
    [_rabi, _gradient, _optical_lines, _bad_cooperativity],
    ids=["rabi", "gradient-map", "optical-lines", "cooperativity"],
)
def test_calibration_plots_write_png(tmp_path, make):
    result = make()
    path = tmp_path / "calibration" / f"{result.name}.png"
    figure = result.plot(path)
    assert isinstance(figure, Figure)
    assert_png(path)
    assert len(figure.axes) == 2  # data and residuals


def test_gradient_map_plot_has_one_series_per_ensemble():
    figure = plot_calibration(_gradient())
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels == ["ensemble 1", "ensemble 2", "ensemble 3"]


def test_optical_axis_is_shown_relative_to_an_offset():
    figure = _optical_lines().plot()
    assert figure.axes[1].get_xlabel() == "drive frequency − 350 THz"


@pytest.mark.parametrize(
    "value, error, unit, text",
    [
        (2.3e6, 2340.0, "Hz", "2.3000 ± 0.0023 MHz"),
        (1.5e-6, 5e-8, "s", "1.500 ± 0.050 µs"),
        (2033.6, 42.8, "1/s", "2034 ± 43 1/s"),
        (-0.2919, 0.0053, "", "-0.2919 ± 0.0053"),
        (1.0, math.nan, "Hz", "1 Hz"),
    ],
)
def test_format_measurement(value, error, unit, text):
    assert format_measurement(value, error, unit) == text
