"""Raman tones through the cavity: the Gamma comb and the chi pairs (passes 'comb' and 'chi').

Gamma comb (hardware-mapping.md): one tone per ensemble at omega_c - omega~_l, so that every
ensemble emits its photon at the cavity resonance, with coupling c_gamma / w_l and
Gamma = |c_gamma|^2 kappa / (Delta_gamma^2 + kappa^2/4) = 4 |c_gamma|^2 / kappa on resonance.
One tone in a gradient would give local, unequal decay instead. Bad-cavity limit:
sqrt(L) |c| <= margin x kappa/4.

chi pairs: ensemble pairs (k < l) are grouped by their drive-frequency difference
d = f~_l - f~_k (equal only for equally spaced drives, e.g. an affine detuning pattern on an
equally spaced chain: then one pair per distance); each group gets tones (omega_a, c e^{i phi})
and (omega_a - 2pi d, i s c e^{i phi}), s = sign(chi), which give J_kl = i s |c|^2 w_k w_l / (D + i kappa/2)
with D = omega_a + omega~_k - omega_c, i.e. chi_kl = 2 |c|^2 w_k w_l D / (D^2 + kappa^2/4).
|c| is set from the group's own photon detunings so that chi comes out right (on average over
the group's members); phi is a free phase chosen to lower the crest factor. Optional mirror
pairs at omega_a - 2D with relative phase -i s double chi and cancel the self terms.
Base frequencies are placed greedily, at the first offset (in fractions of the ensemble
spacing, never an integer number of spacings, which would make unintended static couplings)
where no new unwanted product of the tones exceeds the beat tolerance.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from labctl.errors import PlanError
from labctl.sequences.budget import SHARES
from labctl.sequences.effective import product_beats, static_tolerance
from labctl.sequences.gradient import min_separation
from labctl.sequences.plan_types import HardwarePlan
from labctl.sequences.signal_chain import Tone

TWO_PI = 2 * np.pi


def comb_pass(plan: HardwarePlan) -> HardwarePlan:
    """The Gamma comb for the plan's Gamma (rad/s)."""
    cal, hw, chain = plan.calibration, plan.hardware, plan.chain
    kappa_hz = cal.kappa_hz
    c_hz = np.sqrt(plan.params.gamma * TWO_PI * kappa_hz) / 2 / TWO_PI  # |c_gamma| / 2pi
    w = np.asarray(cal.relative_coupling)
    worst = np.sqrt(plan.n_ensembles) * c_hz / w.min()
    limit = hw.raman.bad_cavity_margin * kappa_hz / 4
    if worst > limit:
        raise PlanError(
            f"pass 'comb': sqrt(L) |c_gamma| / 2pi = {worst:.4g} Hz exceeds the bad-cavity limit "
            f"{hw.raman.bad_cavity_margin:g} x kappa/4 = {limit:.4g} Hz ([raman] bad_cavity_margin): "
            f"Gamma = {plan.params.gamma:.4g} rad/s is too fast for kappa/2pi = {kappa_hz:g} Hz"
        )
    tones = []
    for l, f in enumerate(plan.drive_hz, start=1):
        tone = chain.raman_tone("gamma_comb", f"comb {l}", cal.cavity_resonance_hz - float(f), c_hz / w[l - 1], (l,))
        chain.check_band(tone, "comb")
        tones.append(tone)
    others = tuple(t for t in plan.tones if t.role != "gamma_comb")
    return replace(plan, tones=others + tuple(tones))


def pair_groups(drive_hz: np.ndarray) -> list[tuple[float, list[tuple[int, int]]]]:
    """Ensemble pairs (k < l, 0-based) grouped by equal drive-frequency difference, |d| ascending."""
    tol = 10 * static_tolerance(drive_hz)
    groups: list[tuple[float, list[tuple[int, int]]]] = []
    n = len(drive_hz)
    for k in range(n):
        for l in range(k + 1, n):
            d = float(drive_hz[l] - drive_hz[k])
            for gd, members in groups:
                if abs(gd - d) <= tol:
                    members.append((k, l))
                    break
            else:
                groups.append((d, [(k, l)]))
    return sorted(groups, key=lambda g: abs(g[0]))


