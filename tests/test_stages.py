"""The compile pipeline as stages (snnc.stages) and the backend/simulator registry."""

from __future__ import annotations

import dataclasses
import json
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest

from snnc import api, ir
from snnc.backends.report.schema import dumps
from snnc.cli import main
from snnc.errors import SnncError
from snnc.registry import Registry, default_registry
from snnc.simulators import reference

MODELS = Path(__file__).resolve().parents[1] / "examples" / "models"


def _mlp() -> ir.Graph:
    rng = np.random.default_rng(7)
    lif = {"decay_v": np.array(0.5), "threshold": np.array(1.0)}
    return ir.Graph.chain(
        ("x", ir.Input(shape=(8,))),
        ("fc1", ir.Affine(weight=rng.integers(-4, 9, (12, 8)) / 8.0, bias=np.zeros(12))),
        ("lif1", ir.LIF(shape=(12,), **lif)),
        ("fc2", ir.Affine(weight=rng.integers(-4, 9, (4, 12)) / 8.0, bias=np.zeros(4))),
        ("lif2", ir.LIF(shape=(4,), **lif)), ("y", ir.Output(shape=(4,))))


def _spikes(b: int = 3, t: int = 12) -> np.ndarray:
    return (np.random.default_rng(3).random((t, b, 8)) < 0.4).astype(np.float64)


def test_compile_without_out_dir_returns_program_and_report(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = api.compile(_mlp(), calibration=_spikes(), report_input=_spikes(2))
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert res.program is not None
    assert res.program.n_cores >= 2
    assert res.report["input"]["kind"] == "user"
    assert res.report["input"]["samples"] == 2
    assert res.measurement.sim.counters.totals()["spikes_out"] > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.program = None  # type: ignore[misc]


def test_save_only_writes_what_the_stages_made(tmp_path, monkeypatch) -> None:
    res = api.compile(_mlp(), calibration=_spikes(), report_input=_spikes(2))

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("save() ran a stage")

    import snnc.backends.loihi.mapper as mapper
    import snnc.simulators.event as event

    monkeypatch.setattr(event, "simulate", boom)
    monkeypatch.setattr(mapper, "map_graph", boom)
    out = res.save(tmp_path / "out")
    assert (out / "report.json").read_text() == dumps(res.report)
    assert (out / "program.h5").is_file()
    summary = json.loads((out / "compile.json").read_text())
    assert summary["artifacts"] == {"files": ["program.h5"], "chip": "loihi2",
                                    "cores": res.program.n_cores, "chips": 1}


def test_worst_case_is_counted_by_the_simulator_not_the_report() -> None:
    res = api.compile(_mlp(), calibration=_spikes())  # arrays are not kept: no input to measure
    m = res.measurement
    assert m.kind == "worst-case"
    assert m.float_probes is None
    steps = res.fidelity["steps"]
    assert m.sim.counters.step_ns.shape[0] >= steps
    assert res.report["input"]["kind"] == "worst-case"


def test_file_targets_have_no_program_or_report(tmp_path) -> None:
    res = api.compile(_mlp(), target="netx", calibration=_spikes())
    assert res.program is None
    assert res.report is None
    assert res.lowered is not None


@pytest.mark.torch
@pytest.mark.parametrize("backend", ["loihi-sim", "reference",
                                     pytest.param("brian2", marks=pytest.mark.requires("brian2"))])
def test_simulate_an_uncompiled_model_file(backend, tmp_path) -> None:
    """``snnc simulate qsnn4.pt`` goes through the stages (loihi-sim) or runs the graph."""
    path = MODELS / "qsnn4.pt"
    if not path.is_file():
        pytest.skip(f"{path} not built")
    x = np.load(MODELS / "digits_test.npz")["spikes"][:3].astype(np.float64)  # (B, 64, T)
    np.save(tmp_path / "x.npy", x)
    code = main(["simulate", str(path), "-i", str(tmp_path / "x.npy"), "-b", backend, "-q",
                 "-o", str(tmp_path / "r.npz")])
    assert code in (0, None)
    out = np.load(tmp_path / "r.npz")["output"]
    xt = np.moveaxis(x, -1, 0)
    if backend == "loihi-sim":  # against the reference on the same mapped program's graph,
        # aligned as simulate aligns a compiled program: L extra steps, the first L dropped
        from snnc.commands.simulate import pipeline_latency

        program = api.prepare(path, "program")
        lat = pipeline_latency(program.graph)
        assert lat == 2
        padded = np.concatenate([xt, np.zeros((lat, *xt.shape[1:]))])
        want = reference.simulate(program.graph, padded).output[lat:]
    else:
        want = reference.simulate(api.load(path), xt).output
    np.testing.assert_array_equal(out, np.moveaxis(want, 0, -1))


def test_registry_serves_targets_list_and_simulate(capsys) -> None:
    reg = default_registry()
    assert set(reg.simulator_names()) >= {"loihi-sim", "reference", "lava", "brian2"}
    from snnc.targets import TARGETS

    assert {t.backend for t in TARGETS.values()} <= set(reg.backend_names())
    assert main(["list", "backends"]) in (0, None)
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert listed == set(reg.backend_names()) | set(reg.simulator_names())


def _entry_points(monkeypatch) -> None:
    eps = {"snnc.simulators": [EntryPoint("toy", "plugin_toy:ToySimulator", "snnc.simulators"),
                               EntryPoint("broken", "plugin_toy:NotASimulator",
                                          "snnc.simulators")],
           "snnc.backends": [EntryPoint("toyfile", "plugin_toy:ToyBackend", "snnc.backends")]}
    monkeypatch.setattr("importlib.metadata.entry_points",
                        lambda group=None: eps.get(group, []))


def test_third_party_simulator_through_an_entry_point(monkeypatch, tmp_path, capsys) -> None:
    _entry_points(monkeypatch)
    from snnc.ir.serialize import write_graph

    write_graph(_mlp(), tmp_path / "m.snnc")
    x = np.random.default_rng(0).random((2, 8, 5))
    np.save(tmp_path / "x.npy", x)
    assert main(["simulate", str(tmp_path / "m.snnc"), "-i", str(tmp_path / "x.npy"), "-b",
                 "toy", "-q", "-o", str(tmp_path / "r.npz")]) in (0, None)
    np.testing.assert_array_equal(np.load(tmp_path / "r.npz")["output"], x)
    main(["list", "backends"])
    assert "test plug-in: output = input" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(tmp_path / "m.snnc"), "-i", str(tmp_path / "x.npy"), "-b",
              "broken", "-o", str(tmp_path / "b.npz")])
    assert exc.value.code == 2
    assert "does not implement the Simulator protocol" in capsys.readouterr().err
    assert not (tmp_path / "b.npz").exists()


def test_third_party_backend_as_a_target_backend(monkeypatch, tmp_path) -> None:
    _entry_points(monkeypatch)
    reg = default_registry()
    backend = reg.backend("toyfile")
    res = api.compile(_mlp(), target="nir", calibration=_spikes())
    res.save(tmp_path / "out", backend=backend)
    assert (tmp_path / "out" / "nodes.txt").read_text().split() == list(res.graph.nodes)


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(SnncError, match="available: loihi-sim, lava, netx, nir"):
        Registry().backend("loihi3")
