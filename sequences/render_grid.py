"""Step 1 of :func:`labctl.sequences.render_hdawg`: the common frequency grid of the looped segment.

A stabilise segment lasts 0.01-30 s, far beyond waveform memory, so it is played as one loop of
N samples (T = N / f_s; N a multiple of 16 and >= 32, the HDAWG's waveform granularity) repeated
``repeat(M)`` times. The loop is phase continuous only if every tone in it completes whole cycles
in T, i.e. sits on the grid f = n g, g = f_s / N. Every core loops the same N, so that the Raman
resonance conditions of hardware-mapping.md (omega_j' - omega_j = omega~_l - omega~_m: a difference
of Raman tones on one core against a difference of Rabi drives on another) stay exact integer
relations on the grid.

Snapping (integers on the grid):
* Rabi-chain tones: n = round(IF / g). Drive l's error e_l = n_l g - IF_l moves the frame of
  ensemble l, i.e. its detuning by 2 pi |e_l|: a frequency error of a Rabi tone *is* a detuning error.
* Raman tones: every static product of the plan between two different tones (the intended chi
  pairs, the Gamma comb's own products) links them. In each connected set the root (first tone)
  is placed so that its photon through its most sensitive ensemble l* (smallest |D + i kappa/2|)
  rounds to the grid -- D_root,l* then errs by at most g/2 whatever the drives' errors -- and the
  others follow k_j' = k_j + order x sideband x (n_l - n_m) along the links, so that each static
  product stays exactly static and each set keeps its free common phase. The root's photon error
  moves the photon detunings D_jl of its set alike and changes each coupling 1/(D + i kappa/2) by
  at most |err| / |D + i kappa/2| (a comb off resonance by err adds a real exchange Gamma err / kappa).

Anchors split the tolerance in halves: each drive must land within ``tolerance`` / 2 x Gamma / 2 pi
(its own detuning error), each root's photon within ``tolerance`` / 2 x min |D + i kappa/2| / (number
of sets) (a union bound over the sets that add up in one J_ml, whose self terms shift the detunings
too; sets far off the cavity, which no grid step can move enough, take only their worst case and
leave the rest of the bound to the others -- typically the Gamma comb). The search takes the smallest N (least memory) that satisfies every anchor; the effective
model of the snapped tones (:mod:`labctl.sequences.render`) then checks the whole result. Without
a tolerance (best effort) it takes the N that keeps the Raman anchors and minimises the worst drive
error, so that the couplings stay right and only the detunings carry the grid error. With
``trims`` (the default of render_hdawg), a tolerance that no loop meets falls back to that same loop:
the renderer then cancels the remaining drive errors with detuning trims (render_trim).

Bounds on N (:func:`loop_range`): memory; a grid step above 4 static tolerances of
:mod:`labctl.sequences.effective` (a product that is not exactly static must not look static); and
a grid step below epsilon_min / 4, the closest unwanted product of the plan, which snapping moves
by at most 4 g and must not make static. When memory cannot afford that, only: no two tones on one
line; every product is then an integer multiple of g off resonance, and the effective model of the
snapped tones (render.py, step 4) refuses any that became static or exceed the beat tolerance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from labctl.errors import RenderError
from labctl.sequences.effective import static_tolerance
from labctl.sequences.plan_types import HardwarePlan
from labctl.sequences.signal_chain import Tone

TWO_PI = 2 * np.pi
#: Waveform length granularity and minimum of the HDAWG (samples).
GRANULE = 16
MIN_SAMPLES = 32
_CHUNK = 1 << 16
#: Loops tried, cheapest first, when the drives need detuning trims (render_trim).
TRIM_CANDIDATES = 48


@dataclass(frozen=True)
class Grid:
    """The loop: N samples at f_s, tones on f = n f_s / N."""

    samples: int
    sample_rate_hz: float

    @property
    def spacing_hz(self) -> float:
        return self.sample_rate_hz / self.samples

    @property
    def loop_s(self) -> float:
        return self.samples / self.sample_rate_hz

    def bin(self, hz: float) -> int:
        return int(np.rint(hz / self.spacing_hz))


@dataclass(frozen=True)
class Anchor:
    """A frequency (Hz, AWG side) that must land within ``tolerance_hz`` of the grid: a drive's IF,
    or the photon of a linked set's root (``LinkedSet.photon_hz``); ``label`` names the tone and
    ``what`` says what its error moves (for messages)."""

    label: str
    hz: float
    tolerance_hz: float
    what: str
    kind: str  # "drive" or "raman"


@dataclass(frozen=True)
class LinkedSet:
    """Raman tones (indices into the plan's Raman tones, root first) linked by static products.
    The root's photon through ``ensemble`` (0-based; its smallest |D + i kappa/2|, ``reach_hz`` the
    smallest over the set) pins the set: ``photon_hz`` = order RF_root + sideband IF_ensemble is
    D_root,ensemble up to a constant, and snapping it (not RF_root) keeps that D within one
    rounding of the grid whatever the drives' errors."""

    members: tuple[int, ...]
    ensemble: int
    photon_hz: float
    reach_hz: float


