"""Two-mode squeezing from measured shots (Eq. 12) and the Fisher-information curves of Fig. 4(c).

Wineland parameter from data
----------------------------
Readout model. Ensemble j reads the excitation fraction p'_j = 1/2 + kappa (p_j - 1/2) + e_j with
p_j = m_j/(2S) + 1/2, a contrast kappa (pulse and readout imperfections, common to both
ensembles) and additive detection noise e_j of variance sigma_j^2, independent of the atoms, of
each other and between shots. After the pi/2 pulse of phase theta (and phi = 0) ensemble j
measures O_j = S_j^x sin(theta) + S_j^y cos(theta) (the Heisenberg form of Eq. 18, see
:mod:`labctl.analysis.phase`), so two phase-stable quadrature runs give

* y run (theta = 0): Y = p'_1 + p'_2 - 1 = kappa (S_1^y + S_2^y)/(2S) + e_1 + e_2,
  Var(Y) = kappa^2 Var(S_1^y + S_2^y)/(4 S^2) + V_d,  V_d = sigma_1^2 + sigma_2^2;
* x run (theta = pi/2): X = p'_1 - p'_2 = kappa (S_1^x - S_2^x)/(2S) + e_1 - e_2,
  E[X] = kappa <S_1^x - S_2^x>/(2S),

and xi^2 = 4S Var(S_1^y + S_2^y)/<S_1^x - S_2^x>^2 = 4S (Var(Y) - V_d)/E[X]^2 (kappa cancels).

Coherent reference. The same two runs on the unentangled product of coherent spin states along
+x (ensemble 1) and -x (ensemble 2) -- for which Var(S_1^y + S_2^y) = S, <S_1^x - S_2^x> = 2S and
xi^2 = 1 -- fix the rest: in its x run each ensemble is in an eigenstate of the measured S_j^x
(m_1 = S, m_2 = -S exactly), so X_c = kappa + e_1 - e_2 gives the contrast kappa = E[X_c] and the
detection noise V_d = Var(X_c) free of projection noise; in its y run
Var(Y_c) = kappa^2/(4S) + V_d, the projection noise 2 (S/2) / (2S)^2 of N = 2S atoms per ensemble,
which fixes the atom number S_eff = kappa^2 / (4 (Var(Y_c) - V_d)). Substituting 4S:

    xi^2 = [(Var(Y) - V_d) / E[X]^2] / [(Var(Y_c) - V_d) / E[X_c]^2],

the Wineland ratio of the entangled state relative to that of the coherent state, each with the
detection noise subtracted; neither S nor kappa is an input. Sample variances (ddof = 1) and means
are unbiased; xi^2 is a smooth ratio of them (bias O(1/n)).

Uncertainty. The five statistics come from four independent runs. Delta method on ln xi^2 with
Var(sample variance) = (mu_4 - sigma^4 (n - 3)/(n - 1))/n, Var(mean) = sigma^2/n and the covariance
mu_3/n between the mean and the variance of the coherent x run; ``n_bootstrap`` adds a bootstrap
(each run resampled on its own).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from labctl.analysis.ellipse import as_paired_1d
from labctl.errors import FitError, InputError
from labctl.sim.measurement import cfi_curve

__all__ = ["FisherCurve", "WinelandEstimate", "fisher_curve", "wineland_from_shots"]

Run = tuple[object, object]  # (p1, p2) shots of one run


@dataclass(frozen=True)
class WinelandEstimate:
    """xi^2 of Eq. (12) from shots, with the calibration it implies (module docstring).

    ``spin`` is S_eff from the coherent projection noise (``atom_number`` = 2 S_eff per ensemble),
    ``contrast`` kappa, ``detection_variance`` V_d (of p1 + p2 or p1 - p2, p units);
    ``var_sum_y`` = Var(S1y + S2y) and ``spin_length`` = <S1x - S2x> in spin units (with S_eff).
    """

    xi2: float
    stderr: float
    spin: float
    spin_stderr: float
    contrast: float
    detection_variance: float
    var_sum_y: float
    spin_length: float
    stderr_bootstrap: float | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def xi2_db(self) -> float:
        """10 log10 xi^2 (negative: squeezed)."""
        return 10 * math.log10(self.xi2)

    @property
    def atom_number(self) -> float:
        return 2 * self.spin


@dataclass(frozen=True)
class _Statistics:
    """The five statistics of the estimator and their sampling covariance (delta method)."""

    values: np.ndarray  # Var(Y), E[X], Var(Y_c), E[X_c], V_d
    covariance: np.ndarray


def _variance_and_its_variance(x: np.ndarray) -> tuple[float, float, float]:
    """Sample variance, its sampling variance, and the covariance of the mean with it."""
    n = x.size
    centred = x - x.mean()
    var = float(centred @ centred / (n - 1))
    mu3, mu4 = float(np.mean(centred**3)), float(np.mean(centred**4))
    return var, (mu4 - var**2 * (n - 3) / (n - 1)) / n, mu3 / n


def _statistics(y: np.ndarray, x: np.ndarray, y_c: np.ndarray, x_c: np.ndarray) -> _Statistics:
    var_y, var_var_y, _ = _variance_and_its_variance(y)
    var_yc, var_var_yc, _ = _variance_and_its_variance(y_c)
    var_d, var_var_d, cov_mean_var = _variance_and_its_variance(x_c)
    covariance = np.diag([var_var_y, x.var(ddof=1) / x.size, var_var_yc, var_d / x_c.size, var_var_d])
    covariance[3, 4] = covariance[4, 3] = cov_mean_var
    return _Statistics(np.array([var_y, x.mean(), var_yc, x_c.mean(), var_d]), covariance)


def _xi2(values: np.ndarray) -> float:
    var_y, mean_x, var_yc, mean_xc, var_d = values
    return (var_y - var_d) * mean_xc**2 / ((var_yc - var_d) * mean_x**2)


def _log_gradient(values: np.ndarray) -> np.ndarray:
    """d ln xi^2 / d (Var(Y), E[X], Var(Y_c), E[X_c], V_d)."""
    var_y, mean_x, var_yc, mean_xc, var_d = values
    signal, reference = var_y - var_d, var_yc - var_d
    return np.array([1 / signal, -2 / mean_x, -1 / reference, 2 / mean_xc, 1 / reference - 1 / signal])


def _quadratures(run: Run, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(p1 + p2 - 1, p1 - p2) of a run, checked."""
    p1, p2 = as_paired_1d(*run, names=(f"{name} p1", f"{name} p2"))
    if p1.size < 4:
        raise InputError(f"the {name} run has {p1.size} shots; variances and their errors need at least 4")
    return p1 + p2 - 1, p1 - p2


