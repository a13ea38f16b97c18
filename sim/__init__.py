"""labctl.sim -- the physics of Eq. (2) of Chu et al. (2025).

L ensembles of spin S, collective decay Gamma D[sum_l S_l^-], Rabi drive Omega, detunings
delta_l and chiral exchange chi. All rates share one unit chosen by the caller -- the natural
one is the collective decay rate (Gamma = 1); the steady state does not depend on Gamma.

Main entry points:

* :func:`steady_state` -- the exact pure steady state (Eqs. 4-9, 20-26) with its observables;
* :func:`check_conditions` -- the conditions of Sec. II;
* :func:`liouvillian_steady_state` -- brute-force null space of the Liouvillian (small systems);
* :class:`SpinSum` -- one-body operators such as S_1^x - S_2^x (or the string ``"S1x - S2x"``).
"""

from labctl.sim.bruteforce import LiouvillianSteadyState, liouvillian_steady_state, solve_steady_state
from labctl.sim.chain import ChainMPS, aklt_fidelity, chain_detunings, chain_mps, rabi_for_aklt_fidelity
from labctl.sim.conditions import check_conditions
from labctl.sim.measurement import (
    PhaseLaw,
    cfi_curve,
    classical_fisher,
    excitation_fractions,
    outcome_distribution,
    phase_law,
    ramsey_distribution,
    sample_ramsey,
    sample_shots,
    wigner_small_d,
)
from labctl.sim.mixed import PhaseAveragedState, qfi_mixed
from labctl.sim.model import hamiltonian, jump_operator, liouvillian, model_liouvillian
from labctl.sim.operators import SpinSum
from labctl.sim.spin import as_spin, spin_matrices
from labctl.sim.states import PairState, ProductState, SteadyState
from labctl.sim.steady import steady_state
from labctl.sim.timescales import PreparationTime, preparation_time, relaxation_bound

__all__ = [
    "ChainMPS",
    "LiouvillianSteadyState",
    "PairState",
    "PhaseAveragedState",
    "PhaseLaw",
    "PreparationTime",
    "ProductState",
    "SpinSum",
    "SteadyState",
    "aklt_fidelity",
    "as_spin",
    "chain_detunings",
    "chain_mps",
    "cfi_curve",
    "check_conditions",
    "classical_fisher",
    "excitation_fractions",
    "hamiltonian",
    "jump_operator",
    "liouvillian",
    "liouvillian_steady_state",
    "model_liouvillian",
    "outcome_distribution",
    "phase_law",
    "preparation_time",
    "qfi_mixed",
    "ramsey_distribution",
    "rabi_for_aklt_fidelity",
    "relaxation_bound",
    "sample_ramsey",
    "sample_shots",
    "solve_steady_state",
    "spin_matrices",
    "steady_state",
    "wigner_small_d",
]
