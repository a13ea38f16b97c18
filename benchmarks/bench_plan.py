"""Planning benchmark (sequences issue I): target -> ModelParams -> HardwarePlan for L = 2, 4, 8.

    python benchmarks/bench_plan.py [--repeat 5]

Uses the example labs (examples/labN) and one target per size; prints the median time of
compile_target and of plan, and what the plan decided (Gamma, current, tones, predicted infidelity).
"""

from __future__ import annotations

import argparse
import statistics
import time

from labctl.sequences import compile_target, plan

TARGETS = {
    2: {"kind": "two_mode_squeezed", "spin": 10, "delta_over_rabi": 0.3, "rabi": 2.0},
    4: {"kind": "custom", "spin": 1, "detunings": [0.5, 1.5, -1.5, -0.5], "rabi": 2.0, "chi": 1.0},
    8: {"kind": "spt_chain", "n_ensembles": 8, "delta_e": 0.5, "delta_b": 1.0, "chi": 1.0, "rabi": 2.0, "spin": 0.5},
}


def median_time(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'L':>2} {'compile':>9} {'plan':>9} {'Gamma/2pi':>10} {'coil':>8} {'tones':>6} {'1-F (budget)':>13}  target")
    for n, target in TARGETS.items():
        t_compile, params = median_time(lambda: compile_target(target), args.repeat)
        lab = f"examples/lab{n}"
        t_plan, planned = median_time(lambda: plan(params, f"{lab}/hardware.toml", f"{lab}/calibration.toml"), args.repeat)
        total = planned.budget["total"]
        exact = "" if planned.budget["total_static"]["infidelity"] is not None else " (+ static part not computed)"
        print(
            f"{n:>2} {t_compile * 1e3:>7.1f}ms {t_plan * 1e3:>7.1f}ms {planned.params.gamma / 6.283185307:>8.3g}Hz "
            f"{planned.coil_current_a:>6.3f}A {len(planned.tones):>6} {total['infidelity']:>13.3g}  {target['kind']}{exact}"
        )


if __name__ == "__main__":
    main()