def photon_detuning(plan: HardwarePlan) -> float:
    """delta_c / 2pi (Hz) of the chi tones' photons for the first member of each group.

    Every chi tone also emits, through every other ensemble, at D = delta_c + (f~_m - f~_k),
    i.e. anywhere within the ensembles' frequency span of delta_c. Its dissipation
    G ~ chi kappa / (2 D) (the anti-Hermitian part of J, relative to the coherent chi) must stay
    within the chi-dissipation share of the budget for all of them, so
        delta_c >= span + max(3 kappa, kappa |chi| / (2 Gamma share eps)).
    A value given in the hardware file ([raman] photon_detuning_hz) must respect the same floor;
    a value already on the plan (raised by the planner's budget refinement) is kept.
    """
    if plan.photon_detuning_hz:
        return plan.photon_detuning_hz
    hw, cal, p = plan.hardware, plan.calibration, plan.params
    span = float(np.ptp(plan.drive_hz))
    n_tones = len(pair_groups(plan.drive_hz)) * (4 if hw.raman.mirror_pairs else 2)
    dissipation = n_tones * cal.kappa_hz * abs(p.chi) / (2 * p.gamma * SHARES["chi_dissipation"] * hw.budget.infidelity)
    floor = span + max(3 * cal.kappa_hz, dissipation)
    if hw.raman.photon_detuning_hz:
        if hw.raman.photon_detuning_hz < floor:
            raise PlanError(
                f"pass 'chi': [raman] photon_detuning_hz = {hw.raman.photon_detuning_hz:g} Hz is below the floor "
                f"{floor:.6g} Hz (ensemble span {span:.6g} Hz + dissipation margin {max(3 * cal.kappa_hz, dissipation):.6g} Hz)"
            )
        return hw.raman.photon_detuning_hz
    return floor


def _pair_tones(plan: HardwarePlan, g: int, d: float, members, f_a: float, phase: float):
    """The tones of group g with base frequency f_a (Hz), amplitude set for chi; mirrors if asked."""
    cal, hw, chain, p = plan.calibration, plan.hardware, plan.chain, plan.params
    kappa = TWO_PI * cal.kappa_hz
    w = np.asarray(cal.relative_coupling)
    drive, fc = plan.drive_hz, cal.cavity_resonance_hz
    detunings = np.array([TWO_PI * (f_a + drive[k] - fc) for k, _ in members])
    ww = np.array([w[k] * w[l] for k, l in members])
    response = 2 * ww * detunings / (detunings**2 + kappa**2 / 4)
    mirror_shift = 0.0
    if hw.raman.mirror_pairs:
        mirror_shift = 2 * detunings[0] / TWO_PI
        mirrored = detunings - TWO_PI * mirror_shift
        response = response - 2 * ww * mirrored / (mirrored**2 + kappa**2 / 4)
    c_hz = np.sqrt(abs(p.chi) / np.mean(response)) / TWO_PI
    s = 1.0 if p.chi >= 0 else -1.0
    ens = tuple(sorted({e + 1 for pair in members for e in pair}))
    rot = np.exp(1j * phase)
    name = f"chi {g + 1}"
    tones = [
        chain.raman_tone("chi_pair", f"{name}a", f_a, c_hz * rot, ens),
        chain.raman_tone("chi_pair", f"{name}b", f_a - d, 1j * s * c_hz * rot, ens),
    ]
    intended = {(f"{name}a", f"{name}b", k + 1, l + 1) for k, l in members}
    intended |= {(f"{name}b", f"{name}a", l + 1, k + 1) for k, l in members}
    if hw.raman.mirror_pairs:
        tones += [
            chain.raman_tone("chi_mirror", f"{name}a'", f_a - mirror_shift, c_hz * rot, ens),
            chain.raman_tone("chi_mirror", f"{name}b'", f_a - mirror_shift - d, -1j * s * c_hz * rot, ens),
        ]
        intended |= {(f"{name}a'", f"{name}b'", k + 1, l + 1) for k, l in members}
        intended |= {(f"{name}b'", f"{name}a'", l + 1, k + 1) for k, l in members}
    return tones, intended


