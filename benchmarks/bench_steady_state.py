"""Steady-state benchmark (foundation issue): labctl.sim against qutip.steadystate, in one run.

    python benchmarks/bench_steady_state.py [--repeat 5] [--skip-qutip]

Measures (median wall time of ``--repeat`` runs):
1. two-ensemble figures of merit (QFI, xi^2, <S1x - S2x>) from c_J at S = 1e4 and 1e6;
2. the product-basis vector for L = 2, S = 100 and L = 4, S = 10 (crossed order, chi != 0);
3. the same L = 2 problem (S = 5 and 10) solved by labctl (c_J, then the product vector) and by
   qutip.steadystate on the Liouvillian of the same H and jump operator; reports the ratio and
   the fidelity between the two answers (qutip runs in a child process with a time limit: its
   direct solver needs the LU of a (2S+1)^4-dimensional Liouvillian).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import statistics
import time

import numpy as np

from labctl.sim import hamiltonian, jump_operator, steady_state


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def figures(spin: float, ratio: float) -> dict:
    return steady_state(spin, [ratio / 2, -ratio / 2], 1.0).figures_of_merit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-qutip", action="store_true")
    parser.add_argument("--qutip-timeout", type=float, default=600.0, help="seconds before a qutip run is given up")
    args = parser.parse_args()

    print("1. two-ensemble figures of merit from c_J (Delta/Omega = 1/S, Heisenberg regime)")
    for spin in (1e4, 1e6):
        t, fom = timed(lambda: figures(spin, 1 / spin), args.repeat)
        print(f"   S = {spin:8.0e}: {t * 1e3:8.1f} ms   QFI/HL = {fom['qfi'] / fom['qfi_heisenberg']:.4f}   xi^2 = {fom['wineland_xi2']:.3e}")

    print("2. product-basis vectors")
    t, state = timed(lambda: steady_state(100, [0.005, -0.005], 1.0).vector, args.repeat)
    print(f"   L = 2, S = 100 ({state.size} amplitudes):            {t * 1e3:8.1f} ms")
    t, state = timed(lambda: steady_state(10, [2.0, 3.0, -3.0, -2.0], 30.0, 1.0).vector, args.repeat)
    print(f"   L = 4, S = 10 ({state.size} amplitudes, 2 gates):  {t * 1e3:8.1f} ms")

    if args.skip_qutip:
        return
    print("3. the same L = 2 problem: labctl vs qutip.steadystate (Delta/Omega = 1/sqrt(S))")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        for spin in (5.0, 10.0):
            ratio = 1 / np.sqrt(spin)
            detunings = [ratio / 2, -ratio / 2]
            t_ours, psi = timed(lambda: steady_state(spin, detunings, 1.0).vector, args.repeat)
            future = pool.submit(qutip_run, spin, detunings)
            try:
                t_qutip, rho = future.result(timeout=args.qutip_timeout)
            except (concurrent.futures.TimeoutError, concurrent.futures.process.BrokenProcessPool, MemoryError) as err:
                for proc in multiprocessing.active_children():
                    proc.kill()
                print(f"   S = {spin:4.0f}: labctl {t_ours * 1e3:8.2f} ms, qutip did not finish "
                      f"({type(err).__name__} after {args.qutip_timeout:g} s): ratio > {args.qutip_timeout / t_ours:9.0f}x")
                break
            fidelity = float(np.real(psi.conj() @ rho @ psi))
            print(
                f"   S = {spin:4.0f}: labctl {t_ours * 1e3:8.2f} ms, qutip {t_qutip * 1e3:9.1f} ms, "
                f"ratio {t_qutip / t_ours:9.0f}x, 1 - F = {1 - fidelity:.1e}"
            )


def qutip_run(spin: float, detunings: list[float]) -> tuple[float, np.ndarray]:
    """qutip.steadystate on sparse (CSR) operators -- its fastest path (dense ones make it build a
    dense Liouvillian); run in a child process so that a run that exhausts memory or time can be stopped."""
    import qutip

    h = qutip.Qobj(hamiltonian(spin, detunings, 1.0))
    k = qutip.Qobj(jump_operator(spin, 2))
    t0 = time.perf_counter()
    rho = qutip.steadystate(h, [k])
    return time.perf_counter() - t0, rho.full()


if __name__ == "__main__":
    main()
