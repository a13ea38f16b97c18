"""The planner, pass by pass: gradient, Rabi tones and their shift compensation, Gamma comb,
chi pairs (linear and dimerised patterns), self terms, beats, limits; files and serialisation."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from toy_lab import toy_calibration, toy_hardware

from labctl.errors import ConfigError, PlanError
from labctl.sequences import HardwarePlan, ModelParams, compile_target, load_calibration, load_hardware, plan
from labctl.sequences.checks import beats_pass, limits_pass
from labctl.sequences.drives import rabi_pass
from labctl.sequences.gradient import gradient_pass, min_separation, scale_pass
from labctl.sequences.plan import from_dict, load_plan, save_plan, tone_passes, to_dict
from labctl.sequences.raman import comb_pass, pair_groups

TWO_PI = 2 * np.pi
EXAMPLES = "examples/lab4"


def draft(params: ModelParams, positions=None, calibration=None, **hardware) -> HardwarePlan:
    n = params.n_ensembles
    hw = load_hardware(toy_hardware(n, positions, **hardware))
    cal = load_calibration(toy_calibration(n, positions, **(calibration or {})))
    planned = gradient_pass(scale_pass(HardwarePlan(params, hw, cal)))
    return replace(planned, programmed=planned.params.detunings)


LINEAR = ModelParams(spin=0.5, detunings=(0.75, 0.25, -0.25, -0.75), rabi=1.0, chi=0.5)  # affine in l (nested pairs)
DIMERISED = ModelParams(spin=0.5, detunings=(0.5, -0.5, 0.8, -0.8), rabi=1.0, chi=0.5)  # (A, -A, B, -B)/2


# -- gradient ----------------------------------------------------------------------------------
def test_gradient_meets_every_criterion_with_the_smallest_current():
    planned = draft(DIMERISED, (0, 1, 4, 6), budget=0.05)
    need = planned.gradient
    separation = min_separation(np.asarray(planned.atom_hz))
    assert separation == pytest.approx(need["required"], rel=1e-6)
    assert need["required"] == max(need["rabi_crosstalk"], need["comb_side_channels"], need["chi_rwa"])
    smaller = planned.calibration.transition_hz(0.99 * planned.coil_current_a)
    assert min_separation(np.asarray(smaller)) < need["required"]


def test_gradient_beyond_the_coil_is_refused_with_numbers():
    with pytest.raises(PlanError, match=r"pass 'gradient'.*coil gives at most .* Hz .*max_current_a = 0.01 A"):
        draft(DIMERISED, (0, 1, 4, 6), max_current=0.01)


# -- Rabi tones and shift compensation ----------------------------------------------------------
def test_rabi_crosstalk_shift_is_compensated():
    """Two ensembles, Rabi tones only: tone l shifts ensemble m by -Omega_lm^2 / (2 nu_lm); the
    programmed detunings pre-compensate it so the realised ones equal the target's."""
    params = ModelParams(spin=0.5, detunings=(0.3, -0.3), rabi=2.0, chi=0.0)
    planned = draft(params, calibration={"rabi_hz_per_v": [10.0, 14.0]})
    for _ in range(6):
        planned = rabi_pass(planned)
        model = planned.realised(planned.tones_with_role("rabi"))[0]
        correction = np.asarray(planned.params.detunings) - model.detunings
        planned = replace(planned, programmed=tuple(np.asarray(planned.programmed) + correction))
    model = planned.realised(planned.tones_with_role("rabi"))[0]
    assert np.allclose(model.detunings, planned.params.detunings, atol=1e-9 * planned.params.gamma)
    # independent closed form for the shift each ensemble received from the other tone
    omega = planned.params.rabi
    nu = TWO_PI * (planned.drive_hz[1] - planned.drive_hz[0])  # tone 2 relative to ensemble 1
    omega_21 = omega * 10.0 / 14.0  # tone 2 is set for ensemble 2 (14 Hz/V); ensemble 1 sees 10 Hz/V
    omega_12 = omega * 14.0 / 10.0
    expected = np.array([omega_21**2 / (2 * nu), -(omega_12**2) / (2 * nu)])
    assert np.allclose(np.asarray(planned.programmed) - planned.params.detunings, expected, rtol=1e-6)


# -- Gamma comb ---------------------------------------------------------------------------------
def test_gamma_comb_puts_every_photon_on_the_cavity_and_gives_gamma():
    planned = comb_pass(draft(DIMERISED, (0, 1, 4, 6), budget=0.05))
    comb = planned.tones_with_role("gamma_comb")
    fc = planned.calibration.cavity_resonance_hz
    assert [t.frequency_hz for t in comb] == pytest.approx(list(fc - planned.drive_hz))
    decay = planned.realised(comb)[0].decay
    gamma = planned.params.gamma
    off = ~np.eye(4, dtype=bool)
    assert np.allclose(decay[off], gamma, rtol=1e-3)  # G_ml = Gamma (Eq. 2); side channels are tiny here
    assert np.all(np.real(np.diag(decay)) >= gamma)