@dataclass(frozen=True)
class Snap:
    """The grid and where every tone of the plan lands: ``rf_hz`` by label; ``phase_groups`` are
    the linked Raman sets (labels), each free in its common phase."""

    grid: Grid
    rf_hz: dict[str, float]
    phase_groups: tuple[tuple[str, ...], ...]
    drive_bins: tuple[int, ...] = ()
    lo_shift_hz: float = 0.0


def grid_error_hz(hz: float, samples: np.ndarray | int, sample_rate_hz: float) -> np.ndarray:
    """Signed distance (Hz) from ``hz`` to the nearest point of the grid of each loop length."""
    x = hz * np.asarray(samples, dtype=float) / sample_rate_hz
    return (np.rint(x) - x) * sample_rate_hz / np.asarray(samples, dtype=float)


def product_offsets(plan: HardwarePlan, raman: list[Tone], rf: np.ndarray | None = None,
                    drive: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """epsilon (Hz) of every Raman product (j', j) on every ensemble pair (m, l), indexed
    [j', j, m, l]: order (RF_j' - RF_j) - (f~_l - f~_m); and the static tolerance (effective.py).
    ``rf`` and ``drive`` (microwave, Hz) default to the plan's."""
    order = plan.hardware.raman.aom_order
    rf = np.array([t.rf_hz for t in raman]) if rf is None else np.asarray(rf)
    drive = np.asarray(plan.drive_hz) if drive is None else np.asarray(drive)
    eps = order * (rf[:, None] - rf[None, :])[:, :, None, None] - (drive[None, :] - drive[:, None])[None, None]
    return eps, static_tolerance(rf, drive)


def static_links(eps: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows (j', j, m, l), 0-based, of every static product between two different Raman tones."""
    static = np.abs(eps) <= tolerance
    diagonal = np.arange(eps.shape[0])
    static[diagonal, diagonal] = False
    return np.argwhere(static)


def closest_product_hz(eps: np.ndarray, tolerance: float) -> float:
    """Smallest |epsilon| (Hz) of a product that is not static."""
    off = np.abs(eps[np.abs(eps) > tolerance])
    return float(off.min()) if off.size else np.inf


def _linked_sets(plan: HardwarePlan, raman: list[Tone], links: np.ndarray) -> list[LinkedSet]:
    if not raman:
        return []
    graph = coo_matrix((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(len(raman), len(raman)))
    count, labels = connected_components(graph, directed=False)
    chain, cal, hw = plan.chain, plan.calibration, plan.hardware
    rf = np.array([t.rf_hz for t in raman])
    intermediate = np.array([chain.awg_hz("rabi", float(f)) for f in plan.drive_hz])
    photon = hw.raman.aom_order * rf[:, None] + hw.rabi.sideband * intermediate[None, :]  # D_jl - const
    reach = np.abs(photon + (cal.raman_carrier_hz - cal.cavity_resonance_hz + hw.rabi.lo_hz) + 0.5j * cal.kappa_hz)
    sets = []
    for c in range(count):
        members = tuple(int(j) for j in np.flatnonzero(labels == c))
        ensemble = int(np.argmin(reach[members[0]]))
        sets.append(LinkedSet(members, ensemble, float(photon[members[0], ensemble]), float(reach[list(members)].min())))
    return sets


def _anchors(plan: HardwarePlan, raman: list[Tone], sets: list[LinkedSet], tolerance: float,
             coarsest_hz: float) -> list[Anchor]:
    """Drive and Raman anchors (module docstring). The sets' photon errors add up, sum err_s / reach_s
    <= tolerance / 2: a set whose reach is so large that even the coarsest grid step (``coarsest_hz``)
    keeps it far inside takes at most (coarsest / 2) / reach; the rest is shared by the others."""
    chain = plan.chain
    gamma_hz = plan.params.gamma / TWO_PI
    labels = {t.ensembles[0]: t.label for t in plan.tones_with_role("rabi")}
    anchors = []
    for l, f in enumerate(plan.drive_hz, start=1):
        label = labels.get(l, f"drive {l}")
        anchors.append(Anchor(label, chain.awg_hz("rabi", float(f)), tolerance * gamma_hz / 2,
                              f"tone '{label}' (the detuning of ensemble {l})", "drive"))
    reach = np.array([linked.reach_hz for linked in sets])
    free = coarsest_hz / 2 < tolerance * reach / (2 * len(sets))  # never binding: worst case err = g / 2
    share = (tolerance / 2 - np.sum(coarsest_hz / 2 / reach[free])) / max(1, int(np.sum(~free)))
    for linked, unbound in zip(sets, free):
        root = raman[linked.members[0]]
        allowed = coarsest_hz / 2 if unbound else share * linked.reach_hz
        anchors.append(Anchor(root.label, linked.photon_hz, allowed,
                              f"the photon of tone '{root.label}' through ensemble {linked.ensemble + 1} (the photon "
                              f"detunings of {len(linked.members)} linked Raman tone(s))", "raman"))
    return anchors


def closest_tones_hz(plan: HardwarePlan) -> float:
    """Smallest distance (Hz) between two AWG frequencies of one chain."""
    gaps = [np.diff(np.unique([t.rf_hz for t in plan.tones if t.chain == chain])) for chain in ("rabi", "raman")]
    gaps = np.concatenate(gaps)
    return float(gaps.min()) if gaps.size else np.inf


def _samples_for(spacing_hz: float, fs: float) -> int:
    """Smallest loop (multiple of 16, >= 32) whose grid step is at most ``spacing_hz``."""
    if not np.isfinite(spacing_hz):
        return MIN_SAMPLES
    return max(MIN_SAMPLES, -(-int(np.ceil(fs / spacing_hz)) // GRANULE) * GRANULE)


def loop_range(plan: HardwarePlan, max_samples: int, closest_hz: float) -> tuple[int, int]:
    """Allowed loop lengths [N_min, N_max] (multiples of 16). N_max: memory, and a grid step above
    4 static tolerances. N_min: a grid step g <= epsilon_min / 4, since snapping moves a product's
    epsilon by at most 4 g (two tones of linked sets and two drives) and none may become static;
    when memory cannot afford it, only g <= half the closest two tones of a chain, so that no two
    tones share a line (the snapped products are then checked one by one, module docstring)."""
    fs = plan.hardware.awg.sample_rate_hz
    tones_hz = np.array([abs(t.rf_hz) for t in plan.tones] + list(plan.drive_hz))
    upper = min(max_samples, int(fs / (4 * static_tolerance(tones_hz)))) // GRANULE * GRANULE
    if upper < MIN_SAMPLES:
        raise RenderError(f"render: no loop fits: at most {max(max_samples, 0)} samples are left for the stabilise loop "
                          f"([awg] memory_samples = {plan.hardware.awg.memory_samples}); the HDAWG needs >= {MIN_SAMPLES}")
    lower = _samples_for(closest_hz / 4, fs)
    if lower > upper:
        lower = _samples_for(closest_tones_hz(plan) / 2, fs)
    if lower > upper:
        raise RenderError(
            f"render: the plan's closest unwanted tone product is {closest_hz:.4g} Hz off resonance and its closest "
            f"tones {closest_tones_hz(plan):.4g} Hz apart; a grid coarse enough to fit memory (loop <= {upper} samples, "
            f"grid >= {fs / upper:.4g} Hz) could merge them: a loop of >= {lower} samples is needed"
        )
    return lower, upper


def smallest_loop(anchors: list[Anchor], sample_rate_hz: float, lo: int, hi: int) -> int | None:
    """The smallest N in [lo, hi] (step 16) putting every anchor within its tolerance, or None."""
    ordered = sorted(anchors, key=lambda a: a.tolerance_hz)
    for start in range(lo, hi + 1, GRANULE * _CHUNK):
        keep = np.arange(start, min(start + GRANULE * _CHUNK, hi + 1), GRANULE, dtype=np.int64)
        for a in ordered:
            keep = keep[np.abs(grid_error_hz(a.hz, keep, sample_rate_hz)) <= a.tolerance_hz]
            if not keep.size:
                break
        if keep.size:
            return int(keep[0])
    return None


def best_loop(anchors: list[Anchor], sample_rate_hz: float, lo: int, hi: int) -> int:
    """The N in [lo, hi] minimising the worst drive error / tolerance among those that keep every
    Raman anchor within tolerance (couplings exact, detunings as good as memory allows); all
    anchors count alike when no N keeps the Raman ones."""
    hard = [a for a in anchors if a.kind == "raman"]
    for constrained in (True, False):
        soft = [a for a in anchors if a.kind == "drive"] if constrained else anchors
        best, best_ratio = None, np.inf
        for start in range(lo, hi + 1, GRANULE * _CHUNK):
            n = np.arange(start, min(start + GRANULE * _CHUNK, hi + 1), GRANULE, dtype=np.int64)
            worst = np.zeros(n.size)
            for a in soft:
                np.maximum(worst, np.abs(grid_error_hz(a.hz, n, sample_rate_hz)) / a.tolerance_hz, out=worst)
            if constrained:
                for a in hard:
                    worst[np.abs(grid_error_hz(a.hz, n, sample_rate_hz)) > a.tolerance_hz] = np.inf
            i = int(np.argmin(worst))
            if worst[i] < best_ratio:
                best, best_ratio = int(n[i]), float(worst[i])
        if best is not None:
            return best
    return lo


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted median of ``values`` (rows x k): the shift s minimising sum_k w_k |v_k - s|."""
    order = np.argsort(values, axis=1)
    v = np.take_along_axis(values, order, axis=1)
    w = np.cumsum(np.asarray(weights)[order], axis=1)
    index = np.argmax(w >= w[:, -1:] / 2, axis=1)
    return v[np.arange(len(v)), index]


def trim_loops(anchors: list[Anchor], weights: np.ndarray, sample_rate_hz: float, lo: int, hi: int, centre: bool,
               count: int, sideband: int = 1, affordable: float = 0.0) -> list[int]:
    """``count`` loops N in [lo, hi] that keep every Raman anchor, for detuning trims. A trim's
    shift e_k from nu_k away needs theta^2 = (Omega / nu)^2 = 2 |e| / nu and leaves out
    ~ theta^2 / 4 x e = e^2 / 2 nu (render_trim). Cost: sum_k w_k |e_k - s| (w_k = 1 / nu_k), with s
    the common shift a retuned LO provides (``centre``: the weighted median, which minimises it;
    else s = 0); loops whose e^2 / 2 nu exceeds a drive's tolerance are out. The count / 4 shortest
    loops costing at most ``affordable`` come first (least memory and rendering time), then the
    ``count`` cheapest.
    Falls back to :func:`best_loop` when no N keeps the anchors."""
    drives = [a for a in anchors if a.kind == "drive"]
    hard = [a for a in anchors if a.kind == "raman"]
    limits = np.array([a.tolerance_hz for a in drives])
    weights = np.asarray(weights)
    n = np.arange(lo, hi + 1, GRANULE, dtype=np.int64)
    cost = np.empty(n.size)
    for start in range(0, n.size, _CHUNK):
        part = n[start:start + _CHUNK]
        errors = np.stack([grid_error_hz(a.hz, part, sample_rate_hz) for a in drives], axis=1)
        shift = weighted_median(errors, weights) if centre else np.zeros(part.size)
        residual = errors - shift[:, None]
        chunk = np.sum(np.asarray(weights) * np.abs(residual), axis=1)
        chunk[np.any(weights * residual**2 / 2 > limits, axis=1)] = np.inf
        for a in hard:  # a root's photon follows the drives' common shift (the retuned LO), render.py
            chunk[np.abs(grid_error_hz(a.hz + sideband * shift, part, sample_rate_hz)) > a.tolerance_hz] = np.inf
        cost[start:start + part.size] = chunk
    finite = np.flatnonzero(np.isfinite(cost))
    if not finite.size:
        return [best_loop(anchors, sample_rate_hz, lo, hi)]
    shortest = finite[cost[finite] <= affordable][:count // 4]  # ascending N
    cheapest = finite[np.argsort(cost[finite], kind="stable")[:count]]
    return list(dict.fromkeys(int(k) for k in n[np.concatenate([shortest, cheapest])]))


def _refusal(anchors: list[Anchor], fs: float, lo: int, hi: int, tolerance: float) -> RenderError:
    samples = best_loop(anchors, fs, lo, hi)
    ratios = [(abs(float(grid_error_hz(a.hz, samples, fs))) / a.tolerance_hz, a) for a in anchors]
    ratio, worst = max(ratios, key=lambda r: r[0])
    error = float(grid_error_hz(worst.hz, samples, fs))
    return RenderError(
        f"render: no loop of {lo}..{hi} samples puts every tone on its grid within tolerance {tolerance:g}: "
        f"on the best, N = {samples} (grid {fs / samples:.6g} Hz), {worst.what} is {error:+.4g} Hz off, "
        f"{ratio:.3g} x its tolerance ({worst.tolerance_hz:.3g} Hz); a longer loop needs more waveform memory "
        "([awg] memory_samples), or detuning trims (render_hdawg(..., trims=True))"
    )


def snaps(plan: HardwarePlan, tolerance: float | None, max_samples: int, reference: float,
          samples: int | None = None, trim_weights: np.ndarray | None = None, affordable: float = 0.0):
    """Choose loops and put every tone of the plan on their grids (module docstring), best first.

    ``samples`` imposes the loop; else the smallest within ``tolerance`` (or with
    ``tolerance=None`` the best within memory, anchors weighted by the ``reference`` tolerance).
    With ``trim_weights`` (1 / trim offset per ensemble), when no loop meets the tolerance, the
    loops of :func:`trim_loops` follow one another (the shortest whose trims cost at most
    ``affordable``, then the cheapest), for a caller whose trims refuse one. Loops whose snapping
    makes an unwanted product static are skipped; RenderError when no loop is left to yield."""
    fs = plan.hardware.awg.sample_rate_hz
    raman = [t for t in plan.tones if t.chain == "raman"]
    eps, static = product_offsets(plan, raman) if raman else (np.zeros((0, 0, 0, 0)), 0.0)
    links = static_links(eps, static)
    sets = _linked_sets(plan, raman, links)
    centre = trim_weights if trim_weights is not None and plan.hardware.rabi.lo_resolution_hz > 0 else None
    lo, hi = loop_range(plan, max_samples, closest_product_hz(eps, static))
    anchors = _anchors(plan, raman, sets, reference if tolerance is None else tolerance, fs / lo)
    searched = [a for a in anchors if a.kind == "drive" or a.tolerance_hz < fs / lo / 2]  # the rest always holds
    if samples is None:
        chosen = best_loop(searched, fs, lo, hi) if tolerance is None else smallest_loop(searched, fs, lo, hi)
        candidates = [chosen] if chosen is not None else []
        if not candidates and trim_weights is not None:
            candidates = trim_loops(searched, trim_weights, fs, lo, hi, centre is not None, TRIM_CANDIDATES,
                                    plan.hardware.rabi.sideband, affordable)
        if not candidates:
            raise _refusal(searched, fs, lo, hi, tolerance)
    elif samples % GRANULE or not lo <= samples <= hi:
        raise RenderError(f"render: loop of {samples} samples: must be a multiple of {GRANULE} in [{lo}, {hi}]")
    else:
        candidates = [samples]
    yielded, first = False, None
    for n in candidates:
        snap, turned = _snap(plan, raman, links, sets, eps, static, Grid(n, fs), centre)
        if turned:
            first = first or (n, turned[0])
        else:
            yielded = True
            yield snap
    if yielded:  # the caller refused them all and says why
        return
    n, (jp, j, m, l) = first
    raise RenderError(
        f"render: on the grid of {n} samples ({fs / n:.4g} Hz; {len(candidates)} loop(s) tried) "
        f"the product of tones '{raman[jp].label}' x '{raman[j].label}' on ensembles ({m + 1}, {l + 1}), "
        f"{eps[jp, j, m, l]:+.4g} Hz off resonance in the plan, turns static: a finer grid (more memory) is needed"
    )


def _snap(plan: HardwarePlan, raman: list[Tone], links: np.ndarray, sets: list[LinkedSet], eps: np.ndarray,
          static: float, grid: Grid, centre: np.ndarray | None) -> tuple[Snap, list[tuple[int, int, int, int]]]:
    """Every tone on ``grid``; and the unwanted products the snapping made static (j', j, m, l).
    With ``centre`` (weights per drive), the Rabi LO moves the drives by the weighted median of
    their errors (in ``[rabi] lo_resolution_hz`` steps) and the Raman roots follow it."""
    rabi = plan.hardware.rabi
    intermediate = np.array([plan.chain.awg_hz("rabi", float(f)) for f in plan.drive_hz])
    drive_bins = np.rint(intermediate / grid.spacing_hz).astype(np.int64)
    lo_shift = 0.0
    if centre is not None:
        shift = float(weighted_median((drive_bins * grid.spacing_hz - intermediate)[None, :], centre)[0])
        lo_shift = rabi.lo_resolution_hz * round(-rabi.sideband * shift / rabi.lo_resolution_hz)  # IF += shift
    rf = {t.label: grid.bin(t.rf_hz) * grid.spacing_hz for t in plan.tones if t.chain == "rabi"}
    raman_bins = _raman_bins(plan, raman, links, sets, drive_bins, grid, lo_shift)
    rf.update({t.label: float(k) * grid.spacing_hz for t, k in zip(raman, raman_bins)})
    lines: dict[tuple[str, int], Tone] = {}
    for t in plan.tones:  # tones of one frequency (a drive and its pi/2 pulse) may share a line
        other = lines.setdefault((t.chain, grid.bin(rf[t.label])), t)
        if other.frequency_hz != t.frequency_hz:
            raise RenderError(f"render: tones '{other.label}' and '{t.label}' land on the same line of the "
                              f"{grid.samples}-sample grid ({grid.spacing_hz:.4g} Hz)")
    groups = tuple(tuple(raman[j].label for j in linked.members) for linked in sets)
    turned: list[tuple[int, int, int, int]] = []
    if raman:
        drives = np.array([plan.chain.physical_hz("rabi", k * grid.spacing_hz) + lo_shift for k in drive_bins])
        snapped, tolerance = product_offsets(plan, raman, raman_bins * grid.spacing_hz, drives)
        new = (np.abs(snapped) <= tolerance) & (np.abs(eps) > static)
        turned = [tuple(int(i) for i in row) for row in np.argwhere(new)]
    return Snap(grid, rf, groups, tuple(int(k) for k in drive_bins), lo_shift), turned


def _raman_bins(plan: HardwarePlan, raman: list[Tone], links: np.ndarray, sets: list[LinkedSet],
                drive_bins: np.ndarray, grid: Grid, lo_shift_hz: float = 0.0) -> np.ndarray:
    """Grid integers of the Raman tones: each root so that its photon rounds (LinkedSet) with the
    drives moved by ``lo_shift_hz`` (a retuned Rabi LO), the rest follow the links."""
    order, sideband = plan.hardware.raman.aom_order, plan.hardware.rabi.sideband
    step = order * sideband
    offsets = step * (drive_bins[links[:, 3]] - drive_bins[links[:, 2]])  # k_j' - k_j per link
    neighbours: dict[int, list[tuple[int, int]]] = {j: [] for j in range(len(raman))}
    for (jp, j, _, _), d in zip(links, offsets):
        neighbours[j].append((jp, int(d)))
        neighbours[jp].append((j, -int(d)))
    bins = np.zeros(len(raman), dtype=np.int64)
    for linked in sets:
        root = linked.members[0]
        bins[root] = order * (grid.bin(linked.photon_hz - lo_shift_hz) - sideband * drive_bins[linked.ensemble])
        queue, seen = deque([root]), {root}
        while queue:
            j = queue.popleft()
            for jp, d in neighbours[j]:
                if jp not in seen:
                    bins[jp] = bins[j] + d
                    seen.add(jp)
                    queue.append(jp)
    broken = [(raman[jp].label, raman[j].label) for (jp, j, _, _), d in zip(links, offsets) if bins[jp] - bins[j] != d]
    if broken:
        raise RenderError(f"render: the grid of {grid.samples} samples cannot keep the static products "
                          f"{broken[:3]} exact: their drive-frequency differences disagree on the grid")
    return bins
