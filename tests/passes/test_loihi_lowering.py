"""quantize-loihi and lower-loihi: exactness on the grid, the latency convention, what Lava cannot
express, input encodings, clipping reports, and the approximation metric off the grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from snnc import ir
from snnc.errors import QuantizationError, UnsupportedOpError
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs, fidelity_report
from snnc.passes.qinputs import encode_inputs
from snnc.passes.qlayer import SynapseIn, quantize_synapse
from snnc.simulators.reference import simulate


def spikes(shape: tuple[int, ...], t: int = 10, b: int = 3, seed: int = 0, p: float = 0.4) -> Any:
    return (np.random.default_rng(seed).random((t, b, *shape)) < p).astype(np.float64)


def compile_(g: ir.Graph, x: np.ndarray, pipeline: str = DEFAULT_PIPELINE) -> Any:
    ctx = PassContext(calibration={g.inputs[0]: x})
    return PassManager(parse_pipeline(pipeline)).run(g, ctx), ctx


def two_layers(neuron2: ir.Node | None = None, w1: Any = None, **lif1: Any) -> ir.Graph:
    w1 = np.array([[0.5, -0.25, 0.75], [0.25, 0.5, 0.5]]) if w1 is None else w1
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc1", ir.Linear(weight=w1)),
        ("lif1", ir.LIF(shape=(2,), **{"decay_v": 0.5, "threshold": 0.5, **lif1})),
        ("fc2", ir.Linear(weight=np.array([[1.0, -0.5], [0.5, 0.75]]))),
        ("n2", neuron2 or ir.IF(shape=(2,), threshold=0.75)), ("out", ir.Output(shape=(2,))))


def test_leaky_model_on_the_grid_is_exact_in_fixed_point() -> None:
    g = two_layers(bias=np.array([0.125, -0.0625]))
    x = spikes((3,), t=10)
    res, ctx = compile_(g, x)
    assert ctx.last_report("quantize-loihi")["exact"] is True
    assert compare_graphs(g, res.graph, x).identical


@pytest.mark.parametrize(("neuron", "error", "message"), [
    (ir.LIF(shape=(2,), reset="subtract"), UnsupportedOpError,
     "layer 'n2'.*subtract.*--chip loihi2"),
    (ir.LIF(shape=(2,), v_init=0.5), UnsupportedOpError, "layer 'n2'.*v_init"),
    (ir.LIF(shape=(2,), graded=True), UnsupportedOpError, "neuron 'n2'.*graded"),
    (ir.LIF(shape=(2,), decay_v=1.5), QuantizationError, "layer 'n2'.*decay_v outside"),
    (ir.LIF(shape=(2,), decay_v=0.5, threshold=-0.5), QuantizationError,
     "layer 'n2'.*threshold below one input unit"),
])
def test_what_lava_cannot_express_is_refused_naming_the_layer(
        neuron: ir.Node, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        compile_(two_layers(neuron), spikes((3,)))


def test_negative_threshold_of_a_memoryless_neuron_becomes_a_bias() -> None:
    g = two_layers(ir.Threshold(shape=(2,), threshold=np.array([-0.5, 0.25]), comparator=">="))
    x = spikes((3,))
    res, _ = compile_(g, x)
    assert compare_graphs(g, res.graph, x).identical
    assert res.graph.nodes["n2"].bias_mant.tolist()[0] > 0  # only the negative one moved
    assert res.graph.nodes["n2"].bias_mant.tolist()[1] == 0


def test_ge_on_a_leaky_layer_is_approximated_and_noted() -> None:
    _, ctx = compile_(two_layers(comparator=">="), spikes((3,)))
    layer = ctx.last_report("quantize-loihi")["layers"]["lif1"]
    assert layer["exact"] is False
    assert any("'>=' approximated" in n and "--chip loihi2" in n for n in layer["notes"])


def test_the_error_minimising_exponent_may_clip_an_outlier() -> None:
    w = np.array([[130.0, -1.0, *range(1, 21, 2)]])  # odd weights are exact only at E = 0
    assert quantize_synapse(SynapseIn("s", w, False, 1.0), 1.0, mse=False).clipped == 0
    q = quantize_synapse(SynapseIn("s", w, False, 1.0), 1.0, mse=True)
    assert (q.exp, q.clipped, int(q.mant.max())) == (0, 1, 127)


def test_clipping_is_reported_per_layer() -> None:
    row = np.array([130.0, -1.0, *range(1, 21, 2)]) / 128
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(12,))), ("fc", ir.Linear(weight=np.stack([row, row[::-1]]))),
        ("lif", ir.LIF(shape=(2,), decay_v=0.5, threshold=0.5)), ("out", ir.Output(shape=(2,))))
    x = spikes((12,))
    res, ctx = compile_(g, x, DEFAULT_PIPELINE.replace("quantize-loihi",
                                                       "quantize-loihi{weight_search=mse}"))
    assert ctx.last_report("quantize-loihi")["clipped"] == {"lif": 2}
    rows = {r["layer"]: r for r in fidelity_report(res.last_exact_graph(), res.graph, x)["layers"]}
    assert rows["lif"]["clipped_weights"] == 2
    assert rows["lif"]["exact"] is False


def test_analog_inputs_are_sent_as_graded_payloads() -> None:
    g = two_layers()
    x = np.random.default_rng(1).random((10, 4, 3))
    res, ctx = compile_(g, x)
    enc = ctx.last_report("quantize-loihi")["inputs"]["in"]
    # the largest power of two that keeps max(x) * scale within 8 bits
    scale = 2.0 ** np.floor(np.log2(255 / x.max()))
    assert x.max() * scale <= 255 < 2 * x.max() * scale
    assert enc == {"encoding": "analog", "scale": scale, "message_bits": 8, "max": 255.0}
    assert res.graph.nodes["fc1"].num_message_bits == 8
    encoded = encode_inputs(res.graph, {"in": x})["in"]
    assert np.array_equal(encoded, np.round(x * enc["scale"]))
    assert compare_graphs(g, res.graph, x).agreement > 0.9


def test_integer_inputs_are_exact() -> None:
    g = two_layers(w1=np.array([[0.25, -0.125, 0.25], [0.125, 0.25, 0.125]]))
    x = np.random.default_rng(2).integers(0, 4, (10, 3, 3)).astype(float)
    res, ctx = compile_(g, x)
    assert ctx.last_report("quantize-loihi")["inputs"]["in"]["encoding"] == "integer"
    assert compare_graphs(g, res.graph, x).identical


def residual(skip_conv: bool = False) -> ir.Graph:
    nodes: dict[str, ir.Node] = {
        "in": ir.Input(shape=(1, 3, 3)),
        "c1": ir.Conv2d(input_shape=(1, 3, 3), weight=np.full((1, 1, 1, 1), 0.75)),
        "n1": ir.IF(shape=(1, 3, 3), threshold=0.5),
        "c2": ir.Conv2d(input_shape=(1, 3, 3), weight=np.full((1, 1, 3, 3), 0.25), padding=(1, 1)),
        "n2": ir.IF(shape=(1, 3, 3), threshold=1.0),
        "out": ir.Output(shape=(1, 3, 3))}
    if skip_conv:
        nodes["skip"] = ir.Conv2d(input_shape=(1, 3, 3), weight=np.full((1, 1, 1, 1), 0.5))
    else:
        nodes["flat"] = ir.Flatten(input_shape=(1, 3, 3))
        nodes["skip"] = ir.Linear(weight=np.eye(9) * 0.5)
        nodes["back"] = ir.Reshape(input_shape=(9,), output_shape=(1, 3, 3))
    edges = [("in", "c1"), ("c1", "n1"), ("n1", "c2"), ("c2", "n2"), ("n2", "out")]
    edges += [("in", "skip"), ("skip", "n2")] if skip_conv else \
        [("in", "flat"), ("flat", "skip"), ("skip", "back"), ("back", "n2")]
    return ir.Graph.build(nodes, edges)


def test_a_skip_connection_gets_a_synaptic_delay() -> None:
    g = residual()
    x = spikes((1, 3, 3), t=12)
    res, ctx = compile_(g, x, "quantize-loihi,lower-loihi")
    assert ctx.last_report("lower-loihi")["delayed_synapses"] == {"skip": 1}
    assert int(res.graph.nodes["skip"].delays) == 1
    assert compare_graphs(g, res.graph, x).identical


def test_a_conv_skip_that_needs_a_delay_gets_a_relay_neuron() -> None:
    g = residual(skip_conv=True)
    x = spikes((1, 3, 3), t=12)
    res, ctx = compile_(g, x, "quantize-loihi,lower-loihi")
    assert ctx.last_report("lower-loihi")["relays"] == {"skip": ["skip_relay0"]}
    assert res.graph.nodes["skip_relay0"].op == "loihi.lif"
    assert compare_graphs(g, res.graph, x).identical


def test_a_conv_skip_from_an_analog_input_is_refused() -> None:
    x = np.random.default_rng(3).random((10, 3, 1, 3, 3))
    with pytest.raises(UnsupportedOpError, match=r"synapse 'skip' needs a delay of 1.*binary"):
        compile_(residual(skip_conv=True), x, "quantize-loihi,lower-loihi")


def test_recurrence_keeps_its_one_step_delay() -> None:
    nodes = {"in": ir.Input(shape=(3,)), "fc": ir.Linear(weight=np.eye(3) * 0.5),
             "lif": ir.LIF(shape=(3,), decay_v=0.0, threshold=0.25),
             "rec": ir.Linear(weight=np.array([[0, 0, 0.5], [0.5, 0, 0], [0, 0.5, 0]])),
             "out": ir.Output(shape=(3,))}
    g = ir.Graph.build(nodes, [("in", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"),
                               ("lif", "out")])
    x = spikes((3,), t=12, p=0.2)
    res, _ = compile_(g, x)
    assert compare_graphs(g, res.graph, x).identical
    assert simulate(g, x).output.sum() > x.sum()  # the recurrence does something


def test_biases_get_staggered_one_time_resets() -> None:
    with_bias, _ = compile_(two_layers(bias=0.25), spikes((3,)))
    lifs = {n: v for n, v in with_bias.graph.nodes.items() if v.op == "loihi.lif"}
    assert {n: (v.reset_interval > 100, v.reset_offset) for n, v in lifs.items()} == {
        "lif1": (True, 2), "n2": (True, 3)}
    no_bias, _ = compile_(two_layers(), spikes((3,)))
    assert all(v.reset_interval == 0 for v in no_bias.graph.nodes.values()
               if v.op == "loihi.lif")


def test_a_reset_interval_runs_samples_back_to_back() -> None:
    g = two_layers(bias=np.array([0.125, 0.25]))
    t, lat = 8, 2
    x1, x2 = spikes((3,), t=t, seed=1), spikes((3,), t=t, seed=2)
    period = t + lat
    res, _ = compile_(g, x1, DEFAULT_PIPELINE.replace("lower-loihi",
                                                      f"lower-loihi{{reset_interval={period}}}"))
    pad = np.zeros((lat, *x1.shape[1:]))
    lowered = simulate(res.graph, np.concatenate([x1, pad, x2, pad])).output
    for k, x in enumerate((x1, x2)):
        window = lowered[k * period + lat:k * period + lat + t]
        assert np.array_equal(window, simulate(g, x).output)


def random_model(seed: int) -> ir.Graph:
    rng = np.random.default_rng(seed)
    return ir.Graph.chain(
        ("in", ir.Input(shape=(20,))),
        ("fc1", ir.Affine(weight=rng.normal(0, 0.6, (32, 20)), bias=rng.normal(0, 0.05, 32))),
        ("lif1", ir.LIF(shape=(32,), decay_v=0.9, threshold=1.0)),
        ("fc2", ir.Linear(weight=rng.normal(0, 0.5, (10, 32)))),
        ("lif2", ir.LIF(shape=(10,), decay_v=0.8, threshold=1.0)),
        ("out", ir.Output(shape=(10,))))


@pytest.mark.parametrize("seed", range(4))
def test_off_grid_models_keep_95_percent_of_spikes(seed: int) -> None:
    """The stated metric for 8-bit quantization of float models (Gaussian weights, leaky
    neurons): every layer's spikes agree with the float model on >= 95 % of the entries."""
    g = random_model(seed)
    res, _ = compile_(g, spikes((20,), t=20, b=16, seed=seed, p=0.3))
    rep = fidelity_report(res.last_exact_graph(), res.graph,
                          spikes((20,), t=20, b=32, seed=100 + seed, p=0.3))
    assert min(r["spike_agreement"] for r in rep["layers"]) >= 0.95
    assert all(r["clipped_weights"] == 0 for r in rep["layers"])


def test_analog_inputs_on_a_dyadic_grid_are_exact() -> None:
    """Inputs that are multiples of 1/16 (digits / 16) with dyadic weights reach the chip
    without rounding: the input scale is a power of two, so nothing but the grid is used."""
    g = two_layers(w1=np.array([[0.25, -0.125, 0.25], [0.125, 0.25, 0.125]]))
    x = np.random.default_rng(5).integers(0, 17, (10, 3, 3)) / 16.0
    x[0, 0, 0] = 1.0
    res, ctx = compile_(g, x)
    enc = ctx.last_report("quantize-loihi")["inputs"]["in"]
    assert enc["encoding"] == "analog"
    assert enc["scale"] == 128.0
    encoded = encode_inputs(res.graph, {"in": x})["in"]
    assert np.array_equal(encoded / 128.0, x)
    assert compare_graphs(g, res.graph, x).identical
