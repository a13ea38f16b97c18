"""The sequence in time (pass 'segments'): ramp, stabilise, interrogate, pi/2 pulse, readout.

* ramp: the coil ramps to its current at [coil] max_ramp_a_per_s, then settles;
* stabilise: Rabi tones, Gamma comb and chi pairs for the predicted preparation time
  (``params.figures["prep_time_gamma"]`` in units of 1/Gamma, from the target catalog;
  computed with :mod:`labctl.sim.timescales` when absent);
* interrogate: dark time (target ``dark_time_s`` or [readout] dark_time_s): no tones; the
  ensembles precess by delta_l^prog t relative to their drive oscillators (``known_phases_rad``);
* pi2: one tone per ensemble at its drive frequency, Omega/2pi = 1/(4 t_pi2), with phase
  delta_l^prog t_dark (mod 2 pi) so that the known precession drops out (plus any phases the
  operator adds at run time: the common phase theta, a differential bias such as pi/4);
* readout: the trigger marker for the detection.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labctl.sequences.plan_types import HardwarePlan, Segment

TWO_PI = 2 * np.pi


def preparation_time_gamma(plan: HardwarePlan) -> float:
    """Gamma t_ss of the target (figures from the catalog, else labctl.sim.timescales)."""
    figures = plan.params.figures
    if "prep_time_gamma" in figures:
        return float(figures["prep_time_gamma"])
    from labctl.sim.timescales import preparation_time

    target = plan.params.in_gamma_units()
    return float(preparation_time(target.steady_state(), gamma=1.0).time)


def segments_pass(plan: HardwarePlan) -> HardwarePlan:
    hw, chain = plan.hardware, plan.chain
    p = plan.params
    t = 0.0
    segments = []

    def add(name, duration, tones=(), phases=(), marker=False):
        nonlocal t
        segments.append(Segment(name, t, duration, tuple(tones), tuple(phases), marker))
        t += duration

    add("ramp", plan.coil_ramp_s + hw.coil.settle_time_s)
    stabilise = preparation_time_gamma(plan) / p.gamma
    add("stabilise", stabilise, [tone.label for tone in plan.stabilisation_tones()])
    dark = p.dark_time_s if p.dark_time_s is not None else hw.readout.dark_time_s
    add("interrogate", dark)
    known = tuple(float(np.mod(d * dark, TWO_PI)) for d in plan.programmed)
    t_pi2 = hw.readout.pi2_duration_s
    pi2_tones = []
    for l, (f, phase) in enumerate(zip(plan.drive_hz, known), start=1):
        tone = chain.with_phase(chain.rabi_tone("pi2", f"pi2 {l}", float(f), 1.0 / (4 * t_pi2), l), phase)
        chain.check_band(tone, "segments")
        pi2_tones.append(tone)
    add("pi2", t_pi2, [tone.label for tone in pi2_tones], known)
    add("readout", hw.readout.readout_duration_s, marker=True)
    tones = tuple(tone for tone in plan.tones if tone.role != "pi2") + tuple(pi2_tones)
    return replace(plan, segments=tuple(segments), tones=tones, known_phases_rad=known)