def _bootstrap(
    y: np.ndarray, x: np.ndarray, y_c: np.ndarray, x_c: np.ndarray, n_bootstrap: int, rng: np.random.Generator
) -> float:
    replicas = []
    for _ in range(n_bootstrap):
        samples = [a[rng.integers(0, a.size, a.size)] for a in (y, x, y_c, x_c)]
        y_b, x_b, yc_b, xc_b = samples
        values = np.array([y_b.var(ddof=1), x_b.mean(), yc_b.var(ddof=1), xc_b.mean(), xc_b.var(ddof=1)])
        replicas.append(_xi2(values))
    return float(np.std(replicas, ddof=1))


def wineland_from_shots(
    y_run: Run,
    x_run: Run,
    coherent_y: Run,
    coherent_x: Run,
    *,
    spin: float | None = None,
    n_bootstrap: int = 0,
    rng: object = None,
) -> WinelandEstimate:
    """Two-mode Wineland parameter xi^2 (Eq. 12) from four runs of (p1, p2) shots.

    Args:
        y_run, x_run: shots of the entangled state after a phase-stable pi/2 pulse measuring
            S_j^y (theta = 0) and S_j^x (theta = pi/2), at phi = 0.
        coherent_y, coherent_x: the same runs on the coherent reference (ensemble 1 along +x,
            ensemble 2 along -x), which fix the detection noise, contrast and atom number.
        spin: nominal S, only compared with the S_eff the reference implies (a warning when they
            differ by more than 3 standard errors).
        n_bootstrap: bootstrap replicates for ``stderr_bootstrap`` (0: delta method only).

    Raises:
        InputError: malformed runs.
        FitError: a variance does not exceed the detection noise (nothing left to subtract), or
            the spin length of either x run is zero.
    """
    y, _ = _quadratures(y_run, "y")
    _, x = _quadratures(x_run, "x")
    y_c, _ = _quadratures(coherent_y, "coherent y")
    _, x_c = _quadratures(coherent_x, "coherent x")
    stats = _statistics(y, x, y_c, x_c)
    var_y, mean_x, var_yc, mean_xc, var_d = stats.values
    for name, value in (("entangled y run", var_y), ("coherent y run", var_yc)):
        if value <= var_d:
            raise FitError(
                f"the variance of p1 + p2 in the {name} ({value:.4g}) does not exceed the detection noise "
                f"V_d = {var_d:.4g} measured in the coherent x run: no projection noise is resolved; "
                "check the runs' pulse phases, or take more shots"
            )
    if mean_x == 0 or mean_xc == 0:
        raise FitError("the mean of p1 - p2 vanishes in an x run: the spin length is not resolved")
    xi2 = _xi2(stats.values)
    gradient = _log_gradient(stats.values)
    stderr = xi2 * math.sqrt(max(float(gradient @ stats.covariance @ gradient), 0.0))
    s_eff = mean_xc**2 / (4 * (var_yc - var_d))
    spin_gradient = np.array([0.0, 0.0, -1 / (var_yc - var_d), 2 / mean_xc, 1 / (var_yc - var_d)])
    spin_stderr = s_eff * math.sqrt(max(float(spin_gradient @ stats.covariance @ spin_gradient), 0.0))
    notes = []
    if spin is not None and abs(s_eff - spin) > 3 * spin_stderr:
        notes.append(
            f"the coherent reference implies S = {s_eff:.4g} +- {spin_stderr:.2g}, not the nominal S = {spin:g}: "
            "the atom number, the detection-noise model or the reference state is off"
        )
    if var_y - var_d < 2 * math.sqrt(stats.covariance[0, 0] + stats.covariance[4, 4]):
        notes.append("the entangled y-run variance barely exceeds the detection noise: xi^2 is poorly determined")
    bootstrap = None
    if n_bootstrap:
        bootstrap = _bootstrap(y, x, y_c, x_c, int(n_bootstrap), np.random.default_rng(rng))
    scale = 2 * s_eff / mean_xc  # spin units per p unit
    return WinelandEstimate(
        xi2=float(xi2),
        stderr=stderr,
        spin=float(s_eff),
        spin_stderr=spin_stderr,
        contrast=float(mean_xc),
        detection_variance=float(var_d),
        var_sum_y=float((var_y - var_d) * scale**2),
        spin_length=float(mean_x * scale),
        stderr_bootstrap=bootstrap,
        warnings=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Fisher information curves (Fig. 4c)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FisherCurve:
    """CFI of Eq. (19) against phi, with the QFI of Eqs. (10)/(16) and the reference limits."""

    phis: np.ndarray
    cfi: np.ndarray
    qfi: float
    spin: float

    @property
    def sql(self) -> float:
        """4S: the QFI of two unentangled coherent states (standard quantum limit)."""
        return 4 * self.spin

    @property
    def heisenberg(self) -> float:
        """16 S (S + 1)/3: the QFI of |J = 0, M = 0> (Sec. III.B)."""
        return 16 * self.spin * (self.spin + 1) / 3


def fisher_curve(state, phis: Sequence[float] | np.ndarray | None = None) -> FisherCurve:
    """CFI vs phi (default 181 points over [0, pi/2]) and the QFI line of Fig. 4(c).

    The QFI is that of the pure state; common-phase averaging leaves it unchanged (Eq. 16).
    """
    grid = np.linspace(0, math.pi / 2, 181) if phis is None else np.asarray(phis, dtype=float)
    return FisherCurve(phis=grid, cfi=cfi_curve(state, grid), qfi=float(state.qfi()), spin=float(state.spin))
