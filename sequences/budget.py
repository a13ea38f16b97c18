"""Error budget of a plan: predicted infidelity to the target steady state, source by source.

Two kinds of estimates:

* **exact in the effective model** -- the steady state of Eq. (2) with one deviation of the
  realised model switched on (detunings, Rabi amplitudes, chiral exchange, non-chiral exchange,
  one-axis twists, the decay matrix) is computed by the brute-force solver of
  :mod:`labctl.sim.bruteforce` and compared with the target pure state. Exact when
  (2S+1)^L <= ``max_dimension`` (36 in the planning pass, so that planning stays interactive);
  otherwise the same model is evaluated at the largest spin S' that fits (rates unchanged; a
  one-axis twist is invisible at S' = 1/2) and the entry says so; when not even S' = 1/2 fits,
  only the relative size of each deviation is reported (``HardwarePlan.exact_budget`` lifts the
  limit offline).
* **scaling laws** for what a static effective model cannot hold (hardware-mapping.md, checked
  against time-dependent simulations): mixing by off-resonant Rabi tones,
  1 - F ~ c_L (Omega / Delta)^2 summed over ensemble pairs (c_2 = 2.35 per pair for L = 2; the
  L = 4 value 5.5 for equal spacing sets the L-dependence), side channels of the Gamma comb,
  1 - F ~ 2 (kappa / 2 Delta)^2 per pair, and unwanted beats, 1 - F ~ sum residual^2.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labctl.sequences.effective import EXACT_DIMENSION, EffectiveModel, ideal_model, infidelity
from labctl.sequences.params import ModelParams

#: Shares of the total infidelity budget given to the gradient-dependent sources.
SHARES = {"rabi_crosstalk": 0.2, "comb_side_channels": 0.2, "chi_rwa": 0.2, "chi_dissipation": 0.2}


def rabi_crosstalk_coefficient(n_ensembles: int) -> float:
    """c_L in 1 - F ~ c_L (Omega/Delta)^2 at equal spacing: 2.35 (L = 2), 5.5 (L = 4), linear in between/beyond."""
    return 2.35 + 1.575 * (n_ensembles - 2)


def _pair_sum(separations_hz: np.ndarray) -> float:
    """sum over ensemble pairs of (Delta_min / Delta_ml)^2 relative to nearest-neighbour spacing."""
    d = np.abs(separations_hz[np.triu_indices(separations_hz.shape[0], 1)])
    return float(np.sum((d.min() / d) ** 2))


def rabi_crosstalk_infidelity(rabi_hz: float, separations_hz: np.ndarray) -> float:
    """Mixing by off-resonant Rabi tones (the part compensation cannot remove)."""
    n = separations_hz.shape[0]
    d_min = float(np.min(np.abs(separations_hz[np.triu_indices(n, 1)])))
    equal_spacing_sum = sum((n - d) / d**2 for d in range(1, n))
    return rabi_crosstalk_coefficient(n) * (rabi_hz / d_min) ** 2 * _pair_sum(separations_hz) / equal_spacing_sum


def comb_side_channel_infidelity(kappa_hz: float, separations_hz: np.ndarray) -> float:
    """Local decay and real exchange from comb tones on the wrong ensembles: 2 (kappa/2 Delta)^2 per pair."""
    d = np.abs(separations_hz[np.triu_indices(separations_hz.shape[0], 1)])
    return float(np.sum(2.0 * (kappa_hz / (2 * d)) ** 2))


def beat_infidelity(residuals: list[float]) -> float:
    """Unwanted time-dependent products: sum of squared residual couplings."""
    return float(sum(r**2 for r in residuals))


def deviations(realised: EffectiveModel, ideal: EffectiveModel, chi_decay: np.ndarray | None = None) -> dict[str, EffectiveModel]:
    """The ideal model with one group of realised terms switched in, keyed by error source.

    ``chi_decay`` is the anti-Hermitian part of J contributed by the chi tones alone (their
    off-resonant emission); the rest of the decay deviation is the comb's (side channels).
    """
    n = realised.n_ensembles
    upper = np.triu(np.ones((n, n)), 1)
    chi = realised.chi
    chiral = 0.5j * (chi - chi.T)  # i chi_kl / 2 above, -i chi_kl / 2 below
    nonchiral = realised.nonchiral + realised.nonchiral.T
    ideal_decay_part = ideal.couplings - ideal.hermitian
    realised_decay_part = realised.couplings - realised.hermitian
    chi_decay = np.zeros((n, n), complex) if chi_decay is None else chi_decay
    zero = np.zeros(n)
    return {
        "detuning_error": replace(ideal, programmed=realised.detunings, rabi_shifts=zero, raman_shifts=zero),
        "rabi_amplitude": replace(ideal, rabi=realised.rabi),
        "chi_nonuniform": replace(ideal, couplings=chiral * (upper + upper.T) + ideal_decay_part),
        "nonchiral_exchange": replace(ideal, couplings=ideal.couplings + nonchiral),
        "one_axis_twist": replace(ideal, couplings=ideal.couplings + np.diag(-realised.twist)),
        "comb_decay": replace(ideal, couplings=ideal.hermitian + realised_decay_part - chi_decay),
        "chi_tone_decay": replace(ideal, couplings=ideal.couplings + chi_decay),
        "rabi_dressing": replace(ideal, dephasing=realised.dephasing),
        "total_static": realised,
    }


def relative_size(model: EffectiveModel, ideal: EffectiveModel) -> float:
    """Largest deviation of the model from the ideal, relative to the largest ideal rate."""
    scale = max(np.max(np.abs(ideal.couplings)), np.max(np.abs(ideal.rabi)), np.max(np.abs(ideal.detunings)))
    return float(
        max(
            np.max(np.abs(model.couplings - ideal.couplings)),
            np.max(np.abs(model.rabi - ideal.rabi)),
            np.max(np.abs(model.detunings - ideal.detunings)),
            np.max(model.local_dephasing),
        )
        / scale
    )


def model_budget(
    realised: EffectiveModel, target: ModelParams, max_dimension: int = EXACT_DIMENSION, chi_decay: np.ndarray | None = None
) -> dict[str, dict]:
    """Infidelity of each static deviation (and of all together), exact or at a reduced spin."""
    n = target.n_ensembles
    spin = target.spin
    method = "exact"
    if (2 * spin + 1) ** n > max_dimension:
        fitting = [s / 2 for s in range(1, 200) if (s + 1) ** n <= max_dimension]
        if not fitting:
            ideal = ideal_model(target)
            return {
                source: {"infidelity": None, "relative_deviation": relative_size(model, ideal),
                         "method": f"not computed: 2^L > {max_dimension}; relative deviation only"}
                for source, model in deviations(realised, ideal, chi_decay).items()
            }
        spin = max(fitting)
        method = f"at reduced spin S' = {spin:g} (exact only for (2S+1)^L <= {max_dimension})"
    small_target = replace(target, spin=spin)
    psi = small_target.steady_state().vector
    ideal = ideal_model(small_target)
    out = {}
    for source, model in deviations(realised.with_spin(spin), ideal, chi_decay).items():
        out[source] = {"infidelity": infidelity(model, psi, unit=target.gamma), "method": method,
                       "relative_deviation": relative_size(model, ideal)}
    return out
