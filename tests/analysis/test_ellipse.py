"""Tests of labctl.analysis.ellipse: the direct ellipse fit and the phase of Eq. (17)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labctl.analysis.ellipse import (
    BOOTSTRAP_BLOCKS,
    EllipseFit,
    ellipse_phase,
    fit_ellipse,
    load_shots_csv,
)
from labctl.errors import FitError, InputError


def ellipse_points(center, axes, tilt, angles):
    """Points (x, y) of the ellipse with the given geometry at parametric angles."""
    (x0, y0), (a, b) = center, axes
    along, across = a * np.cos(angles), b * np.sin(angles)
    return (
        x0 + along * math.cos(tilt) - across * math.sin(tilt),
        y0 + along * math.sin(tilt) + across * math.cos(tilt),
    )


def eq17_shots(phi, amplitude, n, rng, sigma=0.0):
    """Shots of Eq. (17): uniform common phase theta, optional Gaussian scatter."""
    theta = rng.uniform(0, 2 * math.pi, n)
    p1 = 0.5 + amplitude * np.sin(phi + theta) + rng.normal(0, sigma, n) * (sigma > 0)
    p2 = 0.5 + amplitude * np.sin(phi - theta) + rng.normal(0, sigma, n) * (sigma > 0)
    return p1, p2


def conic_value(conic, x, y):
    a, b, c, d, e, f = conic
    return a * x * x + b * x * y + c * y * y + d * x + e * y + f


GEOMETRIES = [
    ((3.2, -1.5), (2.0, 0.7), 0.6),
    ((-40.0, 12.0), (0.03, 0.02), -1.2),
    ((0.5, 0.5), (0.3, 0.1), math.pi / 2),
    ((1e3, -2e3), (5.0, 4.999), 0.25),
    ((0.0, 0.0), (1.0, 0.2), -0.3),
]


# --------------------------------------------------------------------------------------------
# Geometry of the fit
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("refine", [False, True])
@pytest.mark.parametrize("center, axes, tilt", GEOMETRIES)
def test_noiseless_ellipse_is_recovered_exactly(center, axes, tilt, refine):
    rng = np.random.default_rng(11)
    x, y = ellipse_points(center, axes, tilt, rng.uniform(0, 2 * math.pi, 60))
    fit = fit_ellipse(x, y, refine=refine)
    scale = max(axes)
    assert np.allclose(fit.center, center, rtol=0, atol=1e-10 * scale)
    assert np.allclose(fit.axes, axes, rtol=1e-10, atol=0)
    assert fit.tilt == pytest.approx(tilt, abs=1e-9)
    assert fit.n_points == 60
    assert fit.rms_residual < 1e-9 * scale
    assert np.max(np.abs(conic_value(fit.conic, x, y))) < 1e-10
    assert np.linalg.norm(fit.conic) == pytest.approx(1.0)
    assert fit.conic[0] + fit.conic[2] > 0


def test_conic_matches_the_analytic_conic():
    center, axes, tilt = (0.7, -0.2), (1.5, 0.5), 0.4
    x, y = ellipse_points(center, axes, tilt, np.linspace(0, 2 * math.pi, 17, endpoint=False))
    cos, sin = math.cos(tilt), math.sin(tilt)
    a, b = axes
    quad = (
        np.array([[cos, -sin], [sin, cos]])
        @ np.diag([1 / a**2, 1 / b**2])
        @ np.array([[cos, sin], [-sin, cos]])
    )
    c = np.array(center)
    expected = np.array(
        [quad[0, 0], 2 * quad[0, 1], quad[1, 1], *(-2 * quad @ c), c @ quad @ c - 1]
    )
    expected /= np.linalg.norm(expected)
    assert np.allclose(fit_ellipse(x, y).conic, expected, rtol=0, atol=1e-12)


def test_tilt_convention_and_circle():
    x, y = ellipse_points((0, 0), (2.0, 1.0), -math.pi / 2, np.linspace(0, 6, 30))
    assert fit_ellipse(x, y).tilt == pytest.approx(math.pi / 2)  # (-pi/2, pi/2]
    x, y = ellipse_points((1, 2), (1.0, 1.0), 0.8, np.linspace(0, 6, 30))
    circle = fit_ellipse(x, y)
    assert circle.axes == pytest.approx((1.0, 1.0))
    assert -math.pi / 2 < circle.tilt <= math.pi / 2


@pytest.mark.parametrize("refine", [False, True])
def test_fit_is_invariant_to_point_order(refine):
    rng = np.random.default_rng(3)
    x, y = ellipse_points((1.0, 2.0), (3.0, 1.0), 0.3, rng.uniform(0, 2 * math.pi, 9000))
    x, y = x + rng.normal(0, 0.05, x.size), y + rng.normal(0, 0.05, y.size)
    order = rng.permutation(x.size)
    first, second = fit_ellipse(x, y, refine=refine), fit_ellipse(x[order], y[order], refine=refine)
    assert np.allclose(first.conic, second.conic, rtol=0, atol=1e-12)
    assert np.allclose(first.conic_cov, second.conic_cov, rtol=1e-8, atol=1e-20)
    assert first.rms_residual == pytest.approx(second.rms_residual, rel=1e-10)


def test_noisy_fit_residual_and_distances():
    rng = np.random.default_rng(5)
    x, y = ellipse_points((0.0, 0.0), (2.0, 1.0), 0.2, rng.uniform(0, 2 * math.pi, 20000))
    sigma = 0.02
    x, y = x + rng.normal(0, sigma, x.size), y + rng.normal(0, sigma, y.size)
    algebraic, geometric = fit_ellipse(x, y), fit_ellipse(x, y, refine=True)
    assert algebraic.residual_kind == "first-order" and geometric.residual_kind == "orthogonal"
    assert algebraic.rms_residual == pytest.approx(sigma, rel=0.1)
    assert geometric.rms_residual == pytest.approx(sigma, rel=0.05)
    distances = geometric.distances(x, y)
    assert math.sqrt(np.mean(distances**2)) == pytest.approx(geometric.rms_residual, rel=1e-9)
    assert np.allclose(geometric.params, [0, 0, 2, 1, 0.2], atol=5 * sigma / math.sqrt(x.size) * 10)


def test_distances_match_brute_force_and_points_lie_on_the_curve():
    fit = fit_ellipse(*ellipse_points((1.0, -1.0), (2.0, 0.5), 0.7, np.linspace(0, 6.2, 40)))
    rng = np.random.default_rng(8)
    px, py = rng.uniform(-2.5, 4.5, 120), rng.uniform(-4, 2, 120)
    px[:3], py[:3] = fit.center[0], fit.center[1]  # the centre itself is the hardest case
    ex, ey = fit.points(200001)
    brute = np.array([np.min(np.hypot(x - ex, y - ey)) for x, y in zip(px, py, strict=True)])
    assert np.allclose(np.abs(fit.distances(px, py)), brute, atol=1e-8)
    inside = conic_value(fit.conic, px, py) < 0
    assert np.all((fit.distances(px, py) < 0) == inside)
    cx, cy = fit.points(np.array([0.0, 1.0, 2.0]))
    assert np.allclose(conic_value(fit.conic, cx, cy), 0, atol=1e-12)


def test_million_points_are_fitted():
    rng = np.random.default_rng(2)
    x, y = ellipse_points((0.5, 0.5), (0.3, 0.2), 0.5, rng.uniform(0, 2 * math.pi, 10**6))
    fit = fit_ellipse(x + rng.normal(0, 1e-3, x.size), y + rng.normal(0, 1e-3, y.size))
    assert np.allclose(fit.params, [0.5, 0.5, 0.3, 0.2, 0.5], atol=1e-4)


# --------------------------------------------------------------------------------------------
# Errors of the fit
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, y, match",
    [
        ([0, 1, 0, -1, 0.5], [1, 0, -1, 0, 0.5], "need at least 6 points to fit an ellipse, got 5"),
        (np.arange(10.0), 2 * np.arange(10.0) + 1, "collinear"),
        (np.full(10, 0.3), np.full(10, 0.3), "coincide"),
        ([0, 1, 0, -1, 0, 1.0], [1, 0, -1, 0, 1, 0.0], "unique conic"),
        (
            np.r_[np.arange(5.0), np.arange(5.0)],
            np.r_[np.arange(5.0), -np.arange(5.0)],
            "hyperbola or parabola",
        ),
        (
            np.cosh(np.linspace(-2, 2, 40)) * np.repeat([1, -1], 20),
            np.sinh(np.linspace(-2, 2, 40)),
            "hyperbola",
        ),
        (np.linspace(-1, 1, 30), np.linspace(-1, 1, 30) ** 2, "parabola"),
    ],
    ids=[
        "five-points",
        "collinear",
        "equal",
        "four-distinct",
        "two-lines",
        "hyperbola",
        "parabola",
    ],
)
def test_degenerate_data_raise_fit_error(x, y, match):
    with pytest.raises(FitError, match=match):
        fit_ellipse(x, y)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (
            [0, 1, 0, -1, 0.5, np.nan],
            [1, 0, -1, 0, 0.5, 0.2],
            r"x contains 1 non-finite value\(s\) \(first at index 5",
        ),
        ([0, 1, 0, -1, 0.5, 0.1], [1, 0, -1, 0, np.inf, 0.2], "y contains 1 non-finite"),
        (np.arange(7.0), np.arange(8.0), "same length, got 7 and 8"),
        (np.ones((3, 3)), np.ones((3, 3)), r"one-dimensional, got shape \(3, 3\)"),
        ([], [], "empty"),
        (["a"] * 6, [1.0] * 6, "real numbers"),
    ],
    ids=["nan", "inf", "lengths", "2d", "empty", "strings"],
)
def test_malformed_input_raises_input_error(x, y, match):
    with pytest.raises(InputError, match=match):
        fit_ellipse(x, y)


def test_bad_center_raises_input_error():
    x, y = ellipse_points((0, 0), (1, 0.5), 0, np.linspace(0, 6, 20))
    with pytest.raises(InputError, match="pair"):
        fit_ellipse(x, y, center=(0.0, 0.0, 1.0))


# --------------------------------------------------------------------------------------------
# Phase of Eq. (17)
# --------------------------------------------------------------------------------------------
PHASES = [0.01, 0.05, 0.2, 0.5, math.pi / 4, 1.0, 1.3, 1.52, math.pi / 2 - 0.01]


@pytest.mark.parametrize("amplitude", [0.3, -0.2])
@pytest.mark.parametrize("phi", PHASES)
def test_phase_of_noiseless_eq17_ellipse(phi, amplitude):
    p1, p2 = eq17_shots(phi, amplitude, 50, np.random.default_rng(1))
    result = ellipse_phase(p1, p2, n_bootstrap=0)
    assert result.phi == pytest.approx(phi, abs=1e-9)
    assert result.amplitude == pytest.approx(abs(amplitude), rel=1e-7)
    assert result.method == "ellipse" and result.n_shots == 50
    assert result.stderr == result.stderr_fisher and result.stderr_bootstrap is None
    assert result.stderr_fisher < 1e-9


@pytest.mark.parametrize("phi", [1e-3, math.pi / 2 - 1e-3])
def test_phase_close_to_the_ends_of_the_range(phi):
    p1, p2 = eq17_shots(phi, 0.3, 50, np.random.default_rng(2))
    assert ellipse_phase(p1, p2, n_bootstrap=0).phi == pytest.approx(phi, abs=1e-6)


def test_sign_of_the_conic_formula():
    """cos 2phi = +B / (2 sqrt(AC)): the needle of small phi lies along u + v = 0, with B > 0."""
    p1, p2 = eq17_shots(0.2, 0.3, 50, np.random.default_rng(4))
    a, b, c = fit_ellipse(p1, p2).conic[:3]
    assert b > 0 and b / (2 * math.sqrt(a * c)) == pytest.approx(math.cos(0.4), abs=1e-12)
    p1, p2 = eq17_shots(1.2, 0.3, 50, np.random.default_rng(4))
    assert fit_ellipse(p1, p2).conic[1] < 0


def test_phase_symmetries_and_unequal_contrast():
    rng = np.random.default_rng(6)
    p1, p2 = eq17_shots(0.6, 0.25, 80, rng)
    reference = ellipse_phase(p1, p2, n_bootstrap=0).phi
    q1, q2 = eq17_shots(-0.6, 0.25, 80, rng)  # phi -> -phi
    assert ellipse_phase(q1, q2, n_bootstrap=0).phi == pytest.approx(reference, abs=1e-10)
    assert ellipse_phase(p2, p1, n_bootstrap=0).phi == pytest.approx(reference, abs=1e-10)
    assert ellipse_phase(1 - p1, 1 - p2, n_bootstrap=0).phi == pytest.approx(reference, abs=1e-10)
    squeezed = 0.5 + 0.6 * (p1 - 0.5)  # a smaller readout contrast of ensemble 1
    assert ellipse_phase(squeezed, p2, n_bootstrap=0).phi == pytest.approx(reference, abs=1e-10)


def test_fixed_center():
    p1, p2 = eq17_shots(0.7, 0.3, 40, np.random.default_rng(7))
    result = ellipse_phase(p1, p2, n_bootstrap=0, center=(0.5, 0.5))
    assert result.fit.center_fixed and result.fit.center == pytest.approx((0.5, 0.5), abs=1e-14)
    assert result.phi == pytest.approx(0.7, abs=1e-10)


def _spread_and_errors(n_repeats, n_shots, **kwargs):
    rng = np.random.default_rng(2024)
    phases, fisher, bootstrap = [], [], []
    for repeat in range(n_repeats):
        p1, p2 = eq17_shots(0.8, 0.3, n_shots, rng, sigma=0.03)
        result = ellipse_phase(p1, p2, rng=repeat, **kwargs)
        phases.append(result.phi)
        fisher.append(result.stderr_fisher)
        bootstrap.append(result.stderr_bootstrap)
    return np.std(phases, ddof=1), np.mean(fisher), np.mean(bootstrap)


@pytest.mark.parametrize(
    "n_shots, kwargs",
    [
        (400, {"n_bootstrap": 100}),
        (400, {"n_bootstrap": 100, "center": (0.5, 0.5)}),
        (3 * BOOTSTRAP_BLOCKS, {"n_bootstrap": 100}),  # the blocked bootstrap
    ],
    ids=["points", "fixed-centre", "blocks"],
)
def test_errors_agree_with_the_spread_near_pi_over_4(n_shots, kwargs):
    spread, fisher, bootstrap = _spread_and_errors(40, n_shots, **kwargs)
    assert fisher == pytest.approx(spread, rel=0.3)
    assert bootstrap == pytest.approx(spread, rel=0.3)


def test_refined_phase_errors_agree_with_the_spread():
    spread, fisher, bootstrap = _spread_and_errors(40, 200, n_bootstrap=20, refine=True)
    assert fisher == pytest.approx(spread, rel=0.3)
    assert bootstrap == pytest.approx(spread, rel=0.3)


def test_bootstrap_is_reproducible_with_a_seed():
    p1, p2 = eq17_shots(0.8, 0.3, 300, np.random.default_rng(1), sigma=0.02)
    first = ellipse_phase(p1, p2, n_bootstrap=50, rng=9)
    assert first.stderr == first.stderr_bootstrap
    assert first.stderr_bootstrap == ellipse_phase(p1, p2, n_bootstrap=50, rng=9).stderr_bootstrap


def test_warning_far_from_pi_over_4():
    near = ellipse_phase(*eq17_shots(0.8, 0.3, 300, np.random.default_rng(1), sigma=0.02), rng=0)
    assert near.warnings == ()
    far = ellipse_phase(*eq17_shots(0.15, 0.3, 300, np.random.default_rng(1), sigma=0.02), rng=0)
    assert len(far.warnings) == 1
    assert "biased" in far.warnings[0] and "pi/4" in far.warnings[0] and "bayes" in far.warnings[0]


def test_phase_input_errors():
    p1, p2 = eq17_shots(0.8, 0.3, 50, np.random.default_rng(1))
    with pytest.raises(InputError, match=r"p1 must be excitation fractions .* \[0, 1\]"):
        ellipse_phase(p1 + 0.6, p2)
    with pytest.raises(InputError, match="same length"):
        ellipse_phase(p1, p2[:-1])
    with pytest.raises(InputError, match="p2 contains 1 non-finite"):
        ellipse_phase(p1, np.r_[p2[:-1], np.nan])
    for bad in (1, -3, 2.5, True):
        with pytest.raises(InputError, match="n_bootstrap"):
            ellipse_phase(p1, p2, n_bootstrap=bad)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------
def test_load_shots_csv(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("shot,p2,p1,note\n0,0.25,0.5,a\n1,0.75,0.125,b\n")
    p1, p2 = load_shots_csv(path)
    assert np.array_equal(p1, [0.5, 0.125]) and np.array_equal(p2, [0.25, 0.75])


@pytest.mark.parametrize(
    "text, match",
    [
        ("p1,q\n0.1,0.2\n", r"lacks column\(s\) \['p2'\]"),
        ("p1,p2\n0.1,0.2\n0.3,oops\n", "line 3: column p2 holds 'oops', not a number"),
        ("p1,p2\n0.1,nan\n", "line 2: column p2 holds 'nan'; values must be finite"),
        ("p1,p2\n", "no data rows"),
    ],
    ids=["missing-column", "bad-value", "nan", "no-rows"],
)
def test_load_shots_csv_errors_name_file_and_row(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        load_shots_csv(path)
    assert "bad.csv" in str(info.value)


def test_load_shots_csv_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"cannot read shots file .*absent\.csv"):
        load_shots_csv(tmp_path / "absent.csv")


def test_ellipse_fit_is_frozen():
    fit = fit_ellipse(*ellipse_points((0, 0), (1, 0.5), 0.1, np.linspace(0, 6, 20)))
    assert isinstance(fit, EllipseFit)
    with pytest.raises(AttributeError):
        fit.tilt = 0.0
