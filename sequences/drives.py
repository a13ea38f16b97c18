"""Rabi tones and the compensation of every detuning shift (passes 'rabi' and 'compensate').

Tone l drives ensemble l at its drive frequency f~_l = f_0,l - delta_l^prog / 2pi with the
target Rabi frequency (its amplitude from ensemble l's calibrated Rabi rate per volt). It also
drives every other ensemble m off resonance, shifting it by -Omega_lm^2 / (2 nu_lm)
(hardware-mapping.md); the Raman tones add self terms J_h,ll. The compensation pass sets
delta^prog so that the realised detunings equal the target's; since the shifts depend on the
drive frequencies it is iterated with the tone passes until it converges.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labctl.sequences.plan_types import HardwarePlan

TWO_PI = 2 * np.pi


def rabi_pass(plan: HardwarePlan) -> HardwarePlan:
    """One resonant Rabi tone per ensemble at its drive frequency (equal phases)."""
    chain = plan.chain
    rabi_hz = plan.params.rabi / TWO_PI
    tones = []
    for l, f in enumerate(plan.drive_hz, start=1):
        tone = chain.rabi_tone("rabi", f"rabi {l}", float(f), rabi_hz, l)
        chain.check_band(tone, "rabi")
        tones.append(tone)
    others = tuple(t for t in plan.tones if t.role != "rabi")
    return replace(plan, tones=tuple(tones) + others)


def compensate_pass(plan: HardwarePlan) -> tuple[HardwarePlan, float]:
    """delta^prog += delta_target - delta_realised; returns the plan and the largest correction (rad/s)."""
    realised = plan.effective_model().detunings
    correction = np.asarray(plan.params.detunings) - realised
    programmed = tuple(np.asarray(plan.programmed) + correction)
    return replace(plan, programmed=programmed), float(np.max(np.abs(correction)))
