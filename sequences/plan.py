"""``plan(params, hardware, calibration) -> HardwarePlan``: the chain of planning passes.

    scale -> gradient -> [rabi -> comb -> chi -> compensate]* -> beats -> budget -> segments -> limits

Each pass is a function HardwarePlan -> HardwarePlan that can be called (and tested) alone;
the bracket repeats until the programmed detunings compensate every shift (they depend on the
drive frequencies the tones are tuned to). When the target left Gamma free and a Raman or
Rabi channel runs out of amplitude, Gamma is lowered (amplitudes scale as Gamma or sqrt(Gamma))
and the chain is run again.

A plan serialises to a documented, versioned JSON (``to_dict``/``from_dict``, schema
"labctl.hardware_plan", version 1) holding its inputs (model parameters, hardware description,
calibration record) and every decision (current, detunings, tones, segments, beats, budget).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from labctl.errors import ConfigError, PlanError
from labctl.sequences.calibration import Calibration, load_calibration
from labctl.sequences.checks import AmplitudeLimitError, BudgetError, beats_pass, budget_pass, limits_pass
from labctl.sequences.drives import compensate_pass, rabi_pass
from labctl.sequences.effective import Beat
from labctl.sequences.gradient import gradient_pass, scale_pass
from labctl.sequences.hardware import Hardware, load_hardware
from labctl.sequences.params import ModelParams
from labctl.sequences.plan_types import HardwarePlan, Segment
from labctl.sequences.raman import chi_pass, comb_pass
from labctl.sequences.signal_chain import Tone
from labctl.sequences.timing import segments_pass

SCHEMA = "labctl.hardware_plan"
VERSION = 1
#: Relative accuracy to which the realised detunings must match the target's.
COMPENSATION_TOLERANCE = 1e-9


def tone_passes(plan: HardwarePlan, max_iterations: int = 12) -> HardwarePlan:
    """Rabi tones, Gamma comb and chi pairs, iterated with the detuning compensation."""
    scale = max(abs(plan.params.rabi), abs(plan.params.chi), plan.params.gamma, *map(abs, plan.params.detunings))
    # the drive frequencies are resolved to a few ulp of f~ itself
    resolution = 16 * np.finfo(float).eps * 2 * np.pi * float(np.max(np.abs(plan.atom_hz)))
    for _ in range(max_iterations):
        plan = chi_pass(comb_pass(rabi_pass(plan)))
        plan, correction = compensate_pass(plan)
        if correction <= max(COMPENSATION_TOLERANCE * scale, resolution):
            return chi_pass(comb_pass(rabi_pass(plan)))
    raise PlanError(
        f"pass 'compensate': the detuning compensation did not converge in {max_iterations} iterations "
        f"(last correction {correction:.3g} rad/s); the shifts are too large for the drive frequencies"
    )


def plan(
    params: ModelParams,
    hardware: Hardware | str | Path | dict,
    calibration: Calibration | str | Path | dict,
) -> HardwarePlan:
    """Plan the hardware realisation of ``params`` (see the module docstring)."""
    hw = hardware if isinstance(hardware, Hardware) else load_hardware(hardware)
    cal = calibration if isinstance(calibration, Calibration) else load_calibration(calibration, hw.n_ensembles)
    if cal.n_ensembles != hw.n_ensembles:
        raise ConfigError(
            f"{cal.source}: the calibration record covers {cal.n_ensembles} ensembles, the hardware {hw.source} has {hw.n_ensembles}"
        )
    if cal.hardware and hw.name and cal.hardware != hw.name:
        raise ConfigError(f"{cal.source}: key 'hardware' = {cal.hardware!r} does not match the hardware name {hw.name!r} ({hw.source})")
    draft = scale_pass(HardwarePlan(params, hw, cal))
    for _ in range(4):
        try:
            return _after_scale(draft)
        except AmplitudeLimitError as err:
            if params.unit != "gamma":
                raise
            factor = 0.8 / err.ratio ** (2 if err.chain == "raman" else 1)
            gamma = draft.params.gamma * factor
            note = f"Gamma lowered to {gamma:.6g} rad/s: {err}"
            draft = replace(draft, params=params.scaled(gamma), notes=draft.notes + (note,))
    return _after_scale(draft)


#: Error sources the planner can reduce, and how: chi-tone dissipation falls as 1/delta_c,
#: comb side channels and Rabi cross-talk as 1/Delta^2 with the ensemble separation.
REFINABLE = {"chi_tone_decay": "photon_detuning", "comb_decay": "separation", "rabi_crosstalk": "separation",
             "comb_side_channels": "separation", "nonchiral_exchange": "separation"}


def _after_scale(draft: HardwarePlan, rounds: int = 4) -> HardwarePlan:
    """gradient -> tones -> beats -> budget, refined from the budget, then segments and limits."""
    for attempt in range(rounds):
        planned = gradient_pass(draft)
        planned = replace(planned, programmed=planned.params.detunings)
        planned = beats_pass(tone_passes(planned))
        try:
            planned = budget_pass(planned)
            break
        except BudgetError as err:
            fix = REFINABLE.get(err.source)
            if fix is None or attempt == rounds - 1:
                raise
            factor = 1.2 * max(err.excess, 1.0)
            if fix == "photon_detuning":
                draft = replace(draft, photon_detuning_hz=planned.photon_detuning_hz * factor)
            else:
                draft = replace(draft, separation_factor=draft.separation_factor * np.sqrt(factor))
            draft = replace(draft, notes=draft.notes + (f"refined for '{err.source}': {fix} x {factor:.3g}",))
    return limits_pass(segments_pass(planned))


# -- serialisation ------------------------------------------------------------------------------
def to_dict(plan: HardwarePlan) -> dict[str, Any]:
    """The plan as plain JSON-ready data (schema "labctl.hardware_plan", version 1)."""
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "params": plan.params.to_dict(),
        "hardware": plan.hardware.to_dict(),
        "calibration": plan.calibration.to_dict(),
        "coil": {"current_a": plan.coil_current_a, "ramp_s": plan.coil_ramp_s},
        "atom_hz": list(plan.atom_hz),
        "gradient": dict(plan.gradient),
        "programmed_detunings_rad_s": list(plan.programmed),
        "photon_detuning_hz": plan.photon_detuning_hz,
        "chi_offsets_hz": list(plan.chi_offsets_hz),
        "tones": [t.to_dict() for t in plan.tones],
        "intended_products": sorted(list(x) for x in plan.intended),
        "beats": [b.to_dict() for b in plan.beats],
        "segments": [s.to_dict() for s in plan.segments],
        "budget": plan.budget,
        "known_phases_rad": list(plan.known_phases_rad),
        "notes": list(plan.notes),
        "effective_model": plan.effective_model().summary() if plan.tones else None,
    }


def from_dict(data: dict[str, Any]) -> HardwarePlan:
    if data.get("schema") != SCHEMA or data.get("version") != VERSION:
        raise ConfigError(
            f"not a {SCHEMA} of version {VERSION}: schema={data.get('schema')!r}, version={data.get('version')!r}"
        )
    hw = load_hardware(data["hardware"])
    return HardwarePlan(
        params=ModelParams.from_dict(data["params"]),
        hardware=hw,
        calibration=load_calibration(data["calibration"], hw.n_ensembles),
        coil_current_a=data["coil"]["current_a"],
        coil_ramp_s=data["coil"]["ramp_s"],
        atom_hz=tuple(data["atom_hz"]),
        gradient=dict(data["gradient"]),
        programmed=tuple(data["programmed_detunings_rad_s"]),
        photon_detuning_hz=data["photon_detuning_hz"],
        chi_offsets_hz=tuple(data["chi_offsets_hz"]),
        tones=tuple(Tone.from_dict(t) for t in data["tones"]),
        intended=frozenset(tuple(x) for x in data["intended_products"]),
        beats=tuple(Beat.from_dict(b) for b in data["beats"]),
        segments=tuple(Segment.from_dict(s) for s in data["segments"]),
        budget=dict(data["budget"]),
        known_phases_rad=tuple(data["known_phases_rad"]),
        notes=tuple(data["notes"]),
    )


def save_plan(plan: HardwarePlan, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(to_dict(plan), indent=1, default=json_default)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the plan there ({err.strerror})") from None
    return path


def load_plan(path: str | Path) -> HardwarePlan:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON ({err})") from None
    return from_dict(data)


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: numpy scalars and arrays as plain numbers and lists."""
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")
