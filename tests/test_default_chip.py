"""Issue 21: Loihi 2 is loihi-sim's default chip, Loihi 1 stays one ``--chip loihi1`` away, every
report and ``snnc inspect`` name the chip and its cost figures' source in one line, and a
refusal on one built-in chip names the other when that one takes the program."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from snnc import ir
from snnc.backends.loihi.chips import DEFAULT_CHIP, OTHER_CHIP, load_chip
from snnc.backends.report.energy import cost_line, models_for_chip
from snnc.cli import cli
from snnc.errors import ResourceError, UnsupportedOpError
from snnc.io import to_time_last
from snnc.ir.serialize import write_graph
from snnc.stages.mapping import map_program
from snnc.targets import DEFAULT_TARGET, get_target


def run(*args: str) -> CliRunner.Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A hard-reset LIF chain both chips take, with binary example input beside it."""
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(4,))),
        ("fc1", ir.Linear(weight=np.array([[0.5, -0.25, 1.0, 0.25], [0.75, 0.5, -0.5, 0.0],
                                           [0.25, 0.25, 0.25, 0.25]]))),
        ("lif1", ir.LIF(shape=(3,), decay_v=0.5)),
        ("fc2", ir.Linear(weight=np.array([[1.0, -0.5, 0.5], [0.5, 0.5, 0.5]]))),
        ("lif2", ir.IF(shape=(2,), threshold=0.75)), ("out", ir.Output(shape=(2,))))
    path = tmp_path / "m.snnc"
    write_graph(g, path)
    x = (np.random.default_rng(0).random((12, 5, 4)) < 0.4).astype(np.float64)
    np.save(tmp_path / "m.input.npy", to_time_last(x))
    return path


def test_loihi_sim_defaults_to_loihi2_everywhere() -> None:
    assert DEFAULT_TARGET == "loihi-sim"
    assert get_target("loihi-sim").chip == DEFAULT_CHIP == "loihi2"
    assert load_chip().name == "loihi2"
    assert OTHER_CHIP == {"loihi1": "loihi2", "loihi2": "loihi1"}
    import inspect

    from snnc.commands.learn import command as learn
    from snnc.simulators.learning import session

    assert next(p for p in learn.params if p.name == "chip").default == DEFAULT_CHIP
    assert inspect.signature(session.run).parameters["chip"].default == DEFAULT_CHIP


@pytest.mark.parametrize("chip", [None, "loihi1", "loihi2"])
def test_report_and_inspect_state_chip_and_cost_source(model: Path, tmp_path: Path,
                                                       chip: str | None) -> None:
    out = tmp_path / f"out-{chip}"
    res = run("compile", str(model), "-o", str(out), "-q", *(["--chip", chip] if chip else []))
    assert res.exit_code == 0, res.output
    name = chip or "loihi2"
    doc = json.loads((out / "report.json").read_text())
    default_model = models_for_chip(load_chip(name))[0]
    line = cost_line(name, default_model)
    assert doc["chip"]["name"] == name
    assert doc["chip"]["costs"] == line
    assert doc["energy"]["model"]["name"] == default_model.name
    assert line.startswith(f"chip {name}, cost figures {default_model.name} (")
    assert default_model.source in line
    assert ("ESTIMATE" in line) == default_model.estimate  # Loihi 2's figures are estimated
    shown = run("report", str(out))
    assert shown.exit_code == 0, shown.output
    assert " ".join(shown.output.split()).startswith(" ".join(line.split()))
    html = (out / "report.html").read_text()
    assert f'<p class="chip-costs">chip {name}, cost figures {default_model.name}' in html
    shown = run("inspect", str(out))
    assert shown.exit_code == 0, shown.output
    assert " ".join(shown.output.split()).startswith(" ".join(line.split()))


