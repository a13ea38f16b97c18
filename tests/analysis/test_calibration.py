"""Tests of labctl.analysis.calibration: recovery of known parameters, verdicts and errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from labctl.analysis import calibration
from labctl.analysis.calibration import (
    fit_cavity_transmission,
    fit_cooperativity,
    fit_gradient_map,
    fit_rabi,
    fit_rabi_rate_per_volt,
    fit_ramsey,
    fit_spectroscopy,
    fit_superradiant_decay,
    fit_weak_decay,
    gaussian_line,
    gradient_map,
    lorentzian,
    rabi_oscillation,
    ramsey_fringe,
    ramsey_transition_frequency,
    superradiant_decay,
)
from labctl.errors import FitError, InputError

REPEATS = 20


@dataclass(frozen=True)
class Case:
    """A synthetic calibration: ``trace(rng)`` returns (fit arguments, keyword arguments)."""

    fit: Callable
    trace: Callable
    truth: dict


def _rabi(rng):
    t = np.linspace(0, 2e-6, 60)
    return (
        t,
        rabi_oscillation(t, 2.3e6, 1.5e-6, 0.95, 0.5) + rng.normal(0, 0.02, t.size),
        0.02,
    ), {}


def _rate_per_volt(offset):
    def trace(rng):
        volts = np.linspace(0.05, 0.5, 8)
        rates = 4e6 * volts + (3e4 if offset else 0.0) + rng.normal(0, 2e4, volts.size)
        return (volts, rates, 2e4), {"offset": offset}

    return trace


def _ramsey(decay):
    def trace(rng):
        tau = np.linspace(0, 10e-6, 120)
        p = ramsey_fringe(tau, 0.8e6, 4e-6, 0.9, 0.5, 0.3, calibration.RAMSEY_ENVELOPES[decay])
        kwargs = {"drive_frequency_Hz": 6.8e9, "detuning_sign": -1, "decay": decay}
        return (tau, p + rng.normal(0, 0.02, tau.size), 0.02), kwargs

    return trace


SCAN = 3.5e14 + np.linspace(-5e6, 5e6, 200)  # an optical line: tiny span at a huge frequency


def _spectroscopy_two_lines(rng):
    y = (
        0.1
        + lorentzian(SCAN, 3.5e14 + 1e6, 0.5e6, -0.3)
        + lorentzian(SCAN, 3.5e14 - 2e6, 0.7e6, -0.25)
    )
    return (SCAN, y + rng.normal(0, 0.01, SCAN.size), 0.01), {"n_lines": 2}


def _spectroscopy_gaussian(rng):
    f = np.linspace(6.0e9, 6.1e9, 150)
    y = 2.0 + gaussian_line(f, 6.04e9, 1.2e7, 5.0)
    return (f, y + rng.normal(0, 0.1, f.size), 0.1), {"lineshape": "gaussian"}


def _cavity(rng):
    y = 0.1 + lorentzian(SCAN, 3.5e14 + 1e6, 0.8e6, 1.0)
    return (SCAN, y + rng.normal(0, 0.02, SCAN.size), 0.02), {}


CURRENTS = np.linspace(-1.0, 1.0, 7)


def _gradient_frequencies(curvature=0.0):
    rows = [
        gradient_map(CURRENTS, ensemble, 6.8e9, 1e6, 2e5, 3e4) + curvature * CURRENTS**2
        for ensemble in (1, 2, 3, 4)
    ]
    return np.array(rows)


def _gradient(rng):
    f = _gradient_frequencies()
    return (CURRENTS, f + rng.normal(0, 1e3, f.shape), 1e3), {}


def _superradiant(rng):
    t = np.linspace(0, 2e-6, 60)
    return (t, superradiant_decay(t, 2e3, 0.8e-6, 500) + rng.normal(0, 0.02, t.size), 500, 0.02), {}


def _weak(rng):
    t = np.linspace(0, 2e-6, 60)
    return (t, 0.05 * np.exp(-2e6 * t) + rng.normal(0, 0.002, t.size), 0.002), {}


ATOMS = np.array([100, 200, 400, 800, 1200, 1600.0])


def _cooperativity(rng):
    rates = 5e4 + 2e3 * ATOMS
    return (ATOMS, rates + rng.normal(0, 0.03 * rates), 0.03 * rates), {}


CASES = {
    "rabi": Case(
        fit_rabi,
        _rabi,
        {
            "rabi_frequency": 2.3e6,
            "decay_time": 1.5e-6,
            "amplitude": 0.95,
            "offset": 0.5,
            "pi_time": 1 / 4.6e6,
        },
    ),
    "rate-per-volt": Case(fit_rabi_rate_per_volt, _rate_per_volt(False), {"rate_per_volt": 4e6}),
    "rate-per-volt-offset": Case(
        fit_rabi_rate_per_volt, _rate_per_volt(True), {"rate_per_volt": 4e6, "offset_Hz": 3e4}
    ),
    "ramsey-gaussian": Case(
        fit_ramsey,
        _ramsey("gaussian"),
        {
            "detuning": 0.8e6,
            "t2_star": 4e-6,
            "amplitude": 0.9,
            "phase": 0.3,
            "transition_frequency": 6.8e9 - 0.8e6,
        },
    ),
    "ramsey-exponential": Case(
        fit_ramsey, _ramsey("exponential"), {"detuning": 0.8e6, "t2_star": 4e-6}
    ),
    "spectroscopy": Case(
        fit_spectroscopy,
        _spectroscopy_two_lines,
        {
            "transition_frequency_1": 3.5e14 - 2e6,
            "fwhm_1": 0.7e6,
            "amplitude_1": -0.25,
            "transition_frequency_2": 3.5e14 + 1e6,
            "fwhm_2": 0.5e6,
            "amplitude_2": -0.3,
            "background": 0.1,
        },
    ),
    "spectroscopy-gaussian": Case(
        fit_spectroscopy,
        _spectroscopy_gaussian,
        {"transition_frequency_1": 6.04e9, "fwhm_1": 1.2e7, "amplitude_1": 5.0},
    ),
    "cavity": Case(
        fit_cavity_transmission,
        _cavity,
        {
            "resonance_frequency": 3.5e14 + 1e6,
            "kappa_over_2pi": 0.8e6,
            "kappa": 2 * math.pi * 0.8e6,
            "peak": 1.0,
            "background": 0.1,
        },
    ),
    "gradient-map": Case(
        fit_gradient_map, _gradient, {"g": 2e5, "s0": 3e4, "f0": 6.8e9, "alpha": 1e6}
    ),
    "superradiant": Case(fit_superradiant_decay, _superradiant, {"Gamma": 2e3, "delay": 0.8e-6}),
    "weak-decay": Case(fit_weak_decay, _weak, {"rate": 2e6, "initial": 0.05}),
    "cooperativity": Case(
        fit_cooperativity, _cooperativity, {"Gamma": 2e3, "gamma": 5e4, "cooperativity": 0.04}
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fit_recovers_known_parameters_within_two_sigma(case):
    hits = {name: 0 for name in case.truth}
    good = 0
    for seed in range(REPEATS):
        args, kwargs = case.trace(np.random.default_rng(seed))
        result = case.fit(*args, **kwargs)
        good += result.quality == "good"
        for name, true in case.truth.items():
            hits[name] += abs(result[name] - true) < 2 * result.stderr[name]
    assert good >= 0.8 * REPEATS
    assert all(count >= 0.8 * REPEATS for count in hits.values()), hits


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_result_has_units_and_serialises(case):
    args, kwargs = case.trace(np.random.default_rng(0))
    result = case.fit(*args, **kwargs)
    assert set(result.values) == set(result.stderr) == set(result.units)
    assert set(case.truth) <= set(result.values)
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["quality"] == "good" and summary["reasons"] == []
    assert summary["values"] == pytest.approx(dict(result.values))


def test_units_are_si():
    args, kwargs = _cavity(np.random.default_rng(1))
    cavity = fit_cavity_transmission(*args, **kwargs)
    assert cavity.units["kappa_over_2pi"] == "Hz" and cavity.units["kappa"] == "rad/s"
    assert cavity["kappa"] == pytest.approx(2 * math.pi * cavity["kappa_over_2pi"])
    assert cavity.stderr["kappa"] == pytest.approx(2 * math.pi * cavity.stderr["kappa_over_2pi"])
    args, kwargs = _gradient(np.random.default_rng(1))
    assert fit_gradient_map(*args, **kwargs).units == {
        "g": "Hz/A",
        "s0": "Hz",
        "f0": "Hz",
        "alpha": "Hz/A",
    }


def test_cooperativity_error_uses_the_covariance():
    args, _ = _cooperativity(np.random.default_rng(3))
    atoms, rates, errors = args
    result = fit_cooperativity(atoms, rates, errors)
    design = np.column_stack([atoms, np.ones_like(atoms)]) / errors[:, None]
    covariance = np.linalg.inv(design.T @ design)
    (big, small) = np.linalg.solve(design.T @ design, design.T @ (rates / errors))
    gradient = np.array([1 / small, -big / small**2])
    assert result["Gamma"] == pytest.approx(big) and result["gamma"] == pytest.approx(small)
    assert result.stderr["cooperativity"] == pytest.approx(
        math.sqrt(gradient @ covariance @ gradient), rel=1e-4
    )
    uncorrelated = abs(big / small) * math.hypot(*(np.sqrt(np.diag(covariance)) / [big, small]))
    assert (
        result.stderr["cooperativity"] > 1.05 * uncorrelated
    )  # the (negative) correlation matters


def test_rabi_with_uneven_sampling_and_pi_time():
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 2e-6, 70))
    result = fit_rabi(t, rabi_oscillation(t, 2.3e6, 3e-6, 1.0, 0.5) + rng.normal(0, 0.01, t.size))
    assert result["rabi_frequency"] == pytest.approx(2.3e6, rel=0.01)
    assert result["pi_time"] == pytest.approx(1 / (2 * result["rabi_frequency"]))


@pytest.mark.parametrize("phase", [-3.0, -1.5, 2.0, 3.1])
def test_ramsey_converges_for_any_fringe_phase(phase):
    rng = np.random.default_rng(9)
    tau = np.linspace(0, 10e-6, 120)
    p = ramsey_fringe(tau, 0.8e6, 4e-6, 0.9, 0.5, phase, 2.0) + rng.normal(0, 0.02, tau.size)
    result = fit_ramsey(tau, p, 0.02)
    assert result.good
    assert result["detuning"] == pytest.approx(0.8e6, abs=3 * result.stderr["detuning"])
    assert math.cos(result["phase"] - phase) > math.cos(3 * result.stderr["phase"])


def test_rate_per_volt_through_zero_is_the_default():
    volts = np.linspace(0.1, 1.0, 5)
    result = fit_rabi_rate_per_volt(volts, 3e6 * volts)
    assert result.metadata["through_zero"] and "offset_Hz" not in result.values
    assert result["rate_per_volt"] == pytest.approx(3e6)


# --------------------------------------------------------------------------------------------
# Ramsey sign resolution
# --------------------------------------------------------------------------------------------
def _ramsey_at(drive, transition, seed):
    rng = np.random.default_rng(seed)
    tau = np.linspace(0, 10e-6, 120)
    p = ramsey_fringe(tau, abs(transition - drive), 4e-6, 0.9, 0.5, 0.0, 2.0) + rng.normal(
        0, 0.02, tau.size
    )
    return fit_ramsey(tau, p, 0.02, drive_frequency_Hz=drive)


@pytest.mark.parametrize("transition", [6.8e9 + 0.7e6, 6.8e9 - 0.7e6, 6.8e9 + 0.1e6])
def test_two_drive_frequencies_resolve_the_sign(transition):
    first, second = _ramsey_at(6.8e9, transition, 1), _ramsey_at(6.8e9 + 0.3e6, transition, 2)
    resolved = ramsey_transition_frequency(first, second)
    assert abs(resolved.frequency - transition) < 3 * resolved.stderr
    assert resolved.runner_up_sigma > 3
    assert resolved.to_dict()["units"]["transition_frequency"] == "Hz"


def test_ramsey_sign_resolution_errors():
    first = _ramsey_at(6.8e9, 6.8e9 + 0.7e6, 1)
    with pytest.raises(InputError, match="share the drive frequency"):
        ramsey_transition_frequency(first, _ramsey_at(6.8e9, 6.8e9 + 0.7e6, 2))
    with pytest.raises(FitError, match="no choice of detuning signs"):
        ramsey_transition_frequency(first, _ramsey_at(6.8e9 + 0.3e6, 6.8e9 + 2.0e6, 2))
    tau = np.linspace(0, 10e-6, 120)
    no_drive = fit_ramsey(tau, ramsey_fringe(tau, 0.7e6, 4e-6, 0.9, 0.5, 0.0, 2.0))
    with pytest.raises(InputError, match="drive_frequency_Hz set"):
        ramsey_transition_frequency(first, no_drive)


# --------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------
def test_nonlinear_gradient_map_is_bad():
    rng = np.random.default_rng(5)
    f = _gradient_frequencies(curvature=2e4) + rng.normal(0, 1e3, (4, CURRENTS.size))
    result = fit_gradient_map(CURRENTS, f)  # no uncertainties: the F-test alone must catch it
    assert result.quality == "bad"
    assert any("not linear in the current" in reason for reason in result.reasons)
    linear = _gradient_frequencies() + rng.normal(0, 1.0, (4, CURRENTS.size))
    assert fit_gradient_map(CURRENTS, linear).quality == "good"


def test_underestimated_errors_give_a_bad_reduced_chi2():
    (t, p, _), _ = _rabi(np.random.default_rng(6))
    result = fit_rabi(t, p, 0.005)
    assert result.quality == "bad" and any("reduced chi^2" in reason for reason in result.reasons)


def test_unphysical_values_and_large_errors_are_bad():
    (t, p, err), _ = _rabi(np.random.default_rng(7))
    scaled = fit_rabi(t, 0.5 + 2 * (p - 0.5), 2 * err)  # contrast 1.9 > 1.1
    assert scaled.quality == "bad" and any(
        "amplitude" in r and "physical range" in r for r in scaled.reasons
    )
    noise = fit_weak_decay(t, np.random.default_rng(8).normal(0.01, 0.02, t.size), 0.02)
    assert noise.quality == "bad" and any("relative error" in r for r in noise.reasons)


def test_non_convergence_raises_fit_error(monkeypatch):
    monkeypatch.setattr(calibration, "MAX_NFEV", 2)
    (t, p, err), _ = _rabi(np.random.default_rng(0))
    with pytest.raises(FitError, match="rabi fit did not converge"):
        fit_rabi(t, p, err)


def test_missing_lines_raise_fit_error():
    f = np.linspace(0, 1e6, 50)
    with pytest.raises(FitError, match="found 1 line"):
        fit_spectroscopy(f, lorentzian(f, 5e5, 1e5, 1.0), n_lines=3)


# --------------------------------------------------------------------------------------------
# Input errors
# --------------------------------------------------------------------------------------------
T = np.linspace(0, 1e-6, 30)
P = 0.5 + 0.4 * np.cos(2 * np.pi * 3e6 * T)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: fit_rabi(np.r_[T[:-1], np.nan], P),
            r"durations_s contains 1 non-finite value\(s\) \(first at index 29",
        ),
        (lambda: fit_rabi(T, P[:-1]), "same length, got 30 and 29"),
        (lambda: fit_rabi(T[:4], P[:4]), "has 4 points; this fit needs at least 5"),
        (lambda: fit_rabi([], []), "empty"),
        (
            lambda: fit_rabi(np.ones((5, 6)), np.ones((5, 6))),
            r"one-dimensional, got shape \(5, 6\)",
        ),
        (lambda: fit_rabi(T, P, -0.1), "stderr must be finite and > 0"),
        (
            lambda: fit_rabi(T, P, np.ones(3)),
            r"stderr must be a positive number or an array of shape \(30,\)",
        ),
        (lambda: fit_rabi(np.zeros(30), P), "all 30 values of durations_s are equal"),
        (lambda: fit_ramsey(T, P, decay="lorentzian"), "decay must be one of"),
        (lambda: fit_ramsey(T, P, detuning_sign=1), "needs drive_frequency_Hz"),
        (
            lambda: fit_ramsey(T, P, drive_frequency_Hz=6e9, detuning_sign=2),
            "detuning_sign must be",
        ),
        (lambda: fit_spectroscopy(T, P, lineshape="voigt"), "lineshape must be one of"),
        (lambda: fit_spectroscopy(T, P, n_lines=0), "n_lines must be a positive integer"),
        (lambda: fit_superradiant_decay(T, P, spin=0), "spin must be a positive number"),
        (
            lambda: fit_gradient_map(CURRENTS, _gradient_frequencies()[:, :-1]),
            r"shape \(L ensembles, 7 currents\)",
        ),
        (lambda: fit_gradient_map(CURRENTS, _gradient_frequencies()[:1]), ">= 2 ensembles"),
        (
            lambda: fit_gradient_map(CURRENTS, np.where(np.eye(4, 7) > 0, np.nan, 1.0)),
            r"non-finite value\(s\), first at .* \(0, 0\)",
        ),
        (lambda: fit_cooperativity([100, 200], [1.0, 2.0]), "needs at least 3"),
    ],
    ids=lambda value: None if callable(value) else value[:30],
)
def test_bad_inputs_raise_input_errors(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        fit_weak_decay(T, np.full(T.size, np.inf))


def test_importing_analysis_has_no_plotting_side_effect():
    code = (
        "import sys, labctl.analysis; "
        "print(sorted({'matplotlib.pyplot', 'labctl.analysis.plots'} & set(sys.modules)))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
