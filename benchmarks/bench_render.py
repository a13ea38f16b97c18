"""Rendering benchmark: target -> plan -> HDAWG programs -> compiled ELFs, for the example labs.

    python benchmarks/bench_render.py [--labs 8 2 4]

For each lab (default: L = 8, then 2 and 4) it prints the wall time of every stage --
compile_target, plan, render_hdawg with the default tolerance, and compile_program -- the loop
chosen, the Rabi LO retune and the detuning trims (L = 4 and 8: no loop that fits memory puts
their drives within tolerance) and the rendered memory per core (samples per channel and share of
[awg] memory_samples). A refusal is printed with its reason.
"""

from __future__ import annotations

import argparse
import time

from labctl.errors import RenderError
from labctl.sequences import compile_target, plan
from labctl.sequences.render import compile_program, render_hdawg

TARGETS = {
    2: {"kind": "two_mode_squeezed", "spin": 10, "delta_over_rabi": 0.3, "rabi": 2.0},
    4: {"kind": "custom", "spin": 1, "detunings": [0.5, 1.5, -1.5, -0.5], "rabi": 2.0, "chi": 1.0},
    8: {"kind": "spt_chain", "n_ensembles": 8, "delta_e": 0.5, "delta_b": 1.0, "chi": 1.0, "rabi": 2.0, "spin": 0.5},
}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def show(label: str, seconds: float, text: str = "") -> None:
    print(f"  {label:<28} {seconds * 1e3:>9.1f} ms  {text}")


def render(planned):
    """Time render_hdawg; a refusal is printed and returns None."""
    t0 = time.perf_counter()
    try:
        program = render_hdawg(planned)
    except RenderError as err:
        show("render_hdawg (refused)", time.perf_counter() - t0, str(err))
        return time.perf_counter() - t0, None
    seconds = time.perf_counter() - t0
    r = program.report
    worst = max(r.deviation, key=r.deviation.get)
    show("render_hdawg", seconds,
         f"loop {r.grid.samples} samples ({r.grid.loop_s * 1e3:.3g} ms, grid {r.grid.spacing_hz:.4g} Hz) x {r.repeats}; "
         f"largest deviation: {worst} {r.deviation[worst]:.3g}; LO moved {r.rabi_lo_hz - planned.hardware.rabi.lo_hz:+.4g} Hz; "
         f"{len(r.trims)} trims (cost <= {r.trim_infidelity:.2g})")
    return seconds, program


def compile_and_show(program) -> float:
    seconds, _ = timed(lambda: compile_program(program))
    show("compile_program", seconds, f"{len(program.cores)} cores")
    for core in program.cores:
        m = program.report.memory[core.core]
        print(f"  {'':<28} {'':>12}  core {core.core} ({core.chain}): {m['samples_per_channel']} samples/channel "
              f"= {m['fraction']:.1%} of memory, {m['bytes'] / 2**20:.0f} MiB")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labs", type=int, nargs="+", default=[8, 2, 4])
    args = parser.parse_args()
    for n in args.labs:
        lab = f"examples/lab{n}"
        print(f"L = {n} ({TARGETS[n]['kind']})")
        t_target, params = timed(lambda: compile_target(TARGETS[n]))
        show("compile_target", t_target)
        t_plan, planned = timed(lambda: plan(params, f"{lab}/hardware.toml", f"{lab}/calibration.toml"))
        show("plan", t_plan, f"{len(planned.tones)} tones, Gamma/2pi = {planned.params.gamma / 6.283185307:.4g} Hz")
        t_render, program = render(planned)
        total = t_target + t_plan + t_render
        show("total", total + (compile_and_show(program) if program is not None else 0.0))


if __name__ == "__main__":
    main()
