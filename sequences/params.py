"""Model parameters of Eq. (2): what a target compiles to and what a hardware plan realises.

Rates are stored in one of two units, named by ``unit``:

* ``"gamma"`` -- multiples of the collective decay rate Gamma (then ``gamma == 1``). The steady
  state does not depend on Gamma; the hardware plan chooses the physical Gamma (the fastest the
  cavity allows) and scales every rate with it.
* ``"rad/s"`` -- physical angular frequencies (a rate of 2 pi x 1 kHz is 6283.2 rad/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from labctl.errors import InputError

UNITS = ("gamma", "rad/s")
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ModelParams:
    """Spin S, detunings delta_l, Rabi Omega, chiral exchange chi and collective decay Gamma.

    ``figures`` holds the predicted figures of merit computed by :mod:`labctl.sim` when the
    target was compiled (QFI, xi^2, spin length, fidelity to the ideal target, preparation time
    in units of 1/Gamma, ...); ``kind`` and ``name`` say which catalog entry produced them and
    ``source`` where it came from (a file path or ``"<dict>"``). ``dark_time_s`` is the
    interrogation time requested for the sensing sequence, if any.
    """

    spin: float
    detunings: tuple[float, ...]
    rabi: float
    chi: float = 0.0
    gamma: float = 1.0
    unit: str = "gamma"
    kind: str = "custom"
    name: str = ""
    source: str = "<dict>"
    dark_time_s: float | None = None
    figures: dict[str, Any] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise InputError(f"ModelParams.unit = {self.unit!r}; valid: {', '.join(UNITS)}")
        if self.unit == "gamma" and self.gamma != 1.0:
            raise InputError(f"with unit 'gamma' the decay rate is the unit: gamma must be 1, got {self.gamma}")
        if not self.gamma > 0:
            raise InputError(f"gamma = {self.gamma!r} must be a positive decay rate")
        object.__setattr__(self, "detunings", tuple(float(x) for x in self.detunings))

    @property
    def n_ensembles(self) -> int:
        return len(self.detunings)

    def scaled(self, gamma_rad_s: float) -> ModelParams:
        """The same parameters in rad/s for a physical collective decay rate ``gamma_rad_s``."""
        factor = gamma_rad_s / self.gamma
        return replace(
            self,
            detunings=tuple(d * factor for d in self.detunings),
            rabi=self.rabi * factor,
            chi=self.chi * factor,
            gamma=gamma_rad_s,
            unit="rad/s",
        )

    def in_gamma_units(self) -> ModelParams:
        """The same parameters as multiples of Gamma."""
        if self.unit == "gamma":
            return self
        factor = 1.0 / self.gamma
        return replace(
            self,
            detunings=tuple(d * factor for d in self.detunings),
            rabi=self.rabi * factor,
            chi=self.chi * factor,
            gamma=1.0,
            unit="gamma",
        )

    def steady_state(self):
        """The target pure steady state (:func:`labctl.sim.steady_state`)."""
        from labctl.sim import steady_state

        return steady_state(self.spin, self.detunings, self.rabi, self.chi)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "labctl.model_params",
            "version": SCHEMA_VERSION,
            "spin": self.spin,
            "detunings": list(self.detunings),
            "rabi": self.rabi,
            "chi": self.chi,
            "gamma": self.gamma,
            "unit": self.unit,
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "dark_time_s": self.dark_time_s,
            "figures": {k: _plain(v) for k, v in self.figures.items()},
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParams:
        if data.get("schema") != "labctl.model_params" or data.get("version") != SCHEMA_VERSION:
            raise InputError(
                f"not a labctl.model_params record of version {SCHEMA_VERSION}: "
                f"schema={data.get('schema')!r}, version={data.get('version')!r}"
            )
        fields = {k: v for k, v in data.items() if k not in ("schema", "version")}
        fields["detunings"] = tuple(fields["detunings"])
        fields["notes"] = tuple(fields.get("notes", ()))
        return cls(**fields)


def _plain(value: Any) -> Any:
    """JSON-friendly copy of a figure of merit (numpy scalars and arrays become Python)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
