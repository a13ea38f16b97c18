"""Passes that judge a plan: 'beats', 'budget' and 'limits'.

* beats: every unwanted tone product inside the guard band is listed with its residual coupling;
  a plan with a residual above ``[budget] beat_tolerance`` is refused, naming the tones.
* budget: the predicted infidelity to the target steady state, source by source
  (:mod:`labctl.sequences.budget`); refused when the total exceeds ``[budget] infidelity``.
* limits: amplitude per AWG channel, tone budget, coil current -- each violation names the
  pass, the quantity and the limit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labctl.errors import PlanError
from labctl.sequences import budget as budget_model
from labctl.sequences.gradient import separations
from labctl.sequences.plan_types import HardwarePlan
from labctl.sequences.signal_chain import Tone

TWO_PI = 2 * np.pi


class BudgetError(PlanError):
    """The predicted infidelity exceeds the budget; ``source`` is the largest contribution and
    ``excess`` = its infidelity / (its fair share of the budget)."""

    def __init__(self, message: str, source: str, excess: float):
        super().__init__(message)
        self.source = source
        self.excess = excess


class AmplitudeLimitError(PlanError):
    """An AWG channel would exceed its amplitude limit; ``ratio`` = needed / allowed peak."""

    def __init__(self, message: str, chain: str, ratio: float):
        super().__init__(message)
        self.chain = chain
        self.ratio = ratio


def beats_pass(plan: HardwarePlan) -> HardwarePlan:
    _, beats = plan.realised()
    beats = sorted(beats, key=lambda b: -b.residual)
    bad = [b for b in beats if b.residual > plan.hardware.budget.beat_tolerance]
    if bad:
        listing = "; ".join(b.describe() for b in bad[:4])
        more = f" (and {len(bad) - 4} more)" if len(bad) > 4 else ""
        raise PlanError(
            f"pass 'beats': {len(bad)} unwanted tone products exceed [budget] beat_tolerance = "
            f"{plan.hardware.budget.beat_tolerance:g}: {listing}{more}"
        )
    return replace(plan, beats=tuple(beats))


def budget_pass(plan: HardwarePlan) -> HardwarePlan:
    """Predicted infidelity per error source; refuse above the hardware budget."""
    out = compute_budget(plan)
    total = out["total"]["infidelity"]
    limit = plan.hardware.budget.infidelity
    if total > limit:
        worst = max((k for k in out if k not in ("total", "total_static")), key=lambda k: out[k]["infidelity"] or 0.0)
        raise BudgetError(
            f"pass 'budget': predicted infidelity {total:.3g} exceeds [budget] infidelity = {limit:g}; "
            f"largest source '{worst}' ({out[worst]['infidelity']:.3g}, {out[worst]['method']})",
            worst,
            out[worst]["infidelity"] / (0.5 * limit),
        )
    notes = ()
    if out["total_static"]["infidelity"] is None:
        notes = (
            "error budget: the static part (the effective model's steady state) is too large to evaluate while "
            "planning; run plan.exact_budget() (minutes at (2S+1)^L = 256) before relying on this plan",
        )
    return replace(plan, budget=out, notes=plan.notes + notes)


def compute_budget(plan: HardwarePlan, max_dimension: int = budget_model.EXACT_DIMENSION) -> dict[str, dict]:
    """Predicted infidelity of the plan, source by source (see :mod:`labctl.sequences.budget`)."""
    p, cal = plan.params, plan.calibration
    realised = plan.effective_model()
    chi_only = plan.realised_from(plan.tones_with_role("chi_pair", "chi_mirror"))
    chi_decay = chi_only.couplings - chi_only.hermitian
    out = budget_model.model_budget(realised, p, max_dimension, chi_decay)
    seps = separations(np.asarray(plan.drive_hz))
    out["rabi_crosstalk"] = {
        "infidelity": budget_model.rabi_crosstalk_infidelity(abs(p.rabi) / TWO_PI, seps),
        "method": "scaling law c_L (Omega/Delta)^2 (hardware-mapping.md)",
    }
    out["comb_side_channels"] = {
        "infidelity": budget_model.comb_side_channel_infidelity(cal.kappa_hz, seps),
        "method": "scaling law 2 (kappa/2 Delta)^2 per pair (hardware-mapping.md); also inside total_static",
    }
    out["beats"] = {
        "infidelity": budget_model.beat_infidelity([b.residual for b in plan.beats]),
        "method": "sum of squared residual couplings of the listed beats",
    }
    static = out["total_static"]["infidelity"]
    total = (static or 0.0) + out["rabi_crosstalk"]["infidelity"] + out["beats"]["infidelity"]
    out["total"] = {
        "infidelity": total,
        "method": "total_static + rabi_crosstalk + beats" + ("" if static is not None else " (total_static not computed)"),
    }
    return out


def envelope_peak(tones: list[Tone], duration_s: float = 0.0, n_samples: int = 8192, seed: int = 0) -> float:
    """Estimated peak |sum_j V_j e^{2 pi i f_j t}| of a multitone played for ``duration_s``.

    Sampled over one beat period of its closest tones; for many tones the envelope is close to a
    complex Gaussian (P(|z| > r) = exp(-r^2 / sum |V|^2)), whose largest value over the
    span x duration independent samples of the playing time is sqrt(sum |V|^2 ln(span x duration)):
    the larger of the two, never above sum |V_j| (the renderer checks the exact samples)."""
    if not tones:
        return 0.0
    volts = np.array([t.volts for t in tones])
    rf = np.array([t.rf_hz for t in tones])
    spacing = np.diff(np.sort(rf))
    spacing = spacing[spacing > 0]
    period = 1.0 / spacing.min() if spacing.size else 1.0
    times = np.random.default_rng(seed).uniform(0.0, period, n_samples)
    sampled = float(np.max(np.abs(np.exp(2j * np.pi * np.outer(times, rf - rf.mean())) @ volts)))
    independent = float(np.ptp(rf)) * duration_s
    extreme = np.sqrt(np.sum(np.abs(volts) ** 2) * np.log(independent)) if independent > 1.0 else 0.0
    return float(min(np.sum(np.abs(volts)), max(sampled, extreme)))


def limits_pass(plan: HardwarePlan) -> HardwarePlan:
    hw = plan.hardware
    notes = []
    for segment in plan.segments:
        for chain, limit, key in (
            ("rabi", hw.rabi.max_amplitude_v, "[rabi] max_amplitude_v"),
            ("raman", hw.raman.max_amplitude_v, "[raman] max_amplitude_v"),
        ):
            tones = [plan.tone(label) for label in segment.tones if plan.tone(label).chain == chain]
            loop_s = min(segment.duration_s, hw.awg.memory_samples / hw.awg.sample_rate_hz)  # what a loop plays
            peak = envelope_peak(tones, loop_s)
            if peak > limit:
                message = (f"pass 'limits': segment '{segment.name}' needs a peak of {peak:.4g} V on the {chain} "
                           f"channel, above {key} = {limit:g} V")
                if segment.name != "stabilise":  # nothing the choice of Gamma can change
                    raise PlanError(message + "; lengthen the pulse ([readout] pi2_duration_s)")
                raise AmplitudeLimitError(message, chain, peak / limit)
            if tones:
                notes.append(f"{segment.name}/{chain}: estimated peak {peak:.3g} V of {limit:g} V "
                             f"(sum of amplitudes {sum(abs(t.volts) for t in tones):.3g} V)")
    n_raman = len(plan.tones_with_role("gamma_comb", "chi_pair", "chi_mirror"))
    if n_raman > hw.raman.max_tones:
        raise PlanError(f"pass 'limits': {n_raman} Raman tones exceed the tone budget [raman] max_tones = {hw.raman.max_tones}")
    if abs(plan.coil_current_a) > hw.coil.max_current_a:
        raise PlanError(
            f"pass 'limits': coil current {plan.coil_current_a:.4g} A exceeds [coil] max_current_a = {hw.coil.max_current_a:g} A"
        )
    return replace(plan, notes=plan.notes + tuple(notes))
