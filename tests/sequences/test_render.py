"""render_hdawg: compiled programs for the example labs, an independent demodulation of the
rendered waveforms checked against the target, refusals (accuracy, full scale, memory) and
compiler errors with readable messages.

The independent check finds the tones in the rendered loop waveforms (quantised to the DAC's
int16 codes) by their spectrum -- never from the plan's tone list --, maps them back through the
signal chains (IQ -> microwave, AOM -> optical), takes the microwave tone nearest each ensemble's
transition as its drive and every other one as off resonant, rebuilds delta_l, Omega, chi_kl,
Gamma_ml and the dressing dephasing by the rules of hardware-mapping.md (``realised_model``) and
compares:
* with what the renderer claims (``program.model``): to 1e-3 (quantisation of 1-LSB tones);
* with the target (``plan.params``, Eq. 2): within the plan's own deviation from it plus the
  render tolerance (1 % of Gamma for detunings, 1 % for Omega and for the couplings J).
At L = 2 a loop that fits memory puts the drives within tolerance, also with both chains flipped
(lower sideband, -1 AOM order). At L = 4 and L = 8 no loop does (the drives need a grid finer
than the memory allows): the render retunes the Rabi LO and cancels the remaining grid errors
with detuning trims (render_trim), which the demodulation finds as extra off-resonant tones; with
``trims=False`` the render refuses them, naming the tone. The pi/2 pulses are fitted
independently too.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import fft as sfft
from scipy.signal.windows import hann

from labctl.errors import RenderError
from labctl.sequences import compile_target, plan
from labctl.sequences.effective import ideal_model, infidelity, realised_model
from labctl.sequences.render import compile_program, render_hdawg
from labctl.sequences.render_trim import TRIM_FRACTION, TRIM_SHARE
from labctl.sequences.render_seqc import CoreProgram, Step, Wave, compile_core

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TARGETS = {
    2: {"kind": "two_mode_squeezed", "spin": 10, "delta_over_rabi": 0.3, "rabi": 2.0},
    4: {"kind": "custom", "spin": 1, "detunings": [0.5, 1.5, -1.5, -0.5], "rabi": 2.0, "chi": 1.0},
    8: {"kind": "spt_chain", "n_ensembles": 8, "delta_e": 0.5, "delta_b": 1.0, "chi": 1.0, "rabi": 2.0, "spin": 0.5},
}
#: Labs: the examples, and lab 2 with both chains flipped (lower sideband, -1 AOM order; LO and
#: carrier moved so that the same tones stay in band).
LABS = {"L2": 2, "L2 flipped": 2, "L4": 4, "L8": 8}
FLIPS = {"rabi": {"sideband": -1, "lo_hz": 6.92e9}, "raman": {"aom_order": -1}}
TOLERANCE = 0.01  # the render tolerance checked against the target (render.DEFAULT_TOLERANCE)
CLAIM = 1e-3  # reconstruction vs the renderer's own model
CODES = 32767  # int16 full scale of the DAC
FULL_FFT = 1 << 27  # loops up to the whole memory: one FFT (a few s at 64 M samples)


def lab_files(lab: str) -> tuple[dict, dict]:
    n = LABS[lab]
    hardware = tomllib.loads((EXAMPLES / f"lab{n}" / "hardware.toml").read_text())
    calibration = tomllib.loads((EXAMPLES / f"lab{n}" / "calibration.toml").read_text())
    if lab.endswith("flipped"):
        for section, keys in FLIPS.items():
            hardware[section].update(keys)
        calibration["raman"]["carrier_hz"] += 4.0e8  # optical = carrier - RF: the comb stays at ~200 MHz
    return hardware, calibration


def _cached(build):
    cache = {}

    def get(lab):
        if lab not in cache:
            cache[lab] = build(lab)
        return cache[lab]

    return get


@pytest.fixture(scope="module")
def plans():
    """lab -> its plan, built on first use."""
    return _cached(lambda lab: plan(compile_target(TARGETS[LABS[lab]]), *lab_files(lab)))


@pytest.fixture(scope="module")
def programs(plans):
    return _cached(lambda lab: render_hdawg(plans(lab)))


@pytest.fixture(scope="module")
def rebuilt(plans, programs):
    """lab -> (model, tones) reconstructed from its rendered waveforms."""
    return _cached(lambda lab: reconstruct(plans(lab), programs(lab)))


# -- an independent demodulator ------------------------------------------------------------------
def dac(codes: np.ndarray) -> np.ndarray:
    """What the device plays, in units of full scale: the waveforms are int16 DAC codes."""
    assert codes.dtype == np.int16 and np.max(np.abs(codes.astype(np.int32))) <= CODES  # -32768 would be beyond
    return codes.astype(np.float32) / np.float32(CODES)


def exact_dft(x: np.ndarray, bins: np.ndarray, period: int, block: int = 4096) -> np.ndarray:
    """(1/N) sum_k x_k exp(-2 pi i b k / N) at integer bins b over one period (a lock-in at exact
    frequencies of a periodic signal: no leakage), with exact integer phases."""
    rows = -(-period // block)
    padded = np.zeros(rows * block, dtype=x.dtype)
    padded[:period] = x
    b = np.asarray(bins, dtype=np.int64)[:, None] % period
    outer = np.exp(-2j * np.pi * ((b * (np.arange(rows) * block)[None, :]) % period) / period)
    inner = np.exp(-2j * np.pi * ((b * np.arange(block)[None, :]) % period) / period)
    return np.sum((outer @ padded.reshape(rows, block)) * inner, axis=1) / period


def coarse_bins(x: np.ndarray, period: int, span: int = 4) -> np.ndarray:
    """Candidate bins near every peak of a Hann-windowed spectrum of the loop's first 2^20 samples."""
    k = min(period, 1 << 20)
    window = hann(k, sym=False)
    spectrum = np.abs(sfft.fft(x[:k] * window, workers=2))
    floor = np.median(spectrum)
    mid = spectrum[1:-1]
    peaks = np.flatnonzero((mid > spectrum[:-2]) & (mid >= spectrum[2:]) & (mid > 100 * floor)) + 1
    a, b, c = (np.log(spectrum[p]) for p in (peaks - 1, peaks, peaks + 1))
    centre = (peaks + 0.5 * (a - c) / (a - 2 * b + c)) * period / k  # in loop bins
    return np.unique((np.rint(centre)[:, None].astype(np.int64) + np.arange(-span, span + 1)[None, :]) % period)


