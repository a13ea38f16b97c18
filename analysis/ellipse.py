"""Ellipse fitting of two-ensemble shots and the differential phase of Eq. (17).

Physics (Chu et al. 2025, Sec. III.D, Eq. 17). After a global pi/2 pulse of uniformly random phase
theta, the excitation fractions p_j = m_j/(2S) + 1/2 of two spin-S ensembles have the means

    E[p1 | phi, theta] = a sin(phi + theta) + 1/2,   E[p2 | phi, theta] = a sin(phi - theta) + 1/2,

with a = <S1x - S2x>/(4S) (the paper's "p_j = m_j/S + 1/2" is a typo, see physics-notes.md).
With u = p1 - 1/2, v = p2 - 1/2 and the diagonal coordinates s = (u + v)/sqrt2, t = (u - v)/sqrt2,

    s = sqrt2 a sin(phi) cos(theta),   t = sqrt2 a cos(phi) sin(theta),

an ellipse centred at (1/2, 1/2) with semi-axes sqrt2 |a| sin(phi) along (1, 1) and
sqrt2 |a| cos(phi) along (1, -1); it is a circle at phi = pi/4.

Phase from a conic. Substituting s and t into s^2/sin^2(phi) + t^2/cos^2(phi) = 2 a^2 gives

    (u^2 + v^2) / (2 sin^2 phi cos^2 phi) + 2 uv (cos^2 phi - sin^2 phi) / (2 sin^2 phi cos^2 phi)
        = 2 a^2,

so the fitted conic A u^2 + B uv + C v^2 + D u + E v + F = 0, scaled so that A, C > 0, obeys

    cos(2 phi) = B / (2 sqrt(A C)).                                              (*)

The ratio (*) is unchanged by translations (which only move D, E, F) and by independent scalings
of the two axes (A -> A/kx^2, B -> B/(kx ky), C -> C/ky^2), so (*) holds for any ellipse traced by
x = Ax sin(theta + phi1), y = Ay sin(theta + phi2) with cos(2 phi) = -cos(phi1 - phi2): unequal
readout contrasts of the two ensembles do not bias it. Sign check: at small phi the ellipse is a
thin needle along u + v = 0, i.e. close to (u + v)^2 = 0 with B = 2A = 2C > 0, and (*) gives
phi -> 0 as it should (verified numerically in the tests).

Branch convention. The shot law is the same for phi and -phi (and for phi + pi, i.e. a -> -a), so
phi is identifiable only in [0, pi/2]; we return phi = arccos(B / (2 sqrt(AC))) / 2 in [0, pi/2].

Fit. :func:`fit_ellipse` is Fitzgibbon's direct least-squares ellipse fit (minimise
sum_i (z_i . theta)^2 with z = (x^2, xy, y^2, x, y, 1) subject to 4AC - B^2 = 1) in the numerically
stable form of Halir and Flusser: the linear part (D, E, F) is eliminated by a Schur complement
and the remaining 3 x 3 eigenproblem is solved, after centring the data and scaling them
isotropically (which keeps the fit similarity-equivariant). Only the 6 x 6 scatter matrix of the
points enters, so 10^6 points cost a few BLAS calls. An optional orthogonal-distance (geometric)
refinement minimises the sum of squared point-to-ellipse distances with scipy's least_squares.

Known limitation. With quantum-projection-noise scatter the direct fit is biased (inconsistent)
far from phi = pi/4: on exact simulated shots at phi = 0.1 the bias was +0.07..+0.19 rad and did
not shrink with the number of shots. Scatter thickens the thin ellipse, which reads as a larger
phi. Operate near pi/4 with a known phase offset (as the paper suggests after Eq. 19), or use the
Bayesian estimator (method="bayes"). Fixing the centre at (1/2, 1/2) does not remove the bias;
with isotropic Gaussian scatter (sigma = 0.1 |a|, 500 shots) the bias at phi = 0.1 was +0.085 rad
for the direct fit and -0.015 rad with ``refine=True`` (at pi/4 both are unbiased to < 1e-3 rad).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.linalg.blas import dgemm
from scipy.optimize import least_squares

from labctl.errors import FitError, InputError

__all__ = [
    "EllipseFit",
    "EllipsePhase",
    "as_finite_1d",
    "as_paired_1d",
    "ellipse_phase",
    "fit_ellipse",
    "load_shots_csv",
]

MIN_POINTS = 6
CHUNK = 4096  # points per chunk of the moment sums: temporaries stay in cache, BLAS single-threaded
NOT_ELLIPTIC = 1e-10  # (4AC - B^2)/|(A, B, C)|^2 at or below which a conic counts as open
FAR_FROM_CIRCLE = math.pi / 8  # |phi - pi/4| beyond which the direct fit is known to be biased
BOOTSTRAP_BLOCKS = 4096  # moment blocks of the fast bootstrap (one point per block below this)

# Fitzgibbon's ellipse constraint 4AC - B^2 on (A, B, C, D, E, F) and the inverse of its 3x3 block.
_CONSTRAINT = np.zeros((6, 6))
_CONSTRAINT[0, 2] = _CONSTRAINT[2, 0] = 2.0
_CONSTRAINT[1, 1] = -1.0
_CONSTRAINT_INV_3 = np.linalg.inv(_CONSTRAINT[:3, :3])
# grad Q(x, y) = ((_GRAD_X @ conic) . w, (_GRAD_Y @ conic) . w) with w = (x, y, 1).
_GRAD_X = np.array([[2.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0], [0, 0, 0, 1.0, 0, 0]])
_GRAD_Y = np.array([[0, 1.0, 0, 0, 0, 0], [0, 0, 2.0, 0, 0, 0], [0, 0, 0, 0, 1.0, 0]])
# Coefficient subsets: all six, or (A, B, C, F) when the centre is fixed at the frame origin.
_FREE_CENTRE = np.arange(6)
_FIXED_CENTRE = np.array([0, 1, 2, 5])
_QUADRATIC = 3  # the first three coefficients of either subset are A, B, C
_DEGREE = np.array([2, 2, 2, 1, 1, 0])  # degree of each design column in (x, y)


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------
def as_finite_1d(values: object, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float array, raising :class:`InputError` unless it is finite."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name} must be an array of real numbers; could not convert it: {exc}"
        ) from exc
    if array.ndim != 1:
        raise InputError(
            f"{name} must be one-dimensional, got shape {array.shape}; pass a flat array"
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InputError(
            f"{name} contains {bad.size} non-finite value(s) (first at index {bad[0]}: "
            f"{array[bad[0]]}); all values must be finite numbers"
        )
    return array


def as_paired_1d(
    x: object, y: object, names: tuple[str, str] = ("x", "y")
) -> tuple[np.ndarray, np.ndarray]:
    """Two finite 1-D float arrays of equal, non-zero length, else :class:`InputError`."""
    xs, ys = as_finite_1d(x, names[0]), as_finite_1d(y, names[1])
    if xs.size != ys.size:
        raise InputError(
            f"{names[0]} and {names[1]} must have the same length, got {xs.size} and {ys.size}"
        )
    if xs.size == 0:
        raise InputError(
            f"{names[0]} and {names[1]} are empty; pass the measured values (a fit needs several)"
        )
    return xs, ys


# --------------------------------------------------------------------------------------------
# Conic algebra
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Frame:
    """Similarity transform x' = (x - cx)/scale, y' = (y - cy)/scale used for conditioning."""

    cx: float
    cy: float
    scale: float

    def apply(
        self, x: np.ndarray, y: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(x', y') of the points, written into ``out`` if given."""
        u, v = (np.empty_like(x), np.empty_like(y)) if out is None else out
        np.subtract(x, self.cx, out=u)
        np.subtract(y, self.cy, out=v)
        inverse = 1.0 / self.scale
        u *= inverse
        v *= inverse
        return u, v

    def conic_map(self) -> np.ndarray:
        """6 x 6 matrix L taking conic coefficients in this frame to data coordinates.

        Substituting x' = (x - cx)/k, y' = (y - cy)/k into
        A'x'^2 + B'x'y' + C'y'^2 + D'x' + E'y' + F' gives A = A'/k^2, B = B'/k^2, C = C'/k^2,
        D = D'/k - (2A'cx + B'cy)/k^2, E = E'/k - (B'cx + 2C'cy)/k^2,
        F = F' - (D'cx + E'cy)/k + (A'cx^2 + B'cx cy + C'cy^2)/k^2.
        """
        cx, cy, k = self.cx, self.cy, self.scale
        quadratic, linear = 1 / k**2, 1 / k
        return np.array(
            [
                [quadratic, 0, 0, 0, 0, 0],
                [0, quadratic, 0, 0, 0, 0],
                [0, 0, quadratic, 0, 0, 0],
                [-2 * cx * quadratic, -cy * quadratic, 0, linear, 0, 0],
                [0, -cx * quadratic, -2 * cy * quadratic, 0, linear, 0],
                [
                    cx * cx * quadratic,
                    cx * cy * quadratic,
                    cy * cy * quadratic,
                    -cx * linear,
                    -cy * linear,
                    1,
                ],
            ]
        )


