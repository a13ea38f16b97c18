"""Drawing a plan: tones on frequency axes (one panel per chain, coloured by role) and the
segments on a time axis. Matplotlib figures are built directly (no pyplot state)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from labctl.sequences.plan_types import HardwarePlan

COLOURS = {"rabi": "tab:blue", "pi2": "tab:cyan", "gamma_comb": "tab:red", "chi_pair": "tab:green", "chi_mirror": "tab:olive"}
SEGMENT_COLOURS = {"ramp": "0.8", "stabilise": "tab:green", "interrogate": "0.95", "pi2": "tab:cyan", "readout": "tab:orange"}


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def plot_plan(plan: HardwarePlan, path: str | Path | None = None) -> Figure:
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(3, 1, height_ratios=[1, 1, 0.6])
    for ax, chain, title in ((axes[0], "rabi", "Rabi chain (IF at the IQ mixer)"), (axes[1], "raman", "Raman chain (AOM RF)")):
        tones = [t for t in plan.tones if t.chain == chain]
        for role in dict.fromkeys(t.role for t in tones):
            sel = [t for t in tones if t.role == role]
            f = np.array([t.rf_hz for t in sel]) / 1e6
            v = np.array([abs(t.volts) for t in sel])
            ax.vlines(f, 1e-6, v, colors=COLOURS.get(role, "k"), label=role)
            ax.plot(f, v, "o", color=COLOURS.get(role, "k"), ms=3)
        ax.set_title(title)
        ax.set_xlabel("frequency at the AWG (MHz)")
        ax.set_ylabel("amplitude (V)")
        ax.set_yscale("log")
        if tones:
            ax.legend(fontsize="small", ncol=3)
    ax = axes[2]  # the segments in order, one box each (durations differ by orders of magnitude)
    for i, seg in enumerate(plan.segments):
        ax.barh(0, 1.0, left=i, color=SEGMENT_COLOURS.get(seg.name, "0.5"), edgecolor="k")
        ax.text(i + 0.5, 0, f"{seg.name}\n{_duration(seg.duration_s)}\n{len(seg.tones)} tones", ha="center", va="center", fontsize="small")
    ax.set_xlim(0, max(len(plan.segments), 1))
    ax.set_yticks([])
    ax.set_xticks([])
    total = sum(seg.duration_s for seg in plan.segments)
    ax.set_title(f"sequence ({_duration(total)} per shot); coil {plan.coil_current_a:.3g} A")
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig
