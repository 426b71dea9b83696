"""The schema quantize-loihi hands to lower-loihi (snnc/passes/quant_schema.py): what quantize
writes reads back typed and verified, survives the .snnc file and the text form, and a malformed
entry is refused with a message naming the field."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from snnc import ir
from snnc.errors import QuantizationError
from snnc.ir.serialize import read_graph, write_graph
from snnc.ir.text import parse_graph, print_graph
from snnc.passes import PassContext, PassManager, parse_pipeline
from snnc.passes.quant_schema import (
    INPUTS_KEY,
    LAYERS_KEY,
    InputEncoding,
    LayerQuant,
    SynapseQuant,
    read_inputs,
    read_layers,
    verify,
    with_quant,
)


def _model() -> ir.Graph:
    rng = np.random.default_rng(4)
    return ir.Graph.chain(
        ("in", ir.Input(shape=(5,))), ("fc1", ir.Linear(weight=rng.normal(0, 0.4, (4, 5)))),
        ("lif1", ir.LIF(shape=(4,), decay_v=0.75, threshold=0.6)),
        ("fc2", ir.Linear(weight=rng.normal(0, 0.4, (3, 4)))),
        ("lif2", ir.LIF(shape=(3,), decay_v=0.5, threshold=0.4)), ("out", ir.Output(shape=(3,))))


def _quantized(x: np.ndarray | None = None) -> ir.Graph:
    x = np.random.default_rng(0).random((8, 2, 5)) if x is None else x
    ctx = PassContext(calibration={"in": x})
    return PassManager(parse_pipeline("quantize-loihi")).run(_model(), ctx).graph


def _lower(g: ir.Graph) -> ir.Graph:
    return PassManager(parse_pipeline("lower-loihi")).run(g, PassContext()).graph


def _edited(g: ir.Graph, key: str, path: tuple[Any, ...], value: Any) -> ir.Graph:
    meta = copy.deepcopy(dict(g.metadata)[key])
    d = meta
    for p in path[:-1]:
        d = d[p]
    if value is KeyError:
        del d[path[-1]]
    else:
        d[path[-1]] = value
    return g.with_metadata(**{key: meta})


def test_what_quantize_writes_reads_back_typed_and_matches_the_layers() -> None:
    g = _quantized()
    enc = read_inputs(g)
    assert list(enc) == ["in"]
    assert enc["in"].kind == "analog"
    assert enc["in"].message_bits >= 1
    assert enc["in"].x_max < 2**enc["in"].message_bits
    lays = read_layers(g)
    assert set(lays) == {"lif1", "lif2"}
    for q in lays.values():
        assert isinstance(q, LayerQuant)
        assert q.scale > 0
        assert math.isclose(q.vth_lsb, 64 / q.scale)
        assert all(isinstance(s, SynapseQuant) for s in q.synapses.values())
    assert set(lays["lif1"].synapses) == {"fc1"}
    assert lays["lif1"].synapses["fc1"].from_input
    assert lays["lif2"].synapses["fc2"].source == "lif1"
    verify(g)
    # the stored form is what as_dict gives, plain JSON
    assert dict(g.metadata)[LAYERS_KEY] == {k: q.as_dict() for k, q in lays.items()}
    json.dumps(dict(g.metadata)[LAYERS_KEY], allow_nan=False)


def test_spike_inputs_are_encoded_as_spikes() -> None:
    x = (np.random.default_rng(1).random((8, 2, 5)) < 0.3).astype(float)
    enc = read_inputs(_quantized(x))["in"]
    assert (enc.kind, enc.scale, enc.message_bits, enc.x_max) == ("spikes", 1.0, 0, 1.0)


def test_schema_round_trips_through_the_snnc_file_and_the_text_form(tmp_path: Path) -> None:
    for g in (_quantized(), _lower(_quantized())):
        path = write_graph(g, tmp_path / "g.snnc")
        back = read_graph(path)
        assert dict(back.metadata) == dict(g.metadata)
        assert read_layers(back) == read_layers(g)
        assert read_inputs(back) == read_inputs(g)
        text = parse_graph(print_graph(g))
        assert read_layers(text) == read_layers(g)
        assert read_inputs(text) == read_inputs(g)
        path.unlink()


def test_lowering_marks_nothing_new_on_a_feed_forward_model() -> None:
    g = _quantized()
    assert read_layers(_lower(g)) == read_layers(g)


@pytest.mark.parametrize(("key", "path", "value", "message"), [
    (INPUTS_KEY, ("in", "encoding"), "morse", r"loihi.inputs\['in'\].encoding: must be one of"),
    (INPUTS_KEY, ("in", "scale"), -2.0, r"loihi.inputs\['in'\].scale: must be > 0"),
    (INPUTS_KEY, ("in", "scale"), "1", r"loihi.inputs\['in'\].scale: must be a number"),
    (INPUTS_KEY, ("in", "message_bits"), 40, r"loihi.inputs\['in'\].message_bits: must be in"),
    (INPUTS_KEY, ("in", "message_bits"), 2.5, r"message_bits: must be an integer"),
    (INPUTS_KEY, ("in", "max"), 1e9, r"loihi.inputs\['in'\].max: .* does not fit"),
    (INPUTS_KEY, ("in", "message_bits"), KeyError, r"\['in'\].message_bits: is missing"),
    (LAYERS_KEY, ("lif1", "scale"), float("nan"), r"loihi.layers\['lif1'\].scale: must be "
                                                  "finite"),
    (LAYERS_KEY, ("lif1", "vth_lsb"), 3.0, r"loihi.layers\['lif1'\].vth_lsb: must be 64 / "),
    (LAYERS_KEY, ("lif1", "exact"), "yes", r"loihi.layers\['lif1'\].exact: must be true or"),
    (LAYERS_KEY, ("lif1", "notes"), "a note", r"loihi.layers\['lif1'\].notes: must be a list"),
    (LAYERS_KEY, ("lif2", "synapses", "fc2", "exp"), "4",
     r"loihi.layers\['lif2'\].synapses\['fc2'\].exp: must be an integer"),
    (LAYERS_KEY, ("lif2", "synapses", "fc2", "clipped"), -1,
     r"synapses\['fc2'\].clipped: must be in \[0, "),
    (LAYERS_KEY, ("lif2", "synapses", "fc2", "source"), "nowhere",
     r"synapses\['fc2'\].source: 'nowhere' names no node"),
    (LAYERS_KEY, ("lif2", "synapses"), [1, 2], r"loihi.layers\['lif2'\].synapses: must be an "
                                              "object"),
])
def test_a_malformed_entry_is_refused_naming_the_field(key: str, path: tuple[Any, ...],
                                                       value: Any, message: str) -> None:
    bad = _edited(_quantized(), key, path, value)
    with pytest.raises(QuantizationError, match=message):
        _lower(bad)


def test_an_edited_snnc_file_is_refused_by_lower_with_the_field_named(tmp_path: Path) -> None:
    bad = _edited(_quantized(), LAYERS_KEY, ("lif1", "scale"), 0)
    back = read_graph(write_graph(bad, tmp_path / "bad.snnc"))
    with pytest.raises(QuantizationError, match=r"loihi.layers\['lif1'\].scale: must be > 0"):
        _lower(back)


def test_values_built_in_code_are_verified_before_they_are_stored() -> None:
    g = _quantized()
    with pytest.raises(QuantizationError, match=r"loihi.inputs\['in'\].message_bits"):
        with_quant(g, inputs={"in": InputEncoding("spikes", 1.0, 3, 1.0)})
    with pytest.raises(QuantizationError, match=r"loihi.layers\['lif1'\].synapses\['fc1'\].exp"):
        with_quant(g, layers={"lif1": LayerQuant(2.0, 32.0, True, (), {
            "fc1": SynapseQuant(5000, 0, 0.0, True, True, "in")})})
    ok = with_quant(g, layers={"lif1": LayerQuant(2.0, 32.0, True)})
    assert read_layers(ok) == {"lif1": LayerQuant(2.0, 32.0, True)}


def test_an_unquantized_graph_reads_as_empty() -> None:
    assert read_inputs(_model()) == {}
    assert read_layers(_model()) == {}