def test_bad_cavity_limit_is_enforced():
    params = ModelParams(spin=0.5, detunings=(0.3, -0.3), rabi=1.0, gamma=TWO_PI * 5.0, unit="rad/s")
    hw = load_hardware(toy_hardware(2))
    cal = load_calibration(toy_calibration(2))
    planned = gradient_pass(scale_pass(HardwarePlan(params, hw, cal)))
    with pytest.raises(PlanError, match="pass 'comb'.*bad-cavity limit"):
        comb_pass(replace(planned, programmed=planned.params.detunings))


# -- chi pairs ----------------------------------------------------------------------------------
def test_equally_spaced_drives_share_one_pair_per_distance():
    drives = 1000.0 + 37.5 * np.arange(5)
    groups = pair_groups(drives)
    assert [len(members) for _, members in groups] == [4, 3, 2, 1]
    assert [d for d, _ in groups] == pytest.approx([37.5, 75.0, 112.5, 150.0])
    assert len(pair_groups(drives + np.array([0, 0.1, 0.3, 0.7, 1.5]))) == 10  # unequal spacings: one per pair


@pytest.mark.parametrize("params", [LINEAR, DIMERISED], ids=["linear", "dimerised"])
def test_chi_pairs_match_drive_frequency_differences(params):
    """On a Golomb chain every ensemble pair has its own drive-frequency difference and gets its
    own tone pair; each pair's tone difference equals the drive-frequency difference of the
    ensembles it couples, and chi comes out the same for every pair (amplitudes set for each
    pair's own photon detuning)."""
    planned = tone_passes(draft(params, (0, 1, 4, 6), budget=0.05))
    groups = pair_groups(planned.drive_hz)
    assert len(groups) == 6
    for g, (d, members) in enumerate(groups, start=1):
        a, b = planned.tone(f"chi {g}a"), planned.tone(f"chi {g}b")
        assert a.frequency_hz - b.frequency_hz == pytest.approx(d, abs=1e-9)
        for k, l in members:
            assert planned.drive_hz[l] - planned.drive_hz[k] == pytest.approx(d, abs=1e-9)
    chi = planned.effective_model().chi
    upper = np.triu(np.ones((4, 4)), 1) > 0
    assert np.allclose(chi[upper], params.chi * planned.params.gamma, rtol=1e-6)


def test_linear_pattern_on_an_equal_chain_is_refused_after_compensation():
    """Affine detunings on equally spaced ensembles give equally spaced drives, one pair per
    distance -- until the self terms are compensated: they differ from ensemble to ensemble,
    the drive spacings part by a fraction of Gamma, and the shared pairs turn into slow beats
    that the planner refuses rather than hide."""
    with pytest.raises(PlanError, match="pass 'beats'|pass 'chi'"):
        beats_pass(tone_passes(draft(LINEAR, (0, 1, 2, 3), budget=0.05)))


def test_chi_pair_phase_sets_the_sign_of_chi():
    flipped = replace(DIMERISED, chi=-DIMERISED.chi)
    planned = tone_passes(draft(flipped, (0, 1, 4, 6), budget=0.05))
    chi = planned.effective_model().chi
    assert np.all(chi[np.triu(np.ones((4, 4)), 1) > 0] < 0)


def test_self_terms_are_compensated_in_the_programmed_detunings():
    planned = tone_passes(draft(DIMERISED, (0, 1, 4, 6), budget=0.05))
    model = planned.effective_model()
    assert np.allclose(model.detunings, planned.params.detunings, atol=1e-8 * planned.params.gamma)
    # the programmed detunings differ from the target by minus the Raman self shift (and the Rabi shift)
    offset = np.asarray(planned.programmed) - np.asarray(planned.params.detunings)
    assert np.allclose(offset, -(model.raman_shifts + model.rabi_shifts), rtol=1e-6, atol=1e-9)
    assert np.max(np.abs(model.raman_shifts)) > planned.params.gamma  # the self terms are not small


def test_mirror_pairs_cancel_the_self_terms():
    spin_one = replace(DIMERISED, spin=1.0)
    plain = tone_passes(draft(spin_one, (0, 1, 4, 6), budget=0.05))
    mirrored = tone_passes(draft(spin_one, (0, 1, 4, 6), budget=0.05, mirror=True))
    assert np.max(np.abs(mirrored.effective_model().twist)) < 0.1 * np.max(np.abs(plain.effective_model().twist))