def test_list_marks_the_default_chip_and_target() -> None:
    chips = " ".join(run("list", "chips").output.split())
    assert "loihi2 (default)" in chips
    assert "loihi1 (default)" not in chips
    targets = " ".join(run("list", "targets").output.split())
    assert "loihi-sim (default) loihi2" in targets


def test_chip_lines_differ_between_the_chips() -> None:
    l1 = cost_line("loihi1", models_for_chip(load_chip("loihi1"))[0])
    l2 = cost_line("loihi2", models_for_chip(load_chip("loihi2"))[0])
    assert "loihi1-sanafe" in l1
    assert "ESTIMATE" not in l1
    assert "loihi2-estimate" in l2
    assert "an ESTIMATE" in l2


class _Backend:
    """A backend whose chips take or refuse the program as told (``refuse``: chip -> error)."""

    def __init__(self, refuse: dict[str, Exception]) -> None:
        self.refuse, self.calls = refuse, []

    def map(self, optimized, chip, mapping=None):
        self.calls.append(chip)
        if chip in self.refuse:
            raise self.refuse[chip]
        return f"program on {chip}"


def _optimized() -> SimpleNamespace:
    return SimpleNamespace(lowered=ir.Graph.chain(("in", ir.Input(shape=(2,))),
                                                  ("out", ir.Output(shape=(2,)))),
                           synthetic=False)


@pytest.mark.parametrize(("chip", "other"), [("loihi1", "loihi2"), ("loihi2", "loihi1")])
@pytest.mark.parametrize("err", [ResourceError, UnsupportedOpError])
def test_a_refusal_names_the_other_chip_when_it_takes_the_program(chip, other, err) -> None:
    backend = _Backend({chip: err("layer 'fc': 3000 neurons of fan-out, limit 2048.")})
    with pytest.raises(err) as exc:
        map_program(_optimized(), get_target("loihi-sim"), chip, backend)
    assert str(exc.value) == ("layer 'fc': 3000 neurons of fan-out, limit 2048. The same "
                              f"program fits on {other}: compile with --chip {other}.")
    assert backend.calls == [chip, other]


def test_no_hint_when_the_other_chip_refuses_too_or_is_already_named() -> None:
    both = _Backend({"loihi1": ResourceError("too big for loihi1."),
                     "loihi2": ResourceError("too big for loihi2.")})
    with pytest.raises(ResourceError, match=r"^too big for loihi1\.$"):
        map_program(_optimized(), get_target("loihi-sim"), "loihi1", both)
    named = _Backend({"loihi1": UnsupportedOpError("graded spikes; use --chip loihi2")})
    with pytest.raises(UnsupportedOpError, match=r"use --chip loihi2$"):
        map_program(_optimized(), get_target("loihi-sim"), "loihi1", named)
    assert named.calls == ["loihi1"]  # not mapped twice


def test_loihi1_refusals_of_loihi2_features_name_loihi2(tmp_path: Path, capsys) -> None:
    """A subtract-reset layer compiles on the default chip and is refused on Loihi 1 with a
    message naming the feature and --chip loihi2 (the README's command needs no flag)."""
    g = ir.Graph.chain(("in", ir.Input(shape=(3,))),
                       ("fc", ir.Linear(weight=np.eye(3) * 0.75)),
                       ("lif", ir.LIF(shape=(3,), decay_v=0.5, reset="subtract")),
                       ("out", ir.Output(shape=(3,))))
    path = tmp_path / "soft.snnc"
    write_graph(g, path)
    x = (np.random.default_rng(1).random((8, 4, 3)) < 0.5).astype(np.float64)
    np.save(tmp_path / "soft.input.npy", to_time_last(x))
    ok = run("compile", str(path), "-o", str(tmp_path / "o2"), "-q")
    assert ok.exit_code == 0, ok.output
    from snnc.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["compile", str(path), "-o", str(tmp_path / "o1"), "-q", "--chip", "loihi1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "layer 'lif': subtract (soft) reset" in err
    assert "--chip loihi2" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o1").exists()
