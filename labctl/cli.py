"""The ``labctl`` command line.

``labctl demo``          figures of merit of the two-ensemble steady state in the three scaling
                         regimes of Sec. III.B (the main job until the dry run lands);
``labctl steady-state``  figures of merit for parameters given on the command line;
``labctl compile``       a target file -> model parameters and predicted figures of merit;
``labctl plan``          a target on a lab (hardware + calibration files) -> hardware plan;
``labctl render``        the plan rendered into HDAWG programs, compiled, written to a folder.

User mistakes end in one line on stderr and exit status 2, never in a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

from labctl.errors import LabctlError


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, e.g. 0.1,-0.1") from None


def _print_figures(state) -> None:
    fom = state.figures_of_merit()
    print(f"  spin S = {state.spin:g}, L = {state.n_ensembles}, rabi = {state.rabi:g}, chi = {state.chi:g}")
    print(f"  detunings = {', '.join(f'{d:g}' for d in state.detunings)}")
    for key, value in fom.items():
        if key in ("spin", "n_ensembles"):
            continue
        if key == "qfi_matrix":
            print("  QFI matrix F_kl = 4 Cov(S_k^z, S_l^z):")
            for row in value:
                print("    " + "  ".join(f"{x:12.5g}" for x in row))
        else:
            print(f"  {key:<28s} {value:.6g}")


def demo(args: argparse.Namespace) -> int:
    """Two ensembles of spin S in the regimes Delta/Omega = 1, 1/sqrt(S), 1/S (Fig. 2d)."""
    from labctl.sim import as_spin, steady_state

    spin = as_spin(args.spin)
    print(f"Two-ensemble steady state of Eq. (2), S = {spin:g} per ensemble (rates in units of Gamma)")
    print(f"{'regime':<12s}{'Delta/Omega':>12s}{'QFI':>14s}{'QFI/HL':>10s}{'<S1x-S2x>':>14s}{'xi^2':>12s}{'xi^2 [dB]':>11s}")
    for regime, ratio in (("SQL", 1.0), ("S^3/2", 1 / math.sqrt(spin)), ("Heisenberg", 1 / spin)):
        state = steady_state(spin, [ratio / 2, -ratio / 2], 1.0)
        fom = state.figures_of_merit()
        xi2 = fom["wineland_xi2"]
        print(
            f"{regime:<12s}{ratio:>12.4g}{fom['qfi']:>14.6g}{fom['qfi'] / fom['qfi_heisenberg']:>10.4f}"
            f"{fom['differential_polarization']:>14.6g}{xi2:>12.4g}{10 * math.log10(xi2):>11.2f}"
        )
    print(f"Heisenberg limit 16 S(S+1)/3 = {16 * spin * (spin + 1) / 3:.6g}; coherent states give 4S = {4 * spin:g}")
    return 0


def steady(args: argparse.Namespace) -> int:
    from labctl.sim import steady_state

    state = steady_state(args.spin, args.detunings, args.rabi, args.chi)
    print("Pure steady state of Eq. (2)")
    _print_figures(state)
    return 0


def compile_cmd(args: argparse.Namespace) -> int:
    from labctl.sequences import compile_target

    params = compile_target(args.target)
    print(f"{params.kind} '{params.name or args.target}': L = {params.n_ensembles}, S = {params.spin:g}, unit = {params.unit}")
    print(f"  detunings = {', '.join(f'{d:.6g}' for d in params.detunings)}")
    print(f"  rabi = {params.rabi:.6g}, chi = {params.chi:.6g}, gamma = {params.gamma:.6g}")
    for key, value in params.figures.items():
        if isinstance(value, (int, float)):
            print(f"  {key:<28s} {value:.6g}")
        elif not isinstance(value, list):
            print(f"  {key:<28s} {value}")
    for note in params.notes:
        print(f"  note: {note}")
    return 0


def plan_cmd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from labctl.sequences import compile_target, plan, save_plan

    lab = Path(args.lab)
    params = compile_target(args.target)
    planned = plan(params, lab / "hardware.toml", lab / "calibration.toml")
    p = planned.params
    print(f"plan for {params.kind} on '{planned.hardware.name}' ({lab})")
    print(f"  Gamma/2pi = {p.gamma / (2 * math.pi):.4g} Hz; coil {planned.coil_current_a:.4g} A; "
          f"photon detuning of the chi tones {planned.photon_detuning_hz / 1e6:.4g} MHz")
    roles = {}
    for tone in planned.tones:
        roles[tone.role] = roles.get(tone.role, 0) + 1
    print("  tones: " + ", ".join(f"{n} {role}" for role, n in roles.items()))
    print("  drive frequencies (Hz): " + ", ".join(f"{f:.6f}" for f in planned.drive_hz))
    for seg in planned.segments:
        print(f"  {seg.name:<12s} {seg.start_s * 1e3:10.3f} ms  +{seg.duration_s * 1e3:10.3f} ms  {len(seg.tones)} tones")
    print("  predicted infidelity by source:")
    for source, entry in planned.budget.items():
        value = entry["infidelity"]
        shown = f"{value:.3g}" if value is not None else "n/a"
        print(f"    {source:<20s} {shown:>10s}  ({entry['method']})")
    for note in planned.notes:
        print(f"  note: {note}")
    if args.out:
        print(f"  saved {save_plan(planned, args.out)}")
    if args.plot:
        planned.plot(args.plot)
        print(f"  drew {args.plot}")
    return 0


def render_cmd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from labctl.sequences import compile_program, compile_target, plan, render_hdawg
    from labctl.sequences.render_files import output_folder, save_program

    output_folder(args.out)  # before the work: a bad --out is reported at once
    lab = Path(args.lab)
    planned = plan(compile_target(args.target), lab / "hardware.toml", lab / "calibration.toml")
    program = render_hdawg(planned, trims=not args.no_trims)
    compiled = compile_program(program)
    r = program.report
    print(f"HDAWG program for '{planned.hardware.name}' ({program.device} {program.serial}, "
          f"{program.sample_rate_hz / 1e9:g} GSa/s)")
    print(f"  stabilise loop: {r.grid.samples} samples ({r.grid.loop_s * 1e3:.4g} ms, grid {r.grid.spacing_hz:.6g} Hz) "
          f"x {r.repeats}")
    print(f"  set the Rabi LO to {r.rabi_lo_hz:.3f} Hz ({r.rabi_lo_hz - planned.hardware.rabi.lo_hz:+.3f} Hz from [rabi] lo_hz)")
    for trim in r.trims:
        print(f"  trim {trim.tone.ensembles[0]}: {trim.offset_hz / 1e3:+.4g} kHz from its drive, "
              f"Omega/2pi = {abs(trim.tone.coupling_hz):.4g} Hz, shift {trim.shift / (2 * math.pi):+.4g} Hz")
    if r.trims:
        print(f"  trims cost 1 - F <= {r.trim_infidelity:.2g}")
    print("  rendered model vs plan (units of Gamma): "
          + ", ".join(f"{k} {v:.2g}" for k, v in r.deviation.items()))
    for core in program.cores:
        m = r.memory[core.core]
        print(f"  core {core.core} ({core.chain}): {m['samples_per_channel']} samples/channel "
              f"({m['fraction']:.1%} of memory), compiled ELF {len(compiled[core.core].elf)} bytes")
    written = save_program(program, args.out, compiled, planned.params.gamma)
    print(f"  wrote {len(written)} files to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labctl", description="Experiment control for dissipatively entangled spin ensembles")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="figures of merit of the two-ensemble steady state (Sec. III)")
    p.add_argument("--spin", default="50", help="spin S of each ensemble (default 50)")
    p.set_defaults(func=demo)
    p = sub.add_parser("steady-state", help="figures of merit for given model parameters")
    p.add_argument("--spin", required=True, help="spin S of each ensemble, e.g. 10 or 3/2")
    p.add_argument("--detunings", required=True, type=_floats, help="delta_1,...,delta_L (comma separated)")
    p.add_argument("--rabi", required=True, type=float, help="Rabi frequency Omega (same unit as the detunings)")
    p.add_argument("--chi", type=float, default=0.0, help="chiral exchange chi (default 0)")
    p.set_defaults(func=steady)
    p = sub.add_parser("compile", help="compile a target file into model parameters and figures of merit")
    p.add_argument("target", help="target TOML file (see examples/targets)")
    p.set_defaults(func=compile_cmd)
    p = sub.add_parser("plan", help="plan a target on a lab: gradient, tones, segments, error budget")
    p.add_argument("target", help="target TOML file (see examples/targets)")
    p.add_argument("--lab", required=True, help="folder with hardware.toml and calibration.toml (e.g. examples/lab4)")
    p.add_argument("--out", help="write the plan as JSON here")
    p.add_argument("--plot", help="draw the plan (PNG) here")
    p.set_defaults(func=plan_cmd)
    p = sub.add_parser("render", help="plan a target on a lab and render it into compiled HDAWG programs")
    p.add_argument("target", help="target TOML file (see examples/targets)")
    p.add_argument("--lab", required=True, help="folder with hardware.toml and calibration.toml (e.g. examples/lab4)")
    p.add_argument("--out", required=True, help="folder for the SeqC sources, waveforms (.npz), ELFs and render.json")
    p.add_argument("--no-trims", action="store_true", help="refuse rather than trim drives the grid cannot hold")
    p.set_defaults(func=render_cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except LabctlError as err:
        print(f"labctl {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