def test_integer_spacing_between_pair_bases_is_refused():
    """A deliberately bad layout: chi pair 2 moved by an integer number of drive spacings makes
    unintended static products; the beats pass names the tones."""
    planned = tone_passes(draft(DIMERISED, (0, 1, 4, 6), budget=0.05))
    spacing = planned.drive_hz[1] - planned.drive_hz[0]
    moved = planned.tone("chi 1a").frequency_hz + 3 * spacing - planned.tone("chi 2a").frequency_hz
    chain = planned.chain
    tones = []
    for t in planned.tones:
        if t.label in ("chi 2a", "chi 2b"):
            t = chain.raman_tone(t.role, t.label, t.frequency_hz + moved, t.coupling_hz, t.ensembles)
        tones.append(t)
    with pytest.raises(PlanError, match=r"pass 'beats'.*tones 'chi \d[ab]' x 'chi \d[ab]'"):
        beats_pass(replace(planned, tones=tuple(tones)))


def test_near_degenerate_differences_on_an_equal_chain_are_refused():
    """A dimerised pattern on equally spaced ensembles: drive differences differ only by the
    detunings, so the pairs cannot be told apart by frequency."""
    with pytest.raises(PlanError, match="pass 'beats'|pass 'chi'"):
        beats_pass(tone_passes(draft(DIMERISED, (0, 1, 2, 3), budget=0.05)))


# -- the whole chain on the example lab ---------------------------------------------------------
@pytest.fixture(scope="module")
def example_plan():
    target = compile_target({"kind": "custom", "spin": 1, "detunings": [0.5, 1.5, -1.5, -0.5], "rabi": 2.0, "chi": 1.0})
    return plan(target, f"{EXAMPLES}/hardware.toml", f"{EXAMPLES}/calibration.toml")


def test_example_plan_is_complete(example_plan):
    p = example_plan
    assert [s.name for s in p.segments] == ["ramp", "stabilise", "interrogate", "pi2", "readout"]
    assert all(b.start_s + b.duration_s == pytest.approx(a.start_s) for b, a in zip(p.segments, p.segments[1:]))
    assert p.budget["total"]["infidelity"] <= p.hardware.budget.infidelity
    roles = {t.role for t in p.tones}
    assert roles == {"rabi", "gamma_comb", "chi_pair", "chi_mirror", "pi2"}
    model = p.effective_model()
    assert np.allclose(model.detunings, p.params.detunings, atol=1e-6 * p.params.gamma)
    assert np.allclose(model.chi[np.triu(np.ones((4, 4)), 1) > 0], p.params.chi, rtol=1e-6)
    for t in p.tones:
        lo, hi = p.hardware.rabi.if_band_hz if t.chain == "rabi" else p.hardware.raman.aom_band_hz
        assert lo <= t.rf_hz <= hi


def test_plan_round_trips_through_json(example_plan, tmp_path):
    path = save_plan(example_plan, tmp_path / "plan.json")
    data = json.loads(path.read_text())
    assert data["schema"] == "labctl.hardware_plan" and data["version"] == 1
    again = load_plan(path)
    assert to_dict(again) == to_dict(example_plan)
    assert np.allclose(again.effective_model().couplings, example_plan.effective_model().couplings)
    assert HardwarePlan.from_dict(example_plan.to_dict()).tones == example_plan.tones


def test_plan_file_errors(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_plan(bad)
    with pytest.raises(ConfigError, match="labctl.hardware_plan"):
        from_dict({"schema": "other", "version": 1})


def test_plot_writes_png(example_plan, tmp_path):
    path = tmp_path / "plan.png"
    example_plan.plot(path)
    assert path.stat().st_size > 10_000


def test_amplitude_limit_names_segment_channel_and_limit(example_plan):
    tight = replace(example_plan.hardware, raman=replace(example_plan.hardware.raman, max_amplitude_v=0.01))
    with pytest.raises(PlanError, match=r"pass 'limits': segment 'stabilise' needs a peak of .* V on the raman channel, above \[raman\] max_amplitude_v = 0.01 V"):
        limits_pass(replace(example_plan, hardware=tight))


def test_gamma_is_lowered_when_the_raman_channel_runs_out_of_amplitude():
    target = compile_target({"kind": "custom", "spin": 0.5, "detunings": [0.5, 1.5, -1.5, -0.5], "rabi": 2.0, "chi": 1.0})
    hw = load_hardware(f"{EXAMPLES}/hardware.toml")
    weak = replace(hw, raman=replace(hw.raman, max_amplitude_v=0.5))
    p = plan(target, weak, f"{EXAMPLES}/calibration.toml")
    assert any("Gamma lowered" in note for note in p.notes)
    assert p.params.gamma < plan(target, hw, f"{EXAMPLES}/calibration.toml").params.gamma


def test_target_with_wrong_ensemble_count_is_refused():
    target = compile_target({"kind": "two_mode_squeezed", "spin": 5, "regime": "sql"})
    with pytest.raises(PlanError, match="L = 2 ensembles, the hardware 'cqed-lab-l4'"):
        plan(target, f"{EXAMPLES}/hardware.toml", f"{EXAMPLES}/calibration.toml")
