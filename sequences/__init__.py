"""labctl.sequences -- from a target state to the instruments' settings.

* :func:`compile_target` -- a target (dict or TOML file) -> ModelParams with predicted figures;
* :func:`plan` -- model parameters + hardware description + calibration record -> HardwarePlan;
* :func:`render_hdawg` / :func:`compile_program` -- a plan -> SeqC programs and waveforms per HDAWG
  core, compiled offline by zhinst.core; :func:`save_program` writes them to a folder;
* :class:`ModelParams`, :class:`HardwarePlan`, :func:`load_hardware`, :func:`load_calibration`.
"""

from labctl.sequences.calibration import Calibration, load_calibration
from labctl.sequences.hardware import Hardware, load_hardware
from labctl.sequences.params import ModelParams
from labctl.sequences.plan import load_plan, plan, save_plan
from labctl.sequences.plan_types import HardwarePlan
from labctl.sequences.render import HdawgProgram, compile_program, render_hdawg
from labctl.sequences.render_files import save_program
from labctl.sequences.targets import compile_target

__all__ = [
    "Calibration",
    "compile_program",
    "compile_target",
    "Hardware",
    "HardwarePlan",
    "HdawgProgram",
    "ModelParams",
    "load_calibration",
    "load_hardware",
    "load_plan",
    "plan",
    "render_hdawg",
    "save_plan",
    "save_program",
]
