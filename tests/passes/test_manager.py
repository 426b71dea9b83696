"""Pass manager: pipeline strings, registry, requires/verify, failure messages, instruments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from snnc import ir
from snnc.errors import PassError, QuantizationError
from snnc.ir.text import parse_graph
from snnc.passes import (
    DEFAULT_PIPELINE,
    Pass,
    PassContext,
    PassManager,
    PassRegistry,
    Semantics,
    default_registry,
    parse_pipeline,
    split_pipeline,
)
from snnc.passes.instruments import DifferentialCheck, DumpIR, Timing
from snnc.passes.pipeline import BUILTIN_PASSES


def small_graph() -> ir.Graph:
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))),
        ("fc", ir.Affine(weight=np.array([[0.5, -0.25, 1.0], [1.0, 1.0, 0.0]]),
                         bias=np.zeros(2))),
        ("lif", ir.LIF(shape=(2,), decay_v=0.5)),
        ("out", ir.Output(shape=(2,))),
    )


def spikes(t: int = 8, b: int = 2, n: int = 3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((t, b, n)) < 0.5).astype(float)


def test_split_keeps_commas_inside_braces() -> None:
    assert split_pipeline("a, b{x=1,y=2} ,c{}") == [("a", {}), ("b", {"x": "1", "y": "2"}),
                                                    ("c", {})]


@pytest.mark.parametrize(("text", "message"), [
    ("fold-bn,prune{threshold=0", "missing '}'"),
    ("prune}", "unbalanced"),
    ("prune{threshold}", "not key=value"),
    ("prune{threshold=0}x", "after the closing brace"),
    (" , ", "names no passes"),
])
def test_malformed_pipelines_are_refused(text: str, message: str) -> None:
    with pytest.raises(PassError, match=message):
        parse_pipeline(text)


def test_unknown_pass_suggests_close_names() -> None:
    with pytest.raises(PassError, match=r"unknown pass 'fold-bm'.*fold-bn"):
        parse_pipeline("fold-bm")


def test_options_are_typed_from_the_annotations() -> None:
    prune, quant = parse_pipeline("prune{threshold=0.25,input_bound=none},quantize-loihi"
                                  "{headroom_bits=4,weight_search=mse}")
    assert prune.threshold == 0.25
    assert prune.input_bound is None
    assert quant.headroom_bits == 4
    assert quant.weight_search == "mse"
    assert prune.effective_semantics() is Semantics.APPROXIMATE


@pytest.mark.parametrize(("text", "message"), [
    ("prune{nope=1}", "has no option 'nope'; its options: input_bound, threshold"),
    ("prune{threshold=abc}", "cannot read 'abc'"),
    ("quantize-loihi{weight_search=best}", "not one of max, mse"),
])
def test_bad_options_are_refused(text: str, message: str) -> None:
    with pytest.raises(PassError, match=message):
        parse_pipeline(text)


def test_spec_round_trips_through_the_parser() -> None:
    text = "canonicalize,prune{threshold=0.5},quantize-loihi{input=spikes,input_bits=6}"
    passes = parse_pipeline(text)
    assert ",".join(p.spec() for p in passes) == text
    assert parse_pipeline(",".join(p.spec() for p in passes)) == passes


def test_registry_lists_every_builtin_with_a_summary() -> None:
    rows = default_registry().describe()
    assert [r[0] for r in rows] == sorted(BUILTIN_PASSES)
    for name, sem, summary in rows:
        assert sem in {s.value for s in Semantics}, name
        assert summary.endswith("."), name


@dataclass(frozen=True)
class Broken(Pass):
    """Claims EXACT but flips the sign of every weight."""

    name = "broken"
    summary = "Breaks things."

    def run(self, graph: ir.Graph, ctx: PassContext) -> ir.Graph:
        fc = graph.nodes["fc"]
        return graph.edit().replace("fc", fc.replace(weight=-fc.weight)).finish()


@dataclass(frozen=True)
class Raises(Pass):
    name = "raises"
    summary = "Raises."

    def run(self, graph: ir.Graph, ctx: PassContext) -> ir.Graph:
        raise QuantizationError("layer 'fc' saturates")


def test_failures_name_the_pass_and_the_passes_before_it() -> None:
    reg = PassRegistry()
    reg.add("raises", Raises)
    passes = [*parse_pipeline("canonicalize,dce", reg), *parse_pipeline("raises", reg)]
    with pytest.raises(QuantizationError,
                       match=r"in pass 'raises' after \['canonicalize', 'dce'\]: layer 'fc'"):
        PassManager(passes).run(small_graph())


def test_requires_is_checked_before_run() -> None:
    with pytest.raises(PassError, match=r"in pass 'lower-loihi' after .*run quantize-loihi first"):
        PassManager(parse_pipeline("lower-loihi")).run(small_graph())


def test_third_party_passes_come_from_the_entry_point_group(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as md

    eps = [md.EntryPoint("broken", f"{__name__}:Broken", "snnc.passes"),
           md.EntryPoint("dce", "elsewhere:Dce", "snnc.passes")]
    monkeypatch.setattr(md, "entry_points",
                        lambda group=None: [e for e in eps if e.group == group])
    reg = default_registry()
    assert "broken" in reg.names()
    assert reg.get("dce").__module__ == "snnc.passes.canonicalize"  # built-ins win
    out = PassManager(parse_pipeline("broken", reg)).run(small_graph()).graph
    assert np.array_equal(out.nodes["fc"].weight, -small_graph().nodes["fc"].weight)


def test_differential_check_catches_a_pass_that_lies_about_exactness() -> None:
    reg = PassRegistry()
    reg.add("broken", Broken)
    check = DifferentialCheck(spikes())
    with pytest.raises(PassError, match=r"'broken' is EXACT but changed .* output 'out'"):
        PassManager(parse_pipeline("canonicalize,broken", reg), [check]).run(small_graph())
    assert check.results[0]["identical"] is True


def test_differential_check_measures_lowering_with_the_latency_convention() -> None:
    check = DifferentialCheck(spikes(12))
    ctx = PassContext(calibration={"in": spikes(12)})
    PassManager(parse_pipeline(DEFAULT_PIPELINE), [check]).run(small_graph(), ctx)
    lowering = [r for r in check.results if r["semantics"] != "exact"]
    assert [r["pass"] for r in lowering] == ["lower-spike-products", "quantize-loihi",
                                             "lower-loihi"]
    assert lowering[0]["identical"] is True  # a no-op without attention
    assert lowering[-1]["identical"] is True


def test_stop_after_and_dump_ir(tmp_path: Path) -> None:
    timing = Timing()
    res = PassManager(parse_pipeline(DEFAULT_PIPELINE), [DumpIR(tmp_path), timing]).run(
        small_graph(), PassContext(), stop_after="quantize-loihi")
    assert [s.pass_.name for s in res.stages][-1] == "quantize-loihi"
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files[0] == "00-input.txt"
    assert files[-1].endswith("-quantize-loihi.txt")
    assert len(files) == len(res.stages) + 1 == len(timing.rows) + 1
    assert parse_graph((tmp_path / files[-1]).read_text()) == res.graph
    with pytest.raises(PassError, match="--stop-after 'nope'"):
        PassManager(parse_pipeline("dce")).run(small_graph(), stop_after="nope")


def test_last_exact_graph_is_the_graph_before_quantization() -> None:
    res = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(small_graph())
    names = [s.pass_.name for s in res.stages]
    assert res.last_exact_graph() is res.stages[names.index("quantize-loihi") - 1].graph
