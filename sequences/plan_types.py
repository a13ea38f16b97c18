"""The data model every planning pass works on: :class:`HardwarePlan` and :class:`Segment`.

A plan is immutable; each pass returns a new plan with its fields filled in
(``dataclasses.replace``). Frequencies are in Hz, rates of the model in rad/s (``params``),
times in s, currents in A, amplitudes in V.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from labctl.sequences.calibration import Calibration
from labctl.sequences.effective import Beat, EffectiveModel, realised_model
from labctl.sequences.hardware import Hardware
from labctl.sequences.params import ModelParams
from labctl.sequences.signal_chain import SignalChain, Tone

#: Segment names in playing order.
SEGMENTS = ("ramp", "stabilise", "interrogate", "pi2", "readout")


@dataclass(frozen=True)
class Segment:
    """One step of the sequence: which tones play (by label), for how long, and extras.

    ``phases`` are per-ensemble phases (rad) of the pi/2 pulse; ``marker`` raises the AWG
    trigger marker (readout).
    """

    name: str
    start_s: float
    duration_s: float
    tones: tuple[str, ...] = ()
    phases: tuple[float, ...] = ()
    marker: bool = False

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "start_s": self.start_s,
            "duration_s": self.duration_s,
            "tones": list(self.tones),
            "phases": list(self.phases),
            "marker": self.marker,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Segment:
        return cls(d["name"], d["start_s"], d["duration_s"], tuple(d["tones"]), tuple(d["phases"]), d["marker"])


@dataclass(frozen=True, eq=False)
class HardwarePlan:
    """Everything needed to realise a target on the apparatus (see :func:`labctl.sequences.plan`).

    ``programmed`` are the detunings delta_l^prog (rad/s) set by the drive frequencies
    f~_l = f_0,l - delta_l^prog / 2pi, after every shift has been compensated; ``intended``
    names the static tone products the chi pass built on purpose; ``budget`` maps each error
    source to its predicted infidelity.
    """

    params: ModelParams
    hardware: Hardware
    calibration: Calibration
    coil_current_a: float = 0.0
    coil_ramp_s: float = 0.0
    atom_hz: tuple[float, ...] = ()
    gradient: dict = field(default_factory=dict)
    programmed: tuple[float, ...] = ()
    photon_detuning_hz: float = 0.0
    separation_factor: float = 1.0
    chi_offsets_hz: tuple[float, ...] = ()
    tones: tuple[Tone, ...] = ()
    intended: frozenset = frozenset()
    beats: tuple[Beat, ...] = ()
    segments: tuple[Segment, ...] = ()
    budget: dict = field(default_factory=dict)
    known_phases_rad: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()

    @cached_property
    def chain(self) -> SignalChain:
        return SignalChain(self.hardware, self.calibration)

    @property
    def n_ensembles(self) -> int:
        return self.params.n_ensembles

    @property
    def drive_hz(self) -> np.ndarray:
        """Drive (Rabi-tone) frequencies f~_l = f_0,l - delta_l^prog / 2pi."""
        return np.asarray(self.atom_hz) - np.asarray(self.programmed) / (2 * np.pi)

    def tones_with_role(self, *roles: str) -> list[Tone]:
        return [t for t in self.tones if t.role in roles]

    def stabilisation_tones(self) -> list[Tone]:
        return self.tones_with_role("rabi", "gamma_comb", "chi_pair", "chi_mirror")

    def realised(self, tones: list[Tone] | None = None) -> tuple[EffectiveModel, list[Beat]]:
        """Effective model and beats of ``tones`` (default: the stabilisation tones)."""
        return realised_model(
            self.params.spin,
            self.chain,
            self.drive_hz,
            np.asarray(self.atom_hz),
            self.stabilisation_tones() if tones is None else tones,
            set(self.intended),
            self.hardware.budget.guard_band,
        )

    def realised_from(self, tones: list[Tone]) -> EffectiveModel:
        return self.realised(tones)[0]

    def effective_model(self) -> EffectiveModel:
        """What the stabilisation tones realise (rules of hardware-mapping.md), in rad/s."""
        return self.realised()[0]

    def exact_budget(self, max_dimension: int = 1024) -> dict:
        """The error budget with the exact effective-model steady states up to (2S+1)^L =
        ``max_dimension`` (the planning pass stops at 36 to stay interactive; 256 takes seconds
        to a minute per source)."""
        from labctl.sequences.checks import compute_budget

        return compute_budget(self, max_dimension)

    def to_dict(self) -> dict:
        """Versioned JSON-ready form (see :mod:`labctl.sequences.plan`)."""
        from labctl.sequences.plan import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> HardwarePlan:
        from labctl.sequences.plan import from_dict

        return from_dict(data)

    def plot(self, path=None):
        """Tones on frequency axes (by role) and segments on a time axis; PNG when ``path`` is given."""
        from labctl.sequences.drawing import plot_plan

        return plot_plan(self, path)

    def tone(self, label: str) -> Tone:
        for t in self.tones:
            if t.label == label:
                return t
        raise KeyError(label)
