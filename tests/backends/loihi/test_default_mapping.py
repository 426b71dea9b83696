"""The default mapping (mapper.default_strategy): ``vendor`` on Loihi 2, ``balanced`` on Loihi 1,
and ``balanced`` standing in, with the reason recorded, where the vendor packing refuses a graph
that balanced maps (here: its extra cores need more chips than a chip file allows)."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.backends.loihi.chips import load_chip
from snnc.backends.loihi.mapper import default_strategy, map_graph
from snnc.backends.loihi.program import ChipProgram
from snnc.errors import ResourceError

# a Loihi 2 of one chip with 4 cores (2 tiles): small enough for the vendor packing to overflow
ONE_SMALL_CHIP = """
base = "loihi2"
name = "loihi2-small"
[mesh]
cores_per_chip = 4
cores_per_tile = 2
tiles_x = 2
tiles_y = 1
max_chips = 1
"""


def _conv_net() -> ir.Graph:
    """(1, 34, 42) -> 3x3 conv -> (8, 32, 40) LIF: 10,240 neurons. Vendor: 8 whole columns
    (8 x 32 x 8 = 2,048 neurons) per core -> 5 cores; compact: 8,192 neurons per core -> 2."""
    w = np.random.default_rng(0).integers(-40, 60, size=(8, 1, 3, 3))
    return ir.Graph.chain(
        ("x", ir.Input(shape=(1, 34, 42))),
        ("c", ir.LoihiConv(input_shape=(1, 34, 42), weight=w)),
        ("l", ir.LoihiLIF(shape=(8, 32, 40), du=4095, dv=256, vth=200)),
        ("y", ir.Output(shape=(8, 32, 40))))


def _small_chip(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(ONE_SMALL_CHIP)
    return load_chip(path)


def test_the_default_is_vendor_on_loihi2_and_balanced_on_loihi1() -> None:
    assert default_strategy(load_chip("loihi2")) == "vendor"
    assert default_strategy(load_chip("loihi1")) == "balanced"
    g = _conv_net()
    l2, l1 = map_graph(g, "loihi2"), map_graph(g, "loihi1")
    assert (l2.strategy, l2.fallback) == ("vendor", "")
    assert (l1.strategy, l1.fallback) == ("balanced", "")
    # the default is the vendor mapping itself, core for core
    vendor = map_graph(g, "loihi2", strategy="vendor")
    assert [c.__dict__ for c in l2.cores] == [c.__dict__ for c in vendor.cores]
    assert len(l2.layers["l"].cores) == 5


def test_balanced_stands_in_where_vendor_refuses_and_says_why(tmp_path) -> None:
    chip = _small_chip(tmp_path)
    g = _conv_net()
    with pytest.raises(ResourceError, match="needs 5 cores"):
        map_graph(g, chip, strategy="vendor")  # asked for: refused, no fallback
    prog = map_graph(g, chip)
    assert prog.strategy == "balanced"
    assert prog.fallback.startswith("vendor packing refused: the network needs 5 cores")
    balanced = map_graph(g, chip, strategy="balanced")
    assert balanced.fallback == ""
    assert [c.__dict__ for c in prog.cores] == [c.__dict__ for c in balanced.cores]
    prog.save(tmp_path / "o")
    assert ChipProgram.load(tmp_path / "o").fallback == prog.fallback  # round-trips
    # a graph neither maps (40,960 neurons: 5 cores of 8,192 at the fewest): balanced's
    # refusal stands, as before vendor was the default
    big = ir.Graph.chain(
        ("x", ir.Input(shape=(1, 66, 82))),
        ("c", ir.LoihiConv(input_shape=(1, 66, 82), weight=np.ones((8, 1, 3, 3), int))),
        ("l", ir.LoihiLIF(shape=(8, 64, 80), vth=200)), ("y", ir.Output(shape=(8, 64, 80))))
    with pytest.raises(ResourceError) as got:
        map_graph(big, chip)
    with pytest.raises(ResourceError) as want:
        map_graph(big, chip, strategy="balanced")
    assert str(got.value) == str(want.value)


def test_inspect_and_report_show_the_fallback(tmp_path) -> None:
    from rich.console import Console

    from snnc.backends.loihi.describe import describe_program
    from snnc.backends.report import build_report
    from snnc.simulators.event import simulate

    prog = map_graph(_conv_net(), _small_chip(tmp_path))
    console = Console(record=True, width=400)
    console.print(describe_program(prog))
    text = " ".join(console.export_text().split())
    assert "mapping strategy 'balanced' (vendor packing refused: the network needs 5" in text
    x = (np.random.default_rng(1).random((4, 1, 1, 34, 42)) < 0.3).astype(np.int8)
    res = simulate(prog, x)
    doc = build_report(prog, res)
    assert doc["chip"]["mapping"]["fallback"] == prog.fallback
    mapping = [n for n in doc["notes"] if n.startswith("mapping: balanced (vendor packing")]
    assert len(mapping) == 1
    # Loihi 2's estimate, whose time was fitted on the vendor mapping: the note says so, and
    # does not advise --mapping vendor, which refused this graph
    doc = build_report(prog, res, energy_model="loihi2-estimate")
    mapping = [n for n in doc["notes"] if n.startswith("mapping: balanced (vendor packing")]
    assert len(mapping) == 1
    assert "fitted on the 'vendor' mapping" in mapping[0]
    assert not any("compile with --mapping vendor" in n for n in doc["notes"])


def test_a_default_loihi2_report_has_no_other_mapping_note() -> None:
    from snnc.backends.report import build_report
    from snnc.simulators.event import simulate

    g = _conv_net()
    x = (np.random.default_rng(2).random((4, 1, 1, 34, 42)) < 0.3).astype(np.int8)
    notes = {}
    for strategy in (None, "balanced"):
        prog = map_graph(g, "loihi2", strategy=strategy)
        doc = build_report(prog, simulate(prog, x))
        notes[strategy] = [n for n in doc["notes"] if "fitted on the" in n]
    assert notes[None] == []
    assert len(notes["balanced"]) == 1
    assert "mapped 'balanced' (not the default)" in notes["balanced"][0]


def test_compile_cli_falls_back_and_inspect_and_report_say_so(tmp_path, capsys) -> None:
    """End to end: a lowered graph compiled for the small Loihi 2 chip file with no --mapping
    compiles (exit 0) on balanced; ``snnc inspect`` and report.json say why; --mapping vendor
    is refused as a one-paragraph error (exit 2)."""
    import json

    from cli_run import run

    from snnc.ir.serialize import write_graph

    write_graph(_conv_net(), tmp_path / "m.snnc")
    chip = tmp_path / "small.toml"
    chip.write_text(ONE_SMALL_CHIP)
    out = tmp_path / "o"
    code, _, err = run(["compile", str(tmp_path / "m.snnc"), "--chip", str(chip), "-q",
                        "-o", str(out)], capsys)
    assert code == 0, err
    prog = ChipProgram.load(out)
    assert prog.strategy == "balanced"
    assert prog.n_cores == 2
    assert prog.fallback.startswith("vendor packing refused")
    report = json.loads((out / "report.json").read_text())
    assert report["chip"]["mapping"]["fallback"] == prog.fallback
    code, shown, _ = run(["inspect", str(out)], capsys)
    assert code == 0
    assert "mapping strategy 'balanced' (vendor packing refused:" in " ".join(shown.split())
    code, _, err = run(["compile", str(tmp_path / "m.snnc"), "--chip", str(chip), "-q",
                        "--mapping", "vendor", "-o", str(tmp_path / "v")], capsys)
    assert code == 2
    assert "needs 5 cores" in err
    assert "Traceback" not in err
    assert not (tmp_path / "v" / "program.h5").exists()
