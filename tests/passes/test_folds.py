"""Targeted checks of fold-bn, fold-affine, avgpool-to-sumpool and prune beyond the meta-test."""

from __future__ import annotations

import numpy as np

from snnc import ir
from snnc.passes import PassContext, PassManager, parse_pipeline
from snnc.simulators.reference import simulate


def run(g: ir.Graph, pipeline: str) -> tuple[ir.Graph, PassContext]:
    ctx = PassContext()
    return PassManager(parse_pipeline(pipeline)).run(g, ctx).graph, ctx


def spikes(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((10, 3, *shape)) < 0.5).astype(float)


def test_prune_removes_a_silent_conv_channel_and_its_flattened_columns() -> None:
    w = np.ones((3, 1, 2, 2)) * 0.5
    w[1] = 0.0  # channel 1 never fires: no weights, negative bias
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(1, 3, 3))), ("conv", ir.Conv2d(input_shape=(1, 3, 3), weight=w)),
        ("n", ir.IF(shape=(3, 2, 2), bias=np.array([0.0, -0.25, 0.0]).reshape(3, 1, 1))),
        ("flat", ir.Flatten(input_shape=(3, 2, 2))),
        ("fc", ir.Linear(weight=np.arange(24.0).reshape(2, 12) / 8)),
        ("m", ir.IF(shape=(2,))), ("out", ir.Output(shape=(2,))))
    out, ctx = run(g, "prune")
    assert out.nodes["n"].shape == (2, 2, 2)
    assert out.nodes["fc"].weight.shape == (2, 8)
    assert ctx.last_report("prune")["removed_units"] == {"n": 1}
    x = spikes((1, 3, 3))
    assert np.array_equal(simulate(g, x).output, simulate(out, x).output)


def test_prune_keeps_neurons_it_cannot_prove_silent() -> None:
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(2,))), ("fc", ir.Linear(weight=np.array([[0.5, 0.5]]))),
        ("n", ir.LIF(shape=(1,), decay_v=0.5, threshold=2.0)), ("out", ir.Output(shape=(1,))))
    _, ctx = run(g, "prune")  # graph inputs are unbounded by default
    assert ctx.last_report("prune")["silent_neurons"] == {}
    _, ctx = run(g, "prune{input_bound=1}")  # v <= 1 / (1 - 0.5) = 2: never above 2
    assert ctx.last_report("prune")["silent_neurons"] == {"n": 1}


def test_fold_affine_respects_max_elements() -> None:
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(1, 4, 4))), ("n", ir.IF(shape=(1, 4, 4))),
        ("pool", ir.MaxPool2d(input_shape=(1, 4, 4), kernel_size=(2, 2), stride=(2, 2))),
        ("conv", ir.Conv2d(input_shape=(1, 2, 2), weight=np.ones((2, 1, 1, 1)))),
        ("flat", ir.Flatten(input_shape=(2, 2, 2))),
        ("fc", ir.Linear(weight=np.ones((1, 8)) / 4)), ("out", ir.Output(shape=(1,))))
    small, _ = run(g, "fold-affine{max_elements=3}")
    assert "conv" in small.nodes
    big, _ = run(g, "fold-affine")
    assert "conv" not in big.nodes  # conv, flatten and fc materialised into one dense layer
    assert big.nodes["fc"].weight.shape == (1, 4)
    x = spikes((1, 4, 4))
    assert np.array_equal(simulate(g, x).output, simulate(big, x).output)


def test_avgpool_without_a_weighted_consumer_becomes_a_depthwise_conv() -> None:
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(2, 4, 4))), ("n", ir.IF(shape=(2, 4, 4))),
        ("avg", ir.AvgPool2d(input_shape=(2, 4, 4), kernel_size=(2, 2), stride=(2, 2))),
        ("out", ir.Output(shape=(2, 2, 2))))
    out, _ = run(g, "avgpool-to-sumpool")
    assert out.nodes["avg"].op == "conv2d"
    assert out.nodes["avg"].groups == 2
    x = spikes((2, 4, 4))
    assert np.array_equal(simulate(g, x).output, simulate(out, x).output)


def test_a_batch_norm_with_nothing_to_fold_into_is_reported() -> None:
    bn = ir.BatchNorm(shape=(1, 2, 2), mean=np.zeros(1), var=np.ones(1), weight=np.ones(1),
                      bias=np.zeros(1), eps=0.0)
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(1, 2, 2))), ("bn", bn), ("out", ir.Output(shape=(1, 2, 2))))
    out, ctx = run(g, "fold-bn")
    assert "bn" in out.nodes
    assert ctx.last_report("fold-bn")["remaining"] == ["bn"]
