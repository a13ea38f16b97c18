"""Sec. II conditions: every violation raises its own error naming ensembles and rule, and the
brute-force Liouvillian confirms that violating parameters give no unique pure steady state."""

import numpy as np
import pytest

from labctl.errors import ConditionError, InputError, LabctlError
from labctl.sim import check_conditions, steady_state


@pytest.mark.parametrize(
    "detunings, rabi, chi, pattern",
    [
        ([0.3, -0.3, 0.5], 1.0, 0.5, r"L = 3 .*even"),
        ([0.3, 0.5], 1.0, 0.0, r"ensembles 1 \(delta = 0.3\), 2 \(delta = 0.5\) have no partner"),
        ([0.3, -0.3, 0.5, -0.4], 1.0, 0.2, r"ensembles 3 \(delta = 0.5\), 4 \(delta = -0.4\) have no partner"),
        ([0.0, 0.0], 1.0, 0.0, r"ensembles 1, 2 have detuning 0 while chi = 0"),
        ([0.4, -0.4, 0.4, -0.4], 1.0, 0.0, r"ensembles 1, 3 share the detuning 0.4 while chi = 0"),
        ([0.3, 0.3, -0.3], 1.0, 0.5, r"even"),
        ([0.3, -0.3], 0.0, 0.0, r"Omega must be > 0"),
        ([0.3, -0.3], -1.0, 0.0, r"Omega must be > 0"),
    ],
)
def test_each_violation_has_its_message(detunings, rabi, chi, pattern):
    with pytest.raises(ConditionError, match=pattern):
        check_conditions(detunings, rabi, chi)
    with pytest.raises(ConditionError):
        steady_state(1, detunings, rabi, chi)


def test_condition_errors_are_labctl_errors():
    with pytest.raises(LabctlError):
        steady_state(1, [0.1, 0.2], 1.0)


@pytest.mark.parametrize(
    "detunings, rabi, chi",
    [([0.0, 0.0], 1.0, 0.7), ([0.5, 0.5, -0.5, -0.5], 1.0, 0.3), ([0.0, 0.0, 0.4, -0.4], 2.0, 1.0)],
)
def test_zero_and_repeated_detunings_are_allowed_with_chi(detunings, rabi, chi):
    assert steady_state(0.5, detunings, rabi, chi).vector.size == 2 ** len(detunings)


@pytest.mark.parametrize(
    "bad, pattern",
    [
        (dict(detunings=[0.1, float("nan")], rabi=1.0), "finite"),
        (dict(detunings=[[0.1], [-0.1]], rabi=1.0), "1-D"),
        (dict(detunings=[], rabi=1.0), "non-empty"),
        (dict(detunings=["a", "b"], rabi=1.0), "real numbers"),
        (dict(detunings=[0.1, -0.1], rabi="fast"), "rabi"),
        (dict(detunings=[0.1, -0.1], rabi=1.0, chi=float("inf")), "chi"),
    ],
)
def test_malformed_input_is_an_input_error(bad, pattern):
    with pytest.raises(InputError, match=pattern):
        steady_state(1, **bad)


def test_without_detuning_the_steady_state_is_degenerate(brute_force):
    """Delta = 0, chi = 0 (two-ensemble CRF): 2S+1 steady states, one per total spin J (Sec. III.A)."""
    for spin in (0.5, 1.0, 1.5):
        ref = brute_force(spin, [0.0, 0.0], 1.0, 0.0)
        assert ref.null_dim == int(2 * spin + 1)


def test_unpaired_detunings_give_a_mixed_steady_state(brute_force):
    ref = brute_force(1.0, [0.3, 0.5], 1.0, 0.0)
    assert ref.is_unique and ref.purity < 0.99


def test_odd_number_of_ensembles_gives_a_mixed_steady_state(brute_force):
    ref = brute_force(0.5, [0.4, -0.4, 0.9], 1.0, 0.6)
    assert ref.is_unique and ref.purity < 0.99


def test_repeated_detunings_without_chi_break_purity_or_uniqueness(brute_force):
    ref = brute_force(0.5, [0.4, -0.4, 0.4, -0.4], 1.0, 0.0)
    assert ref.null_dim > 1 or ref.purity < 0.99


def test_state_too_large_is_refused_with_numbers():
    from labctl.errors import StateTooLargeError

    with pytest.raises(StateTooLargeError, match=r"\(2S\+1\)\^L = .* amplitudes"):
        steady_state(50, [0.1, -0.1, 0.2, -0.2], 1.0, 0.5)
    big_pair = steady_state(1e5, [0.1, -0.1], 1.0)
    assert np.isfinite(big_pair.qfi())
    with pytest.raises(StateTooLargeError):
        big_pair.vector
