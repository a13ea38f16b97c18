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

from labctl.sim.bruteforce import LiouvillianSteadyState, liouvillian_steady_state
from labctl.sim.conditions import check_conditions
from labctl.sim.mixed import PhaseAveragedState, qfi_mixed
from labctl.sim.model import hamiltonian, jump_operator, liouvillian, model_liouvillian
from labctl.sim.operators import SpinSum
from labctl.sim.spin import as_spin, spin_matrices
from labctl.sim.states import PairState, ProductState, SteadyState
from labctl.sim.steady import steady_state

__all__ = [
    "LiouvillianSteadyState",
    "PairState",
    "PhaseAveragedState",
    "ProductState",
    "SpinSum",
    "SteadyState",
    "as_spin",
    "check_conditions",
    "hamiltonian",
    "jump_operator",
    "liouvillian",
    "liouvillian_steady_state",
    "model_liouvillian",
    "qfi_mixed",
    "spin_matrices",
    "steady_state",
]
