"""The report and the driver settings of :func:`labctl.sequences.render_hdawg` (render.py explains
the scheme; this module only measures and lists what was rendered)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labctl.sequences.effective import Beat, EffectiveModel
from labctl.sequences.plan_types import HardwarePlan
from labctl.sequences.render_grid import Grid
from labctl.sequences.render_seqc import CoreProgram
from labctl.sequences.render_trim import trim_infidelity
from labctl.sequences.render_wave import DAC_CODES


@dataclass(frozen=True, eq=False)
class RenderReport:
    """What was rendered and what it costs (render.py explains the scheme). Rates in rad/s; ``deviation`` is the
    largest |rendered - plan| per quantity of the effective model in units of Gamma (``rabi``
    relative to |Omega|); ``tone_errors_hz`` = rendered - planned AWG frequency per tone label,
    ``amplitude_errors`` = |played| / |intended| - 1 of each loop tone (int16 quantisation)."""

    grid: Grid
    repeats: int
    tolerance: float | None
    tone_errors_hz: dict[str, float]
    amplitude_errors: dict[str, float]
    detuning_errors: np.ndarray
    deviation: dict[str, float]
    memory: dict[int, dict]
    channels: dict[int, dict]
    pi2_phase_corrections: tuple[float, ...]
    crest_phases: dict[str, float]
    beats: tuple[Beat, ...]
    timeline: dict[str, dict]
    trims: tuple = ()
    rabi_lo_hz: float = 0.0

    @property
    def trim_infidelity(self) -> float:
        """Bound on the detuning trims' cost, 1 - F (render_trim)."""
        return trim_infidelity(list(self.trims))

    def summary(self) -> dict:
        return {
            "grid": {"samples": self.grid.samples, "loop_s": self.grid.loop_s, "spacing_hz": self.grid.spacing_hz,
                     "repeats": self.repeats},
            "tolerance": self.tolerance,
            "tone_errors_hz": dict(self.tone_errors_hz),
            "amplitude_errors": dict(self.amplitude_errors),
            "detuning_errors_rad_s": self.detuning_errors.tolist(),
            "deviation_in_gamma": dict(self.deviation),
            "memory": self.memory,
            "channels": self.channels,
            "pi2_phase_corrections_rad": list(self.pi2_phase_corrections),
            "crest_phases_rad": dict(self.crest_phases),
            "beats": [b.to_dict() for b in self.beats],
            "timeline": self.timeline,
            "rabi_lo_hz": self.rabi_lo_hz,
            "trims": [t.to_dict() for t in self.trims],
            "trim_infidelity_bound": self.trim_infidelity,
        }


def model_deviation(planned: EffectiveModel, rendered: EffectiveModel, gamma: float) -> dict[str, float]:
    """Largest |rendered - planned| per quantity, in units of Gamma (``rabi``: relative to max |Omega|)."""
    rabi_scale = float(np.max(np.abs(planned.rabi), initial=0.0)) or 1.0
    return {
        "detunings": float(np.max(np.abs(rendered.detunings - planned.detunings))) / gamma,
        "rabi": float(np.max(np.abs(rendered.rabi - planned.rabi))) / rabi_scale,
        "couplings": float(np.max(np.abs(rendered.couplings - planned.couplings))) / gamma,
        "chi": float(np.max(np.abs(rendered.chi - planned.chi))) / gamma,
        "decay": float(np.max(np.abs(rendered.decay - planned.decay))) / gamma,
        "nonchiral": float(np.max(np.abs(rendered.nonchiral - planned.nonchiral))) / gamma,
        "twist": float(np.max(np.abs(rendered.twist - planned.twist))) / gamma,
        "dephasing": float(np.max(np.abs(rendered.local_dephasing - planned.local_dephasing))) / gamma,
    }


def memory_report(core: CoreProgram, memory_samples: int) -> dict:
    used = core.samples_per_channel
    return {"samples_per_channel": used, "fraction": used / memory_samples,
            "bytes": 2 * used * len(core.outputs), "waves": {w.name: w.length for w in core.waves}}


def channel_report(plan: HardwarePlan, cores: tuple[CoreProgram, ...]) -> dict[int, dict]:
    """Per AWG output: chain, peak per segment (fraction of full scale and volts), crest factor of the loop."""
    out = {}
    for core in cores:
        for role, ch in core.outputs.items():
            o = (ch - 1) % 2 + 1
            full = plan.chain.full_scale_v(core.chain)
            peaks = {w.name: w.peaks[o] for w in core.waves if o in w.samples}
            entry = {"chain": core.chain, "role": role, "peak": max(peaks.values(), default=0.0),
                     "peak_v": full * max(peaks.values(), default=0.0), "peaks": peaks}
            loop = next((w.samples[o] for w in core.waves if w.name == "stabilise_loop"), None)
            if loop is not None:
                rms = float(np.sqrt(np.mean(np.square(loop, dtype=np.float32), dtype=np.float64))) / DAC_CODES
                entry["loop_rms"] = rms
                entry["crest_factor"] = peaks["stabilise_loop"] / rms if rms else float("nan")
            out[ch] = entry
    return out


def timeline_report(plan: HardwarePlan, durations: dict[str, int], fs: float) -> dict[str, dict]:
    """Start and duration (s) of every segment as played, next to the plan's."""
    planned_segments = {s.name: s for s in plan.segments}
    out, start = {}, 0
    for name, samples in durations.items():
        planned = planned_segments[name]
        out[name] = {"start_s": start / fs, "duration_s": samples / fs,
                     "planned_start_s": planned.start_s, "planned_duration_s": planned.duration_s}
        start += samples
    return out


def driver_nodes(plan: HardwarePlan, cores: tuple[CoreProgram, ...], trigger_input: int) -> dict[str, float]:
    """Node settings the program relies on (module docstring), device paths in lower case."""
    dev = plan.hardware.awg.serial.lower()
    nodes: dict[str, float] = {}
    for core in cores:
        c = core.core
        nodes |= {f"/{dev}/awgs/{c}/auxtriggers/0/channel": trigger_input, f"/{dev}/awgs/{c}/auxtriggers/0/slope": 1,
                  f"/{dev}/awgs/{c}/single": 1}
        full = plan.chain.full_scale_v(core.chain)
        for ch in core.outputs.values():
            o = (ch - 1) % 2
            nodes |= {f"/{dev}/sigouts/{ch - 1}/on": 1, f"/{dev}/sigouts/{ch - 1}/range": full,
                      f"/{dev}/awgs/{c}/outputs/{o}/amplitude": 1.0, f"/{dev}/awgs/{c}/outputs/{o}/modulation/mode": 0}
        if core.marker_bit:
            nodes[f"/{dev}/triggers/out/{2 * c}/source"] = 4 + core.marker_bit - 1
    return nodes
