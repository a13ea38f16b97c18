"""A rendered program on disk: what an operator hands to LabOne (or to labctl's HDAWG driver).

``save_program(program, folder, compiled)`` writes, per AWG core n playing chain c,

* ``core{n}_{c}.seqc`` -- the sequencer program;
* ``core{n}_{c}.npz`` -- its waveforms as int16 DAC codes, one array per wave and output
  (``{wave}_out{1|2}``), and the marker bits (``{wave}_markers``) where a wave carries them;
* ``core{n}_{c}.elf`` -- the compiled program, when ``compiled`` (from ``compile_program``) is given;

and ``render.json`` (schema "labctl.hdawg_program", version 1): device, serial, sample rate, the
Rabi LO frequency the microwave synthesizer must be set to, the node settings the program relies
on, the render report and the effective model of the rendered tones (rates in units of Gamma).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from labctl.errors import ConfigError
from labctl.sequences.plan import json_default
from labctl.sequences.render import HdawgProgram
from labctl.sequences.render_seqc import CompiledCore

SCHEMA = "labctl.hdawg_program"
VERSION = 1


def output_folder(folder: str | Path) -> Path:
    """``folder``, created if missing; ConfigError if it is a file or cannot be created."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{folder}: cannot use it as the output folder ({err.strerror})") from None
    return folder


def save_program(program: HdawgProgram, folder: str | Path, compiled: dict[int, CompiledCore] | None = None,
                 gamma: float = 1.0) -> list[Path]:
    """Write ``program`` into ``folder`` (module docstring); ``gamma`` (rad/s) is the unit of the
    model's rates in ``render.json``. Returns the files written."""
    folder = output_folder(folder)
    written = []
    for core in program.cores:
        stem = folder / f"core{core.core}_{core.chain}"
        written.append(stem.with_suffix(".seqc"))
        written[-1].write_text(core.seqc)
        arrays = {f"{w.name}_out{o}": codes for w in core.waves for o, codes in w.samples.items()}
        arrays |= {f"{w.name}_markers": w.markers for w in core.waves if w.markers is not None}
        written.append(stem.with_suffix(".npz"))
        np.savez(written[-1], **arrays)
        if compiled is not None:
            written.append(stem.with_suffix(".elf"))
            written[-1].write_bytes(compiled[core.core].elf)
    summary = {
        "schema": SCHEMA, "version": VERSION, "device": program.device, "serial": program.serial,
        "sample_rate_hz": program.sample_rate_hz, "rabi_lo_hz": program.report.rabi_lo_hz,
        "cores": {c.core: {"chain": c.chain, "outputs": c.outputs} for c in program.cores},
        "nodes": program.nodes, "report": program.report.summary(), "model_in_gamma": program.model.summary(gamma),
    }
    written.append(folder / "render.json")
    written[-1].write_text(json.dumps(summary, indent=1, default=json_default))
    return written
