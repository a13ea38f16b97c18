"""Benchmark: the phase estimators of labctl.analysis.estimate_phase on exact simulated shots.

    python benchmarks/bench_phase.py [--quick] [--spins 10 50] [--ratio sqrt|inverse]

For S in ``--spins`` and Delta/Omega = 1/sqrt(S) (``--ratio inverse``: 1/S), shots are drawn by
labctl.sim.measurement.sample_shots (per-shot random theta; one draw of reps x N shots per row,
split into sets, 4096 stratified thetas) at phi in {0.05, 0.1, 0.3, pi/4, 1.2, 1.5} and
N in {200, 2000, 20000}. For each row the table gives, in milliradians, the Cramer-Rao bound
1/sqrt(N F_CFI(phi)), the quantum bound 1/sqrt(N F_Q), and the bias and standard deviation over
the sets of the direct ellipse fit ("ellipse", no bootstrap) and of the exact Bayesian MAP
("bayes"), the ratio std/CRB, the mean stated stderr of "bayes" over its spread, and the fraction
of sets whose 95 % HPD interval holds phi. Then the timing of "bayes" on 10^6 shots at S = 50
(cold: building the law table; warm: table cached) and of drawing them.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from labctl.analysis import estimate_phase
from labctl.sim import steady_state
from labctl.sim.measurement import classical_fisher, phase_law, sample_shots

PHIS = (0.05, 0.1, 0.3, math.pi / 4, 1.2, 1.5)
SHOTS = (200, 2000, 20000)
REPS = {200: 200, 2000: 100, 20000: 40}


def pair_state(spin: float, ratio: float):
    return steady_state(spin, [ratio / 2, -ratio / 2], 1.0)


def estimates(state, phi: float, n_shots: int, reps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    p1, p2 = sample_shots(state, phi, reps * n_shots, rng)
    sets = list(zip(p1.reshape(reps, n_shots), p2.reshape(reps, n_shots)))
    ellipse = np.array([estimate_phase(a, b, state.spin, n_bootstrap=0).phi for a, b in sets])
    bayes = [estimate_phase(a, b, state.spin, "bayes", state=state) for a, b in sets]
    return {
        "ellipse": ellipse,
        "bayes": np.array([e.phi for e in bayes]),
        "stderr": np.array([e.stderr for e in bayes]),
        "covered": np.array([e.interval_95[0] <= phi <= e.interval_95[1] for e in bayes]),
    }


def accuracy_table(spins: list[float], ratio_name: str, quick: bool) -> None:
    rng = np.random.default_rng(2025)
    header = (
        f"{'S':>4} {'N':>6} {'phi':>6} | {'CRB':>7} {'QCRB':>7} | {'ellipse bias':>12} {'std':>7} | "
        f"{'bayes bias':>10} {'std':>7} {'std/CRB':>7} {'err/std':>7} {'cov95':>5}"
    )
    print(f"phase estimators, Delta/Omega = {ratio_name}; errors in mrad")
    print(header)
    print("-" * len(header))
    for spin in spins:
        state = pair_state(spin, 1 / math.sqrt(spin) if ratio_name == "1/sqrt(S)" else 1 / spin)
        qfi = state.qfi()
        for n_shots in SHOTS:
            reps = max(REPS[n_shots] // (4 if quick else 1), 10)
            for phi in PHIS:
                runs = estimates(state, phi, n_shots, reps, rng)
                crb = 1 / math.sqrt(n_shots * classical_fisher(state, phi))
                spread = runs["bayes"].std(ddof=1)
                quantum = 1 / math.sqrt(n_shots * qfi)
                print(
                    f"{spin:>4g} {n_shots:>6} {phi:>6.3f} | {1e3 * crb:>7.3f} {1e3 * quantum:>7.3f} | "
                    f"{1e3 * (runs['ellipse'].mean() - phi):>+12.3f} {1e3 * runs['ellipse'].std(ddof=1):>7.3f} | "
                    f"{1e3 * (runs['bayes'].mean() - phi):>+10.3f} {1e3 * spread:>7.3f} {spread / crb:>7.2f} "
                    f"{runs['stderr'].mean() / spread:>7.2f} {runs['covered'].mean():>5.2f}"
                )


def timing(repeat: int) -> None:
    spin, n_shots = 50.0, 10**6
    state = pair_state(spin, 1 / math.sqrt(spin))
    start = time.perf_counter()
    p1, p2 = sample_shots(state, 0.3, n_shots, 1)
    sampling = time.perf_counter() - start
    start = time.perf_counter()
    cold = estimate_phase(p1, p2, spin, "bayes", state=state)
    cold_time = time.perf_counter() - start
    table_start = time.perf_counter()
    phase_law.cache_clear()
    phase_law(state)
    table = time.perf_counter() - table_start
    warm_times = []
    for _ in range(repeat):
        start = time.perf_counter()
        warm = estimate_phase(p1, p2, spin, "bayes", state=state)
        warm_times.append(time.perf_counter() - start)
    print("\nS = 50, Delta/Omega = 1/sqrt(S), phi = 0.3, N = 10^6 shots")
    print(f"  sample_shots             {sampling:7.2f} s")
    print(
        f"  bayes, cold (with table) {cold_time:7.2f} s   phi = {cold.phi:.6f} +- {cold.stderr:.2e}, "
        f"CRB {cold.cramer_rao:.2e}"
    )
    print(f"  law table alone          {table:7.2f} s")
    print(f"  bayes, warm (median {repeat}) {statistics.median(warm_times):7.2f} s   phi = {warm.phi:.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the repetitions")
    parser.add_argument("--spins", type=float, nargs="+", default=[10.0, 50.0])
    parser.add_argument("--ratio", choices=["sqrt", "inverse"], default="sqrt", help="Delta/Omega = 1/sqrt(S) or 1/S")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the warm timing")
    args = parser.parse_args()
    accuracy_table(args.spins, "1/sqrt(S)" if args.ratio == "sqrt" else "1/S", args.quick)
    timing(args.repeat)


if __name__ == "__main__":
    main()