def find_tones(x: np.ndarray) -> dict[int, complex]:
    """Complex amplitude of every spectral line of a periodic loop (signed bin -> a, x = sum a e^{2 pi i b k / N}):
    a full FFT of the loop, or for long loops exact lock-ins around the peaks of a coarse spectrum."""
    period = len(x)
    threshold = 1e3 / (CODES * np.sqrt(12.0 * period))  # 1000 x the quantisation noise on one line
    if period <= FULL_FFT:  # a real signal (the AOM) needs only its positive lines
        lines = (sfft.rfft(x, workers=2) if np.isrealobj(x) else sfft.fft(x, workers=2)) / period
        bins = np.arange(len(lines))
    else:
        bins = coarse_bins(x, period)
        lines = exact_dft(x, bins, period)
    keep = np.abs(lines) > threshold
    signed = np.where(bins[keep] > period // 2, bins[keep] - period, bins[keep])
    return dict(zip(signed.tolist(), lines[keep]))


def reconstruct(p, program):
    """Tones found on the rendered loops -> physical tones -> effective model (hardware-mapping.md),
    with the Rabi LO at the frequency the program asks the synthesizer for."""
    p = replace(p, hardware=replace(p.hardware, rabi=replace(p.hardware.rabi, lo_hz=program.report.rabi_lo_hz)))
    chain, hw, cal = p.chain, p.hardware, p.calibration
    fs = hw.awg.sample_rate_hz
    atoms = np.asarray(cal.transition_hz(p.coil_current_a))
    rabi, raman = program.core("rabi"), program.core("raman")
    i_out, q_out = ((ch - 1) % 2 + 1 for ch in hw.rabi.awg_channels)
    loop = rabi.wave("stabilise_loop")
    period = loop.length
    iq = find_tones(dac(loop.samples[i_out]) + 1j * dac(loop.samples[q_out]))
    intermediate = np.array([hw.rabi.sideband * b * fs / period for b in iq])
    microwave = np.array([chain.physical_hz("rabi", f) for f in intermediate])
    distance = np.abs(microwave[:, None] - atoms[None, :])  # (tone, ensemble)
    nearest = np.argmin(distance, axis=0)  # each ensemble's drive: the tone closest to its transition
    assert len(set(nearest.tolist())) == len(atoms), "a drive is missing"
    for m, k in enumerate(nearest):  # unambiguous: every other tone is far further away
        assert distance[k, m] < 0.1 * np.min(np.delete(distance[:, m], k), initial=np.inf)
    drives = microwave[nearest]
    tones = [chain.awg_tone("rabi", f, a * hw.rabi.max_amplitude_v, "drive" if k in nearest else "off resonant",
                            f"iq {b}", (int(np.argmin(distance[k])) + 1,))
             for k, (f, (b, a)) in enumerate(zip(intermediate, iq.items()))]
    aom = raman.wave("stabilise_loop").samples[(hw.raman.awg_channel - 1) % 2 + 1]
    for b, a in find_tones(dac(aom)).items():
        if b > 0:  # a real signal: the line at +b carries a / 2
            tones.append(chain.awg_tone("raman", b * fs / period, 2 * a * hw.raman.max_amplitude_v, "measured", f"aom {b}"))
    model, _ = realised_model(p.params.spin, chain, drives, atoms, tones, None, hw.budget.guard_band)
    return model, tones


def assert_close(rebuilt, reference, gamma, tolerance, allowance=None):
    """Every rate of ``rebuilt`` within ``tolerance`` of ``reference`` (detunings and J in units of
    Gamma and of max(Gamma, |chi|), Omega relative), plus ``allowance`` = a model whose deviation
    from ``reference`` is granted (the plan's own)."""
    scale = max(gamma, float(np.max(np.abs(reference.chi)) if reference.chi.size else 0.0))
    rabi = float(np.max(np.abs(reference.rabi)))
    for name, unit, limit in (("detunings", gamma, tolerance), ("rabi", rabi, tolerance), ("couplings", scale, tolerance),
                              ("local_dephasing", gamma, tolerance)):
        got, want = getattr(rebuilt, name), getattr(reference, name)
        granted = np.abs(getattr(allowance, name) - want) if allowance is not None else 0.0
        assert np.all(np.abs(got - want) <= limit * unit + granted), (name, (got - want) / unit)


# -- compile ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lab", list(LABS))
def test_example_plans_render_and_compile(programs, lab):
    program = programs(lab)
    compiled = compile_program(program)
    assert sorted(compiled) == [0, 1] and all(c.elf and not c.extra["messages"] for c in compiled.values())
    report = program.report
    assert report.grid.samples % 16 == 0 and report.grid.samples >= 32
    assert all(m["samples_per_channel"] <= program.memory_samples for m in report.memory.values())
    assert all(entry["peak"] <= 1.0 for entry in report.channels.values())
    planned = report.timeline["stabilise"]
    assert planned["duration_s"] >= planned["planned_duration_s"]  # whole loops, never shorter
    assert f"repeat ({report.repeats})" in program.core("raman").seqc
    assert "waitDigTrigger(1);" in program.core("rabi").seqc and "waitDigTrigger(1);" in program.core("raman").seqc


@pytest.mark.parametrize("lab", ["L4", "L8"])
def test_render_without_trims_refuses_when_memory_cannot_hold_the_grid(plans, lab):
    with pytest.raises(RenderError, match=r"tone 'rabi \d' \(the detuning of ensemble \d\) is [-+][\d.]+ Hz off, "
                                          r"[\d.e+]+ x its tolerance .* or detuning trims"):
        render_hdawg(plans(lab), trims=False)


@pytest.mark.parametrize("lab", ["L4", "L8"])
def test_trims_take_up_the_grid_errors(plans, programs, lab):
    """No loop fits the drives: the LO is retuned (a common shift) and one trim per ensemble moves its
    detuning back; each trim sits between its drive and the next (no resonance), dresses weakly
    and, through a cavity far narrower than its offset, dephases by a negligible amount."""
    p, program = plans(lab), programs(lab)
    report = program.report
    assert report.trims and report.rabi_lo_hz != p.hardware.rabi.lo_hz
    assert abs(report.rabi_lo_hz - p.hardware.rabi.lo_hz) <= report.grid.spacing_hz
    drives = np.asarray(p.drive_hz)
    for trim in report.trims:
        k = trim.tone.ensembles[0] - 1
        others = np.abs(np.delete(drives, k) - trim.tone.frequency_hz)
        assert abs(trim.tone.frequency_hz - drives[k] - trim.offset_hz) <= report.grid.spacing_hz
        # it acts mostly on its own ensemble: the next drive is (1 - f) / f times further away
        assert np.min(others) >= (1 - TRIM_FRACTION) / TRIM_FRACTION * abs(trim.offset_hz) - 2 * report.grid.spacing_hz
        assert trim.theta < 0.05
    assert report.deviation["detunings"] <= TOLERANCE and report.deviation["dephasing"] < 1e-4
    assert {t.tone.label for t in report.trims} <= {t.label for t in program.tones if t.role == "trim"}


# -- independent check ---------------------------------------------------------------------------
@pytest.mark.parametrize("lab", list(LABS))
def test_demodulated_waveforms_rebuild_the_claimed_model(plans, programs, rebuilt, lab):
    p, program = plans(lab), programs(lab)
    model, tones = rebuilt(lab)
    assert_close(model, program.model, p.params.gamma, CLAIM)
    # no tone lost, no spur above the noise
    assert len(tones) == len(p.stabilisation_tones()) + len(program.report.trims)


@pytest.mark.parametrize("lab", list(LABS))
def test_demodulated_waveforms_realise_the_target(plans, rebuilt, lab):
    p = plans(lab)
    model = rebuilt(lab)[0]
    assert_close(model, ideal_model(p.params), p.params.gamma, TOLERANCE, allowance=p.effective_model())


@pytest.mark.parametrize("lab, spin", [("L2", 4.0), ("L4", 1.0)])
def test_demodulated_model_keeps_the_plans_infidelity(plans, programs, rebuilt, lab, spin):
    """The steady state of the rebuilt model (exact, Liouvillian; L = 2 at S' = 4 as the plan's own
    budget reduces the spin) is as close to the target as the plan's model: the grid, the LO and
    the trims' shifts and dressing, and quantisation add under 5 % of the plan's error budget; the
    trims' bound takes at most its share."""
    p, program = plans(lab), programs(lab)
    psi = replace(p.params, spin=spin).steady_state().vector
    planned = infidelity(p.effective_model().with_spin(spin), psi, unit=p.params.gamma)
    rendered = infidelity(rebuilt(lab)[0].with_spin(spin), psi, unit=p.params.gamma)
    assert abs(rendered - planned) <= 0.05 * p.hardware.budget.infidelity
    assert program.report.trim_infidelity <= TRIM_SHARE * p.hardware.budget.infidelity


@pytest.mark.parametrize("lab", list(LABS))
def test_pi2_pulses_keep_area_and_the_phase_of_the_known_precession(plans, programs, rebuilt, lab):
    """The pi/2 waveform, fitted with the drive frequencies found on the loop: area pi/2 per
    ensemble, phase relative to its stabilise drive = delta^prog t_dark (segments pass)."""
    p, program = plans(lab), programs(lab)
    model, tones = rebuilt(lab)
    fs, core = program.sample_rate_hz, program.core("rabi")
    i_out, q_out = ((ch - 1) % 2 + 1 for ch in p.hardware.rabi.awg_channels)
    period = core.wave("stabilise_loop").length
    start = 0  # the pi/2 wave's first sample on the loop clock (the loop starts at 0)
    for step in core.steps[core.steps.index(next(s for s in core.steps if s.wave == "stabilise_loop")):]:
        if step.wave == "pi2":
            break
        start += step.zeros or core.wave(step.wave).length * step.repeat
    pulse = core.wave("pi2")
    z = dac(pulse.samples[i_out]) + 1j * dac(pulse.samples[q_out])
    rabi_tones = sorted((t for t in tones if t.role == "drive"), key=lambda t: t.ensembles[0])
    bins = np.array([round(p.hardware.rabi.sideband * t.rf_hz * period / fs) for t in rabi_tones])
    k = start + np.arange(pulse.length)
    design = np.exp(2j * np.pi * ((bins[None, :] * (k[:, None] % period)) % period) / period)
    flat = slice(pulse.length // 4, 3 * pulse.length // 4)
    amplitudes = np.linalg.lstsq(design[flat], z[flat], rcond=None)[0]
    envelope = np.real(z * np.conj(design @ amplitudes)) / np.abs(design @ amplitudes) ** 2
    area_s = np.sum(envelope) / fs
    dark = program.report.timeline["interrogate"]["duration_s"]
    assert dark == pytest.approx(next(s for s in p.segments if s.name == "interrogate").duration_s, abs=8 / fs)
    for tone, a in zip(rabi_tones, amplitudes):
        l = tone.ensembles[0]
        omega = 2 * np.pi * p.calibration.rabi_hz_per_v[l - 1] * abs(a) * p.hardware.rabi.max_amplitude_v
        assert omega * area_s == pytest.approx(np.pi / 2, rel=1e-3)
        relative = np.angle(a * p.hardware.rabi.max_amplitude_v / tone.volts)
        known = model.programmed[l - 1] * dark
        assert abs(np.angle(np.exp(1j * (relative - known)))) < 1e-3
    assert np.sum(pulse.markers) == (pulse.length - round(p.hardware.readout.pi2_duration_s * fs)) // 2


def test_readout_marker_and_driver_nodes(programs):
    program = programs("L2")
    rabi = program.core("rabi")
    assert "placeholder(4096, true, false)" in rabi.seqc and np.all(rabi.wave("readout_marker").markers == 1)
    dev = program.serial
    assert program.nodes[f"/{dev}/triggers/out/0/source"] == 4  # Mark 1 = "Output 1 Marker 1"
    assert program.nodes[f"/{dev}/sigouts/2/range"] == 2.5 and program.nodes[f"/{dev}/awgs/1/auxtriggers/0/slope"] == 1


def test_imposed_loop_and_trigger_input(plans):
    p = plans("L4")
    program = render_hdawg(p, tolerance=None, loop_samples=7_000_000, trigger_input=2)
    assert program.report.grid.samples == 7_000_000 and program.core("rabi").wave("stabilise_loop").length == 7_000_000
    assert all(program.nodes[f"/{program.serial}/awgs/{c}/auxtriggers/0/channel"] == 2 for c in (0, 1))
    with pytest.raises(RenderError, match=r"loop of 7000001 samples: must be a multiple of 16"):
        render_hdawg(p, tolerance=None, loop_samples=7_000_001)


# -- full scale ----------------------------------------------------------------------------------
def _scaled(p, roles, factor):
    return replace(p, tones=tuple(replace(t, volts=t.volts * factor) if t.role in roles else t for t in p.tones))


def test_pulse_beyond_full_scale_is_refused_never_wrapped(plans):
    loud = _scaled(plans("L2"), ("pi2",), 6.0)  # two pi/2 tones of 0.7 V each on a 1 V channel
    with pytest.raises(RenderError, match=r"AWG output [12] \(rabi [IQ]\) would need 1\.\d+ x full scale .* segment 'pi2'"):
        render_hdawg(loud)


def test_loop_beyond_full_scale_gets_lower_crest_from_free_phases(plans, programs):
    """Raman tones scaled so that the plan's phases overshoot full scale by 2 %: the free common
    phases of the linked sets bring the loop back within +-1 and leave every coupling as it was;
    30 % beyond full scale no phase helps, and the loop is refused."""
    p, raman = plans("L4"), ("gamma_comb", "chi_pair", "chi_mirror")
    channel = p.hardware.raman.awg_channel
    factor = 1.02 / programs("L4").report.channels[channel]["peak"]
    loud = _scaled(p, raman, factor)
    program = render_hdawg(loud)
    assert program.report.crest_phases and program.report.channels[channel]["peak"] <= 1.0
    planned = loud.effective_model()
    assert np.max(np.abs(program.model.couplings - planned.couplings)) <= TOLERANCE * p.params.gamma
    with pytest.raises(RenderError, match=rf"AWG output {channel} \(raman AOM\) would need 1\.\d+ x full scale .*'stabilise"):
        render_hdawg(_scaled(p, raman, 1.3 * factor))


# -- memory and compiler -------------------------------------------------------------------------
def test_waveforms_beyond_memory_fail_readably(plans, programs):
    p = plans("L2")
    small = replace(p, hardware=replace(p.hardware, awg=replace(p.hardware.awg, memory_samples=100_000)))
    with pytest.raises(RenderError, match=r"no loop fits.*memory_samples = 100000"):
        render_hdawg(small)
    with pytest.raises(RenderError, match=r"core 0 \(rabi\): the waveforms need \d+ samples per channel, more than "
                                          r"\[awg\] memory_samples = 1000000"):
        compile_program(replace(programs("L2"), memory_samples=1_000_000))
    huge = np.broadcast_to(np.int16(0), (70_000_000,))  # no memory behind it
    core = CoreProgram(0, "rabi", {"I": 1, "Q": 2}, (Wave("w", 0, {1: huge, 2: huge}),), (Step("play", wave="w"),))
    with pytest.raises(RenderError, match=r"core 0 \(rabi\): the SeqC compiler rejects the program as a whole: .*too large"):
        compile_core(core, "HDAWG8", 2.4e9, 1 << 30)


def test_compiler_errors_and_warnings_name_core_and_line():
    short = np.zeros(40, dtype=np.int16)
    bad = CoreProgram(2, "raman", {"AOM": 5}, (Wave("9w", 0, {1: short}),), (Step("play", wave="9w"),))
    with pytest.raises(RenderError, match=r"core 2 \(raman\): the SeqC compiler rejects SeqC line \d+ \('wave 9w_1"):
        compile_core(bad, "HDAWG8", 2.4e9, 1 << 20)
    odd = CoreProgram(2, "raman", {"AOM": 5}, (Wave("w", 0, {1: short}),), (Step("play", wave="w"),))
    with pytest.raises(RenderError, match=r"core 2 \(raman\): the SeqC compiler warns \(not whitelisted\) .*not aligned"):
        compile_core(odd, "HDAWG8", 2.4e9, 1 << 20)
    accepted = compile_core(odd, "HDAWG8", 2.4e9, 1 << 20, {"not aligned to 16": "test: a deliberately odd length"})
    assert accepted.accepted and accepted.accepted[0][1] == "test: a deliberately odd length"
