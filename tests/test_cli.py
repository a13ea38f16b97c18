"""The command line: the README's main job, target compilation and planning, and clean errors."""

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


@pytest.mark.parametrize(
    "argv, message",
    [
        (["steady-state", "--spin", "1", "--detunings", "0.1,0.2", "--rabi", "1"], "no partner"),
        (["demo", "--spin", "0.3"], "multiple of 1/2"),
        (["compile", "no/such/target.toml"], "cannot read"),
        (["plan", "examples/targets/dimerized.toml", "--lab", "no/such/lab"], "no such hardware file"),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
