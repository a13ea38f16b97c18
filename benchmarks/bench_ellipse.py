"""Benchmark: labctl's direct ellipse fit against scikit-image's EllipseModel.

Run ``python benchmarks/bench_ellipse.py``. Both libraries fit the same noisy points of a known
ellipse at 10^3, 10^5 and 10^6 points; the table gives the median wall time over repeats, the
ratio skimage/labctl and the error of each fit in centre (distance), semi-axes (largest
absolute error) and tilt (radians, modulo pi). Each library receives its data in its native
layout (labctl: two 1-D arrays; skimage: an (N, 2) array), prepared outside the timed region.
scikit-image is a benchmark-only dependency, imported here.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

from labctl.analysis.ellipse import fit_ellipse

CENTER, AXES, TILT = (0.3, -0.2), (1.0, 0.6), 0.4
NOISE = 0.02
SIZES = (10**3, 10**5, 10**6)
REPEATS = {10**3: 21, 10**5: 9, 10**6: 7}


def noisy_ellipse(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    angles = rng.uniform(0, 2 * math.pi, n)
    along, across = AXES[0] * np.cos(angles), AXES[1] * np.sin(angles)
    x = CENTER[0] + along * math.cos(TILT) - across * math.sin(TILT) + rng.normal(0, NOISE, n)
    y = CENTER[1] + along * math.sin(TILT) + across * math.cos(TILT) + rng.normal(0, NOISE, n)
    return x, y


def canonical(center, axes, tilt) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Semi-major first, tilt of the major axis in (-pi/2, pi/2]."""
    (a, b), tilt = axes, float(tilt)
    if a < b:
        a, b, tilt = b, a, tilt + math.pi / 2
    tilt = math.pi / 2 - (math.pi / 2 - tilt) % math.pi
    return (float(center[0]), float(center[1])), (float(a), float(b)), tilt


def errors(center, axes, tilt) -> tuple[float, float, float]:
    tilt_error = abs((tilt - TILT + math.pi / 2) % math.pi - math.pi / 2)
    axes_error = max(abs(axes[0] - AXES[0]), abs(axes[1] - AXES[1]))
    return math.dist(center, CENTER), axes_error, tilt_error


def fit_labctl(x: np.ndarray, y: np.ndarray):
    fit = fit_ellipse(x, y)
    return fit.center, fit.axes, fit.tilt


def skimage_fitter():
    from skimage.measure import EllipseModel

    if hasattr(EllipseModel, "from_estimate"):  # scikit-image >= 0.26

        def fit(points: np.ndarray):
            model = EllipseModel.from_estimate(points)
            return canonical(model.center, model.axis_lengths, model.theta)

    else:

        def fit(points: np.ndarray):
            model = EllipseModel()
            model.estimate(points)
            xc, yc, a, b, theta = model.params
            return canonical((xc, yc), (a, b), theta)

    return fit


def median_time(function, argument_tuple, repeats: int) -> tuple[float, tuple]:
    function(*argument_tuple)  # warm-up
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*argument_tuple)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    fit_skimage = skimage_fitter()
    rng = np.random.default_rng(2025)
    header = (
        f"{'points':>9} | {'labctl ms':>9} {'skimage ms':>10} {'ratio':>6} | "
        f"{'centre error':^23} | {'semi-axes error':^23} | {'tilt error (rad)':^23}"
    )
    print(
        f"ellipse centre {CENTER}, semi-axes {AXES}, tilt {TILT} rad, "
        f"Gaussian noise sigma = {NOISE}; errors are labctl / skimage"
    )
    print(header)
    print("-" * len(header))
    for n in SIZES:
        x, y = noisy_ellipse(n, rng)
        points = np.column_stack([x, y])
        ours_time, ours = median_time(fit_labctl, (x, y), REPEATS[n])
        theirs_time, theirs = median_time(fit_skimage, (points,), REPEATS[n])
        ours_errors, theirs_errors = errors(*ours), errors(*theirs)
        columns = " | ".join(
            f"{mine:>10.2e} / {other:<10.2e}"
            for mine, other in zip(ours_errors, theirs_errors, strict=True)
        )
        print(
            f"{n:>9} | {ours_time * 1e3:>9.2f} {theirs_time * 1e3:>10.2f} "
            f"{theirs_time / ours_time:>6.1f} | "
            f"{columns}"
        )


if __name__ == "__main__":
    main()
