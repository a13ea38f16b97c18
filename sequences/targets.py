"""Target catalog: a target state (TOML file or dict) -> :class:`~labctl.sequences.params.ModelParams`.

A target names a ``kind`` of steady state of Eq. (2) and its parameters; :func:`compile_target`
checks it, solves for the parameters the kind leaves open, checks the pure-steady-state
conditions of Sec. II and predicts the figures of merit with :mod:`labctl.sim`.

Common keys
-----------
``kind``         one of the kinds below (required).
``version``      1 (required in files; other versions are refused).
``name``         free text (default: the file's stem, or "" for a dict).
``dark_time_s``  interrogation time of the sensing sequence, seconds (> 0).
``unit``         "gamma" (default): rates are multiples of the collective decay rate Gamma;
                 "Hz": rates are ordinary frequencies nu = omega / 2 pi, and ``gamma_hz`` is required.
``gamma_hz``     Gamma / 2 pi in Hz. With it the result is in rad/s (``ModelParams.unit = "rad/s"``),
                 without it in units of Gamma.

Rates are ``rabi`` (Omega), ``chi``, ``detunings``, ``pair_detunings``, ``delta_a``, ``delta_b``,
``delta_e``, ``delta``, ``max_rabi``; everything else is dimensionless. ``spin`` is S (a number or
a string such as "3/2"); ``atoms`` = N = 2S atoms per ensemble may replace it. Ensembles are
numbered 1..L.

Kinds
-----
``two_mode_squeezed`` -- L = 2, delta = (Delta/2, -Delta/2) (Eqs. 3-12). Keys: ``spin``/``atoms``;
    exactly one of
      ``delta_over_rabi`` (Delta/Omega > 0),
      ``regime`` = "sql" | "s3/2" | "heisenberg": Delta/Omega = p, p/sqrt(S), p/S, the three scalings
      of the QFI (S, S^{3/2}, S^2; Fig. 2d), with ``prefactor`` p (default 1),
      ``xi2`` (target Wineland parameter, Eq. 12, in (0, 1)): the largest Delta/Omega reaching it
      (weakest drive, hence the longest spin length <S1x - S2x>, Eq. 11),
      ``qfi`` (target 4 Var(S1z - S2z), Eq. 10, below 16 S(S+1)/3): the largest Delta/Omega reaching it;
    ``rabi`` (default S Gamma: preparation is fastest for Omega >~ S Gamma, Sec. III.C / Fig. 3b),
    ``chi`` (default 0). Both searches scan Delta/Omega in [1e-3/S, 10] from above.
``dimerized`` -- Eq. (20). ``pair_detunings`` [Delta_1, Delta_2, ...] giving
    delta = (Delta_1/2, -Delta_1/2, Delta_2/2, ...), or ``detunings`` already in that order;
    ``rabi``, ``spin``, ``chi`` (default 0).
``permuted`` -- Eq. (26). ``detunings`` in any order of +- pairs, or ``pair_detunings`` with
    ``order``: order[i] is the position (1..L) that receives entry i of the dimerised list
    (Delta_1/2, -Delta_1/2, Delta_2/2, ...); e.g. order = [1, 4, 2, 3] puts pair 1 on ensembles
    (1, 4) and pair 2 on (2, 3) (Fig. 5d). ``rabi``, ``spin``, ``chi`` (default 0).
``gradient_sensor``, ``curvature_sensor`` -- L = 4, delta = (Delta_A/2, Delta_B/2, -Delta_B/2,
    -Delta_A/2) (Sec. IV.B). ``delta_a``, ``delta_b``, ``rabi``, ``spin``, ``chi`` (default 0); or
    ``optimize = true`` with ``chi`` != 0 (and optionally ``max_rabi``, default 8 S |chi|): maximise
    the QFI of the sensor's generator over Omega in [max_rabi/16, max_rabi], Delta_A in
    [0, max_rabi/4] and Delta_B in [0, max_rabi/4] (curvature) or [-max_rabi/4, max_rabi/4]
    (gradient; the QFIs are even in (Delta_A, Delta_B) -> -(Delta_A, Delta_B), the curvature QFI in
    each sign): a 3 x 3 x 3 (3 x 3 x 5) grid, then bounded Nelder-Mead (<= 40 evaluations).
    Generators (Eq. 30): curvature S1z - S2z - S3z + S4z (F_{+--+}, Fig. 6b,c); gradient
    3 S1z + S2z - S3z - 3 S4z, the gradient term of Eq. (30) itself (the Hadamard mode F_{+-+-} is
    only part of it: 3, 1, -1, -3 = 2 (+,+,-,-) + (+,-,+,-)).
``spt_chain`` -- Fig. 7(a), Sec. V: ``n_ensembles`` (even, >= 4), ``delta_e``, ``delta_b``,
    ``chi`` (!= 0), ``rabi``, ``spin``.
``aklt`` -- Sec. V.C: S = 1/2, ``n_ensembles`` (even, >= 4), ``chi`` (default 1 Gamma),
    Delta_e = 0, bulk detunings +-chi/sqrt(2); ``rabi``, or ``fidelity`` = the target
    |<psi_ss|psi_AKLT>|^2, solved for the smallest Omega (:func:`labctl.sim.chain.rabi_for_aklt_fidelity`).
``dimer_chain`` -- ``n_ensembles`` (even), ``delta`` (default 0), ``chi``, ``rabi``, ``spin``:
    delta = (delta/2, -delta/2, delta/2, ...), pairs (1,2), (3,4), ... (Eq. 20); at large drive the
    spin-S dimer state (Sec. V.B). delta = 0 needs chi != 0, as does every L >= 4.
``custom`` -- ``detunings``, ``rabi``, ``spin``, ``chi`` (default 0).

Figures of merit (``ModelParams.figures``; dimensionless, rates never appear)
------------------------------------------------------------------------------
L = 2: ``qfi`` = 4 Var(S1z - S2z) with ``qfi_generator``, ``qfi_heisenberg``, ``wineland_xi2``,
``spin_length`` = <S1x - S2x> (two_mode_squeezed adds the ``delta_over_rabi`` it chose).
L = 4: ``qfi_matrix`` (Eq. 27) and the Hadamard modes ``qfi_++++``, ``qfi_++--``, ``qfi_+-+-``,
``qfi_+--+`` (Eq. 29); sensors add ``qfi`` of their generator with ``qfi_generator``,
``qfi_heisenberg``, ``qfi_common_noise`` (uniform common phase, Eq. 15) and, for the curvature,
``qfi_common_gradient_noise`` (rho_c+g, Sec. IV.B). ``qfi_heisenberg`` is the large-drive reference
of the generator: 16 S(S+1)/3 for S1z - S2z (the singlet, Sec. III.B), 64 S(S+1)/3 for the
curvature (the optimised F_{+--+} approaches it, Sec. IV.B), 160 S(S+1)/3 for the gradient (singlets
on (1,4) and (2,3), reached for Omega >> Delta_B >> chi, Delta_A = 0; numerically the supremum over
Omega, Delta_A, Delta_B). Larger L: ``qfi_matrix``. Chains: ``correlation_length`` (Eq. D25, ensembles; not for
the dimer chain, whose dimers are uncorrelated) from the MPS of Eq. (31). ``fidelity_to_ideal`` with
``ideal``: the singlet |J=0> (two_mode_squeezed), the dimer state (dimer_chain), the AKLT state
(aklt) -- each the Omega = inf steady state -- and the large-drive SPT state of Eq. (32)
(spt_chain). ``prep_time_gamma`` = Gamma t_ss from all spins down (epsilon = 1e-3) and
``prep_time_method`` ("exact" up to D = (2S+1)^L = 36, else "scaled-bound", an estimate);
``prep_time_s`` when ``gamma_hz`` is known. Chains beyond 2^20 amplitudes keep only what the MPS
gives; ``notes`` say what was skipped or estimated.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq, minimize

from labctl.errors import ConfigError, InputError, StateTooLargeError
from labctl.sequences.params import ModelParams
from labctl.sim import PairState, SteadyState, as_spin, check_conditions, steady_state
from labctl.sim.chain import chain_detunings, chain_mps, rabi_for_aklt_fidelity
from labctl.sim.mixed import z_diagonal
from labctl.sim.spin import dimension
from labctl.sim.states import HADAMARD_MODES
from labctl.sim.timescales import preparation_time

#: Largest product-basis vector built for the figures of merit of a target.
MAX_TARGET_AMPLITUDES = 2**20
#: Largest product dimension (2S+1)^L whose preparation time is computed exactly.
EXACT_PREP_DIMENSION = 36
#: Delta/Omega searched by the ``xi2`` and ``qfi`` targets: [RATIO_MIN / S, RATIO_MAX].
RATIO_MIN, RATIO_MAX, RATIO_POINTS = 1e-3, 10.0, 81

REGIMES = {"sql": 0.0, "s3/2": 0.5, "heisenberg": 1.0}  # Delta/Omega = p S^-exponent
SENSORS = {"gradient_sensor": (3.0, 1.0, -1.0, -3.0), "curvature_sensor": (1.0, -1.0, -1.0, 1.0)}
#: Large-drive reference QFI / (S(S+1)) per generator weights (``qfi_heisenberg``).
HEISENBERG_QFI = {
    (1.0, -1.0): 16 / 3,  # singlet |J=0>, Sec. III.B
    SENSORS["curvature_sensor"]: 64 / 3,  # the optimised F_{+--+} approaches it (Sec. IV.B, Eq. C11)
    SENSORS["gradient_sensor"]: 160 / 3,  # singlets on (1,4) and (2,3): Omega >> Delta_B >> chi, Delta_A = 0
}
COMMON_KEYS = ("kind", "version", "name", "dark_time_s", "unit", "gamma_hz")
SPIN_KEYS = ("spin", "atoms")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "two_mode_squeezed": (*SPIN_KEYS, "delta_over_rabi", "regime", "prefactor", "xi2", "qfi", "rabi", "chi"),
    "dimerized": (*SPIN_KEYS, "pair_detunings", "detunings", "rabi", "chi"),
    "permuted": (*SPIN_KEYS, "detunings", "pair_detunings", "order", "rabi", "chi"),
    "gradient_sensor": (*SPIN_KEYS, "delta_a", "delta_b", "rabi", "chi", "optimize", "max_rabi"),
    "curvature_sensor": (*SPIN_KEYS, "delta_a", "delta_b", "rabi", "chi", "optimize", "max_rabi"),
    "spt_chain": (*SPIN_KEYS, "n_ensembles", "delta_e", "delta_b", "rabi", "chi"),
    "aklt": ("n_ensembles", "rabi", "fidelity", "chi"),
    "dimer_chain": (*SPIN_KEYS, "n_ensembles", "delta", "rabi", "chi"),
    "custom": (*SPIN_KEYS, "detunings", "rabi", "chi"),
}
UNITS = ("gamma", "Hz")
#: The version of the target-file format read here.
TARGET_VERSION = 1
#: What the keys mean, for messages about missing or malformed values.
MEANING = {
    "rabi": "the Rabi frequency Omega",
    "chi": "the chiral exchange chi",
    "delta_a": "Delta_A (delta_1 = -delta_4 = Delta_A/2)",
    "delta_b": "Delta_B (delta_2 = -delta_3 = Delta_B/2; bulk Delta_b of a chain)",
    "delta_e": "the edge detuning Delta_e (delta_1 = -delta_L = Delta_e/2)",
    "delta": "the pair detuning delta",
    "max_rabi": "the largest Omega of the optimisation",
    "detunings": "delta_1..delta_L",
    "pair_detunings": "Delta_1, Delta_2, ... of the pairs",
}
_REQUIRED = object()


def compile_target(target: Mapping[str, Any] | str | os.PathLike) -> ModelParams:
    """Compile a target (a dict, or the path of a TOML file) into checked model parameters.

    Every problem raises :class:`~labctl.errors.ConfigError` naming the source (file path or
    "<dict>"), the key, the bad value and what would be valid.
    """
    spec = _load(target)
    kind = spec.choice("kind", tuple(KIND_KEYS), what="kinds")
    spec.check_keys(COMMON_KEYS + KIND_KEYS[kind], kind)
    spec.check_version()
    spec.read_unit()
    name = spec.text("name", spec.default_name)
    dark_time_s = spec.real("dark_time_s", None, positive=True, what="the dark time in seconds")
    design = _COMPILERS[kind](spec)
    figures = dict(design.figures)
    if spec.gamma_hz is not None and "prep_time_gamma" in figures:
        figures["prep_time_s"] = figures["prep_time_gamma"] / (2 * math.pi * spec.gamma_hz)
    params = ModelParams(
        spin=design.spin,
        detunings=design.detunings,
        rabi=design.rabi,
        chi=design.chi,
        kind=kind,
        name=name,
        source=spec.source,
        dark_time_s=dark_time_s,
        figures=figures,
        notes=tuple(design.notes),
    )
    return params if spec.gamma_hz is None else params.scaled(2 * math.pi * spec.gamma_hz)


# -- reading and checking a target ---------------------------------------------------------------


def _load(target: Mapping[str, Any] | str | os.PathLike) -> _Spec:
    if isinstance(target, Mapping):
        return _Spec(dict(target), "<dict>", from_file=False)
    if not isinstance(target, (str, os.PathLike)):
        raise ConfigError(f"a target is a dict or the path of a TOML file, got {type(target).__name__}")
    path = Path(target)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the target file ({error.strerror or error})") from None
    return _Spec(data, str(path), from_file=True)


class _Spec:
    """One target table and where it came from: typed access to its keys, rates converted to
    units of Gamma, and errors that name the source, key, value and what would be valid."""

    def __init__(self, data: dict[str, Any], source: str, *, from_file: bool):
        self.data = data
        self.source = source
        self.from_file = from_file
        self.default_name = Path(source).stem if from_file else ""
        self.unit = "gamma"
        self.gamma_hz: float | None = None

    # -- messages
    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: key '{key}' = {self.data[key]!r}: {message}")

    def missing(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: missing key '{key}': {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    # -- structure
    def check_keys(self, valid: Sequence[str], kind: str) -> None:
        for key in self.data:
            if key not in valid:
                raise self.error(key, f"not a key of kind '{kind}'; valid keys are {_listing(valid)}")

    def read_unit(self) -> None:
        """``unit`` and ``gamma_hz``: how rates are given and whether the physical scale is known."""
        self.unit = self.choice("unit", UNITS, default="gamma", what="units")
        self.gamma_hz = self.real("gamma_hz", None, positive=True)
        if self.unit == "Hz" and self.gamma_hz is None:
            raise self.missing("gamma_hz", "with unit = 'Hz' the decay rate Gamma/2pi in Hz is required")

    def check_version(self) -> None:
        if not self.has("version"):
            if self.from_file:
                raise self.missing("version", f"target files must declare version = {TARGET_VERSION}")
            return
        version = self.data["version"]
        if isinstance(version, bool) or version != TARGET_VERSION:
            raise self.error("version", f"this labctl reads target files of version {TARGET_VERSION}")

    def exactly_one(self, keys: Sequence[str], why: str) -> str:
        given = [k for k in keys if self.has(k)]
        if len(given) != 1:
            found = f"got {_listing(given)}" if given else "got none"
            raise ConfigError(f"{self.source}: give exactly one of {_listing(keys)} ({why}); {found}")
        return given[0]

    def forbid(self, keys: Sequence[str], reason: str) -> None:
        for key in keys:
            if self.has(key):
                raise self.error(key, reason)

    # -- values
    def choice(self, key: str, valid: Sequence[str], *, default: Any = _REQUIRED, what: str) -> str:
        if not self.has(key):
            if default is _REQUIRED:
                raise self.missing(key, f"valid {what} are {_listing(valid)}")
            return default
        if not isinstance(self.data[key], str) or self.data[key] not in valid:
            raise self.error(key, f"valid {what} are {_listing(valid)}")
        return self.data[key]

    def text(self, key: str, default: str) -> str:
        if not self.has(key):
            return default
        if not isinstance(self.data[key], str):
            raise self.error(key, "expected a string")
        return self.data[key]

    def flag(self, key: str, default: bool) -> bool:
        if not self.has(key):
            return default
        if not isinstance(self.data[key], bool):
            raise self.error(key, "expected true or false")
        return self.data[key]

    def real(
        self, key: str, default: Any = _REQUIRED, *, positive: bool = False, below: float | None = None,
        what: str = "a number",
    ) -> Any:
        """A finite number (not a bool), optionally > 0 and < ``below``; ``default`` when absent."""
        if not self.has(key):
            if default is _REQUIRED:
                raise self.missing(key, f"expected {what}")
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, f"expected {what} (a finite number)")
        if positive and not value > 0:
            raise self.error(key, f"expected {what} > 0")
        if below is not None and not value < below:
            raise self.error(key, f"expected {what} below {below:.6g}")
        return float(value)

    def rate(self, key: str, default: Any = _REQUIRED, *, positive: bool = False, nonzero: bool = False) -> Any:
        """A rate, converted to units of Gamma (``default`` is already in units of Gamma)."""
        what = f"{MEANING[key]}, a rate in {self._unit_text}"
        value = self.real(key, _REQUIRED if default is _REQUIRED else None, positive=positive, what=what)
        if value is None:
            return default
        if nonzero and value == 0:
            raise self.error(key, f"expected {what} != 0")
        return self._in_gamma(value)

    def rates(self, key: str) -> list[float]:
        """A non-empty list of rates, in units of Gamma."""
        if not self.has(key):
            raise self.missing(key, f"expected {MEANING[key]}, a list of rates in {self._unit_text}")
        values = self.data[key]
        if (
            not isinstance(values, list)
            or not values
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in values)
        ):
            raise self.error(key, f"expected a non-empty list of finite rates in {self._unit_text}")
        return [self._in_gamma(float(v)) for v in values]

    def integer(self, key: str, *, minimum: int, even: bool = False) -> int:
        if not self.has(key):
            raise self.missing(key, f"expected {'an even' if even else 'an'} integer >= {minimum}")
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (even and value % 2):
            raise self.error(key, f"expected {'an even' if even else 'an'} integer >= {minimum}")
        return value

    def spin(self) -> float:
        key = self.exactly_one(SPIN_KEYS, "the spin S of each ensemble, or N = 2S atoms per ensemble")
        value = self.data[key]
        if key == "atoms":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self.error(key, "expected a positive integer number of atoms per ensemble (N = 2S)")
            return value / 2
        if isinstance(value, bool):
            raise self.error(key, "expected S = 1/2, 1, 3/2, ... (a number or a string such as '3/2')")
        try:
            return as_spin(value)
        except InputError:
            raise self.error(key, "expected S = 1/2, 1, 3/2, ... (a number or a string such as '3/2')") from None

    @property
    def _unit_text(self) -> str:
        return "Hz (nu = omega / 2 pi)" if self.unit == "Hz" else "units of Gamma"

    def _in_gamma(self, value: float) -> float:
        return value / self.gamma_hz if self.unit == "Hz" else value


def _listing(items: Sequence[str]) -> str:
    return ", ".join(f"'{item}'" for item in items)


# -- designs ---------------------------------------------------------------------------------------


@dataclass
class _Design:
    """What a kind compiles to (rates in units of Gamma), with its figures of merit and notes."""

    spin: float
    detunings: tuple[float, ...]
    rabi: float
    chi: float
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _checked(
    spec: _Spec, keys: Sequence[str], spin: float, detunings: Sequence[float], rabi: float, chi: float
) -> _Design:
    """A design whose detunings pass the conditions of Sec. II (``keys`` produced them)."""
    try:
        check_conditions(detunings, rabi, chi)
    except InputError as error:
        values = ", ".join(f"'{k}' = {spec.data[k]!r}" for k in keys if spec.has(k))
        raise ConfigError(
            f"{spec.source}: {values} give detunings {[round(d, 12) for d in detunings]} (units of Gamma) "
            f"with rabi = {rabi:.6g}, chi = {chi:.6g}: {error}"
        ) from None
    return _Design(spin, tuple(float(d) for d in detunings), float(rabi), float(chi))


def _two_mode_squeezed(spec: _Spec) -> _Design:
    s = spec.spin()
    rabi = spec.rate("rabi", s, positive=True)  # default Omega = S Gamma (Sec. III.C)
    chi = spec.rate("chi", 0.0)
    how = spec.exactly_one(("delta_over_rabi", "regime", "xi2", "qfi"), "how to choose Delta/Omega")
    if how != "regime":
        spec.forbid(("prefactor",), "'prefactor' only scales a 'regime'; remove it")
    if how == "delta_over_rabi":
        ratio = spec.real("delta_over_rabi", positive=True, what="Delta/Omega")
    elif how == "regime":
        regime = spec.choice("regime", tuple(REGIMES), what="regimes")
        ratio = spec.real("prefactor", 1.0, positive=True, what="the prefactor p") * s ** -REGIMES[regime]
    else:
        ratio = _solve_ratio(spec, how, s, rabi, chi)
    design = _checked(spec, (how, "rabi", "chi"), s, (ratio * rabi / 2, -ratio * rabi / 2), rabi, chi)
    design.figures["delta_over_rabi"] = ratio
    state = _attach_state(design)  # a PairState: c_J of Eq. (4), no size limit
    design.figures["fidelity_to_ideal"] = float(abs(state.coefficients[0]) ** 2)  # |<J=0, M=0|psi>|^2
    design.figures["ideal"] = "singlet |J=0, M=0> (Omega = inf)"
    return design


def _solve_ratio(spec: _Spec, key: str, spin: float, rabi: float, chi: float) -> float:
    """The largest Delta/Omega whose pair state reaches the target ``xi2`` (<=) or ``qfi`` (>=)."""
    if key == "xi2":
        target = spec.real("xi2", positive=True, below=1.0, what="the Wineland parameter xi^2")
        merit, reached = (lambda st: st.wineland()), (lambda value: value <= target)
    else:
        heisenberg = 16 * spin * (spin + 1) / 3
        target = spec.real("qfi", positive=True, below=heisenberg, what="the QFI (16 S(S+1)/3 is the limit)")
        merit, reached = (lambda st: st.qfi()), (lambda value: value >= target)

    def figure(ratio: float) -> float:
        return merit(PairState(spin, (ratio * rabi / 2, -ratio * rabi / 2), rabi, chi))

    ratios = np.geomspace(RATIO_MAX, RATIO_MIN / spin, RATIO_POINTS)  # from weak to strong drive
    values = np.array([figure(r) for r in ratios])
    hits = np.flatnonzero([reached(v) for v in values])
    if hits.size == 0:
        best = int(np.argmin(values) if key == "xi2" else np.argmax(values))
        raise spec.error(
            key,
            f"unreachable at S = {spin:g}, Omega = {rabi:.6g} Gamma, chi = {chi:.6g} Gamma: the best {key} for "
            f"Delta/Omega in [{ratios[-1]:.3g}, {RATIO_MAX:g}] is {values[best]:.6g} (at Delta/Omega = "
            f"{ratios[best]:.4g})",
        )
    if hits[0] == 0:
        raise spec.error(key, f"already reached at Delta/Omega = {RATIO_MAX:g} ({values[0]:.6g}); ask for more")
    k = int(hits[0])
    log_ratio = brentq(lambda x: figure(math.exp(x)) - target, math.log(ratios[k]), math.log(ratios[k - 1]), xtol=1e-12)
    return math.exp(log_ratio)


def _dimerized(spec: _Spec) -> _Design:
    s, rabi, chi = spec.spin(), spec.rate("rabi", positive=True), spec.rate("chi", 0.0)
    key = spec.exactly_one(("pair_detunings", "detunings"), "the detunings")
    if key == "pair_detunings":
        detunings = _dimerised(spec.rates(key))
    else:
        detunings = spec.rates(key)
        scale = max(max(abs(d) for d in detunings), abs(chi))
        if len(detunings) % 2 or any(
            abs(a + b) > 1e-9 * scale for a, b in zip(detunings[0::2], detunings[1::2])
        ):
            raise spec.error(
                key,
                "not in the dimerised order of Eq. (20) (delta_2k = -delta_2k-1); use kind 'permuted' for other orders",
            )
    return _with_state_figures(_checked(spec, (key, "chi"), s, detunings, rabi, chi))


def _permuted(spec: _Spec) -> _Design:
    s, rabi, chi = spec.spin(), spec.rate("rabi", positive=True), spec.rate("chi", 0.0)
    key = spec.exactly_one(("detunings", "pair_detunings"), "the detunings in chain order, or pairs plus 'order'")
    if key == "detunings":
        spec.forbid(("order",), "'order' permutes 'pair_detunings'; remove it when giving 'detunings'")
        return _with_state_figures(_checked(spec, (key, "chi"), s, spec.rates(key), rabi, chi))
    initial = _dimerised(spec.rates(key))
    if not spec.has("order"):
        raise spec.missing("order", f"with 'pair_detunings' give the positions 1..{len(initial)} of its entries")
    order = spec.data["order"]
    if (
        not isinstance(order, list)
        or any(isinstance(p, bool) or not isinstance(p, int) for p in order)
        or sorted(order) != list(range(1, len(initial) + 1))
    ):
        raise spec.error("order", f"expected a permutation of 1..{len(initial)} (the position of each dimerised entry)")
    detunings = [0.0] * len(initial)
    for value, position in zip(initial, order):
        detunings[position - 1] = value
    return _with_state_figures(_checked(spec, (key, "order", "chi"), s, detunings, rabi, chi))


def _custom(spec: _Spec) -> _Design:
    s, rabi, chi = spec.spin(), spec.rate("rabi", positive=True), spec.rate("chi", 0.0)
    return _with_state_figures(_checked(spec, ("detunings", "chi"), s, spec.rates("detunings"), rabi, chi))


def _dimerised(pair_detunings: Sequence[float]) -> list[float]:
    """(Delta_1/2, -Delta_1/2, Delta_2/2, -Delta_2/2, ...) of Eq. (20)."""
    return [sign * delta / 2 for delta in pair_detunings for sign in (1.0, -1.0)]


# -- four-ensemble sensors (Sec. IV.B) -------------------------------------------------------------


def sensor_detunings(delta_a: float, delta_b: float) -> tuple[float, float, float, float]:
    """delta = (Delta_A/2, Delta_B/2, -Delta_B/2, -Delta_A/2) (Sec. IV.B, Fig. 6)."""
    return (delta_a / 2, delta_b / 2, -delta_b / 2, -delta_a / 2)


def _sensor(spec: _Spec, kind: str) -> _Design:
    s = spec.spin()
    weights = SENSORS[kind]
    if spec.flag("optimize", False):
        spec.forbid(("delta_a", "delta_b", "rabi"), "set by the optimisation; remove it or set optimize = false")
        chi = spec.rate("chi", nonzero=True)
        max_rabi = spec.rate("max_rabi", 8 * s * abs(chi), positive=True)
        delta_a, delta_b, rabi = _optimise_sensor(s, weights, chi, max_rabi)
        notes = [
            f"Omega, Delta_A, Delta_B maximise the QFI of the generator at chi = {chi:.6g} Gamma over "
            f"Omega in [{max_rabi / 16:.4g}, {max_rabi:.4g}] Gamma, |Delta_A|, |Delta_B| <= {max_rabi / 4:.4g} Gamma"
        ]
    else:
        spec.forbid(("max_rabi",), "'max_rabi' bounds the optimisation; set optimize = true or remove it")
        delta_a, delta_b = spec.rate("delta_a"), spec.rate("delta_b")
        rabi, chi = spec.rate("rabi", positive=True), spec.rate("chi", 0.0)
        notes = []
    design = _checked(spec, ("delta_a", "delta_b", "chi"), s, sensor_detunings(delta_a, delta_b), rabi, chi)
    design.notes += notes
    state = _attach_state(design)
    if state is not None:
        design.figures.update(_generator_figures(state, weights))
        design.figures["qfi_common_noise"] = state.phase_averaged(("common",)).qfi(weights)
        if kind == "curvature_sensor":
            design.figures["qfi_common_gradient_noise"] = state.phase_averaged(("common", "gradient")).qfi(weights)
    return design


def _optimise_sensor(spin: float, weights: Sequence[float], chi: float, max_rabi: float) -> tuple[float, float, float]:
    """(Delta_A, Delta_B, Omega) maximising 4 Var(sum_l w_l S_l^z) over the box of the module doc.

    Coordinates x = (ln(Omega / max_rabi), Delta_A / max_rabi, Delta_B / max_rabi): the best point
    of a coarse grid (3 x 3 x 3, or 3 x 3 x 5 for the signed Delta_B of the gradient) starts a
    bounded Nelder-Mead of at most 40 evaluations. Deterministic; about 70-85 steady states.
    """
    generator = z_diagonal(spin, 4, weights)
    low_b = 0.0 if tuple(weights) == SENSORS["curvature_sensor"] else -0.25
    bounds = [(math.log(1 / 16), 0.0), (0.0, 0.25), (low_b, 0.25)]

    def negative_qfi(x: Sequence[float]) -> float:
        rabi, delta_a, delta_b = max_rabi * math.exp(x[0]), max_rabi * x[1], max_rabi * x[2]
        probability = np.abs(steady_state(spin, sensor_detunings(delta_a, delta_b), rabi, chi).vector) ** 2
        mean = probability @ generator  # the QFI of a pure state: 4 Var(G), G diagonal
        return -4.0 * float(probability @ generator**2 - mean**2)

    axes = [np.linspace(lo, hi, 5 if lo < 0 else 3) for lo, hi in bounds]
    start = np.array(min(itertools.product(*axes), key=negative_qfi))
    simplex = [start]
    for i, (lo, hi) in enumerate(bounds):
        vertex = start.copy()
        step = (hi - lo) / 4
        vertex[i] += step if start[i] + step <= hi else -step
        simplex.append(vertex)
    best = minimize(
        negative_qfi, start, method="Nelder-Mead", bounds=bounds,
        options={"initial_simplex": np.array(simplex), "maxfev": 40, "xatol": 1e-2, "fatol": 1e-5 * spin**2},
    )
    return max_rabi * best.x[1], max_rabi * best.x[2], max_rabi * math.exp(best.x[0])


# -- chains (Sec. V) ------------------------------------------------------------------------------------


def _spt_chain(spec: _Spec) -> _Design:
    s, n = spec.spin(), spec.integer("n_ensembles", minimum=4, even=True)
    edge, bulk = spec.rate("delta_e"), spec.rate("delta_b")
    rabi, chi = spec.rate("rabi", positive=True), spec.rate("chi", nonzero=True)
    design = _checked(spec, ("delta_e", "delta_b", "chi"), s, chain_detunings(n, edge, bulk), rabi, chi)
    return _chain_figures(design, edge, bulk, "large-drive SPT state of Eq. (32) (Omega = inf)", correlations=True)


def _aklt(spec: _Spec) -> _Design:
    n = spec.integer("n_ensembles", minimum=4, even=True)
    chi = spec.rate("chi", 1.0, nonzero=True)
    if spec.exactly_one(("rabi", "fidelity"), "the drive, or the AKLT fidelity it must reach") == "rabi":
        rabi = spec.rate("rabi", positive=True)
    else:
        target = spec.real("fidelity", positive=True, below=1.0, what="the AKLT fidelity")
        try:
            rabi = rabi_for_aklt_fidelity(n, target, chi)
        except InputError as error:
            raise spec.error("fidelity", str(error)) from None
    bulk = math.sqrt(2.0) * chi  # Delta_e = 0, Delta_b = sqrt(2) chi (Eq. 34: f_0 = 0)
    design = _checked(spec, ("n_ensembles", "chi"), 0.5, chain_detunings(n, 0.0, bulk), rabi, chi)
    return _chain_figures(design, 0.0, bulk, "spin-1 AKLT state (Omega = inf)", correlations=True)


def _dimer_chain(spec: _Spec) -> _Design:
    s, n = spec.spin(), spec.integer("n_ensembles", minimum=2, even=True)
    delta, rabi, chi = spec.rate("delta", 0.0), spec.rate("rabi", positive=True), spec.rate("chi", 0.0)
    if chi == 0 and (delta == 0 or n >= 4):
        why = (
            f"delta = {delta:g} with L = {n} needs chi != 0: without it the detunings must be non-zero and "
            "distinct (Sec. II)"
        )
        raise spec.error("chi", why) if spec.has("chi") else spec.missing("chi", why)
    # (delta/2, -delta/2, delta/2, ...) is the Fig. 7a pattern with Delta_e = delta, Delta_b = -delta
    design = _checked(spec, ("n_ensembles", "delta", "chi"), s, chain_detunings(n, delta, -delta), rabi, chi)
    return _chain_figures(design, delta, -delta, "spin-S dimer state (Omega = inf)", correlations=False)


def _chain_figures(design: _Design, edge: float, bulk: float, ideal: str, *, correlations: bool) -> _Design:
    """Fidelity to the Omega = inf state and correlation length from the MPS of Eq. (31) (any L);
    product-vector figures when the chain is small enough."""
    n = len(design.detunings)
    mps = chain_mps(design.spin, n, edge, bulk, design.rabi, design.chi)
    design.figures["fidelity_to_ideal"] = mps.fidelity(chain_mps(design.spin, n, edge, bulk, math.inf, design.chi))
    design.figures["ideal"] = ideal
    if correlations:
        design.figures["correlation_length"] = mps.correlation_length()
    _attach_state(design, mps.steady_state)
    return design


# -- figures of merit ---------------------------------------------------------------------------------


def _with_state_figures(design: _Design) -> _Design:
    _attach_state(design)
    return design


def _attach_state(design: _Design, build: Callable[..., SteadyState] | None = None) -> SteadyState | None:
    """Build the product-vector steady state (``build(max_amplitudes=...)``, default
    :func:`labctl.sim.steady_state`) and add its figures; None, with a note, if it is too large."""
    build = build or partial(steady_state, design.spin, design.detunings, design.rabi, design.chi)
    try:
        state = build(max_amplitudes=MAX_TARGET_AMPLITUDES)
    except StateTooLargeError:
        design.notes.append(
            f"(2S+1)^L = {dimension(design.spin) ** len(design.detunings):.3g} product-basis amplitudes exceed "
            f"{MAX_TARGET_AMPLITUDES:.3g}: QFI and preparation-time figures skipped"
        )
        return None
    _add_state_figures(design, state)
    return state


def _add_state_figures(design: _Design, state: SteadyState) -> None:
    merit = state.figures_of_merit()
    if state.n_ensembles == 2:
        design.figures.update(_generator_figures(state, (1.0, -1.0)))
        design.figures["wineland_xi2"] = float(merit["wineland_xi2"])
        design.figures["spin_length"] = float(merit["differential_polarization"])
    else:
        design.figures["qfi_matrix"] = merit["qfi_matrix"].tolist()
    if state.n_ensembles == 4:
        design.figures.update({f"qfi_{mode}": float(merit[f"qfi_{mode}"]) for mode in HADAMARD_MODES})
    prep = preparation_time(state, max_dimension=EXACT_PREP_DIMENSION)
    design.figures["prep_time_gamma"] = prep.time
    design.figures["prep_time_method"] = prep.method
    if prep.is_estimate:
        design.notes.append(
            f"prep_time_gamma is an estimate: {prep.factor:g} x the bound of Eq. (B5) (Gamma t_ss >= "
            f"{prep.bound:.4g}); exact evolution only up to (2S+1)^L = {EXACT_PREP_DIMENSION}"
        )


def _generator_figures(state: SteadyState, weights: tuple[float, ...]) -> dict[str, Any]:
    """QFI 4 Var(G) of G = sum_l w_l S_l^z, its name and the large-drive reference QFI."""
    s = state.spin
    return {
        "qfi": state.qfi(weights),
        "qfi_generator": _generator_text(weights),
        "qfi_heisenberg": HEISENBERG_QFI[weights] * s * (s + 1),
    }


def _generator_text(weights: Sequence[float]) -> str:
    """'3 S1z + S2z - S3z - 3 S4z' for the weights (3, 1, -1, -3)."""
    terms = [
        ("-" if w < 0 else "+", f"{'' if abs(w) == 1 else f'{abs(w):g} '}S{l}z")
        for l, w in enumerate(weights, start=1)
        if w != 0
    ]
    text = " ".join(f"{sign} {term}" for sign, term in terms)
    return text[2:] if terms[0][0] == "+" else "-" + text[2:]


_COMPILERS: dict[str, Callable[[_Spec], _Design]] = {
    "two_mode_squeezed": _two_mode_squeezed,
    "dimerized": _dimerized,
    "permuted": _permuted,
    "gradient_sensor": lambda spec: _sensor(spec, "gradient_sensor"),
    "curvature_sensor": lambda spec: _sensor(spec, "curvature_sensor"),
    "spt_chain": _spt_chain,
    "aklt": _aklt,
    "dimer_chain": _dimer_chain,
    "custom": _custom,
}
