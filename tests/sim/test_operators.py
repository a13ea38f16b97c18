"""SpinSum: construction, parsing and errors."""

import numpy as np
import pytest

from labctl.errors import InputError
from labctl.sim import SpinSum, steady_state


def test_parse_matches_constructor():
    parsed = SpinSum.parse("S1x - S2x + 0.5 S3z - 2*S1z", 3)
    built = SpinSum(x=(1, -1, 0), z=(-2, 0, 0.5))
    assert np.array_equal(parsed.coeffs, built.coeffs)


def test_arithmetic():
    a, b = SpinSum(x=(1, 0)), SpinSum(x=(0, 1))
    assert np.array_equal((a - b).coeffs, SpinSum(x=(1, -1)).coeffs)
    assert np.array_equal((2 * a).coeffs, SpinSum(x=(2, 0)).coeffs)
    assert "S1x" in repr(a - b) and "S2x" in repr(a - b)


@pytest.mark.parametrize(
    "text, pattern",
    [("S3x", "does not exist"), ("S1q", "cannot read"), ("", "empty"), ("S1x S2x", "missing"), ("foo", "cannot read")],
)
def test_parse_errors_name_the_problem(text, pattern):
    with pytest.raises(InputError, match=pattern):
        SpinSum.parse(text, 2)


def test_state_rejects_operator_of_wrong_size():
    state = steady_state(1, [0.2, -0.2], 1.0)
    with pytest.raises(InputError, match="for 3 ensembles"):
        state.expect(SpinSum(x=(1, 1, 1)))
    with pytest.raises(InputError, match="one value per ensemble"):
        state.qfi((1, -1, 1))
    with pytest.raises(InputError, match="at least one"):
        SpinSum()
