"""Step 2 of :func:`labctl.sequences.render_hdawg`: samples, edges, full scale and crest factor.

Every tone is rendered on its chain's AWG outputs by the convention of
:mod:`labctl.sequences.signal_chain` (sample 1 = the chain's ``max_amplitude_v``; Rabi
I + iQ = sum_j (V_j / A) e^{i 2 pi sideband IF_j t}, Raman x = sum_j Re[(V_j / A) e^{i 2 pi RF_j t}]),
as a *virtual oscillator*: sample k (counted from the first sample of the stabilise loop, on every
core) carries the phase 2 pi n_j k / N of grid bin n_j. Phases are reduced modulo N in integers,
so sample 10^10 is as exact as sample 1, and the pi/2 pulse after the dark time stays phase
locked to the drives it continues.

Edges: a segment's tones rise and fall with sin^2 ramps of ``edge`` samples; the ramps of the
stabilise loop lie outside it (before its first and after its last repetition), those of the pi/2
pulse straddle its nominal edges (half before, half after), which keeps its area exactly:
sum of a sin^2 ramp = edge / 2 (hardware-mapping.md's pi/2 area Omega t_pi2 = pi/2 is unchanged).

Quantisation: waveforms are handed over as the DAC's int16 codes (full scale 32767,
hardware-stack.md 1.7), rounded here once: the packer passes integer arrays through unchanged
(it would truncate floats), so the codes are exactly what plays. :func:`line_amplitudes` then
measures each loop tone's complex amplitude as played (exact grid bins: no leakage), and the
effective model is built from those, which catches tones only a few codes tall.

Crest factor: a sample beyond +-1 would wrap with a sign flip on the device, so every waveform is
checked. When the stabilise loop of a chain exceeds full scale, the free common phase of each
linked Raman set (render_grid: a chi pair, its mirror pair, the Gamma comb -- rotating one keeps
every static product c_j'^* c_j) is searched to lower its peak (:func:`crest_phases`). A long loop
visits most relative phases of its tones, so this gains a few per cent, not a factor.
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2 * np.pi
#: int16 code of full scale.
DAC_CODES = 32767
_BLOCK = 4096
_ROWS = 1024  # blocks per matrix product: 4 M samples of complex64 at a time
_CREST_SAMPLES = 8192
_CODE_CHUNK = 1 << 18
_CREST_TRIALS = 48


def edge_ramp(samples: int) -> np.ndarray:
    """Rising sin^2 ramp of ``samples`` samples (sums to samples / 2; reversed, the falling ramp)."""
    return np.sin(0.5 * np.pi * (np.arange(samples) + 0.5) / samples) ** 2


def pulse_window(flat: int, edge: int) -> np.ndarray:
    """Ramp up, ``flat`` samples at 1, ramp down: area flat + edge."""
    ramp = edge_ramp(edge)
    return np.concatenate([ramp, np.ones(flat), ramp[::-1]])


def unit_phasors(bins: np.ndarray, samples: np.ndarray, period: int) -> np.ndarray:
    """exp(2 pi i b k / N) for every bin b (rows) and sample index k (columns), exact modulo N."""
    b = np.asarray(bins, dtype=np.int64)[:, None] % period
    k = np.asarray(samples, dtype=np.int64)[None, :] % period
    return np.exp((TWO_PI / period) * 1j * ((b * k) % period))


def tone_signal(bins: np.ndarray, amplitudes: np.ndarray, period: int, start: int, length: int) -> np.ndarray:
    """z[k] = sum_j a_j exp(2 pi i b_j (start + k) / N) for k in [0, length), complex64.

    Block products: z[s_r + r] = sum_j (a_j e^{2 pi i b_j s_r / N}) e^{2 pi i b_j r / N}, one matrix
    product per row of blocks (cost length x tones, memory bounded by _ROWS x _BLOCK)."""
    out = np.zeros(length, dtype=np.complex64)
    if not len(bins):
        return out
    block = min(_BLOCK, length)
    inner = unit_phasors(bins, np.arange(block), period).astype(np.complex64)
    starts = start + np.arange(0, length, block, dtype=np.int64)
    for first in range(0, len(starts), _ROWS):
        rows = starts[first:first + _ROWS]
        outer = (unit_phasors(bins, rows, period) * np.asarray(amplitudes)[:, None]).T.astype(np.complex64)
        chunk = (outer @ inner).ravel()
        offset = first * block
        n = min(chunk.size, length - offset)
        out[offset:offset + n] = chunk[:n]
    return out


def dac_codes(values: np.ndarray) -> np.ndarray:
    """int16 DAC codes of samples given in units of full scale; |values| <= 1 must hold (checked by
    the caller, who can name the channel), else a code would wrap."""
    out = np.empty(len(values), dtype=np.int16)
    for start in range(0, len(values), _CODE_CHUNK):  # in cache-sized pieces: the loop can be 64 M samples
        chunk = values[start:start + _CODE_CHUNK] * np.float32(DAC_CODES)
        out[start:start + _CODE_CHUNK] = np.rint(chunk, out=chunk)
    return out


def line_amplitudes(real: np.ndarray, imag: np.ndarray | None, bins: np.ndarray, period: int) -> np.ndarray:
    """(1/N) sum_k (real_k + i imag_k) e^{-2 pi i b k / N} / 32767 for each bin b over one loop of N
    DAC codes: the complex amplitude (full scale 1) of each spectral line, exact bins of a periodic
    signal (no leakage). Block products in float32, 4 M samples at a time (cost N x bins)."""
    n = len(real)
    block = min(_BLOCK, n)
    rows = n // block
    outer = unit_phasors(-np.asarray(bins), np.arange(rows) * block, period)
    outer_re, outer_im = outer.real.astype(np.float32), outer.imag.astype(np.float32)
    inner = unit_phasors(-np.asarray(bins), np.arange(block), period)
    tail = unit_phasors(-np.asarray(bins), np.arange(rows * block, n), period)

    def project(x: np.ndarray) -> np.ndarray:
        folded = np.zeros((len(bins), block), dtype=complex)
        for first in range(0, rows, _ROWS):
            part = x[first * block:min(first + _ROWS, rows) * block].reshape(-1, block).astype(np.float32)
            folded += outer_re[:, first:first + _ROWS] @ part + 1j * (outer_im[:, first:first + _ROWS] @ part)
        return np.sum(folded * inner, axis=1) + tail @ x[rows * block:]

    total = project(real) if imag is None else project(real) + 1j * project(imag)
    return total / (n * DAC_CODES)


def peak(values: np.ndarray) -> float:
    """Largest |sample| of a real array (no temporaries; int16 codes fine)."""
    return float(max(np.max(values, initial=0.0), -np.min(values, initial=0.0)))


def peak_of(signal: np.ndarray, complex_outputs: bool) -> float:
    """Largest |sample| over the outputs a complex signal feeds (I and Q, or the real part)."""
    return max(peak(signal.real), peak(signal.imag) if complex_outputs else 0.0)


def crest_phases(bins: np.ndarray, amplitudes: np.ndarray, groups: list[np.ndarray], period: int,
                 complex_outputs: bool, rounds: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One phase per group (tone indices) lowering the loop's peak, and the loop they give.

    Cutting planes: the phases are searched (random draws, then a coordinate search per group)
    against the peak on a set of watched samples -- random ones plus the largest of every loop
    computed so far --, and the loop is recomputed in full until it fits or ``rounds`` run out."""
    rng = np.random.default_rng(seed)
    membership = np.zeros((len(groups), len(bins)))
    for g, members in enumerate(groups):
        membership[g, members] = 1.0
    best = np.zeros(len(groups))
    watched = rng.integers(0, period, _CREST_SAMPLES)
    for _ in range(rounds):
        loop = tone_signal(bins, amplitudes * np.exp(1j * (best @ membership)), period, 0, period)
        if peak_of(loop, complex_outputs) <= 1.0:
            break
        loudest = np.abs(loop.real) + (np.abs(loop.imag) if complex_outputs else 0.0)
        watched = np.union1d(watched, np.argpartition(loudest, -_CREST_SAMPLES)[-_CREST_SAMPLES:])
        phasors = unit_phasors(bins, watched, period)

        def peak_at(phases: np.ndarray) -> float:
            return peak_of((amplitudes * np.exp(1j * (phases @ membership))) @ phasors, complex_outputs)

        trials = [best] + [rng.uniform(0, TWO_PI, len(groups)) for _ in range(_CREST_TRIALS)]
        best = min(trials, key=peak_at)
        steps = TWO_PI * np.arange(1, 16) / 16
        for g in range(len(groups)):
            best = min([best] + [np.where(np.arange(len(groups)) == g, best + s, best) for s in steps], key=peak_at)
    else:
        loop = tone_signal(bins, amplitudes * np.exp(1j * (best @ membership)), period, 0, period)
    return best, loop
