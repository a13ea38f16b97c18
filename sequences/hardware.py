"""The hardware description: a versioned TOML file, validated once at load.

It holds what the apparatus *is* and what it must never exceed -- geometry, signal chains,
channels and limits. Calibrated numbers (transition frequencies, Rabi rate per volt, cavity
resonance and linewidth, couplings) live in the calibration record
(:mod:`labctl.sequences.calibration`), never here. All frequencies in the file are ordinary
frequencies in Hz (angular frequency / 2 pi); the example is ``examples/hardware.toml``.

Sections (units in brackets):

* ``[ensembles]`` ``count``, ``positions_m`` [m] along the cavity axis, ``zeeman_hz_per_t``
  [Hz/T] (differential Zeeman coefficient of the transition).
* ``[coil]`` the gradient coil: ``gradient_t_per_m_per_a`` [T/m/A] (nominal; the calibrated
  gradient map is the calibration record's), ``max_current_a`` [A], ``max_ramp_a_per_s`` [A/s],
  ``settle_time_s`` [s].

  The nominal frequency slope between ensembles, zeeman x gradient x (x_l - x_m) per ampere, is
  compared with the calibrated gradient map when planning: a disagreement beyond 25 % is noted
  (a wrong position, a mislabelled ensemble, or a stale calibration).
* ``[rabi]`` the microwave Rabi chain: an IQ mixer fed by two AWG channels ``awg_channels``
  (1-based HDAWG outputs), local oscillator ``lo_hz``, ``sideband`` (+1: microwave = LO + IF,
  -1: LO - IF), ``if_band_hz`` [min, max], ``max_amplitude_v`` (peak per channel),
  ``lo_resolution_hz`` (tuning step of the LO synthesizer; 0, the default: the LO stays at ``lo_hz``.
  Given, the renderer may move it by a fraction of its grid step to centre the drives on the grid).
* ``[raman]`` the Raman chain: one AWG channel ``awg_channel`` drives an AOM in diffraction
  order ``aom_order`` (+1 or -1: optical tone = carrier + order x RF) inside ``aom_band_hz``;
  ``excited_detuning_hz`` (delta_e / 2 pi), ``max_amplitude_v``, ``max_tones`` (tone budget),
  ``photon_detuning_hz`` (delta_c / 2 pi of the chi tones, 0 = choose automatically),
  ``bad_cavity_margin`` (sqrt(L) |c_gamma| <= margin x kappa/4), ``mirror_pairs``.
* ``[readout]`` ``pi2_duration_s``, ``readout_duration_s``, ``trigger_marker`` (AWG marker).
* ``[awg]`` ``device`` (HDAWG8 or HDAWG4), ``sample_rate_hz``, ``serial``, ``memory_samples``.
* ``[budget]`` ``infidelity`` (total error budget of a plan), ``beat_tolerance`` (largest
  accepted residual coupling of an unwanted tone product, relative), ``guard_band`` (beats
  closer than guard_band x the largest tone coupling are listed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labctl.errors import ConfigError
from labctl.sequences.schema import Field, check_header, check_unknown_sections, load_toml, read_section

SCHEMA = "labctl.hardware"
VERSION = 1

_ENSEMBLES = [
    Field("count", int, ge=2, doc="number of ensembles in the cavity"),
    Field("positions_m", float, items=float, length="count", unit="m", doc="positions along the cavity axis"),
    Field("zeeman_hz_per_t", unit="Hz/T", doc="differential Zeeman coefficient of the |down> -> |up> transition"),
]
_COIL = [
    Field("gradient_t_per_m_per_a", unit="T/m/A", doc="nominal field gradient per ampere along the cavity axis"),
    Field("max_current_a", unit="A", gt=0.0),
    Field("max_ramp_a_per_s", unit="A/s", gt=0.0),
    Field("settle_time_s", unit="s", ge=0.0, default=0.0),
]
_RABI = [
    Field("awg_channels", int, items=int, length=2, doc="I and Q AWG outputs (1-based)"),
    Field("lo_hz", unit="Hz", gt=0.0),
    Field("sideband", int, choices=(1, -1)),
    Field("if_band_hz", float, items=float, length=2, unit="Hz"),
    Field("max_amplitude_v", unit="V", gt=0.0),
    Field("lo_resolution_hz", unit="Hz", ge=0.0, default=0.0),
]
_RAMAN = [
    Field("awg_channel", int, ge=1),
    Field("aom_order", int, choices=(1, -1)),
    Field("aom_band_hz", float, items=float, length=2, unit="Hz"),
    Field("excited_detuning_hz", unit="Hz"),
    Field("max_amplitude_v", unit="V", gt=0.0),
    Field("max_tones", int, ge=1),
    Field("photon_detuning_hz", unit="Hz", default=0.0),
    Field("bad_cavity_margin", gt=0.0, le=1.0, default=0.2),
    Field("mirror_pairs", bool, default=False),
]
_READOUT = [
    Field("pi2_duration_s", unit="s", gt=0.0),
    Field("readout_duration_s", unit="s", gt=0.0),
    Field("trigger_marker", int, ge=1, default=1),
    Field("dark_time_s", unit="s", ge=0.0, default=1e-3),
]
_AWG = [
    Field("device", str, choices=("HDAWG8", "HDAWG4")),
    Field("sample_rate_hz", unit="Sa/s", gt=0.0, le=2.4e9),
    Field("serial", str, default="dev0000"),
    Field("memory_samples", int, ge=1024, default=64 * 2**20),
]
_BUDGET = [
    Field("infidelity", gt=0.0, le=0.5, default=1e-3),
    Field("beat_tolerance", gt=0.0, le=1.0, default=0.01),
    Field("guard_band", gt=1.0, default=100.0),
]
SECTIONS = ["ensembles", "coil", "rabi", "raman", "readout", "awg", "budget"]


@dataclass(frozen=True)
class Ensembles:
    count: int
    positions_m: tuple[float, ...]
    zeeman_hz_per_t: float


@dataclass(frozen=True)
class Coil:
    gradient_t_per_m_per_a: float
    max_current_a: float
    max_ramp_a_per_s: float
    settle_time_s: float


@dataclass(frozen=True)
class RabiChain:
    awg_channels: tuple[int, int]
    lo_hz: float
    sideband: int
    if_band_hz: tuple[float, float]
    max_amplitude_v: float
    lo_resolution_hz: float = 0.0


@dataclass(frozen=True)
class RamanChain:
    awg_channel: int
    aom_order: int
    aom_band_hz: tuple[float, float]
    excited_detuning_hz: float
    max_amplitude_v: float
    max_tones: int
    photon_detuning_hz: float
    bad_cavity_margin: float
    mirror_pairs: bool


@dataclass(frozen=True)
class Readout:
    pi2_duration_s: float
    readout_duration_s: float
    trigger_marker: int
    dark_time_s: float


@dataclass(frozen=True)
class Awg:
    device: str
    sample_rate_hz: float
    serial: str
    memory_samples: int

    @property
    def n_channels(self) -> int:
        return 8 if self.device == "HDAWG8" else 4


@dataclass(frozen=True)
class Budget:
    infidelity: float
    beat_tolerance: float
    guard_band: float


@dataclass(frozen=True)
class Hardware:
    """The validated hardware description (see the module docstring)."""

    name: str
    ensembles: Ensembles
    coil: Coil
    rabi: RabiChain
    raman: RamanChain
    readout: Readout
    awg: Awg
    budget: Budget
    source: str = "<dict>"

    @property
    def n_ensembles(self) -> int:
        return self.ensembles.count

    def nominal_slopes_hz_per_a(self) -> tuple[float, ...]:
        """zeeman x gradient x x_l: the nominal change of each transition per ampere (relative)."""
        factor = self.ensembles.zeeman_hz_per_t * self.coil.gradient_t_per_m_per_a
        return tuple(factor * x for x in self.ensembles.positions_m)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out: dict[str, Any] = {"schema": SCHEMA, "version": VERSION, "name": self.name}
        for section in SECTIONS:
            out[section] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(getattr(self, section)).items()}
        return out


def load_hardware(source: str | Path | dict[str, Any]) -> Hardware:
    """Read and validate a hardware description from a TOML file or a dict."""
    if isinstance(source, dict):
        data, where = source, "<dict>"
    else:
        data, where = load_toml(source, "hardware"), str(source)
    check_header(data, SCHEMA, VERSION, where)
    check_unknown_sections(data, SECTIONS, where)
    raw_count = data.get("ensembles", {}).get("count") if isinstance(data.get("ensembles"), dict) else None
    ens = read_section(data, "ensembles", _ENSEMBLES, where, {"count": raw_count})
    coil = read_section(data, "coil", _COIL, where)
    rabi = read_section(data, "rabi", _RABI, where)
    raman = read_section(data, "raman", _RAMAN, where)
    readout = read_section(data, "readout", _READOUT, where)
    awg = read_section(data, "awg", _AWG, where)
    budget = read_section(data, "budget", _BUDGET, where)
    hw = Hardware(
        name=str(data.get("name", "")),
        ensembles=Ensembles(ens["count"], tuple(ens["positions_m"]), ens["zeeman_hz_per_t"]),
        coil=Coil(**coil),
        rabi=RabiChain(**{**rabi, "awg_channels": tuple(rabi["awg_channels"]), "if_band_hz": tuple(rabi["if_band_hz"])}),
        raman=RamanChain(**{**raman, "aom_band_hz": tuple(raman["aom_band_hz"])}),
        readout=Readout(**readout),
        awg=Awg(**awg),
        budget=Budget(**budget),
        source=where,
    )
    _check_consistency(hw, where)
    return hw


def _check_consistency(hw: Hardware, where: str) -> None:
    """Cross-field rules that no single key can express."""
    n_channels = hw.awg.n_channels
    channels = [*hw.rabi.awg_channels, hw.raman.awg_channel]
    for ch in channels:
        if not 1 <= ch <= n_channels:
            raise ConfigError(f"{where}: AWG channel {ch} does not exist on an {hw.awg.device}: valid channels are 1..{n_channels}")
    if len(set(channels)) != len(channels):
        raise ConfigError(f"{where}: AWG channels {channels} are used twice: [rabi] awg_channels and [raman] awg_channel must differ")
    i, q = hw.rabi.awg_channels
    if (i - 1) // 2 != (q - 1) // 2:
        raise ConfigError(
            f"{where}: [rabi] awg_channels = [{i}, {q}] must be the two outputs of one AWG core "
            "(1-2, 3-4, 5-6 or 7-8): the SeqC compiler plays two channels per core"
        )
    for section, band in (("rabi", hw.rabi.if_band_hz), ("raman", hw.raman.aom_band_hz)):
        lo, hi = band
        if not 0 < lo < hi:
            raise ConfigError(f"{where}: [{section}] band {list(band)} must be [min, max] with 0 < min < max (Hz)")
        if hi >= hw.awg.sample_rate_hz / 2:
            raise ConfigError(
                f"{where}: [{section}] band up to {hi:g} Hz is above the Nyquist frequency "
                f"{hw.awg.sample_rate_hz / 2:g} Hz of the AWG's sample rate"
            )
    positions = hw.ensembles.positions_m
    if len(set(positions)) != len(positions):
        raise ConfigError(f"{where}: [ensembles] positions_m = {list(positions)}: two ensembles share a position")
