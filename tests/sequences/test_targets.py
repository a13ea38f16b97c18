"""Target catalog -> ModelParams: every kind compiles, patterns follow the paper (Eqs. 20, 26, Sec. IV.B,
Fig. 7a), solved parameters reach their targets, figures agree with labctl.sim recomputed here, units
convert, and bad targets and files fail with messages that name the source, key, value and remedy."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from labctl.errors import ConfigError
from labctl.sequences.params import ModelParams
from labctl.sequences.targets import KIND_KEYS, compile_target
from labctl.sim import steady_state
from labctl.sim.chain import aklt_fidelity
from labctl.sim.timescales import preparation_time

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "targets").glob("*.toml"))
SQRT2 = math.sqrt(2.0)


def test_there_is_one_example_per_kind():
    assert sorted(path.stem for path in EXAMPLES) == sorted(KIND_KEYS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_compile_to_plain_records(path):
    params = compile_target(path)
    assert params.kind == path.stem and params.source == str(path) and params.name
    assert params.figures
    assert "prep_time_gamma" in params.figures or any("skipped" in note for note in params.notes)
    record = json.loads(json.dumps(params.to_dict()))  # figures are plain numbers, strings, lists
    assert ModelParams.from_dict(record) == params


def in_gamma(params):
    """The compiled parameters as the steady state labctl.sim builds for them (units of Gamma)."""
    p = params.in_gamma_units()
    return steady_state(p.spin, p.detunings, p.rabi, p.chi)


def test_two_mode_squeezed_figures_match_sim():
    params = compile_target({"kind": "two_mode_squeezed", "spin": 2, "delta_over_rabi": 0.5, "chi": 0.3})
    assert params.detunings == (0.5, -0.5) and params.rabi == 2.0  # default Omega = S Gamma
    state = in_gamma(params)
    f = params.figures
    assert f["qfi"] == pytest.approx(state.qfi("S1z - S2z"), rel=1e-12)
    assert f["qfi_heisenberg"] == pytest.approx(16 * 2 * 3 / 3)
    assert f["wineland_xi2"] == pytest.approx(state.wineland(), rel=1e-12)
    assert f["spin_length"] == pytest.approx(state.expect("S1x - S2x"), rel=1e-12)
    singlet = steady_state(2, params.detunings, np.inf, 0.3)  # the Omega = inf state, |J=0, M=0>
    assert f["fidelity_to_ideal"] == pytest.approx(state.fidelity(singlet), rel=1e-10)
    exact = preparation_time(state)
    assert f["prep_time_method"] == "exact" and f["prep_time_gamma"] == pytest.approx(exact.time, rel=1e-6)


@pytest.mark.parametrize("regime, ratio", [("sql", 2.0), ("s3/2", 2.0 / 3.0), ("heisenberg", 2.0 / 9.0)])
def test_regimes_scale_delta_over_rabi(regime, ratio):
    params = compile_target({"kind": "two_mode_squeezed", "atoms": 18, "regime": regime, "prefactor": 2.0, "rabi": 4.0})
    assert params.spin == 9 and params.figures["delta_over_rabi"] == pytest.approx(ratio)
    assert params.detunings == pytest.approx((ratio * 2.0, -ratio * 2.0))


def pair(spin, ratio, rabi, chi=0.0):
    return steady_state(spin, [ratio * rabi / 2, -ratio * rabi / 2], rabi, chi)


def test_xi2_target_takes_the_weakest_drive_that_reaches_it():
    params = compile_target({"kind": "two_mode_squeezed", "spin": 20, "xi2": 0.2})
    ratio = params.figures["delta_over_rabi"]
    assert pair(20, ratio, 20.0).wineland() == pytest.approx(0.2, rel=1e-8)
    assert pair(20, ratio * 1.001, 20.0).wineland() > 0.2
    assert params.figures["wineland_xi2"] == pytest.approx(0.2, rel=1e-8)


def test_qfi_target_takes_the_weakest_drive_that_reaches_it():
    params = compile_target({"kind": "two_mode_squeezed", "spin": 3, "qfi": 30.0, "rabi": 6.0, "chi": 0.5})
    ratio = params.figures["delta_over_rabi"]
    assert pair(3, ratio, 6.0, 0.5).qfi() == pytest.approx(30.0, rel=1e-8)
    assert pair(3, ratio * 1.001, 6.0, 0.5).qfi() < 30.0


def test_dimerized_and_permuted_follow_eqs_20_and_26():
    common = {"spin": 1, "rabi": 2.0, "chi": 0.5}
    dimerized = compile_target({"kind": "dimerized", "pair_detunings": [1.0, 3.0], **common})
    assert dimerized.detunings == (0.5, -0.5, 1.5, -1.5)
    crossed = compile_target({"kind": "permuted", "pair_detunings": [4.0, 6.0], "order": [1, 4, 2, 3], **common})
    assert crossed.detunings == (2.0, 3.0, -3.0, -2.0)  # Fig. 5(d)
    explicit = compile_target({"kind": "permuted", "detunings": [2.0, 3.0, -3.0, -2.0], **common})
    assert explicit.figures == crossed.figures
    state = in_gamma(crossed)
    assert np.allclose(crossed.figures["qfi_matrix"], state.qfi_matrix(), rtol=1e-12, atol=1e-12)
    for mode, signs in (("+-+-", (1, -1, 1, -1)), ("+--+", (1, -1, -1, 1))):
        assert crossed.figures[f"qfi_{mode}"] == pytest.approx(state.qfi(signs), rel=1e-12)


@pytest.mark.parametrize("kind, weights", [("curvature_sensor", (1, -1, -1, 1)), ("gradient_sensor", (3, 1, -1, -3))])
def test_sensor_pattern_and_figures(kind, weights):
    params = compile_target({"kind": kind, "spin": 1, "delta_a": 1.0, "delta_b": 3.0, "rabi": 4.0, "chi": 1.0})
    assert params.detunings == (0.5, 1.5, -1.5, -0.5)  # delta_1 = -delta_4 = Delta_A/2, delta_2 = -delta_3 = Delta_B/2
    state = in_gamma(params)
    assert params.figures["qfi"] == pytest.approx(state.qfi(weights), rel=1e-12)
    assert params.figures["qfi_common_noise"] == pytest.approx(state.phase_averaged(["common"]).qfi(weights), rel=1e-12)
    reference = {"curvature_sensor": 64 / 3, "gradient_sensor": 160 / 3}[kind] * 2
    assert params.figures["qfi_heisenberg"] == pytest.approx(reference)


@pytest.mark.parametrize("kind, weights", [("curvature_sensor", (1, -1, -1, 1)), ("gradient_sensor", (3, 1, -1, -3))])
def test_optimised_sensor_beats_its_box(kind, weights):
    target = {"kind": kind, "spin": 1, "optimize": True, "chi": 1.0}
    params = compile_target(target)
    a, b = 2 * params.detunings[0], 2 * params.detunings[1]
    assert 0.5 - 1e-9 <= params.rabi <= 8 + 1e-9 and 0 <= a <= 2 + 1e-9 and abs(b) <= 2 + 1e-9
    best = params.figures["qfi"]
    assert best == pytest.approx(in_gamma(params).qfi(weights), rel=1e-12)
    rng = np.random.default_rng(1)
    for rabi, a_, b_ in zip(np.geomspace(0.5, 8, 12), rng.uniform(0, 2, 12), rng.uniform(-2, 2, 12)):
        other = steady_state(1, [a_ / 2, b_ / 2, -b_ / 2, -a_ / 2], rabi, 1.0)
        assert other.qfi(weights) <= best * (1 + 1e-9)
    assert compile_target(target).detunings == params.detunings  # deterministic


def test_fig_6c_curvature_sensor_stays_robust():
    """S = 10, Delta_A = 0, Delta_B = 8 chi: F_{+--+} loses little to common and gradient noise."""
    target = {"kind": "curvature_sensor", "spin": 10, "delta_a": 0.0, "delta_b": 8.0, "rabi": 36.0, "chi": 1.0}
    params = compile_target(target)
    f = params.figures
    assert f["qfi"] > 0.7 * f["qfi_heisenberg"]
    assert f["qfi"] > f["qfi_common_noise"] > f["qfi_common_gradient_noise"] > 0.9 * f["qfi"]


def chain_pattern(n, edge, bulk):
    """Fig. 7(a) written out: delta_1 = Delta_e/2, delta_2k = Delta_b/2, delta_2k+1 = -Delta_b/2,
    delta_L = -Delta_e/2."""
    return tuple([edge / 2] + [bulk / 2 if k % 2 == 0 else -bulk / 2 for k in range(2, n)] + [-edge / 2])


def test_spt_chain_follows_fig_7a():
    target = {"kind": "spt_chain", "spin": 0.5, "n_ensembles": 8, "delta_e": 0.6, "delta_b": 1.4, "rabi": 3.0, "chi": 1.0}
    params = compile_target(target)
    assert params.detunings == pytest.approx(chain_pattern(8, 0.6, 1.4))
    state, ideal = in_gamma(params), steady_state(0.5, params.detunings, np.inf, 1.0)
    assert params.figures["fidelity_to_ideal"] == pytest.approx(state.fidelity(ideal), rel=1e-10)


def test_aklt_target_solves_the_drive_for_the_fidelity():
    params = compile_target({"kind": "aklt", "n_ensembles": 8, "fidelity": 0.8, "chi": 0.5})
    assert params.spin == 0.5
    assert params.detunings == pytest.approx(chain_pattern(8, 0.0, SQRT2 * 0.5))  # bulk +-chi/sqrt 2
    state, ideal = in_gamma(params), steady_state(0.5, params.detunings, np.inf, 0.5)
    assert state.fidelity(ideal) == pytest.approx(0.8, rel=1e-9)
    assert params.figures["fidelity_to_ideal"] == pytest.approx(0.8, rel=1e-9)
    assert params.figures["correlation_length"] > 0


def test_long_aklt_chain_uses_the_mps_and_says_what_it_skipped():
    params = compile_target({"kind": "aklt", "n_ensembles": 200, "rabi": 30.0})
    assert params.figures["fidelity_to_ideal"] == pytest.approx(aklt_fidelity(200, 30.0), rel=1e-12)
    assert "prep_time_gamma" not in params.figures
    assert any("skipped" in note for note in params.notes)


def test_dimer_chain_fidelity_is_the_product_of_pair_overlaps():
    params = compile_target({"kind": "dimer_chain", "spin": 1, "n_ensembles": 6, "delta": 0.4, "rabi": 3.0, "chi": 1.0})
    assert params.detunings == (0.2, -0.2, 0.2, -0.2, 0.2, -0.2)
    c0 = steady_state(1, [0.2, -0.2], 3.0, 1.0).coefficients[0]  # <J=0|psi_2>
    assert params.figures["fidelity_to_ideal"] == pytest.approx(abs(c0) ** 6, rel=1e-10)


def test_custom_two_ensembles_get_the_pair_figures():
    params = compile_target({"kind": "custom", "spin": 1.5, "detunings": [-0.7, 0.7], "rabi": 1.0})
    assert params.figures["qfi"] == pytest.approx(in_gamma(params).qfi(), rel=1e-12)
    assert params.figures["qfi_generator"] == "S1z - S2z"


def test_hz_targets_become_rad_per_second():
    hz = {"kind": "custom", "spin": 0.5, "detunings": [300.0, -300.0], "rabi": 1000.0, "chi": 200.0}
    hz.update(unit="Hz", gamma_hz=500.0)
    gamma = {"kind": "custom", "spin": 0.5, "detunings": [0.6, -0.6], "rabi": 2.0, "chi": 0.4, "gamma_hz": 500.0}
    physical, scaled = compile_target(hz), compile_target(gamma)
    assert physical.unit == scaled.unit == "rad/s"
    assert physical.gamma == pytest.approx(2 * math.pi * 500.0)
    assert physical.detunings == pytest.approx((2 * math.pi * 300.0, -2 * math.pi * 300.0))
    assert physical.rabi == pytest.approx(scaled.rabi) and physical.chi == pytest.approx(2 * math.pi * 200.0)
    assert physical.figures["prep_time_s"] == pytest.approx(physical.figures["prep_time_gamma"] / (2 * math.pi * 500.0))
    plain = compile_target({k: v for k, v in gamma.items() if k != "gamma_hz"})
    assert plain.unit == "gamma" and plain.figures["qfi"] == pytest.approx(physical.figures["qfi"], rel=1e-12)


def test_default_drive_in_hz_is_s_gamma():
    params = compile_target({"kind": "two_mode_squeezed", "spin": 4, "regime": "sql", "unit": "Hz", "gamma_hz": 1e3})
    assert params.rabi == pytest.approx(4 * 2 * math.pi * 1e3)


# -- errors -----------------------------------------------------------------------------------------


def test_bad_regime_in_a_file_names_file_key_value_and_choices(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('kind = "two_mode_squeezed"\nversion = 1\nspin = 2\nregime = "fast"\n')
    with pytest.raises(ConfigError) as info:
        compile_target(path)
    assert str(info.value) == f"{path}: key 'regime' = 'fast': valid regimes are 'sql', 's3/2', 'heisenberg'"


def test_toml_syntax_error_names_the_file_without_a_traceback(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('kind = "custom"\nspin = = 2\n')
    with pytest.raises(ConfigError, match=r"broken\.toml: invalid TOML: .*line 2") as info:
        compile_target(path)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_missing_file_and_missing_version(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere\.toml: cannot read the target file"):
        compile_target(tmp_path / "nowhere.toml")
    path = tmp_path / "old.toml"
    path.write_text('kind = "custom"\nspin = 1\ndetunings = [1, -1]\nrabi = 1\n')
    with pytest.raises(ConfigError, match=r"old\.toml: missing key 'version': target files must declare version = 1"):
        compile_target(path)
    path.write_text('kind = "custom"\nversion = 2\nspin = 1\ndetunings = [1, -1]\nrabi = 1\n')
    with pytest.raises(ConfigError, match=r"old\.toml: key 'version' = 2: this labctl reads target files of version 1"):
        compile_target(path)


CUSTOM = {"kind": "custom", "spin": 1, "detunings": [1.0, -1.0], "rabi": 2.0}


@pytest.mark.parametrize(
    "change, pattern",
    [
        ({"kind": "squeezed"}, r"key 'kind' = 'squeezed': valid kinds are 'two_mode_squeezed', .*'custom'"),
        ({"colour": "red"}, r"key 'colour' = 'red': not a key of kind 'custom'; valid keys are .*'detunings'"),
        ({"rabi": "fast"}, r"key 'rabi' = 'fast': expected the Rabi frequency Omega, a rate in units of Gamma"),
        ({"rabi": -1.0}, r"key 'rabi' = -1.0: expected the Rabi frequency Omega, .* > 0"),
        ({"rabi": True}, r"key 'rabi' = True: expected"),
        ({"spin": 0.3}, r"key 'spin' = 0.3: expected S = 1/2, 1, 3/2"),
        ({"atoms": 4}, r"give exactly one of 'spin', 'atoms'.*got 'spin', 'atoms'"),
        ({"detunings": [1.0, -1.5]}, r"'detunings' = \[1.0, -1.5\] give detunings .*no partner with the opposite"),
        ({"detunings": []}, r"key 'detunings' = \[\]: expected .*a non-empty list"),
        ({"unit": "MHz"}, r"key 'unit' = 'MHz': valid units are 'gamma', 'Hz'"),
        ({"unit": "Hz"}, r"missing key 'gamma_hz': with unit = 'Hz'"),
        ({"dark_time_s": 0}, r"key 'dark_time_s' = 0: expected the dark time in seconds > 0"),
        ({"name": 3}, r"key 'name' = 3: expected a string"),
    ],
)
def test_bad_values_are_reported_with_key_value_and_remedy(change, pattern):
    with pytest.raises(ConfigError, match=r"^<dict>: .*" + pattern):
        compile_target({**CUSTOM, **change})


TMS = {"kind": "two_mode_squeezed", "spin": 2}
PAIRS = {"spin": 1, "pair_detunings": [1.0, 2.0], "rabi": 1.0, "chi": 1.0}
OPTIMISED = {"kind": "curvature_sensor", "spin": 1, "optimize": True}
CHAIN = {"kind": "spt_chain", "spin": 1, "n_ensembles": 6, "delta_e": 1, "delta_b": 2, "rabi": 1, "chi": 1}


@pytest.mark.parametrize(
    "target, pattern",
    [
        ({**CUSTOM, "rabi": None}, r"missing key 'rabi': expected the Rabi frequency"),
        ({"spin": 1}, r"missing key 'kind': valid kinds are"),
        (TMS, r"give exactly one of 'delta_over_rabi', 'regime', 'xi2', 'qfi'"),
        ({**TMS, "xi2": 1.5}, r"key 'xi2' = 1.5: expected the Wineland parameter xi\^2 below 1"),
        ({**TMS, "spin": 5, "xi2": 0.01}, r"key 'xi2' = 0.01: unreachable at S = 5.*the best xi2 .* is 0\.1"),
        ({**TMS, "qfi": 40.0}, r"key 'qfi' = 40.0: expected the QFI .* below 32"),
        ({**TMS, "qfi": 1e-3}, r"key 'qfi' = 0.001: already reached at Delta/Omega = 10"),
        ({**TMS, "delta_over_rabi": 1.0, "prefactor": 2.0}, r"key 'prefactor' = 2.0: .*only scales a 'regime'"),
        (
            {"kind": "dimerized", **PAIRS, "pair_detunings": None, "detunings": [1.0, 2.0, -2.0, -1.0]},
            r"key 'detunings' = .*not in the dimerised order.*use kind 'permuted'",
        ),
        ({"kind": "permuted", **PAIRS, "order": [1, 2, 2, 4]}, r"key 'order' = \[1, 2, 2, 4\]: expected a permutation"),
        ({"kind": "permuted", **PAIRS}, r"missing key 'order'"),
        ({**OPTIMISED, "rabi": 2.0, "chi": 1.0}, r"key 'rabi' = 2.0: set by the optimisation"),
        (OPTIMISED, r"missing key 'chi'"),
        ({**OPTIMISED, "optimize": "yes", "chi": 1.0}, r"key 'optimize' = 'yes': expected true or false"),
        ({**CHAIN, "n_ensembles": 7}, r"key 'n_ensembles' = 7: expected an even integer >= 4"),
        ({**CHAIN, "chi": 0}, r"key 'chi' = 0: expected the chiral exchange chi, .* != 0"),
        ({"kind": "aklt", "n_ensembles": 8, "fidelity": 1.0}, r"key 'fidelity' = 1.0: expected the AKLT fidelity below"),
        ({"kind": "aklt", "n_ensembles": 10, "fidelity": 1 - 1e-16}, r"key 'fidelity' = .*out of reach"),
        ({"kind": "aklt", "n_ensembles": 8, "rabi": 2.0, "spin": 1}, r"key 'spin' = 1: not a key of kind 'aklt'"),
        (
            {"kind": "dimer_chain", "spin": 1, "n_ensembles": 2, "rabi": 1.0},
            r"missing key 'chi': delta = 0 with L = 2 needs chi != 0",
        ),
        (
            {"kind": "dimer_chain", "spin": 1, "n_ensembles": 4, "delta": 1.0, "rabi": 1.0, "chi": 0},
            r"key 'chi' = 0: .*needs chi != 0",
        ),
    ],
)
def test_kind_specific_errors(target, pattern):
    with pytest.raises(ConfigError, match=r"^<dict>: .*" + pattern):
        compile_target({key: value for key, value in target.items() if value is not None})


def test_not_a_target():
    with pytest.raises(ConfigError, match="a target is a dict or the path of a TOML file"):
        compile_target(42)
