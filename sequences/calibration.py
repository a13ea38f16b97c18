"""The calibration record: the measured numbers a plan needs, in a versioned TOML file.

Written by the calibration fits (:mod:`labctl.analysis.calibration`) and, later, owned by the
calibration store. All frequencies are ordinary frequencies in Hz (angular / 2 pi).

* ``[ensembles]`` per ensemble l (lists of length L):
  ``transition_hz_at_zero_current`` and ``transition_hz_per_a`` -- the gradient map
  f_l(I) = f_l(0) + k_l I of the |down> -> |up> transition; ``rabi_hz_per_v`` -- Rabi frequency
  Omega_l / 2 pi per volt of Rabi-tone amplitude at the IQ mixer; ``atoms`` -- atom number N_l.
* ``[cavity]`` ``resonance_hz`` (optical omega_c / 2 pi), ``kappa_hz`` (FWHM kappa / 2 pi),
  ``coupling_hz`` per ensemble (single-atom vacuum coupling G_l / 2 pi; the relative cavity
  couplings w_l = G_l / G_1).
* ``[raman]`` ``carrier_hz`` (laser carrier before the AOM), ``rabi_hz_per_v`` (Omega' / 2 pi
  of the |up> -> |e> Raman beam per volt at the AOM driver input, small-signal).

Top-level keys: ``schema = "labctl.calibration"``, ``version = 1``, ``hardware`` (the hardware
name it belongs to), ``created`` (ISO 8601 time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labctl.errors import ConfigError
from labctl.sequences.schema import Field, check_header, check_unknown_sections, load_toml, read_section

SCHEMA = "labctl.calibration"
VERSION = 1

_ENSEMBLES = [
    Field("transition_hz_at_zero_current", float, items=float, length="count", unit="Hz"),
    Field("transition_hz_per_a", float, items=float, length="count", unit="Hz/A"),
    Field("rabi_hz_per_v", float, items=float, length="count", unit="Hz/V", gt=0.0),
    Field("atoms", int, items=int, length="count", default=None),
]
_CAVITY = [
    Field("resonance_hz", unit="Hz", gt=0.0),
    Field("kappa_hz", unit="Hz", gt=0.0),
    Field("coupling_hz", float, items=float, length="count", unit="Hz", gt=0.0),
]
_RAMAN = [
    Field("carrier_hz", unit="Hz", gt=0.0),
    Field("rabi_hz_per_v", unit="Hz/V", gt=0.0),
]
SECTIONS = ["ensembles", "cavity", "raman"]


@dataclass(frozen=True)
class Calibration:
    """Validated calibration record (see the module docstring)."""

    hardware: str
    created: str
    transition_hz_at_zero_current: tuple[float, ...]
    transition_hz_per_a: tuple[float, ...]
    rabi_hz_per_v: tuple[float, ...]
    atoms: tuple[int, ...] | None
    cavity_resonance_hz: float
    kappa_hz: float
    coupling_hz: tuple[float, ...]
    raman_carrier_hz: float
    raman_rabi_hz_per_v: float
    source: str = "<dict>"

    @property
    def n_ensembles(self) -> int:
        return len(self.transition_hz_at_zero_current)

    def transition_hz(self, current_a: float) -> tuple[float, ...]:
        """f_l(I) = f_l(0) + k_l I for every ensemble."""
        return tuple(f0 + k * current_a for f0, k in zip(self.transition_hz_at_zero_current, self.transition_hz_per_a))

    @property
    def relative_coupling(self) -> tuple[float, ...]:
        """w_l = G_l / G_1."""
        return tuple(g / self.coupling_hz[0] for g in self.coupling_hz)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {
            "schema": SCHEMA,
            "version": VERSION,
            "hardware": d["hardware"],
            "created": d["created"],
            "ensembles": {
                "transition_hz_at_zero_current": list(self.transition_hz_at_zero_current),
                "transition_hz_per_a": list(self.transition_hz_per_a),
                "rabi_hz_per_v": list(self.rabi_hz_per_v),
                **({"atoms": list(self.atoms)} if self.atoms is not None else {}),
            },
            "cavity": {"resonance_hz": self.cavity_resonance_hz, "kappa_hz": self.kappa_hz, "coupling_hz": list(self.coupling_hz)},
            "raman": {"carrier_hz": self.raman_carrier_hz, "rabi_hz_per_v": self.raman_rabi_hz_per_v},
        }


def load_calibration(source: str | Path | dict[str, Any], n_ensembles: int | None = None) -> Calibration:
    """Read and validate a calibration record (TOML file or dict).

    ``n_ensembles`` (from the hardware description) fixes the length of the per-ensemble lists.
    """
    if isinstance(source, dict):
        data, where = source, "<dict>"
    else:
        data, where = load_toml(source, "calibration"), str(source)
    check_header(data, SCHEMA, VERSION, where)
    check_unknown_sections(data, [*SECTIONS, "hardware", "created"], where)
    if n_ensembles is None:
        first = data.get("ensembles", {}).get("transition_hz_at_zero_current")
        n_ensembles = len(first) if isinstance(first, list) else None
    context = {"count": n_ensembles}
    ens = read_section(data, "ensembles", _ENSEMBLES, where, context)
    cav = read_section(data, "cavity", _CAVITY, where, context)
    ram = read_section(data, "raman", _RAMAN, where)
    if not isinstance(data.get("hardware", ""), str) or not isinstance(data.get("created", ""), str):
        raise ConfigError(f"{where}: keys 'hardware' and 'created' must be strings")
    return Calibration(
        hardware=data.get("hardware", ""),
        created=data.get("created", ""),
        transition_hz_at_zero_current=tuple(ens["transition_hz_at_zero_current"]),
        transition_hz_per_a=tuple(ens["transition_hz_per_a"]),
        rabi_hz_per_v=tuple(ens["rabi_hz_per_v"]),
        atoms=tuple(ens["atoms"]) if ens["atoms"] is not None else None,
        cavity_resonance_hz=cav["resonance_hz"],
        kappa_hz=cav["kappa_hz"],
        coupling_hz=tuple(cav["coupling_hz"]),
        raman_carrier_hz=ram["carrier_hz"],
        raman_rabi_hz_per_v=ram["rabi_hz_per_v"],
        source=where,
    )
