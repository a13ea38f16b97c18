"""Step 3 of :func:`labctl.sequences.render_hdawg`: one SeqC program per AWG core, and the compiler.

The SeqC compiler plays two channels per core (hardware-stack.md 1.2), so each core gets its own
program. Waveforms are placeholders with fixed indices (``assignWaveIndex``); their samples are
uploaded afterwards to ``/DEV/AWGS/n/WAVEFORM/WAVES/<index>``. Marker bits ride on the waveform
of the core's output 1 (``placeholder(n, marker1, marker2)``).

Compilation (``zhinst.core.compile_seqc``, offline, ``samplerate`` given) is strict: a
``CoreError`` becomes a :class:`~labctl.errors.RenderError` naming the core, the SeqC line and the
compiler's message; any warning in ``extra["messages"]`` fails unless a pattern given by the caller
whitelists it, with a reason, because warnings announce zero-extended or lengthened waveforms,
i.e. a timeline that is not the plan's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import zhinst.core
from zhinst.core.errors import CoreError

from labctl.errors import RenderError
from labctl.sequences.render_wave import DAC_CODES, peak

#: Longest single playZero (samples); longer waits loop over it.
ZERO_CHUNK = 1 << 24
_MIN_PLAY = 32


@dataclass(frozen=True, eq=False)
class Wave:
    """A waveform slot of one core: int16 DAC codes per core output (1 or 2; +-32767 = full scale,
    hand them to the packer as integers, which it passes unchanged) and the marker bits (0/1 per
    sample) of ``marker_bit`` riding on output 1, if any. ``peaks`` per output, in units of full scale."""

    name: str
    index: int
    samples: dict[int, np.ndarray]
    markers: np.ndarray | None = None
    peaks: dict[int, float] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "peaks", {o: peak(v) / DAC_CODES for o, v in self.samples.items()})

    @property
    def length(self) -> int:
        return len(next(iter(self.samples.values())))


@dataclass(frozen=True)
class Step:
    """One instruction: ``zeros`` samples of silence, or ``wave`` played ``repeat`` times."""

    comment: str
    zeros: int = 0
    wave: str = ""
    repeat: int = 1


@dataclass(frozen=True, eq=False)
class CoreProgram:
    """The program of one AWG core (0-based ``core``): the chain it plays, its AWG outputs by
    role (e.g. {"I": 1, "Q": 2}), waveforms, steps, and the SeqC source built from them."""

    core: int
    chain: str
    outputs: dict[str, int]
    waves: tuple[Wave, ...]
    steps: tuple[Step, ...]
    marker_bit: int = 0
    header: tuple[str, ...] = ()
    seqc: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seqc", seqc_source(self))

    @property
    def samples_per_channel(self) -> int:
        """Waveform memory the core needs on each of its channels (samples)."""
        return sum(w.length for w in self.waves)

    def wave(self, name: str) -> Wave:
        return next(w for w in self.waves if w.name == name)


def _declarations(core: CoreProgram) -> list[str]:
    lines = []
    for w in core.waves:
        for output in sorted(w.samples):
            flags = ""
            if output == 1 and w.markers is not None:
                flags = ", true, false" if core.marker_bit == 1 else ", false, true"
            lines.append(f"wave {w.name}_{output} = placeholder({w.length}{flags});")
    for w in core.waves:
        pairs = ", ".join(f"{o}, {w.name}_{o}" for o in sorted(w.samples))
        lines.append(f"assignWaveIndex({pairs}, {w.index});")
    return lines


def _zeros(samples: int) -> list[str]:
    if samples <= ZERO_CHUNK:
        return [f"playZero({samples});"]
    loops, rest = divmod(samples, ZERO_CHUNK)
    if 0 < rest < _MIN_PLAY:
        loops, rest = loops - 1, rest + ZERO_CHUNK
    return [f"repeat ({loops}) {{", f"  playZero({ZERO_CHUNK});", "}"] + ([f"playZero({rest});"] if rest else [])


def _play(core: CoreProgram, step: Step) -> list[str]:
    wave = core.wave(step.wave)
    call = "playWave(" + ", ".join(f"{o}, {wave.name}_{o}" for o in sorted(wave.samples)) + ");"
    if step.repeat == 1:
        return [call]
    return [f"repeat ({step.repeat}) {{", f"  {call}", "}"]


def seqc_source(core: CoreProgram) -> str:
    """The SeqC text: header comments, declarations, the trigger wait, then the steps in order."""
    lines = [f"// {line}" for line in core.header] + _declarations(core)
    lines += ["", "waitDigTrigger(1);  // every core starts on the same digital trigger (render.py)"]
    for step in core.steps:
        lines.append(f"// {step.comment}")
        lines += _zeros(step.zeros) if step.zeros else _play(core, step)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, eq=False)
class CompiledCore:
    """The ELF of one core and the compiler's extra information (``wavemem``, ``maxelfsize``);
    ``accepted`` lists the whitelisted warnings with their reasons."""

    core: int
    elf: bytes
    extra: dict
    accepted: tuple[tuple[str, str], ...] = ()


def _source_line(core: CoreProgram, number: int) -> str:
    lines = core.seqc.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else "?"


def _compiler_error(core: CoreProgram, message: str, verdict: str = "rejects") -> RenderError:
    found = re.search(r"\(line: (\d+)\)", message)
    text = message.replace("Compilation failed:", "").strip()
    if found:
        number = int(found.group(1))
        where = f"SeqC line {number} ({_source_line(core, number)!r})"
    else:
        where = "the program as a whole"
    return RenderError(f"core {core.core} ({core.chain}): the SeqC compiler {verdict} {where}: {text}")


def compile_core(core: CoreProgram, device: str, sample_rate_hz: float, memory_samples: int,
                 allowed_warnings: Mapping[str, str] | None = None) -> CompiledCore:
    """Compile one core's program (module docstring); memory is checked first against
    ``[awg] memory_samples`` per channel, then by the compiler against its own limit."""
    if core.samples_per_channel > memory_samples:
        raise RenderError(
            f"core {core.core} ({core.chain}): the waveforms need {core.samples_per_channel} samples per channel, "
            f"more than [awg] memory_samples = {memory_samples}"
        )
    try:
        elf, extra = zhinst.core.compile_seqc(core.seqc, device, samplerate=sample_rate_hz, index=core.core)
    except CoreError as err:
        raise _compiler_error(core, str(err)) from None
    accepted = []
    for message in filter(None, extra.get("messages", "").splitlines()):
        reason = next((why for pattern, why in (allowed_warnings or {}).items() if re.search(pattern, message)), None)
        if reason is None:
            raise _compiler_error(core, message, "warns (not whitelisted) about")
        accepted.append((message, reason))
    return CompiledCore(core.core, elf, extra, tuple(accepted))
