"""``snnc compile`` and ``snnc list``: output directory, options, errors, targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from snnc import ir
from snnc.api import compile as compile_model
from snnc.api import load
from snnc.cli import cli, main
from snnc.io import to_time_last
from snnc.ir.serialize import write_graph
from snnc.passes import default_registry


@pytest.fixture
def model(tmp_path: Path) -> Path:
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(4,))),
        ("fc1", ir.Affine(weight=np.array([[0.5, -0.25, 1.0, 0.25], [0.75, 0.5, -0.5, 0.0],
                                           [0.25, 0.25, 0.25, 0.25]]), bias=np.full(3, 0.125))),
        ("bn", ir.BatchNorm(shape=(3,), mean=np.zeros(3), var=np.ones(3), weight=np.full(3, 2.0),
                            bias=np.zeros(3), eps=0.0)),
        ("lif1", ir.LIF(shape=(3,), decay_v=0.5)),
        ("fc2", ir.Linear(weight=np.array([[1.0, -0.5, 0.5], [0.5, 0.5, 0.5]]))),
        ("lif2", ir.IF(shape=(2,), threshold=0.75)), ("out", ir.Output(shape=(2,))))
    path = tmp_path / "m.snnc"
    write_graph(g, path)
    x = (np.random.default_rng(0).random((12, 5, 4)) < 0.4).astype(np.float64)
    np.save(tmp_path / "m.input.npy", to_time_last(x))
    return path


def run(*args: str) -> CliRunner.Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("chip", [None, "loihi1"])  # None: the default, Loihi 2
def test_compile_writes_graphs_fidelity_and_program(model: Path, tmp_path: Path,
                                                    chip: str | None) -> None:
    out = tmp_path / "out"
    res = run("compile", str(model), "-o", str(out), "-q", *(["--chip", chip] if chip else []))
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {  # the energy report adds report.json/.html
        "compile.json", "fidelity.json", "graph.float.snnc", "graph.lowered.snnc", "program.h5"}
    lowered = load(out / "graph.lowered.snnc")
    assert {n.op for n in lowered.nodes.values()} == {"input", "loihi.dense", "loihi.lif",
                                                      "output"}
    assert "batchnorm" not in {n.op for n in load(out / "graph.float.snnc").nodes.values()}
    fid = json.loads((out / "fidelity.json").read_text())
    assert fid["calibration"].endswith("m.input.npy")  # the file next to the model
    assert [r["layer"] for r in fid["layers"]] == ["lif1", "lif2"]
    assert all(r["spike_agreement"] == 1.0 for r in fid["layers"])
    assert "classification agreement: 100.0%" in res.output
    summary = json.loads((out / "compile.json").read_text())
    assert summary["target"] == "loihi-sim"
    assert summary["artifacts"]["chip"] == (chip or "loihi2")
    assert [p["pass"] for p in summary["passes"]] == summary["pipeline"].split(",")


def test_stop_after_pipeline_and_dump_ir(model: Path, tmp_path: Path) -> None:
    out, dumps = tmp_path / "out", tmp_path / "ir"
    res = run("compile", str(model), "-o", str(out), "--pipeline", "canonicalize,fold-bn,prune",
              "--dump-ir", str(dumps), "--stop-after", "fold-bn")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == [".snnc-output", "compile.json",
                                                      "graph.float.snnc"]
    assert "batchnorm" not in {n.op for n in load(out / "graph.float.snnc").nodes.values()}
    assert sorted(p.name for p in dumps.iterdir()) == ["00-input.txt", "01-canonicalize.txt",
                                                       "02-fold-bn.txt"]
    assert "[ 2/3] fold-bn" in res.output  # progress lines (stderr is mixed in)
    assert "7 -> 6 nodes" in res.output  # fold-bn removed the batch norm


def test_errors_exit_2_and_leave_no_output(model: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["compile", str(model), "-o", str(out), "--pipeline", "fold-bn,quantise-loihi"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown pass 'quantise-loihi'" in err
    assert "quantize-loihi" in err
    assert not out.exists()


def test_calibration_file_and_steps(model: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(3).integers(0, 3, (2, 4, 6)).astype(float)  # (B, *shape, T)
    np.save(tmp_path / "counts.npy", x)
    # counts are graded input: the default chip (Loihi 1, binary spikes) cannot map it
    result = compile_model(model, calibration=tmp_path / "counts.npy", steps=9, chip="loihi2")
    assert result.fidelity["steps"] == 9
    assert result.fidelity["batch"] == 2
    enc = result.lowered.metadata["loihi.inputs"]["in"]
    assert enc["encoding"] == "integer"


@pytest.mark.parametrize(("target", "artifact"), [
    ("netx", "model.net"),
    pytest.param("nir", "model.nir", marks=pytest.mark.requires("nir")),
])
def test_file_targets(model: Path, tmp_path: Path, target: str, artifact: str) -> None:
    out = tmp_path / target
    res = run("compile", str(model), "-o", str(out), "--target", target, "-q", "--dt", "0.001")
    assert res.exit_code == 0, res.output
    assert (out / artifact).is_file()
    if target == "nir":
        assert not (out / "graph.lowered.snnc").exists()
        assert not (out / "fidelity.json").exists()


def test_check_runs_the_differential_check_after_every_pass(model: Path, tmp_path: Path) -> None:
    res = run("compile", str(model), "-o", str(tmp_path / "out"), "-q", "--check")
    assert res.exit_code == 0, res.output
    checks = json.loads((tmp_path / "out" / "compile.json").read_text())["checks"]
    assert all(c["identical"] for c in checks)  # exact passes; on the grid quantization too
    assert [c["semantics"] for c in checks][-4:] == ["approximate", "lowering", "exact", "exact"]


def test_list_passes_and_targets() -> None:
    res = run("list", "passes")
    assert res.exit_code == 0
    for name, sem, summary in default_registry().describe():
        line = next(ln for ln in res.output.splitlines() if ln.startswith(name + " "))
        assert f"[{sem}]" in line
        assert summary in line
    res = run("list", "targets", "--pipeline")
    assert "loihi-sim (default)" in res.output
    assert "nir:" in res.output


@pytest.mark.torch
def test_input_option_sets_the_report_input(tmp_path: Path) -> None:
    """`--input X.npy` is the input whose activity the energy report measures."""
    out = tmp_path / "out"
    model = Path(__file__).resolve().parents[1] / "examples" / "models" / "qsnn4.pt"
    x = Path(__file__).resolve().parents[1] / "examples" / "models" / "X.npy"
    res = run("compile", str(model), "-o", str(out), "-q", "--input", str(x))
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["input"]["kind"] == "user"
    assert "user input" in res.output


def test_already_lowered_graph_is_mapped_without_passes(tmp_path: Path) -> None:
    """A lowered model (e.g. from a netx file) goes straight to the mapper."""
    from snnc.ir import Graph, Input, LoihiDense, LoihiLIF, Output
    from snnc.ir.serialize import write_graph

    graph = Graph.chain(("x", Input(shape=(4,))),
                        ("syn", LoihiDense(weight=np.arange(12).reshape(3, 4) * 2)),
                        ("n", LoihiLIF(shape=(3,), du=4095, dv=128, vth=20)),
                        ("y", Output(shape=(3,))))
    write_graph(graph, tmp_path / "lowered.snnc")
    res = run("compile", str(tmp_path / "lowered.snnc"), "-o", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assert "already lowered" in res.output
    assert (tmp_path / "out" / "program.h5").is_file()
    summary = json.loads((tmp_path / "out" / "compile.json").read_text())
    assert summary["pipeline"] == ""


def test_mapping_option_and_inspect_show_the_packing(model: Path, tmp_path: Path) -> None:
    from snnc.backends.loihi.program import ChipProgram

    outs = {}
    for mapping in ("compact", "balanced"):
        out = tmp_path / mapping
        res = run("compile", str(model), "-o", str(out), "-q", "--mapping", mapping)
        assert res.exit_code == 0, res.output
        prog = ChipProgram.load(out)
        assert prog.strategy == mapping
        shown = run("inspect", str(out))
        assert shown.exit_code == 0, shown.output
        assert f"mapping strategy '{mapping}'" in " ".join(shown.output.split())
        doc = json.loads((out / "report.json").read_text())
        stages = doc["latency"]["pipeline"]["bottleneck_core_stages"]
        assert stages["synapse"] > 0
        outs[mapping] = doc
    # same spikes whatever the packing: the activity counts agree
    for key in ("syn_ops", "spikes_out", "neurons_active"):
        assert outs["compact"]["activity"]["per_inference"][key] == pytest.approx(
            outs["balanced"]["activity"]["per_inference"][key])
    bad = CliRunner().invoke(cli, ["compile", str(model), "-o", str(tmp_path / "x"), "--mapping",
                                   "snake"])
    assert bad.exit_code == 2


def test_balancing_uses_the_measured_activity_and_says_so(model: Path, tmp_path: Path) -> None:
    """With a calibration input (m.input.npy beside the model) the balanced mapping weighs
    per-core work at the rates the fidelity run measured; inspect and the report say which."""
    out = tmp_path / "out"
    assert run("compile", str(model), "-o", str(out), "-q").exit_code == 0
    fid = json.loads((out / "fidelity.json").read_text())
    from snnc.backends.loihi.program import ChipProgram

    rates = dict(ChipProgram.load(out).rates)
    assert rates["lif1"] == pytest.approx(next(r["fixed_rate"] for r in fid["layers"]
                                               if r["layer"] == "lif1"))
    x = np.load(model.with_name("m.input.npy"))
    assert rates["in"] == pytest.approx(float((x != 0).mean()))  # binary input: its spike rate
    report = json.loads((out / "report.json").read_text())
    assert report["chip"]["mapping"]["activity"] == "measured"
    res = run("inspect", str(out))
    text = " ".join(res.output.split())  # rich wraps the table title
    assert "activity measured on the calibration input" in text, text


def test_balancing_without_calibration_says_it_assumed(tmp_path: Path) -> None:
    g = ir.Graph.chain(("in", ir.Input(shape=(3,))),
                       ("fc", ir.Linear(weight=np.eye(3))), ("lif", ir.IF(shape=(3,))),
                       ("out", ir.Output(shape=(3,))))
    result = compile_model(g, chip="loihi2")  # synthetic analog input: graded payloads
    assert result.program.rates == ()
    assert result.report["chip"]["mapping"]["activity"] == "assumed"


def test_an_already_lowered_model_is_balanced_at_its_measured_activity() -> None:
    """A graph that arrives lowered (as a lava-dl .net does) has no fidelity run; with a
    calibration input its layers' rates are measured on the reference simulator instead."""
    from snnc.simulators.reference import simulate

    rng = np.random.default_rng(0)
    w1, w2 = (rng.integers(-20, 40, (32, 16)) >> 1) << 1, (rng.integers(-20, 40, (4, 32)) >> 1) << 1
    g = ir.Graph.chain(("in", ir.Input(shape=(16,))), ("d1", ir.LoihiDense(weight=w1)),
                       ("l1", ir.LoihiLIF(shape=(32,), du=4095, dv=0, vth=200)),
                       ("d2", ir.LoihiDense(weight=w2)),
                       ("l2", ir.LoihiLIF(shape=(4,), du=4095, dv=0, vth=200)),
                       ("out", ir.Output(shape=(4,))))
    x = (rng.random((10, 3, 16)) < 0.3).astype(np.float64)
    result = compile_model(g, calibration=x)
    rates = dict(result.program.rates)
    ref = simulate(g, x, probes=["l1.s", "l2.s"])
    assert rates["l1"] == pytest.approx(float((ref.probes["l1.s"] != 0).mean()))
    assert rates["l2"] == pytest.approx(float((ref.probes["l2.s"] != 0).mean()))
    assert rates["in"] == pytest.approx(float(x.mean()))
    assert result.report["chip"]["mapping"]["activity"] == "measured"
