"""A small declarative validator for the TOML files operators write.

Each section of a file is described by a list of :class:`Field`; :func:`read_section` checks
unknown keys, types, lengths, ranges and choices and returns plain Python values. Every error
is a :class:`~labctl.errors.ConfigError` naming the file, the section, the key, the value and
what would be valid, e.g.::

    examples/hardware.toml: [coil] key 'max_current_a' = -2.0: must be > 0 (A)
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labctl.errors import ConfigError

REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One key of a section: its type (``float``, ``int``, ``str``, ``bool``, or a list of them
    via ``items``), unit, bounds and default."""

    name: str
    kind: type = float
    unit: str = ""
    default: Any = REQUIRED
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    choices: tuple[Any, ...] | None = None
    items: type | None = None  # element type when the value is a list
    length: str | int | None = None  # fixed length, or the name of a context entry (e.g. "n_ensembles")
    doc: str = ""

    def describe(self) -> str:
        bounds = []
        if self.gt is not None:
            bounds.append(f"> {self.gt:g}")
        if self.ge is not None:
            bounds.append(f">= {self.ge:g}")
        if self.le is not None:
            bounds.append(f"<= {self.le:g}")
        unit = f" ({self.unit})" if self.unit else ""
        return " and ".join(bounds) + unit if bounds else (self.unit or "")


def load_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or a syntax error into a ConfigError."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what} file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None


def check_header(data: dict[str, Any], schema: str, version: int, source: str) -> None:
    """Every labctl file starts with ``schema = "..."`` and ``version = N``."""
    if data.get("schema") != schema:
        raise ConfigError(f"{source}: key 'schema' = {data.get('schema')!r}: expected {schema!r}")
    if data.get("version") != version:
        raise ConfigError(
            f"{source}: key 'version' = {data.get('version')!r}: this labctl reads {schema} version {version}"
        )


def read_section(
    data: dict[str, Any], section: str, fields: list[Field], source: str, context: dict[str, int] | None = None
) -> dict[str, Any]:
    """Validate ``data[section]`` against ``fields``; returns {name: value} with defaults filled in."""
    where = f"{source}: [{section}]"
    raw = data.get(section)
    if raw is None:
        if all(f.default is not REQUIRED for f in fields):
            raw = {}
        else:
            raise ConfigError(f"{source}: section [{section}] is missing; it needs keys {', '.join(f.name for f in fields if f.default is REQUIRED)}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: '{section}' must be a table [{section}], got {type(raw).__name__}")
    known = {f.name for f in fields}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{where} unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(known))}")
    out = {}
    for f in fields:
        if f.name not in raw:
            if f.default is REQUIRED:
                raise ConfigError(f"{where} key {f.name!r} is missing ({f.doc or f.describe()})")
            out[f.name] = f.default
            continue
        out[f.name] = _check_value(f, raw[f.name], where, context or {})
    return out


def check_unknown_sections(data: dict[str, Any], sections: list[str], source: str) -> None:
    unknown = sorted(set(data) - set(sections) - {"schema", "version", "name", "comment"})
    if unknown:
        raise ConfigError(f"{source}: unknown section or key {unknown[0]!r}; valid sections: {', '.join(sections)}")


def _check_value(f: Field, value: Any, where: str, context: dict[str, int]) -> Any:
    head = f"{where} key {f.name!r} = {value!r}"
    if f.items is not None:
        if not isinstance(value, list):
            raise ConfigError(f"{head}: must be a list of {f.items.__name__}")
        expected = context.get(f.length) if isinstance(f.length, str) else f.length
        if expected is not None and len(value) != expected:
            raise ConfigError(f"{head}: needs {expected} entries (one per {f.length if isinstance(f.length, str) else 'item'}), got {len(value)}")
        return [_check_scalar(f, f.items, v, f"{head} (entry {i + 1})") for i, v in enumerate(value)]
    return _check_scalar(f, f.kind, value, head)


def _check_scalar(f: Field, kind: type, value: Any, head: str) -> Any:
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{head}: must be a number{f' in {f.unit}' if f.unit else ''}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{head}: must be finite")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{head}: must be an integer")
    elif kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{head}: must be true or false")
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{head}: must be a string")
    if f.choices is not None and value not in f.choices:
        raise ConfigError(f"{head}: valid values are {', '.join(repr(c) for c in f.choices)}")
    if f.gt is not None and not value > f.gt:
        raise ConfigError(f"{head}: must be {f.describe()}")
    if f.ge is not None and not value >= f.ge:
        raise ConfigError(f"{head}: must be {f.describe()}")
    if f.le is not None and not value <= f.le:
        raise ConfigError(f"{head}: must be {f.describe()}")
    return value
