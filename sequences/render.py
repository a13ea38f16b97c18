"""``render_hdawg(plan) -> HdawgProgram``: a hardware plan as HDAWG sequencer programs and waveforms.

Scheme
------
1. **Grid** (:mod:`labctl.sequences.render_grid`). The stabilise segment (0.01-30 s) is one loop of
   N samples repeated M times; every tone sits on f = n f_s / N, the same N on every core, so the
   loop is phase continuous and the Raman resonance conditions stay exact. A frequency error of
   a Rabi tone is a detuning error, so N is the smallest loop (least memory) that puts every drive
   within ``tolerance`` x Gamma / 2 pi of its planned frequency (and every linked Raman set close
   enough to keep its couplings). When no N within memory does (Gamma of a few Hz against a grid
   of ~40 Hz), the loops that cost least to trim are tried in turn (render_grid.trim_loops): the
   Rabi LO moves all drives by the weighted median of their errors (``[rabi] lo_resolution_hz``
   steps; ``report.rabi_lo_hz`` is what the synthesizer must be set to; the Raman roots follow,
   so every photon detuning stays) and one *detuning trim* per ensemble (render_trim), an
   off-resonant Rabi-chain tone, cancels what is left by its AC Stark shift; a loop whose trims
   would cost more than their share of the budget is passed over; the shortest loops whose
   trims cost at most half that share come first (less memory, faster). ``trims=False`` refuses
   instead (RenderError naming the tone and its error). The device's oscillators are not used:
   an HDAWG core has two (four with the MF option) and a plan needs one exact frequency per ensemble.
2. **Timeline**, in samples (multiples of 16): ramp = silence (the coil is not the AWG's job);
   stabilise = ramp-in + M loops + ramp-out, M rounded up (never shorter than planned);
   interrogate = silence; pi2 = explicit samples whose sin^2 edges straddle the nominal pulse
   (area kept); readout = marker bit ``[readout] trigger_marker`` on output 1 of the Rabi core
   (its Mark connector), a 4096-sample chunk looped. ``report.timeline`` lists what is played.
3. **Samples** (:mod:`labctl.sequences.render_wave`): virtual oscillators counted from the first
   sample of the loop on every core (exact integer phases), so the pi/2 pulse stays phase locked
   to the drives; its per-ensemble phases are the plan's, corrected for the rendered drive
   frequencies (delta^prog t_dark moves with them). Sample = volts / ``max_amplitude_v`` of the
   chain; a loop beyond full scale gets the free common phases of its linked Raman sets searched
   for a lower crest factor; any sample still beyond +-1 (it would wrap on the device): refused,
   naming the channel, segment and peak. Waveforms are int16 DAC codes (exactly what plays).
4. **Model**: the effective model of the rendered tones (:func:`~labctl.sequences.effective.realised_model`,
   drives = the snapped Rabi tones, trims included, loop amplitudes measured on the DAC codes)
   against the plan's. Refused when a detuning moves by more than ``tolerance`` x Gamma, a Rabi
   frequency by more than ``tolerance`` (relative), an entry of J (chi, decay, non-chiral
   exchange, self terms) by more than ``tolerance`` x max(Gamma, |chi|), a dressing dephasing
   exceeds ``tolerance`` x Gamma, or an unwanted Raman product exceeds ``[budget] beat_tolerance``
   (a trim's own off-resonant term is its dressing, bounded in step 1, not a beat). ``tolerance=None`` renders anyway
   (best effort: couplings kept, detunings as good as memory allows) and only reports.
5. **Programs** (:mod:`labctl.sequences.render_seqc`): one per core; :func:`compile_program`.

Triggers and driver settings (``HdawgProgram.nodes``): every core waits on ``waitDigTrigger(1)``,
fed by the same front-panel trigger: ``/DEV/AWGS/n/AUXTRIGGERS/0/CHANNEL`` = ``trigger_input``
(0 = "Trigger In 1") and ``.../SLOPE`` = 1 (rising edge) on each core used. The driver uploads
the ELFs and waveforms, arms every core (``/DEV/AWGS/n/SINGLE`` = 1, ``.../ENABLE`` = 1), starts the
coil ramp and fires the trigger; cores share the sample clock, so they stay aligned. Outputs:
``/DEV/SIGOUTS/k/ON`` = 1, ``.../RANGE`` = the chain's ``max_amplitude_v`` and
``/DEV/AWGS/n/OUTPUTS/m/AMPLITUDE`` = 1 (full scale = the range voltage): sample +-1 <-> +-max_amplitude_v;
if the device picks a larger range R, the driver sets AMPLITUDE = max_amplitude_v / R.
``.../MODULATION/MODE`` = 0 (plain). The readout marker: ``/DEV/TRIGGERS/OUT/k/SOURCE`` = 4 + (m - 1)
("Output 1 Marker m") for the Mark connector k of the Rabi core's output 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from labctl.errors import RenderError
from labctl.sequences.effective import Beat, EffectiveModel, realised_model
from labctl.sequences.plan_types import HardwarePlan, Segment
from labctl.sequences.render_grid import Grid, Snap, snaps
from labctl.sequences.render_report import (RenderReport, channel_report, driver_nodes, memory_report, model_deviation,
                                            timeline_report)
from labctl.sequences.render_seqc import CompiledCore, CoreProgram, Step, Wave, compile_core
from labctl.sequences.render_trim import (TRIM_SHARE, Trim, affordable_errors, detuning_trims, higher_order_shift,
                                          trim_infidelity, trim_offsets)
from labctl.sequences.render_wave import (crest_phases, dac_codes, edge_ramp, line_amplitudes, peak, peak_of,
                                          pulse_window, tone_signal)
from labctl.sequences.signal_chain import Tone

TWO_PI = 2 * np.pi
#: Default accuracy: detunings within 1 % of Gamma, Rabi frequencies and couplings within 1 %.
DEFAULT_TOLERANCE = 0.01
#: Duration of the sin^2 edges (s).
EDGE_S = 2e-6
MARKER_CHUNK = 4096
SEGMENT_NAMES = ("ramp", "stabilise", "interrogate", "pi2", "readout")
STABILISE = "stabilise"


@dataclass(frozen=True)
class Timeline:
    """Segment lengths in samples (module docstring, step 2)."""

    ramp: int
    edge: int
    loop: int
    repeats: int
    dark: int
    pi2: int
    readout_chunks: int

    @property
    def stabilise(self) -> int:
        return 2 * self.edge + self.loop * self.repeats

    @property
    def pi2_start(self) -> int:
        """Index of the pi/2 waveform's first sample, counted from the loop's first sample."""
        return self.loop * self.repeats + self.edge + self.dark - self.edge // 2

    def durations(self) -> dict[str, int]:
        return {"ramp": self.ramp, "stabilise": self.stabilise, "interrogate": self.dark, "pi2": self.pi2,
                "readout": self.edge // 2 + self.readout_chunks * MARKER_CHUNK}


@dataclass(frozen=True, eq=False)
class HdawgProgram:
    """Per AWG core the SeqC source and its waveforms; every tone as rendered (grid frequency, phase;
    loop tones with the amplitude their DAC codes carry), their effective model, the report and the
    node settings a driver applies (module docstring)."""

    device: str
    serial: str
    sample_rate_hz: float
    memory_samples: int
    cores: tuple[CoreProgram, ...]
    tones: tuple[Tone, ...]
    model: EffectiveModel
    report: RenderReport
    nodes: dict[str, float]

    def core(self, chain: str) -> CoreProgram:
        return next(c for c in self.cores if c.chain == chain)


def compile_program(program: HdawgProgram, allowed_warnings: Mapping[str, str] | None = None) -> dict[int, CompiledCore]:
    """Compile every core (``zhinst.core.compile_seqc`` with the device and its sample rate);
    ``allowed_warnings`` maps a regular expression of a tolerated compiler warning to the reason."""
    return {c.core: compile_core(c, program.device, program.sample_rate_hz, program.memory_samples, allowed_warnings)
            for c in program.cores}


def render_hdawg(plan: HardwarePlan, *, tolerance: float | None = DEFAULT_TOLERANCE, max_loop_samples: int | None = None,
                 loop_samples: int | None = None, trigger_input: int = 0, trims: bool = True) -> HdawgProgram:
    """Render ``plan`` (module docstring). ``max_loop_samples`` caps the loop below the memory,
    ``loop_samples`` imposes it; ``trigger_input`` is the AUXTRIGGERS channel every core waits on;
    ``trims=False`` refuses a plan whose drives no loop puts within tolerance instead of trimming."""
    _check_plan(plan, tolerance)
    hw, chain = plan.hardware, plan.chain
    fs = hw.awg.sample_rate_hz
    edge = 32 * max(1, round(EDGE_S * fs / 32))
    reserve = 3 * edge + _samples(_segment(plan, "pi2").duration_s, fs) + MARKER_CHUNK  # the Rabi core's other waves
    budget = min(hw.awg.memory_samples - reserve, max_loop_samples or hw.awg.memory_samples)
    reference = DEFAULT_TOLERANCE if tolerance is None else tolerance
    weights = 1.0 / trim_offsets(plan.drive_hz) if trims and tolerance is not None else None
    planned = plan.effective_model()
    for snap in snaps(plan, tolerance, budget, reference, loop_samples, weights, affordable_errors(hw.budget.infidelity)):
        played_plan = _retuned_lo(plan, snap.lo_shift_hz)
        timeline = _timeline(played_plan, snap.grid, edge)
        drives = np.array([played_plan.chain.physical_hz("rabi", k * snap.grid.spacing_hz) for k in snap.drive_bins])
        tones, corrections = _retuned_tones(played_plan, snap, drives, timeline)
        try:
            added = _trims(played_plan, planned, tones, drives, snap.grid, tolerance) if weights is not None else []
            break
        except RenderError as err:  # trims too strong on this loop: try the next cheapest
            refusal = err
    else:
        raise refusal
    plan, hw, chain = played_plan, played_plan.hardware, played_plan.chain
    tones.update({t.tone.label: t.tone for t in added})
    rendered = _with_tones(plan, [t.tone for t in added])
    loops, crest = _stabilise_loops(rendered, tones, snap)
    cores = tuple(_core_program(rendered, name, tones, loops[name], timeline, snap.grid) for name in ("rabi", "raman"))
    played = _as_played(rendered, tones, cores, snap.grid)
    model, beats = realised_model(plan.params.spin, chain, drives, np.asarray(plan.atom_hz),
                                  [played[label] for label in _segment(rendered, STABILISE).tones], set(plan.intended),
                                  hw.budget.guard_band)
    deviation = model_deviation(planned, model, plan.params.gamma)
    errors = {t.label: tones[t.label].frequency_hz - t.frequency_hz for t in plan.tones}
    trim_labels = {t.tone.label for t in added}
    if tolerance is not None:
        _check_model(plan, planned, model, deviation, [b for b in beats if b.tones[0] not in trim_labels],
                     tolerance, snap.grid, errors)
    report = RenderReport(
        grid=snap.grid, repeats=timeline.repeats, tolerance=tolerance, tone_errors_hz=errors,
        amplitude_errors={label: abs(t.volts / tones[label].volts) - 1 for label, t in played.items()},
        detuning_errors=model.detunings - planned.detunings, deviation=deviation,
        memory={c.core: memory_report(c, hw.awg.memory_samples) for c in cores}, channels=channel_report(rendered, cores),
        pi2_phase_corrections=corrections, crest_phases=crest, beats=tuple(beats),
        timeline=timeline_report(plan, timeline.durations(), fs), trims=tuple(added), rabi_lo_hz=hw.rabi.lo_hz,
    )
    return HdawgProgram(hw.awg.device, hw.awg.serial, fs, hw.awg.memory_samples, cores,
                        tuple({**tones, **played}.values()), model, report, driver_nodes(rendered, cores, trigger_input))


# -- plan -> timeline and tones -----------------------------------------------------------------
def _samples(seconds: float, sample_rate_hz: float) -> int:
    return 16 * int(round(seconds * sample_rate_hz / 16))


def _segment(plan: HardwarePlan, name: str) -> Segment:
    return next(s for s in plan.segments if s.name == name)


def _check_plan(plan: HardwarePlan, tolerance: float | None) -> None:
    if tolerance is not None and not tolerance > 0:
        raise RenderError(f"render: tolerance = {tolerance!r} must be a positive fraction (or None: best effort)")
    names = tuple(s.name for s in plan.segments)
    if names != SEGMENT_NAMES:
        raise RenderError(f"render: the plan's segments are {list(names)}; render_hdawg plays {list(SEGMENT_NAMES)}")
    if plan.hardware.readout.trigger_marker not in (1, 2):
        raise RenderError(f"render: [readout] trigger_marker = {plan.hardware.readout.trigger_marker}: "
                          "an HDAWG waveform carries marker bits 1 and 2")


def _timeline(plan: HardwarePlan, grid: Grid, edge: int) -> Timeline:
    fs = grid.sample_rate_hz
    ramp = _samples(_segment(plan, "ramp").duration_s, fs)
    stabilise = _samples(_segment(plan, STABILISE).duration_s, fs)
    dark = _samples(_segment(plan, "interrogate").duration_s, fs)
    pi2 = _samples(_segment(plan, "pi2").duration_s, fs)
    readout = _samples(_segment(plan, "readout").duration_s, fs)
    if dark < edge // 2 + 32 or pi2 < edge or readout < edge // 2:
        raise RenderError(f"render: interrogate ({dark} samples), pi2 ({pi2}) and readout ({readout}) must exceed "
                          f"the pi/2 pulse's edges ({edge} samples = {EDGE_S:g} s each)")
    repeats = max(1, -(-(stabilise - 2 * edge) // grid.samples))
    return Timeline(ramp if ramp == 0 else max(ramp, 32), edge, grid.samples, repeats, dark, pi2,
                    max(1, round((readout - edge // 2) / MARKER_CHUNK)))


def _on_grid(chain, grid: Grid, microwave_hz: float) -> float:
    """The playable microwave frequency nearest ``microwave_hz``: its IF rounded to the grid."""
    return chain.physical_hz("rabi", grid.bin(chain.awg_hz("rabi", float(microwave_hz))) * grid.spacing_hz)


def _trims(plan: HardwarePlan, planned: EffectiveModel, tones: dict[str, Tone], drives: np.ndarray, grid: Grid,
           tolerance: float) -> list[Trim]:
    """Detuning trims (render_trim) when a drive's grid error moves its detuning beyond
    ``tolerance`` / 2 x Gamma (the drive anchors' share); none otherwise."""
    playing = [tones[label] for label in _segment(plan, STABILISE).tones]
    untrimmed, _ = realised_model(plan.params.spin, plan.chain, drives, np.asarray(plan.atom_hz), playing,
                                  set(plan.intended), plan.hardware.budget.guard_band)
    errors = untrimmed.detunings - planned.detunings
    if np.max(np.abs(errors)) <= tolerance * plan.params.gamma / 2:
        return []
    trims = detuning_trims(plan.chain, drives, errors, lambda hz: _on_grid(plan.chain, grid, hz))
    cost, allowed = trim_infidelity(trims), TRIM_SHARE * plan.hardware.budget.infidelity
    if cost > allowed:
        worst = max(trims, key=lambda t: t.theta)
        raise RenderError(
            f"render: the detuning trims would cost 1 - F <= {cost:.3g} (limit {allowed:.3g} = {TRIM_SHARE:g} x [budget] "
            f"infidelity); the strongest, '{worst.tone.label}', shifts its ensemble by {worst.shift / TWO_PI:+.4g} Hz "
            f"from {worst.offset_hz / 1e3:+.4g} kHz (theta = {worst.theta:.3g}): the grid of {grid.samples} samples "
            f"({grid.spacing_hz:.4g} Hz) misses the drives by too much; a longer loop ([awg] memory_samples) or wider "
            "drive spacing (gradient) helps"
        )
    unmodelled = higher_order_shift(trims)
    limit = tolerance * plan.params.gamma / 2
    if trims and unmodelled.max() > limit:
        worst = trims[int(np.argmax(unmodelled))]
        raise RenderError(
            f"render: detuning trim '{worst.tone.label}' must shift its ensemble by {worst.shift / TWO_PI:+.4g} Hz "
            f"(theta = Omega/nu = {worst.theta:.3g}); its fourth-order shift, ~{unmodelled.max() / TWO_PI:.3g} Hz, "
            f"exceeds {limit / TWO_PI:.3g} Hz (tolerance/2 x Gamma): the grid of {grid.samples} samples "
            f"({grid.spacing_hz:.4g} Hz) misses the drives by too much; a longer loop ([awg] memory_samples) or "
            "wider drive spacing (gradient) helps"
        )
    return trims


def _retuned_lo(plan: HardwarePlan, shift_hz: float) -> HardwarePlan:
    """The plan with its Rabi LO moved by ``shift_hz`` (render_grid centres the drives' grid errors
    with it): the microwave frequencies of every Rabi tone stay, their IFs move; a common shift
    of the drives leaves every drive difference, hence every Raman resonance, unchanged."""
    if shift_hz == 0.0:
        return plan
    rabi = plan.hardware.rabi
    moved = replace(plan, hardware=replace(plan.hardware, rabi=replace(rabi, lo_hz=rabi.lo_hz + shift_hz)))
    chain = moved.chain
    tones = tuple(replace(t, rf_hz=chain.awg_hz("rabi", t.frequency_hz)) if t.chain == "rabi" else t for t in plan.tones)
    return replace(moved, tones=tones)


def _with_tones(plan: HardwarePlan, extra: list[Tone]) -> HardwarePlan:
    """The plan with ``extra`` tones playing during the stabilise segment (the trims)."""
    if not extra:
        return plan
    segments = tuple(replace(s, tones=s.tones + tuple(t.label for t in extra)) if s.name == STABILISE else s
                     for s in plan.segments)
    return replace(plan, tones=plan.tones + tuple(extra), segments=segments)


def _retuned_tones(plan: HardwarePlan, snap: Snap, drives: np.ndarray, timeline: Timeline):
    """Every tone at its grid frequency; pi/2 tones re-phased for the rendered delta^prog t_dark."""
    chain = plan.chain
    fs = snap.grid.sample_rate_hz
    planned_dark = _segment(plan, "interrogate").duration_s
    programmed = TWO_PI * (np.asarray(plan.atom_hz) - drives)
    corrections = programmed * timeline.dark / fs - np.asarray(plan.programmed) * planned_dark
    tones = {}
    for tone in plan.tones:
        moved = chain.retuned(tone, snap.rf_hz[tone.label])
        tones[tone.label] = chain.with_phase(moved, corrections[tone.ensembles[0] - 1]) if tone.role == "pi2" else moved
    return tones, tuple(float(c) for c in corrections)


def _lines(plan: HardwarePlan, tones: list[Tone], grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Signed grid bins and full-scale amplitudes of tones of one chain in its complex AWG signal."""
    chain = plan.chain
    bins = np.array([chain.baseband_sign(t.chain) * grid.bin(t.rf_hz) for t in tones], dtype=np.int64)
    return bins, np.array([t.volts / chain.full_scale_v(t.chain) for t in tones], dtype=complex)


def _signal(plan: HardwarePlan, tones: list[Tone], grid: Grid, start: int, length: int) -> np.ndarray:
    """The complex AWG signal of ``tones`` (one chain) on samples [start, start + length) of the loop clock."""
    return tone_signal(*_lines(plan, tones, grid), grid.samples, start, length)


def _stabilise_loops(plan: HardwarePlan, tones: dict[str, Tone], snap: Snap) -> tuple[dict, dict[str, float]]:
    """The loop signal per chain; a chain beyond full scale gets its free phases searched (the
    rotated tones replace their entries in ``tones``; the phases are returned by set root)."""
    chain, grid = plan.chain, snap.grid
    loops, crest = {}, {}
    for name in ("rabi", "raman"):
        playing = [tones[label] for label in _segment(plan, STABILISE).tones if tones[label].chain == name]
        loop = _signal(plan, playing, grid, 0, grid.samples)
        groups = [g for g in snap.phase_groups if tones[g[0]].chain == name]
        if peak_of(loop, name == "rabi") > 1.0 and groups:
            index = {t.label: i for i, t in enumerate(playing)}
            members = [np.array([index[label] for label in g if label in index]) for g in groups]
            phases, loop = crest_phases(*_lines(plan, playing, grid), members, grid.samples, name == "rabi")
            for group, phase in zip(groups, phases):
                crest[group[0]] = float(phase)
                tones.update({label: chain.with_awg_phase(tones[label], float(phase)) for label in group})
        loops[name] = loop
    return loops, crest


def _as_played(plan: HardwarePlan, tones: dict[str, Tone], cores: tuple[CoreProgram, ...], grid: Grid) -> dict[str, Tone]:
    """The stabilise tones with the amplitudes their quantised loop actually carries (render_wave)."""
    chain = plan.chain
    played = {}
    for core in cores:
        labels = [label for label in _segment(plan, STABILISE).tones if tones[label].chain == core.chain]
        if not labels:
            continue
        bins, _ = _lines(plan, [tones[label] for label in labels], grid)
        loop = core.wave("stabilise_loop")
        parts = [loop.samples[(ch - 1) % 2 + 1] for ch in core.outputs.values()]
        lines = line_amplitudes(parts[0], parts[1] if len(parts) == 2 else None, bins, grid.samples)
        lines *= chain.full_scale_v(core.chain) * (1 if len(parts) == 2 else 2)  # a real line carries a / 2
        for label, volts in zip(labels, lines):
            t = tones[label]
            played[label] = chain.awg_tone(t.chain, t.rf_hz, complex(volts), t.role, t.label, t.ensembles)
    return played


# -- samples -> waves and programs -------------------------------------------------------------
def _outputs(plan: HardwarePlan, name: str) -> dict[str, int]:
    channels = plan.chain.awg_outputs(name)
    return dict(zip(("I", "Q"), channels)) if name == "rabi" else {"AOM": channels[0]}


def _wave(plan: HardwarePlan, name: str, wave: str, index: int, signal: np.ndarray, segment: str,
          markers: np.ndarray | None = None) -> Wave:
    """DAC codes of a complex chain signal on the chain's core outputs; refuses anything beyond +-1."""
    outputs = _outputs(plan, name)
    parts = dict(zip(outputs, (signal.real, signal.imag)))
    for role, ch in outputs.items():
        level = peak(parts[role])
        if level > 1.0:
            full = plan.chain.full_scale_v(name)
            raise RenderError(
                f"render: AWG output {ch} ({name} {role}) would need {level:.4g} x full scale ({level * full:.4g} V, "
                f"[{name}] max_amplitude_v = {full:g} V) in segment '{segment}' ({wave}); "
                "it would wrap with a sign flip on the device, so nothing is rendered"
            )
    samples = {(ch - 1) % 2 + 1: dac_codes(parts[role]) for role, ch in outputs.items()}
    if markers is not None:
        samples.setdefault(1, np.zeros(len(signal), dtype=np.int16))
    return Wave(wave, index, samples, markers)


def _core_program(plan: HardwarePlan, name: str, tones: dict[str, Tone], loop: np.ndarray, t: Timeline,
                  grid: Grid) -> CoreProgram:
    """Waves and steps of the core playing chain ``name``; the Rabi core also carries the readout marker."""
    marker = name == "rabi"
    stab = [tones[label] for label in _segment(plan, STABILISE).tones if tones[label].chain == name]
    pulse = [tones[label] for label in _segment(plan, "pi2").tones if tones[label].chain == name]
    waves: list[Wave] = []
    steps = [Step("ramp: the coil ramps to its current (no tones)", zeros=t.ramp)]

    def add(wave: str, signal: np.ndarray, segment: str, markers: np.ndarray | None = None) -> None:
        waves.append(_wave(plan, name, wave, len(waves), signal, segment, markers))

    if stab:
        ramp = edge_ramp(t.edge)
        add("stabilise_in", _signal(plan, stab, grid, -t.edge, t.edge) * ramp, STABILISE)
        add("stabilise_loop", loop, STABILISE)
        add("stabilise_out", _signal(plan, stab, grid, t.loop * t.repeats, t.edge) * ramp[::-1], STABILISE)
        steps += [Step("stabilise: tones ramp in", wave="stabilise_in"),
                  Step(f"stabilise: {t.repeats} x loop of {t.loop} samples", wave="stabilise_loop", repeat=t.repeats),
                  Step("stabilise: tones ramp out", wave="stabilise_out")]
    else:
        steps.append(Step("stabilise: silent on this core", zeros=t.stabilise))
    steps.append(Step("interrogate: dark time (up to the pi/2 pulse's leading edge)", zeros=t.dark - t.edge // 2))
    if pulse or marker:
        signal = _signal(plan, pulse, grid, t.pi2_start, t.pi2 + t.edge) * pulse_window(t.pi2 - t.edge, t.edge)
        tail = (np.arange(t.pi2 + t.edge) >= t.pi2 + t.edge // 2).astype(np.uint8) if marker else None
        add("pi2", signal, "pi2", tail)
        steps.append(Step("pi2: per-ensemble pi/2 pulses (the marker rises at the nominal readout start)", wave="pi2"))
    else:
        steps.append(Step("pi2: silent on this core", zeros=t.pi2 + t.edge))
    if marker:
        add("readout_marker", np.zeros(MARKER_CHUNK, dtype=np.complex64), "readout", np.ones(MARKER_CHUNK, np.uint8))
        steps.append(Step(f"readout: marker {plan.hardware.readout.trigger_marker} high", wave="readout_marker",
                          repeat=t.readout_chunks))
    outputs = _outputs(plan, name)
    core = (next(iter(outputs.values())) - 1) // 2
    header = (f"labctl render_hdawg: core {core} plays the {name} chain: "
              + ", ".join(f"{role} on AWG output {ch}" for role, ch in outputs.items()),
              f"loop of {grid.samples} samples ({grid.loop_s:.6g} s): every tone on a multiple of {grid.spacing_hz:.9g} Hz",
              f"sample +-1 = +-{plan.chain.full_scale_v(name):g} V ([{name}] max_amplitude_v)")
    marker_bit = plan.hardware.readout.trigger_marker if marker else 0
    return CoreProgram(core, name, outputs, tuple(waves), _tidy(steps), marker_bit, header)


def _tidy(steps: list[Step]) -> tuple[Step, ...]:
    """Merge consecutive silences, drop empty ones and the trailing ones."""
    out: list[Step] = []
    for step in steps:
        if step.zeros and out and out[-1].zeros:
            out[-1] = replace(out[-1], comment=f"{out[-1].comment}; {step.comment}", zeros=out[-1].zeros + step.zeros)
        elif step.zeros or step.wave:
            out.append(step)
    while out and out[-1].zeros:
        out.pop()
    return tuple(out)


# -- the rendered model against the plan's ------------------------------------------------------
def _check_model(plan: HardwarePlan, planned: EffectiveModel, model: EffectiveModel, deviation: dict[str, float],
                 beats: list[Beat], tolerance: float, grid: Grid, errors: dict[str, float]) -> None:
    """Refuse a rendering whose model leaves the tolerance (module docstring, step 4)."""
    p = plan.params
    coupling_scale = max(1.0, abs(p.chi) / p.gamma)
    if deviation["detunings"] > tolerance:
        worst = int(np.argmax(np.abs(model.detunings - planned.detunings)))
        drift = ", ".join(f"'{t.label}' {errors[t.label]:+.3g} Hz" for t in plan.tones_with_role("rabi"))
        raise RenderError(f"render: ensemble {worst + 1}'s detuning moves by {deviation['detunings']:.3g} Gamma "
                          f"on the grid of {grid.samples} samples (tolerance {tolerance:g}); drive errors: {drift}")
    for quantity, limit in (("rabi", tolerance), ("couplings", tolerance * coupling_scale), ("dephasing", tolerance)):
        if deviation[quantity] > limit:
            raise RenderError(f"render: the rendered {quantity} deviate by {deviation[quantity]:.3g} (limit {limit:.3g}) "
                              f"from the plan's on the grid of {grid.samples} samples")
    bad = [b for b in beats if b.residual > plan.hardware.budget.beat_tolerance]
    if bad:
        raise RenderError(f"render: on the grid of {grid.samples} samples {len(bad)} unwanted tone products exceed "
                          f"[budget] beat_tolerance: " + "; ".join(b.describe() for b in bad[:3]))
