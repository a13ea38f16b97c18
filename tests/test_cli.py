"""The command line: the README's main job, target compilation, planning and rendering, and clean errors."""

import json

import numpy as np
import pytest

from labctl.cli import main


def test_demo_prints_the_three_regimes(capsys):
    assert main(["demo", "--spin", "20"]) == 0
    out = capsys.readouterr().out
    for regime in ("SQL", "S^3/2", "Heisenberg"):
        assert regime in out


def test_steady_state_figures(capsys):
    assert main(["steady-state", "--spin", "1", "--detunings", "0.5,1.5,-1.5,-0.5", "--rabi", "2", "--chi", "1"]) == 0
    assert "qfi_+--+" in capsys.readouterr().out


def test_plan_writes_json_and_png(tmp_path, capsys):
    out, png = tmp_path / "plan.json", tmp_path / "plan.png"
    assert main(["plan", "examples/targets/dimerized.toml", "--lab", "examples/lab4", "--out", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "predicted infidelity by source" in text and out.stat().st_size > 0 and png.stat().st_size > 0


def test_render_writes_compiled_programs_waveforms_and_settings(tmp_path, capsys):
    assert main(["render", "examples/targets/dimerized.toml", "--lab", "examples/lab4", "--out", str(tmp_path)]) == 0
    assert "set the Rabi LO to" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "core0_rabi.elf", "core0_rabi.npz", "core0_rabi.seqc", "core1_raman.elf", "core1_raman.npz", "core1_raman.seqc",
        "render.json"]
    summary = json.loads((tmp_path / "render.json").read_text())
    assert summary["schema"] == "labctl.hdawg_program" and summary["rabi_lo_hz"] == summary["report"]["rabi_lo_hz"]
    assert all(trim["theta"] < 0.05 for trim in summary["report"]["trims"])
    waves = np.load(tmp_path / "core0_rabi.npz")
    loop = summary["report"]["grid"]["samples"]
    assert waves["stabilise_loop_out1"].dtype == np.int16 and waves["stabilise_loop_out1"].shape == (loop,)
    assert np.all(waves["readout_marker_markers"] == 1)
    assert "waitDigTrigger(1);" in (tmp_path / "core1_raman.seqc").read_text()
    assert (tmp_path / "core0_rabi.elf").read_bytes()[:4] == b"\x7fELF"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["steady-state", "--spin", "1", "--detunings", "0.1,0.2", "--rabi", "1"], "no partner"),
        (["demo", "--spin", "0.3"], "multiple of 1/2"),
        (["compile", "no/such/target.toml"], "cannot read"),
        (["plan", "examples/targets/dimerized.toml", "--lab", "no/such/lab"], "no such hardware file"),
        (["render", "examples/targets/dimerized.toml", "--lab", "examples/lab2", "--out", "examples"], "traps 2"),
        (["render", "examples/targets/dimerized.toml", "--lab", "examples/lab4", "--out", "README.md"],
         "cannot use it as the output folder"),
        (["plan", "examples/targets/dimerized.toml", "--lab", "examples/lab4", "--out", "examples"],
         "cannot write the plan there"),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