def chi_pass(plan: HardwarePlan) -> HardwarePlan:
    """Tone pairs for the chiral exchange chi between every pair of ensembles."""
    others = tuple(t for t in plan.tones if t.role not in ("chi_pair", "chi_mirror"))
    if plan.params.chi == 0.0:
        return replace(plan, tones=others, intended=frozenset(), chi_offsets_hz=())
    cal = plan.calibration
    groups = pair_groups(plan.drive_hz)
    delta_c = photon_detuning(plan)
    spacing = min_separation(plan.drive_hz)
    reuse = len(plan.chi_offsets_hz) == len(groups)
    placed: list[Tone] = list(others)
    intended: set = set()
    offsets = []
    # every base at or above this keeps every chi photon >= delta_c above the comb's photons
    base = cal.cavity_resonance_hz + delta_c - float(np.min(plan.drive_hz))
    for g, (d, members) in enumerate(groups):
        phase = np.pi * g * (g + 1) / max(len(groups), 1)  # Newman-like phases lower the crest factor
        candidates = [plan.chi_offsets_hz[g]] if reuse else _free_offsets(plan, placed, g, d, members, base, phase, spacing)
        for x in candidates:
            tones, new_intended = _pair_tones(plan, g, d, members, base + x, phase)
            for t in tones:
                plan.chain.check_band(t, "chi")
            if reuse or not _blocked(plan, placed, tones, intended | new_intended):
                break
        else:
            pairs = ", ".join(f"({k + 1}, {l + 1})" for k, l in members)
            raise PlanError(
                f"pass 'chi': no base frequency within {len(candidates)} candidates keeps the tones for ensemble "
                f"pairs {pairs} (difference {d:.6g} Hz) clear of the other tones; the ensembles' drive-frequency "
                "differences are too close to each other -- unequal ensemble positions (per-ensemble Zeeman offsets) "
                "or larger detuning contrasts separate them"
            )
        placed += tones
        intended |= new_intended
        offsets.append(x)
    return replace(plan, tones=tuple(placed), intended=frozenset(intended), chi_offsets_hz=tuple(offsets),
                   photon_detuning_hz=delta_c)


def _free_offsets(plan: HardwarePlan, placed: list[Tone], g: int, d: float, members, base: float, phase: float,
                  spacing: float, n_candidates: int = 64) -> list[float]:
    """Candidate base offsets x >= 0 for group g, nearest first, outside every forbidden interval.

    Each new tone sits at sigma x + const (sigma = +1 for a pair, -1 for its mirror). A product
    of tones p, q on ensembles (m, l) beats at (f_p - f_q) - (f~_l - f~_m); it is harmless when
    that exceeds w = |J_pq| / beat_tolerance. So x must avoid, for every placed tone q and every
    ensemble difference, an interval of half-width w/|sigma| -- likewise for products of two new
    tones moving in opposite directions. Offsets sit on a lattice of spacing / (4 n_groups), so
    the tones of different groups never crowd each other. The exact check (:func:`_blocked`) has
    the last word.
    """
    tol = plan.hardware.budget.beat_tolerance
    kappa = plan.calibration.kappa_hz
    w2 = max(plan.calibration.relative_coupling) ** 2
    drive = np.asarray(plan.drive_hz)
    diffs = np.unique((drive[None, :] - drive[:, None]).ravel())
    probe, _ = _pair_tones(plan, g, d, members, base, phase)
    sigma = np.array([1.0 if t.role == "chi_pair" else -1.0 for t in probe])
    const = np.array([t.frequency_hz for t in probe])  # positions at x = 0
    amp = np.array([abs(t.coupling_hz) for t in probe]) * 1.5  # |c| grows as sqrt(D) with x
    d_min = max(float(np.min(np.abs(const[:, None] + drive[None, :] - plan.calibration.cavity_resonance_hz))), kappa)
    lows, highs = [], []
    if placed:
        f_q = np.array([t.frequency_hz for t in placed])
        c_q = np.array([abs(t.coupling_hz) for t in placed])
        for s_p, f_p, a_p in zip(sigma, const, amp):
            width = a_p * c_q * w2 / d_min / tol  # (q,)
            centre = (f_q[:, None] + diffs[None, :] - f_p) / s_p  # (q, differences)
            lows.append((centre - width[:, None]).ravel())
            highs.append((centre + width[:, None]).ravel())
    for i in range(len(probe)):
        for j in range(len(probe)):
            ds = sigma[i] - sigma[j]
            if ds > 0:  # the two new tones move apart: their difference sweeps the ensemble differences
                width = amp[i] * amp[j] * w2 / d_min / tol
                centre = (const[j] - const[i] + diffs) / ds
                lows.append(centre - width / ds)
                highs.append(centre + width / ds)
    # offsets on a lattice of spacing / (4 n_groups): distinct groups' tones stay that far apart
    step = spacing / (4 * max(len(pair_groups(drive)), 1))
    lo = np.concatenate(lows) if lows else np.zeros(0)
    hi = np.concatenate(highs) if highs else np.zeros(0)
    candidates, m = [], 0
    while len(candidates) < n_candidates:
        x = m * step
        inside = (lo <= x) & (x <= hi)
        if inside.any():
            m = int(np.floor(np.max(hi[inside]) / step)) + 1
            continue
        candidates.append(x)
        m += 1
    return candidates


def _blocked(plan: HardwarePlan, placed: list[Tone], new: list[Tone], intended: set) -> bool:
    """True if the new tones make an unwanted product with residual above the beat tolerance."""
    beats = product_beats(plan.chain, plan.drive_hz, placed + new, len(placed), intended, plan.hardware.budget.guard_band)
    return any(b.residual > plan.hardware.budget.beat_tolerance for b in beats)
