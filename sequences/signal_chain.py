"""Tones and the signal chains that carry them from AWG outputs to the atoms -- in one place.

A :class:`Tone` is what the plan asks for: a physical frequency (the microwave frequency of a
Rabi tone, or the optical frequency of a Raman tone) and the complex amplitude the AWG plays at
the matching RF frequency. :class:`SignalChain` converts in both directions:

Rabi chain (IQ mixer, ``[rabi]`` of the hardware file):
    microwave frequency  nu = LO + sideband x IF
    Rabi frequency on ensemble m:  Omega_m / 2 pi = r_m x V      (r_m = calibration rabi_hz_per_v[m])
    A tone of complex amplitude V = |V| e^{i phi} gives (Omega/2) S^+ + h.c. with Omega = 2 pi r |V| e^{i phi},
    i.e. Re(Omega) S^x - Im(Omega) S^y in the frame of the tone.

Raman chain (AOM, ``[raman]``):
    optical frequency  omega_j / 2 pi = carrier + order x RF
    laser Rabi frequency Omega'_j / 2 pi = r_R x |V|, with the RF phase for order +1 and its
    conjugate for order -1 (the -1 order carries e^{-i phi});
    cavity-assisted coupling (App. G, hardware-mapping.md) c_j = -Omega'_j G_1 / delta_e, and
    ensemble l couples with w_l c_j, w_l = G_l / G_1.

All of this is in Hz (c_j / 2 pi) at the interface; :mod:`labctl.sequences.effective` works in rad/s.

AWG samples (what :mod:`labctl.sequences.render` plays), full scale A = the chain's ``max_amplitude_v``
(sample value +-1 <-> +-A volts peak at the AWG output):
    Rabi, IQ pair (I, Q) = ``[rabi] awg_channels``; the mixer emits Re[(I + iQ) e^{i omega_LO t}], so
        I + iQ = sum_j (V_j / A) exp(i 2 pi sideband IF_j t)
    puts tone j at LO + sideband x IF_j with microwave phase arg V_j (baseband sign = sideband).
    Raman, one channel ``[raman] awg_channel``:  x = sum_j Re[(V_j / A) exp(i 2 pi RF_j t)].
:meth:`SignalChain.awg_hz` / :meth:`SignalChain.physical_hz` convert frequencies both ways,
:meth:`SignalChain.awg_tone` builds the tone an AWG amplitude and frequency produce (the inverse of
the tone constructors, e.g. for tones measured on rendered waveforms), :meth:`SignalChain.retuned`
moves a tone to another AWG frequency and :meth:`SignalChain.with_awg_phase` rotates its AWG
amplitude (the physical phase follows, conjugated on the -1 order).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from labctl.errors import PlanError
from labctl.sequences.calibration import Calibration
from labctl.sequences.hardware import Hardware

#: What a tone is for.
ROLES = ("rabi", "gamma_comb", "chi_pair", "chi_mirror", "pi2", "trim")


@dataclass(frozen=True)
class Tone:
    """One tone of a plan.

    ``frequency_hz``: microwave (chain "rabi") or optical (chain "raman") frequency;
    ``rf_hz``: the frequency the AWG plays (IF or AOM RF); ``volts``: complex amplitude (peak V
    and phase) at the AWG output; ``coupling_hz``: the physical amplitude it produces -- Rabi
    Omega/2pi on the ensemble it is meant for, or the Raman coupling c_j/2pi; ``ensembles``:
    the ensembles (1-based) it serves; ``label``: a name for reports, e.g. "chi 1-3 b".
    """

    role: str
    chain: str
    label: str
    frequency_hz: float
    rf_hz: float
    volts: complex
    coupling_hz: complex
    ensembles: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {
            "role": self.role,
            "chain": self.chain,
            "label": self.label,
            "frequency_hz": self.frequency_hz,
            "rf_hz": self.rf_hz,
            "volts": [self.volts.real, self.volts.imag],
            "coupling_hz": [self.coupling_hz.real, self.coupling_hz.imag],
            "ensembles": list(self.ensembles),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Tone:
        return cls(
            role=d["role"],
            chain=d["chain"],
            label=d["label"],
            frequency_hz=float(d["frequency_hz"]),
            rf_hz=float(d["rf_hz"]),
            volts=complex(*d["volts"]),
            coupling_hz=complex(*d["coupling_hz"]),
            ensembles=tuple(d["ensembles"]),
        )


@dataclass(frozen=True)
class SignalChain:
    """Conversions between physical tones and AWG tones for one hardware + calibration."""

    hardware: Hardware
    calibration: Calibration

    # -- Rabi (microwave) chain -------------------------------------------------------------
    def rabi_tone(self, role: str, label: str, frequency_hz: float, rabi_hz: complex, ensemble: int) -> Tone:
        """A microwave tone at ``frequency_hz`` giving Rabi frequency ``rabi_hz`` on ``ensemble`` (1-based)."""
        rf = self.awg_hz("rabi", frequency_hz)
        volts = complex(rabi_hz) / self.calibration.rabi_hz_per_v[ensemble - 1]
        return Tone(role, "rabi", label, frequency_hz, rf, volts, complex(rabi_hz), (ensemble,))

    def rabi_on(self, tone: Tone, ensemble: int) -> complex:
        """Omega/2pi that a Rabi-chain tone produces on ``ensemble`` (1-based): r_m V."""
        return self.calibration.rabi_hz_per_v[ensemble - 1] * tone.volts

    # -- Raman (optical) chain --------------------------------------------------------------
    def raman_tone(self, role: str, label: str, frequency_hz: float, coupling_hz: complex, ensembles: tuple[int, ...]) -> Tone:
        """An optical tone at ``frequency_hz`` with cavity-assisted coupling c_j/2pi = ``coupling_hz``."""
        chain, cal = self.hardware.raman, self.calibration
        rf = self.awg_hz("raman", frequency_hz)
        laser_rabi = -complex(coupling_hz) * chain.excited_detuning_hz / cal.coupling_hz[0]  # Omega'/2pi, optical phase
        volts = laser_rabi / cal.raman_rabi_hz_per_v
        if chain.aom_order == -1:
            volts = volts.conjugate()
        return Tone(role, "raman", label, frequency_hz, rf, volts, complex(coupling_hz), ensembles)

    def raman_coupling(self, tone: Tone) -> complex:
        """c_j/2pi of a Raman-chain tone from its AWG amplitude (inverse of :meth:`raman_tone`)."""
        chain, cal = self.hardware.raman, self.calibration
        volts = tone.volts if chain.aom_order == 1 else tone.volts.conjugate()
        return -volts * cal.raman_rabi_hz_per_v * cal.coupling_hz[0] / chain.excited_detuning_hz

    def with_phase(self, tone: Tone, phase: float) -> Tone:
        """The same tone with its complex amplitude multiplied by e^{i phase} (physical phase)."""
        factor = np.exp(1j * phase)
        electrical = factor if (tone.chain == "rabi" or self.hardware.raman.aom_order == 1) else factor.conjugate()
        return replace(tone, volts=tone.volts * electrical, coupling_hz=tone.coupling_hz * factor)

    def with_awg_phase(self, tone: Tone, phase: float) -> Tone:
        """The same tone with its AWG amplitude multiplied by e^{i phase} (the physical phase moves by
        ``phase``, or by -``phase`` on the Raman chain's -1 order)."""
        flip = tone.chain == "raman" and self.hardware.raman.aom_order == -1
        return self.with_phase(tone, -phase if flip else phase)

    def check_band(self, tone: Tone, pass_name: str) -> None:
        """Refuse a tone whose RF frequency leaves its chain's band."""
        lo, hi = self.hardware.rabi.if_band_hz if tone.chain == "rabi" else self.hardware.raman.aom_band_hz
        key = "[rabi] if_band_hz" if tone.chain == "rabi" else "[raman] aom_band_hz"
        if not lo <= tone.rf_hz <= hi:
            raise PlanError(
                f"pass '{pass_name}': tone '{tone.label}' needs {tone.rf_hz / 1e6:.6f} MHz at the AWG, "
                f"outside the hardware band {key} = [{lo / 1e6:g}, {hi / 1e6:g}] MHz"
            )

    # -- the AWG side: frequencies, outputs, full scale ------------------------------------
    def awg_hz(self, chain: str, frequency_hz: float) -> float:
        """AWG frequency of a physical tone: IF = sideband (nu - LO) or RF = (omega/2pi - carrier) / order."""
        if chain == "rabi":
            return self.hardware.rabi.sideband * (frequency_hz - self.hardware.rabi.lo_hz)
        return (frequency_hz - self.calibration.raman_carrier_hz) / self.hardware.raman.aom_order

    def physical_hz(self, chain: str, rf_hz: float) -> float:
        """Physical frequency of an AWG tone: LO + sideband x IF (rabi) or carrier + order x RF (raman)."""
        if chain == "rabi":
            return self.hardware.rabi.lo_hz + self.hardware.rabi.sideband * rf_hz
        return self.calibration.raman_carrier_hz + self.hardware.raman.aom_order * rf_hz

    def baseband_sign(self, chain: str) -> int:
        """Sign of a tone's frequency in the complex AWG signal (module docstring): sideband or +1."""
        return self.hardware.rabi.sideband if chain == "rabi" else 1

    def awg_outputs(self, chain: str) -> tuple[int, ...]:
        """The 1-based AWG outputs of a chain: (I, Q) for "rabi", (channel,) for "raman"."""
        return tuple(self.hardware.rabi.awg_channels) if chain == "rabi" else (self.hardware.raman.awg_channel,)

    def full_scale_v(self, chain: str) -> float:
        """Volts (peak) of sample value 1: the chain's ``max_amplitude_v``."""
        return self.hardware.rabi.max_amplitude_v if chain == "rabi" else self.hardware.raman.max_amplitude_v

    def retuned(self, tone: Tone, rf_hz: float) -> Tone:
        """The same tone (amplitude, phase, role) played at AWG frequency ``rf_hz``."""
        return replace(tone, rf_hz=float(rf_hz), frequency_hz=self.physical_hz(tone.chain, rf_hz))

    def awg_tone(self, chain: str, rf_hz: float, volts: complex, role: str, label: str,
                 ensembles: tuple[int, ...] = ()) -> Tone:
        """The tone an AWG plays at ``rf_hz`` with complex amplitude ``volts``; a Rabi tone's coupling
        is its Rabi frequency on ``ensembles[0]``, so Rabi tones need one."""
        tone = Tone(role, chain, label, self.physical_hz(chain, rf_hz), float(rf_hz), complex(volts), 0j, tuple(ensembles))
        if chain == "raman":
            return replace(tone, coupling_hz=self.raman_coupling(tone))
        if not ensembles:
            raise ValueError("a Rabi-chain tone needs the ensemble whose Rabi frequency it reports")
        return replace(tone, coupling_hz=self.rabi_on(tone, ensembles[0]))
