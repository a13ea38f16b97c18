"""Hardware description and calibration record: validated once at load, with messages that name
the file, the section, the key, the value and what would be valid."""

from __future__ import annotations

import copy

import pytest
from toy_lab import toy_calibration, toy_hardware

from labctl.errors import ConfigError
from labctl.sequences import ModelParams, load_calibration, load_hardware, plan


@pytest.mark.parametrize("lab", ["lab2", "lab4", "lab8"])
def test_example_labs_load_and_agree(lab):
    hw = load_hardware(f"examples/{lab}/hardware.toml")
    cal = load_calibration(f"examples/{lab}/calibration.toml", hw.n_ensembles)
    assert cal.hardware == hw.name and cal.n_ensembles == hw.n_ensembles
    assert load_hardware(hw.to_dict()) == load_hardware(hw.to_dict())
    assert load_calibration(cal.to_dict(), hw.n_ensembles).transition_hz_per_a == cal.transition_hz_per_a


def _edit(data: dict, path: str, value) -> dict:
    out = copy.deepcopy(data)
    *sections, key = path.split(".")
    target = out
    for section in sections:
        target = target[section]
    if value is KeyError:
        del target[key]
    else:
        target[key] = value
    return out


HARDWARE_ERRORS = [
    ("coil.max_current_a", -2.0, r"\[coil\] key 'max_current_a' = -2.0: must be > 0 \(A\)"),
    ("coil.max_curent_a", 2.0, r"\[coil\] unknown key 'max_curent_a'; valid keys: .*max_current_a"),
    ("rabi.sideband", 2, r"\[rabi\] key 'sideband' = 2: valid values are 1, -1"),
    ("rabi.lo_hz", "6.75 GHz", r"\[rabi\] key 'lo_hz' = '6.75 GHz': must be a number in Hz"),
    ("ensembles.positions_m", [0.0, 1.0], r"\[ensembles\] key 'positions_m' = \[0.0, 1.0\]: needs 3 entries"),
    ("raman.mirror_pairs", "yes", r"'mirror_pairs' = 'yes': must be true or false"),
    ("awg.device", "HDAWG", r"'device' = 'HDAWG': valid values are 'HDAWG8', 'HDAWG4'"),
    ("readout.pi2_duration_s", KeyError, r"\[readout\] key 'pi2_duration_s' is missing"),
    ("raman.awg_channel", 2, r"AWG channels \[1, 2, 2\] are used twice"),
    ("raman.awg_channel", 9, r"AWG channel 9 does not exist on an HDAWG8: valid channels are 1..8"),
    ("rabi.awg_channels", [4, 5], r"must be the two outputs of one AWG core"),
    ("raman.aom_band_hz", [100.0, 2e9], r"above the Nyquist frequency"),
    ("version", 2, r"key 'version' = 2: this labctl reads labctl.hardware version 1"),
    ("budget.infidelity", 0.9, r"'infidelity' = 0.9: must be > 0 and <= 0.5"),
]


@pytest.mark.parametrize("path, value, message", HARDWARE_ERRORS)
def test_hardware_errors_name_key_value_and_valid_range(path, value, message):
    with pytest.raises(ConfigError, match=message):
        load_hardware(_edit(toy_hardware(3), path, value))


CALIBRATION_ERRORS = [
    ("ensembles.rabi_hz_per_v", [10.0, -1.0, 10.0], r"'rabi_hz_per_v' = .* \(entry 2\): must be > 0 \(Hz/V\)"),
    ("ensembles.transition_hz_per_a", [1.0, 2.0], r"needs 3 entries"),
    ("cavity.kappa_hz", 0.0, r"\[cavity\] key 'kappa_hz' = 0.0: must be > 0"),
    ("raman", KeyError, r"section \[raman\] is missing"),
    ("schema", "labctl.hardware", r"key 'schema' = 'labctl.hardware': expected 'labctl.calibration'"),
    ("extra", 1, r"unknown section or key 'extra'"),
]


@pytest.mark.parametrize("path, value, message", CALIBRATION_ERRORS)
def test_calibration_errors(path, value, message):
    with pytest.raises(ConfigError, match=message):
        load_calibration(_edit(toy_calibration(3), path, value), 3)


def test_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=rf"{missing}: no such hardware file"):
        load_hardware(missing)
    broken = tmp_path / "hardware.toml"
    broken.write_text("schema = 'labctl.hardware'\nversion = 1\n[coil\n")
    with pytest.raises(ConfigError, match=rf"{broken}: not valid TOML"):
        load_hardware(broken)


def test_calibration_of_another_lab_is_refused():
    cal = toy_calibration(2)
    cal["hardware"] = "some-other-lab"
    params = ModelParams(spin=0.5, detunings=(0.3, -0.3), rabi=1.0)
    with pytest.raises(ConfigError, match="'some-other-lab' does not match the hardware name 'toy-l2'"):
        plan(params, toy_hardware(2), cal)


def test_gradient_map_disagreeing_with_the_nominal_gradient_is_noted():
    from dataclasses import replace

    from labctl.sequences.gradient import gradient_pass, scale_pass
    from labctl.sequences.plan_types import HardwarePlan

    params = ModelParams(spin=0.5, detunings=(0.3, -0.3), rabi=1.0)
    hw = load_hardware(toy_hardware(2))
    good = load_calibration(toy_calibration(2))
    planned = gradient_pass(scale_pass(HardwarePlan(params, hw, good)))
    assert not any("gradient map" in n for n in planned.notes)
    bad = replace(good, transition_hz_per_a=(0.0, 20.0))  # twice the nominal 10 Hz/A per position
    planned = gradient_pass(scale_pass(HardwarePlan(params, hw, bad)))
    assert any("gradient map: the calibrated slope between ensembles 1 and 2 is 20 Hz/A" in n for n in planned.notes)