def _unit_conic(conic: np.ndarray) -> np.ndarray:
    """Scale a conic to unit norm with A + C > 0 (the sign convention of :class:`EllipseFit`)."""
    conic = conic / np.linalg.norm(conic)
    return -conic if conic[0] + conic[2] < 0 else conic


def _unit_conic_jacobian(raw: np.ndarray) -> np.ndarray:
    """Jacobian of raw -> _unit_conic(raw) (the sign flip is constant)."""
    norm = np.linalg.norm(raw)
    unit = raw / norm
    sign = -1.0 if unit[0] + unit[2] < 0 else 1.0
    return sign * (np.eye(raw.size) - np.outer(unit, unit)) / norm


def _design(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows z = (u^2, uv, v^2, u, v, 1) stacked as a 6 x n array (C order, for fast BLAS)."""
    design = np.empty((6, u.size))
    design[3], design[4], design[5] = u, v, 1.0
    return _fill_quadratic_rows(design)


def _fill_quadratic_rows(design: np.ndarray) -> np.ndarray:
    """Fill rows u^2, uv, v^2 of a design matrix from its rows u, v (in place)."""
    u, v = design[3], design[4]
    np.multiply(u, u, out=design[0])
    np.multiply(u, v, out=design[1])
    np.multiply(v, v, out=design[2])
    return design


def _gradient_gram(scatter: np.ndarray) -> np.ndarray:
    """N = sum_i grad(z_i)^T grad(z_i): theta^T N theta = sum_i |grad Q(x_i)|^2 (Taubin)."""
    linear = scatter[3:, 3:]  # sum over points of (x, y, 1)(x, y, 1)^T
    return _GRAD_X.T @ linear @ _GRAD_X + _GRAD_Y.T @ linear @ _GRAD_Y


def _block(matrix: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """The rows and columns of a 6 x 6 matrix that belong to the free coefficients ``subset``."""
    return matrix if subset.size == 6 else matrix[np.ix_(subset, subset)]


def _halir_flusser(scatter: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Ellipse-specific conic minimising theta^T S theta subject to 4AC - B^2 = 1.

    The linear coefficients (``subset[3:]``) are eliminated exactly, theta_lin = T theta_quad with
    T = -S_ll^{-1} S_lq, which leaves the 3x3 problem M theta_q = lambda C1 theta_q with the Schur
    complement M = S_qq + S_ql T. Of its three eigenvectors exactly one satisfies 4AC - B^2 > 0.
    """
    s = _block(scatter, subset)
    s_qq, s_ql, s_ll = (
        s[:_QUADRATIC, :_QUADRATIC],
        s[:_QUADRATIC, _QUADRATIC:],
        s[_QUADRATIC:, _QUADRATIC:],
    )
    elimination = -np.linalg.solve(s_ll, s_ql.T)
    reduced = s_qq + s_ql @ elimination
    eigenvalues, vectors = np.linalg.eig(_CONSTRAINT_INV_3 @ reduced)
    vectors = vectors.real
    constraint = 4 * vectors[0] * vectors[2] - vectors[1] ** 2
    ellipses = np.flatnonzero(constraint > 0)
    if ellipses.size == 0:
        raise FitError(
            "no ellipse fits these points: every stationary conic of the direct fit is a "
            "hyperbola or parabola (4AC - B^2 <= 0); the points must surround a closed curve"
        )
    best = ellipses[np.argmin(eigenvalues.real[ellipses])]
    quadratic = vectors[:, best]
    conic = np.zeros(6)
    conic[subset] = np.concatenate([quadratic, elimination @ quadratic])
    return _unit_conic(conic)


def _geometry(conic: np.ndarray) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Centre, (semi-major, semi-minor) and major-axis tilt of an ellipse conic (A + C > 0)."""
    a, b, c, d, e, f = (float(value) for value in conic)
    mean, half_split = (a + c) / 2, math.hypot((a - c) / 2, b / 2)
    small, large = mean - half_split, mean + half_split  # eigenvalues of [[A, B/2], [B/2, C]]
    determinant = 4 * a * c - b * b
    value_at_centre = math.nan
    if determinant > 0 and small > 0:
        centre = (
            (b * e - 2 * c * d) / determinant,
            (b * d - 2 * a * e) / determinant,
        )  # grad Q = 0
        value_at_centre = f + (d * centre[0] + e * centre[1]) / 2
    if not value_at_centre < 0:
        raise FitError(
            "the fitted conic is not a real ellipse (quadratic-form eigenvalues "
            f"{small:.3g}, {large:.3g}, value at centre {value_at_centre:.3g}; an ellipse needs "
            "both eigenvalues > 0 and a negative value at the centre); the points are degenerate"
        )
    axes = (math.sqrt(-value_at_centre / small), math.sqrt(-value_at_centre / large))
    tilt = 0.5 * math.atan2(-b, c - a)
    if tilt <= -math.pi / 2:
        tilt += math.pi
    return centre, axes, tilt


def _conic_from_geometry(params: np.ndarray) -> np.ndarray:
    """Unit conic of the ellipse with parameters (x0, y0, a, b, tilt)."""
    x0, y0, a, b, tilt = params
    cos, sin = math.cos(tilt), math.sin(tilt)
    rotation = np.array([[cos, -sin], [sin, cos]])
    quadratic = rotation @ np.diag([1 / a**2, 1 / b**2]) @ rotation.T
    centre = np.array([x0, y0])
    linear = -2 * quadratic @ centre
    constant = centre @ quadratic @ centre - 1
    raw = np.array(
        [quadratic[0, 0], 2 * quadratic[0, 1], quadratic[1, 1], linear[0], linear[1], constant]
    )
    return _unit_conic(raw)


def _phase_from_conic(conic: np.ndarray) -> float:
    """phi in [0, pi/2] from cos(2 phi) = B / (2 sqrt(AC)), Eq. (17) (see the module docstring)."""
    a, b, c = conic[:3]
    return 0.5 * math.acos(min(1.0, max(-1.0, b / (2 * math.sqrt(a * c)))))


def _phase_gradient(conic: np.ndarray) -> np.ndarray:
    """d phi / d conic of :func:`_phase_from_conic` (infinite at phi = 0 or pi/2)."""
    a, b, c = conic[:3]
    cos2phi = b / (2 * math.sqrt(a * c))
    sin2phi = math.sqrt(max(0.0, 1 - cos2phi**2))
    if sin2phi == 0.0:
        return np.full(6, np.inf)
    d_cos = np.array([-cos2phi / (2 * a), 1 / (2 * math.sqrt(a * c)), -cos2phi / (2 * c), 0, 0, 0])
    return -d_cos / (2 * sin2phi)


# --------------------------------------------------------------------------------------------
# Distances to an ellipse
# --------------------------------------------------------------------------------------------
def _foot_points(
    xi: np.ndarray, eta: np.ndarray, a: float, b: float
) -> tuple[np.ndarray, np.ndarray]:
    """Closest points on (x/a)^2 + (y/b)^2 = 1 (a >= b) to the points (xi, eta).

    The foot point is (a^2 X/(s + a^2), b^2 Y/(s + b^2)) for the unique root s > -b^2 of
    G(s) = (aX/(s + a^2))^2 + (bY/(s + b^2))^2 - 1, a convex decreasing function (X = |xi|,
    Y = |eta|). With t = s + b^2 the root is bracketed by
    max(aX - a^2 + b^2, bY) <= t <= |(aX, bY)|; it is found by bisection of log t, then
    polished by Newton steps from the left (monotone).
    For points on the major axis between the centres of curvature of its ends (aX < a^2 - b^2,
    Y = 0) G has no root; their foot point is (a^2 X/(a^2 - b^2), b sqrt(1 - (x/a)^2)).
    """
    big_x, big_y = np.abs(xi), np.abs(eta)
    ax, by, split = a * big_x, b * big_y, a * a - b * b

    def excess(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ratio_x, ratio_y = ax / (t + split), by / t
        value = ratio_x**2 + ratio_y**2 - 1
        slope = -2 * (ratio_x**2 / (t + split) + ratio_y**2 / t)
        return value, slope

    upper = np.hypot(ax, by)
    floor = 1e-16 * np.maximum(upper, a * b)
    lower = np.maximum.reduce([ax - split, by, floor])
    upper = np.maximum(upper, lower)
    for _ in range(10):
        middle = np.sqrt(lower * upper)
        above = excess(middle)[0] > 0
        lower, upper = np.where(above, middle, lower), np.where(above, upper, middle)
    root = lower
    for _ in range(4):
        value, slope = excess(root)
        root = root - np.divide(value, slope, out=np.zeros_like(value), where=value > 0)
    foot_x = a * a * big_x / (root + split)
    foot_y = b * b * big_y / root
    on_axis = excess(floor)[0] <= 0  # major axis inside the evolute: G < 0 on the whole bracket
    if np.any(on_axis):
        inner_x = a * a * big_x / split if split > 0 else np.zeros_like(big_x)
        foot_x = np.where(on_axis, np.minimum(inner_x, a), foot_x)
        foot_y = np.where(on_axis, b * np.sqrt(np.clip(1 - (foot_x / a) ** 2, 0, None)), foot_y)
    return np.copysign(foot_x, xi), np.copysign(foot_y, eta)


def _signed_distances(
    x: np.ndarray, y: np.ndarray, params: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Signed orthogonal distances (> 0 outside) of points to the ellipse (x0, y0, a, b, tilt).

    Also returns, in the ellipse's own frame, the foot points and the outward unit normals there,
    from which :func:`_distance_jacobian` follows.
    """
    x0, y0, a, b, tilt = params
    a, b = abs(a), abs(b)
    cos, sin = math.cos(tilt), math.sin(tilt)
    xi = (x - x0) * cos + (y - y0) * sin
    eta = -(x - x0) * sin + (y - y0) * cos
    if a >= b:
        foot_xi, foot_eta = _foot_points(xi, eta, a, b)
    else:
        foot_eta, foot_xi = _foot_points(eta, xi, b, a)
    normal_xi, normal_eta = foot_xi / a**2, foot_eta / b**2
    length = np.hypot(normal_xi, normal_eta)
    normal_xi, normal_eta = normal_xi / length, normal_eta / length
    distance = (xi - foot_xi) * normal_xi + (eta - foot_eta) * normal_eta
    return distance, foot_xi, foot_eta, normal_xi, normal_eta


def _distance_jacobian(params: np.ndarray, foot_and_normals: tuple[np.ndarray, ...]) -> np.ndarray:
    """d(distance)/d(x0, y0, a, b, tilt) = -n . dX/dp at the foot point (envelope theorem)."""
    _, _, a, b, tilt = params
    foot_xi, foot_eta, normal_xi, normal_eta = foot_and_normals
    cos, sin = math.cos(tilt), math.sin(tilt)
    return np.column_stack(
        [
            -(normal_xi * cos - normal_eta * sin),
            -(normal_xi * sin + normal_eta * cos),
            -normal_xi * foot_xi / a,
            -normal_eta * foot_eta / b,
            normal_xi * foot_eta - normal_eta * foot_xi,
        ]
    )


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EllipseFit:
    """An ellipse fitted to points (x_i, y_i).

    Attributes:
        conic: (A, B, C, D, E, F) of A x^2 + B xy + C y^2 + D x + E y + F = 0, unit norm, A + C > 0.
        conic_cov: 6 x 6 covariance of ``conic`` (delta method, see :func:`fit_ellipse`).
        center: (x0, y0).
        axes: (semi-major, semi-minor).
        tilt: angle of the major axis from the x axis, radians in (-pi/2, pi/2] (arbitrary for
            a circle).
        n_points: number of points fitted.
        rms_residual: RMS distance of the points to the ellipse, of kind ``residual_kind``:
            "first-order" (algebraic fit: Taubin's first-order geometric estimate
            sqrt(sum_i Q(x_i)^2 / sum_i |grad Q(x_i)|^2)) or "orthogonal" (refined fit: the exact
            RMS point-to-curve distance that the refinement minimised).
        refined: whether the orthogonal-distance refinement was applied.
        center_fixed: whether the centre was fixed by the caller.
    """

    conic: tuple[float, float, float, float, float, float]
    conic_cov: np.ndarray = field(repr=False, compare=False)
    center: tuple[float, float]
    axes: tuple[float, float]
    tilt: float
    n_points: int
    rms_residual: float
    residual_kind: str
    refined: bool = False
    center_fixed: bool = False

    @property
    def params(self) -> np.ndarray:
        """(x0, y0, semi-major, semi-minor, tilt) as an array."""
        return np.array([*self.center, *self.axes, self.tilt])

    def points(self, angles: object = 200) -> tuple[np.ndarray, np.ndarray]:
        """Points on the ellipse at parametric angles (array), or at that many even angles (int)."""
        if isinstance(angles, (int, np.integer)):
            angles = np.linspace(0.0, 2 * math.pi, int(angles))
        t = as_finite_1d(angles, "angles")
        major, minor = self.axes
        cos, sin = math.cos(self.tilt), math.sin(self.tilt)
        along, across = major * np.cos(t), minor * np.sin(t)
        return self.center[0] + along * cos - across * sin, self.center[
            1
        ] + along * sin + across * cos

    def distances(self, x: object, y: object) -> np.ndarray:
        """Signed orthogonal distances of points to the ellipse (positive outside)."""
        xs, ys = as_paired_1d(x, y)
        return _signed_distances(xs, ys, self.params)[0]


@dataclass(frozen=True)
class EllipsePhase:
    """Differential phase phi in [0, pi/2] from the ellipse of Eq. (17).

    Attributes:
        phi: the phase, radians, in [0, pi/2] (phi and -phi are indistinguishable).
        stderr: the reported standard error: ``stderr_bootstrap`` when bootstrapping, else
            ``stderr_fisher``.
        stderr_bootstrap: standard deviation of phi over bootstrap replicates (None if not run).
        stderr_fisher: delta-method standard error from the conic covariance of the fit.
        amplitude: |a| = |<S1x - S2x>| / (4S) of Eq. (17) from the semi-axes r1, r2:
            r1^2 + r2^2 = 2 a^2.
        n_shots: number of shots fitted.
        fit: the underlying :class:`EllipseFit`.
        warnings: human-readable caveats (bias far from pi/4, undefined errors, ...).
        method: "ellipse".
    """

    phi: float
    stderr: float
    stderr_bootstrap: float | None
    stderr_fisher: float
    amplitude: float
    n_shots: int
    fit: EllipseFit = field(repr=False)
    warnings: tuple[str, ...] = ()
    method: str = "ellipse"


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------
def _as_center(center: object) -> tuple[float, float] | None:
    if center is None:
        return None
    values = as_finite_1d(center, "center")
    if values.size != 2:
        raise InputError(f"center must be a pair (x0, y0), got {values.size} values: {values}")
    return float(values[0]), float(values[1])


def _chunked_designs(x: np.ndarray, y: np.ndarray, frame: _Frame) -> Iterator[np.ndarray]:
    """Design matrices (6 x chunk, see :func:`_design`) of consecutive chunks of points.

    One buffer is refilled for every chunk (small enough to stay in cache), so a consumer must be
    done with a chunk before asking for the next one.
    """
    buffer = np.empty((6, min(CHUNK, x.size)))
    buffer[5] = 1.0
    for start in range(0, x.size, CHUNK):
        design = buffer[:, : min(CHUNK, x.size - start)]
        frame.apply(x[start : start + CHUNK], y[start : start + CHUNK], out=(design[3], design[4]))
        yield _fill_quadratic_rows(design)


def _gram(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ right.T for 6 x chunk arrays through BLAS dgemm on the (chunk x 6) transposes.

    numpy routes ``a @ a.T`` to a syrk kernel that is several times slower for such flat
    arrays, and the Fortran-ordered transposes reach dgemm without copies.
    """
    return dgemm(1.0, left.T, right.T, trans_a=True)


def _frame_and_scatter(
    x: np.ndarray, y: np.ndarray, center: tuple[float, float] | None
) -> tuple[_Frame, np.ndarray]:
    """Conditioning frame (centre on the mean or the fixed centre, unit RMS radius) and the
    6 x 6 scatter matrix sum_i z_i z_i^T of the points in that frame."""
    cx, cy = (float(np.mean(x)), float(np.mean(y))) if center is None else center
    unscaled = sum(_gram(d, d) for d in _chunked_designs(x, y, _Frame(cx, cy, 1.0)))
    scale = math.sqrt((unscaled[3, 3] + unscaled[4, 4]) / x.size)
    if not scale > 1e-12 * max(abs(cx), abs(cy)):
        raise _coincident(x, y)
    weights = scale**-_DEGREE
    return _Frame(cx, cy, scale), unscaled * np.outer(weights, weights)


def _coincident(x: np.ndarray, y: np.ndarray) -> FitError:
    return FitError(
        f"all {x.size} points coincide at ({x[0]:.6g}, {y[0]:.6g}); an ellipse needs points "
        "spread around a closed curve"
    )


def _check_spread(x: np.ndarray, y: np.ndarray, scatter: np.ndarray, subset: np.ndarray) -> None:
    """Raise FitError for coincident or collinear points, or points that fix no unique conic."""
    n = x.size
    mean = scatter[3:5, 5] / n
    covariance = scatter[3:5, 3:5] / n - np.outer(mean, mean)
    principal = np.linalg.eigvalsh(covariance)  # in units of the squared RMS radius
    if principal[1] <= 1e-24:
        raise _coincident(x, y)
    if principal[0] <= 1e-12 * principal[1]:
        raise FitError(
            f"the {n} points are collinear (principal variances {principal[0]:.3g} and "
            f"{principal[1]:.3g} in normalised units); an ellipse needs points spread in 2D"
        )
    spectrum = np.linalg.eigvalsh(_block(scatter, subset))
    null = int(np.sum(spectrum <= 1e-12 * spectrum[-1]))
    if null > 1:
        raise FitError(
            f"the {n} points do not determine a unique conic ({null} independent conics pass "
            "through them, e.g. fewer than 5 distinct points); need at least 5 distinct points "
            "in general position, better many around the whole ellipse"
        )


def _taubin_conic(scatter: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Best general conic (Taubin): minimises sum_i Q(x_i)^2 / sum_i |grad Q(x_i)|^2.

    The constant F does not enter the gradient, so it is eliminated exactly (Schur complement of
    S); the rest is the symmetric-definite problem S_r theta = lambda N_r theta, solved through
    the Cholesky factor of N_r.
    """
    s, n = _block(scatter, subset), _block(_gradient_gram(scatter), subset)
    reduced = s[:-1, :-1] - np.outer(s[:-1, -1], s[-1, :-1]) / s[-1, -1]
    factor = np.linalg.cholesky(n[:-1, :-1])
    whitened = np.linalg.solve(factor, np.linalg.solve(factor, reduced).T)
    rest = np.linalg.solve(factor.T, np.linalg.eigh(whitened)[1][:, 0])
    conic = np.zeros(6)
    conic[subset] = np.append(rest, -s[-1, :-1] @ rest / s[-1, -1])
    return _unit_conic(conic)


@dataclass(frozen=True)
class _ResidualSums:
    """Sums over the points of the algebraic residuals r_i = z_i . theta of one conic (fit frame):
    sum r^2, sum r^2 z z^T, sum r^3 z and sum r^4."""

    squares: float
    outer: np.ndarray
    third: np.ndarray
    fourth: float


def _residual_sums(x: np.ndarray, y: np.ndarray, frame: _Frame, conic: np.ndarray) -> _ResidualSums:
    """One chunked pass over the points accumulating :class:`_ResidualSums`.

    Summed point by point, sum r^2 stays accurate down to rounding level, unlike the quadratic
    form theta^T S theta (which loses half the digits when the residuals are tiny).
    """
    squares, outer, third, fourth = 0.0, np.zeros((6, 6)), np.zeros(6), 0.0
    for design in _chunked_designs(x, y, frame):
        residual = conic @ design
        squared = residual * residual
        squares += squared.sum()
        outer += _gram(design * squared, design)
        third += design @ (squared * residual)
        fourth += squared @ squared
    return _ResidualSums(float(squares), outer, third, float(fourth))


def _first_order_rms(squares: float, conic: np.ndarray, scatter: np.ndarray) -> float:
    """Taubin's first-order RMS distance sqrt(sum_i Q(x_i)^2 / sum_i |grad Q(x_i)|^2); the
    denominator is exactly theta^T N theta (:func:`_gradient_gram`)."""
    return math.sqrt(squares / (conic @ _gradient_gram(scatter) @ conic))


def _check_closed(
    x: np.ndarray,
    y: np.ndarray,
    frame: _Frame,
    scatter: np.ndarray,
    subset: np.ndarray,
    rms_ellipse: float,
) -> None:
    """Raise FitError when a hyperbola or parabola describes the points much better.

    If the best general conic (:func:`_taubin_conic`) is a hyperbola or, within rounding, a
    parabola, and its first-order RMS distance is less than half the ellipse's, the points trace
    an open curve (a huge ellipse would only mimic it).
    """
    general = _taubin_conic(scatter, subset)
    a, b, c = general[:3]
    ellipticity = (4 * a * c - b * b) / (a * a + b * b + c * c)  # > 0 for an ellipse
    if ellipticity > NOT_ELLIPTIC:
        return
    rms_general = _first_order_rms(_residual_sums(x, y, frame, general).squares, general, scatter)
    if rms_ellipse > 2 * rms_general:
        raise FitError(
            "the best conic through these points is a hyperbola or parabola, not an ellipse: RMS "
            f"distance {rms_general:.3g} against {rms_ellipse:.3g} for the best ellipse (in units "
            "of the RMS radius); the points must scatter around a closed elliptical curve"
        )


def _sandwich_covariance(
    sums: _ResidualSums, conic: np.ndarray, scatter: np.ndarray, subset: np.ndarray, n: int
) -> np.ndarray:
    """Covariance of the unit-norm direct-fit conic (in the fit frame) by the delta method.

    The direct fit minimises the scale-free ratio f = sum_i r_i^2 / q with r_i = z_i . theta and
    q = theta^T C theta (C: Fitzgibbon's constraint). It is an M-estimator, so its covariance is the
    sandwich H^-1 (sum_i g_i g_i^T) H^-1, with per-point gradients g_i = 2 (r_i z_i / q -
    r_i^2 C theta / q^2) and Hessian H = 2 (S - f C) / q at the optimum, both restricted to the
    tangent space of the unit sphere at theta, times n / (n - k + 1) for the k - 1 free
    coefficients. It needs no noise model and accounts for the heteroscedastic algebraic residuals.
    """
    theta, constraint, s = conic[subset], _block(_CONSTRAINT, subset), _block(scatter, subset)
    q = theta @ constraint @ theta
    c_theta = constraint @ theta
    cross = np.outer(sums.third[subset], c_theta)
    meat = (
        4
        / q**2
        * (
            _block(sums.outer, subset)
            - (cross + cross.T) / q
            + sums.fourth * np.outer(c_theta, c_theta) / q**2
        )
    )
    hessian = 2 * (s - (theta @ s @ theta) / q * constraint) / q
    tangent = np.linalg.qr(theta[:, None], mode="complete")[0][
        :, 1:
    ]  # orthonormal basis of theta-perp
    bread = np.linalg.inv(tangent.T @ hessian @ tangent)
    local = bread @ (tangent.T @ meat @ tangent) @ bread * n / max(n - tangent.shape[1], 1)
    embed = np.eye(6)[:, subset]
    return embed @ tangent @ local @ tangent.T @ embed.T


def _refine(
    u: np.ndarray, v: np.ndarray, start: np.ndarray, center_fixed: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """Orthogonal-distance fit of (x0, y0, a, b, tilt) from ``start`` (in the fit frame).

    Minimises sum_i d_i^2 (d_i: signed point-to-ellipse distance) with scipy's least_squares and
    the analytic Jacobian of :func:`_distance_jacobian`; the centre stays at the origin when
    ``center_fixed``. Returns the unit conic, its covariance s^2 (J^T J)^-1
    (s^2 = sum d^2 / (n - k)) mapped from the parameters to the conic by a central-difference
    Jacobian, and the RMS distance.
    """
    free = np.arange(2, 5) if center_fixed else np.arange(5)

    def full(p: np.ndarray) -> np.ndarray:
        params = start.copy()
        params[free] = p
        return params

    def residuals(p: np.ndarray) -> np.ndarray:
        return _signed_distances(u, v, full(p))[0]

    def jacobian(p: np.ndarray) -> np.ndarray:
        params = full(p)
        return _distance_jacobian(params, _signed_distances(u, v, params)[1:])[:, free]

    solution = least_squares(
        residuals, start[free], jac=jacobian, method="lm", xtol=1e-12, ftol=1e-12
    )
    if not solution.success:
        raise FitError(f"the orthogonal-distance refinement did not converge: {solution.message}")
    params = full(solution.x)
    dof = max(u.size - free.size, 1)
    params_cov = np.linalg.pinv(solution.jac.T @ solution.jac) * (solution.fun @ solution.fun) / dof
    steps = 1e-6 * np.maximum(np.abs(params[free]), 1.0)
    conic_jacobian = np.column_stack(
        [
            (_conic_from_geometry(params + bump) - _conic_from_geometry(params - bump)) / (2 * step)
            for step, bump in zip(steps, np.eye(5)[free] * steps[:, None], strict=True)
        ]
    )
    covariance = conic_jacobian @ params_cov @ conic_jacobian.T
    return _conic_from_geometry(params), covariance, math.sqrt(np.mean(solution.fun**2))


def fit_ellipse(x: object, y: object, *, refine: bool = False, center: object = None) -> EllipseFit:
    """Fit an ellipse to the points (x_i, y_i); the result does not depend on their order
    (beyond rounding, ~1e-15 relative).

    Algebraic fit: Fitzgibbon's direct ellipse-specific least squares in the Halir-Flusser form
    (see the module docstring), on data centred at their mean and scaled to unit RMS radius.
    ``refine=True`` then minimises the orthogonal (geometric) distances with scipy's least_squares,
    started from the algebraic ellipse. ``center=(x0, y0)`` fixes the centre (the conic then has
    no linear terms relative to it); for Eq. (17) shots the centre is (1/2, 1/2) exactly.

    ``conic_cov`` is the delta-method covariance of the unit-norm conic: for the algebraic fit the
    sandwich covariance of the M-estimator built from the per-point residuals and gradients
    (:func:`_sandwich_covariance`); for the refined fit s^2 (J^T J)^-1 of the geometric parameters,
    mapped to the conic with its numerical Jacobian.

    Raises:
        InputError: x, y not 1-D, of different lengths, empty, containing NaN/inf, or a bad center.
        FitError: fewer than 6 points, coincident or collinear points, points that fix no unique
            conic, points better described by a hyperbola/parabola, or a failed refinement.
    """
    xs, ys = as_paired_1d(x, y)
    fixed = _as_center(center)
    if xs.size < MIN_POINTS:
        raise FitError(f"need at least {MIN_POINTS} points to fit an ellipse, got {xs.size}")
    frame, scatter = _frame_and_scatter(xs, ys, fixed)
    subset = _FREE_CENTRE if fixed is None else _FIXED_CENTRE
    _check_spread(xs, ys, scatter, subset)
    conic = _halir_flusser(scatter, subset)
    sums = _residual_sums(xs, ys, frame, conic)
    rms = _first_order_rms(sums.squares, conic, scatter)
    _check_closed(xs, ys, frame, scatter, subset, rms)
    if refine:
        centre, axes, tilt = _geometry(conic)
        start = np.array([*centre, *axes, tilt])
        conic, covariance, rms = _refine(*frame.apply(xs, ys), start, fixed is not None)
    else:
        covariance = _sandwich_covariance(sums, conic, scatter, subset, xs.size)
    to_data = frame.conic_map()
    raw = to_data @ conic
    jacobian = _unit_conic_jacobian(raw) @ to_data
    centre, axes, tilt = _geometry(conic)  # in the well-conditioned frame, then mapped back
    return EllipseFit(
        conic=tuple(float(c) for c in _unit_conic(raw)),
        conic_cov=jacobian @ covariance @ jacobian.T,
        center=(frame.cx + frame.scale * centre[0], frame.cy + frame.scale * centre[1]),
        axes=(frame.scale * axes[0], frame.scale * axes[1]),
        tilt=tilt,
        n_points=int(xs.size),
        rms_residual=rms * frame.scale,
        residual_kind="orthogonal" if refine else "first-order",
        refined=refine,
        center_fixed=fixed is not None,
    )


# --------------------------------------------------------------------------------------------
# Phase
# --------------------------------------------------------------------------------------------
def _as_fractions(p1: object, p2: object) -> tuple[np.ndarray, np.ndarray]:
    """Excitation fractions: finite, 1-D, equal lengths, in [0, 1]."""
    xs, ys = as_paired_1d(p1, p2, names=("p1", "p2"))
    for name, values in (("p1", xs), ("p2", ys)):
        outside = np.flatnonzero((values < 0) | (values > 1))
        if outside.size:
            raise InputError(
                f"{name} must be excitation fractions p = m/(2S) + 1/2 in [0, 1]; {outside.size} "
                f"value(s) lie outside (first at index {outside[0]}: {values[outside[0]]})"
            )
    return xs, ys


def _block_scatters(
    x: np.ndarray, y: np.ndarray, frame: _Frame, rng: np.random.Generator
) -> np.ndarray:
    """Scatter matrices of m = min(n, BOOTSTRAP_BLOCKS) random blocks of points, shape (m, 6, 6).

    With n <= BOOTSTRAP_BLOCKS each block is one point (the ordinary bootstrap). For larger n the
    shuffled points are dealt into m blocks of ceil(n/m) slots (zero-padded, zero adds nothing);
    the direct fit depends on the data only through the scatter sums, and resampling blocks with
    replacement reproduces their sampling distribution to the same order as resampling points.
    """
    n = x.size
    m = min(n, BOOTSTRAP_BLOCKS)
    slots = -(-n // m)
    order = rng.permutation(n) if m < n else np.arange(n)
    design = np.zeros((6, m * slots))
    design[:, :n] = _design(*frame.apply(x[order], y[order]))
    stacked = design.reshape(6, m, slots).transpose(1, 0, 2)
    return stacked @ stacked.transpose(0, 2, 1)


def _moment_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    n_bootstrap: int,
    rng: np.random.Generator,
    center: tuple[float, float] | None,
) -> np.ndarray:
    """phi of bootstrap replicates of the algebraic fit (NaN where a replicate fails)."""
    frame, _ = _frame_and_scatter(x, y, center)
    subset = _FREE_CENTRE if center is None else _FIXED_CENTRE
    blocks = _block_scatters(x, y, frame, rng)
    m = blocks.shape[0]
    counts = rng.multinomial(m, np.full(m, 1 / m), size=n_bootstrap).astype(float)
    scatters = (counts @ blocks.reshape(m, 36)).reshape(n_bootstrap, 6, 6)
    phases = np.full(n_bootstrap, np.nan)
    for r, scatter in enumerate(scatters):
        try:
            phases[r] = _phase_from_conic(_halir_flusser(scatter, subset))
        except (FitError, np.linalg.LinAlgError):
            continue
    return phases


def _refit_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    n_bootstrap: int,
    rng: np.random.Generator,
    center: tuple[float, float] | None,
) -> np.ndarray:
    """phi of bootstrap replicates of the refined fit by refitting resampled shots (NaN: failed)."""
    phases = np.full(n_bootstrap, np.nan)
    for r in range(n_bootstrap):
        resample = rng.integers(0, x.size, x.size)
        try:
            fit = fit_ellipse(x[resample], y[resample], refine=True, center=center)
        except FitError:
            continue
        phases[r] = _phase_from_conic(np.array(fit.conic))
    return phases


def _delta_method_stderr(fit: EllipseFit) -> float:
    """sqrt(g^T cov g) with g = d phi / d conic (inf where phi sits at 0 or pi/2)."""
    gradient = _phase_gradient(np.array(fit.conic))
    if np.isinf(gradient).any():
        return math.inf
    return math.sqrt(max(gradient @ fit.conic_cov @ gradient, 0.0))


def _spread(phases: np.ndarray) -> tuple[float, int]:
    """Standard deviation of the fitted bootstrap phases and the number of failed replicates."""
    good = phases[np.isfinite(phases)]
    if good.size < 2:
        raise FitError(
            f"only {good.size} of {phases.size} bootstrap replicates could be fitted; the shots "
            "barely determine an ellipse (need more shots spread around it)"
        )
    return float(np.std(good, ddof=1)), phases.size - good.size


def _phase_warnings(
    phi: float, stderr_fisher: float, failed: int, n_bootstrap: int
) -> tuple[str, ...]:
    notes = []
    if abs(phi - math.pi / 4) > FAR_FROM_CIRCLE:
        notes.append(
            f"phi = {phi:.3f} rad is far from pi/4 "
            f"(|phi - pi/4| = {abs(phi - math.pi / 4):.3f} > pi/8): "
            "the direct ellipse fit is biased there by projection noise (on exact simulated shots "
            "+0.07..+0.19 rad at phi = 0.1, not shrinking with the number of shots); add a known "
            'differential phase offset to operate near pi/4, or use method="bayes"'
        )
    if not math.isfinite(stderr_fisher):
        notes.append(
            "the fitted ellipse sits at the edge of the identifiable range (phi = 0 or pi/2), "
            "where d phi / d conic diverges: the delta-method error is undefined (reported as inf)"
        )
    if failed:
        notes.append(
            f"{failed} of {n_bootstrap} bootstrap replicates could not be fitted and were dropped"
        )
    return tuple(notes)


def ellipse_phase(
    p1: object,
    p2: object,
    *,
    n_bootstrap: int = 200,
    rng: object = None,
    refine: bool = False,
    center: object = None,
) -> EllipsePhase:
    """Differential phase phi in [0, pi/2] of two-ensemble shots by ellipse fitting (Eq. 17).

    Fits :func:`fit_ellipse` to the shots (p1_i, p2_i) and returns phi = arccos(B/(2 sqrt(AC)))/2
    (derivation in the module docstring). ``center=(0.5, 0.5)`` fixes the centre at its exactly
    known value of Eq. (17), leaving 3 free conic parameters instead of 5.

    Errors: ``stderr_fisher`` propagates the conic covariance ``fit.conic_cov`` (delta method, see
    :func:`fit_ellipse`) to phi with the gradient of phi(conic):
    d phi = -d(cos 2phi) / (2 sin 2phi), d(cos 2phi)/dA = -cos 2phi/(2A),
    d(cos 2phi)/dB = 1/(2 sqrt(AC)), d(cos 2phi)/dC = -cos 2phi/(2C).
    ``stderr_bootstrap`` is the standard deviation of phi over ``n_bootstrap`` resamplings of the
    shots (for the algebraic fit by resampling blocks of scatter sums, :func:`_block_scatters`;
    with ``refine`` by full refits, which is slow). ``stderr`` is the bootstrap value, or the
    delta-method value when ``n_bootstrap=0``. Both describe the spread, not the bias far from pi/4.

    Args:
        p1, p2: excitation fractions in [0, 1] per shot (array-likes of equal length).
        n_bootstrap: number of bootstrap replicates (0 to skip).
        rng: seed or numpy Generator for the bootstrap.
        refine: apply the orthogonal-distance refinement.
        center: optional fixed centre, typically (0.5, 0.5).

    Raises:
        InputError: malformed shots (see :func:`fit_ellipse`), fractions outside [0, 1], or
            n_bootstrap not 0 or an integer >= 2.
        FitError: the shots cannot be fitted by an ellipse (see :func:`fit_ellipse`).
    """
    xs, ys = _as_fractions(p1, p2)
    valid_count = isinstance(n_bootstrap, (int, np.integer)) and not isinstance(n_bootstrap, bool)
    if not valid_count or n_bootstrap < 0 or n_bootstrap == 1:
        raise InputError(
            f"n_bootstrap must be 0 (no bootstrap) or an integer >= 2, got {n_bootstrap!r}"
        )
    fixed = _as_center(center)
    fit = fit_ellipse(xs, ys, refine=refine, center=fixed)
    phi = _phase_from_conic(np.array(fit.conic))
    stderr_fisher = _delta_method_stderr(fit)
    stderr_bootstrap, failed = None, 0
    if n_bootstrap:
        bootstrap = _refit_bootstrap if refine else _moment_bootstrap
        phases = bootstrap(xs, ys, int(n_bootstrap), np.random.default_rng(rng), fixed)
        stderr_bootstrap, failed = _spread(phases)
    major, minor = fit.axes
    return EllipsePhase(
        phi=phi,
        stderr=stderr_fisher if stderr_bootstrap is None else stderr_bootstrap,
        stderr_bootstrap=stderr_bootstrap,
        stderr_fisher=stderr_fisher,
        amplitude=math.sqrt((major**2 + minor**2) / 2),
        n_shots=int(xs.size),
        fit=fit,
        warnings=_phase_warnings(phi, stderr_fisher, failed, int(n_bootstrap)),
    )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------
def load_shots_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read shots (p1, p2) from a CSV file whose header names columns ``p1`` and ``p2``.

    Other columns are ignored. Raises :class:`InputError` naming the file and the missing column
    or the offending row (1-based line number) and value.
    """
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            columns = {name.strip(): name for name in header}
            missing = [name for name in ("p1", "p2") if name not in columns]
            if missing:
                raise InputError(
                    f"{path}: header {header} lacks column(s) {missing}; the first row must name "
                    "columns 'p1' and 'p2'"
                )
            rows = [_shot_row(path, reader.line_num, row, columns) for row in reader]
    except OSError as exc:
        raise InputError(f"cannot read shots file {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path} is not a readable CSV text file: {exc}") from exc
    if not rows:
        raise InputError(
            f"{path}: no data rows after the header; expected one shot (p1, p2) per row"
        )
    p1, p2 = np.array(rows).T
    return p1, p2


def _shot_row(path: Path, line: int, row: dict, columns: dict[str, str]) -> tuple[float, float]:
    values = []
    for name in ("p1", "p2"):
        text = row.get(columns[name])
        try:
            value = float(text)
        except (TypeError, ValueError):
            raise InputError(
                f"{path}, line {line}: column {name} holds {text!r}, not a number"
            ) from None
        if not math.isfinite(value):
            raise InputError(
                f"{path}, line {line}: column {name} holds {text!r}; values must be finite"
            )
        values.append(value)
    return values[0], values[1]
