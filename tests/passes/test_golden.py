"""Golden text-IR tests: one small graph per pass, the printed result compared with a file.

Regenerate after an intended change with ``SNNC_UPDATE_GOLDEN=1 pytest tests/passes/test_golden.py``
and review the diff of ``tests/passes/golden/*.txt``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from snnc import ir
from snnc.ir.text import parse_graph, print_graph
from snnc.passes import PassContext, PassManager, default_registry, parse_pipeline

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("SNNC_UPDATE_GOLDEN") == "1"
W = np.array([[0.5, -0.25, 1.0], [0.75, 0.25, -0.5]])


def g_canonicalize() -> ir.Graph:
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("one", ir.Scale(shape=(3,), scale=1.0)),
        ("same", ir.Reshape(input_shape=(3,), output_shape=(3,))),
        ("fc", ir.Affine(weight=W, bias=np.zeros(2))), ("sum", ir.Add(shape=(2,))),
        ("lif", ir.LIF(shape=(2,), decay_v=0.5)), ("out", ir.Output(shape=(2,))))


def g_dce() -> ir.Graph:
    g = g_canonicalize()
    return g.edit().add("unused", ir.IF(shape=(3,))).connect("in", "unused").finish()


def g_fold_bn() -> ir.Graph:
    binary = ir.QTensor(np.where(W > 0, 1, -1), np.float64(0.5), 1, kind="binary")
    bn = ir.BatchNorm(shape=(2,), mean=np.array([0.5, -0.25]), var=np.array([0.25, 4.0]),
                      weight=np.array([1.0, -1.0]), bias=np.array([0.125, 0.0]), eps=0.0)
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc", ir.Linear(weight=binary)), ("bn", bn),
        ("lif", ir.LIF(shape=(2,), decay_v=0.5, threshold=1.0)), ("out", ir.Output(shape=(2,))))


def g_fold_scale() -> ir.Graph:
    q = ir.QTensor(np.array([[3, -1, 2], [1, 1, -4]]), np.array([[0.25], [0.5]]), 4)
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc", ir.Affine(weight=q, bias=np.array([0.5, 0.25]))),
        ("lif", ir.LIF(shape=(2,), gain=0.5, decay_v=0.75, threshold=1.0)),
        ("out", ir.Output(shape=(2,))))


def g_fold_affine() -> ir.Graph:
    return ir.Graph.chain(
        ("in", ir.Input(shape=(1, 4, 4))),
        ("pool", ir.SumPool2d(input_shape=(1, 4, 4), kernel_size=(2, 2), stride=(2, 2))),
        ("conv", ir.Conv2d(input_shape=(1, 2, 2), weight=np.array([[[[1.0, -0.5]]]]))),
        ("lif", ir.IF(shape=(1, 2, 1))), ("flat", ir.Flatten(input_shape=(1, 2, 1))),
        ("fc1", ir.Affine(weight=np.array([[1.0, 0.5], [0.25, -1.0]]), bias=np.ones(2))),
        ("fc2", ir.Linear(weight=np.array([[0.5, 0.5]]))), ("out", ir.Output(shape=(1,))))


def g_avgpool() -> ir.Graph:
    return ir.Graph.chain(
        ("in", ir.Input(shape=(1, 4, 4))), ("lif", ir.IF(shape=(1, 4, 4))),
        ("avg", ir.AvgPool2d(input_shape=(1, 4, 4), kernel_size=(2, 2), stride=(2, 2))),
        ("flat", ir.Flatten(input_shape=(1, 2, 2))),
        ("fc", ir.Linear(weight=np.array([[1.0, 2.0, -1.0, 0.5]]))),
        ("n", ir.IF(shape=(1,))), ("out", ir.Output(shape=(1,))))


def g_prune() -> ir.Graph:
    w1 = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.0], [1.0, -0.5, 0.25]])
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc1", ir.Affine(weight=w1, bias=np.zeros(3))),
        ("lif1", ir.LIF(shape=(3,), decay_v=0.5, bias=np.array([0.0, -0.25, 0.0]))),
        ("fc2", ir.Linear(weight=np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]))),
        ("lif2", ir.IF(shape=(2,), threshold=np.array([1.0, 8.0]))),
        ("out", ir.Output(shape=(2,))))


def g_quantize() -> ir.Graph:
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc1", ir.Affine(weight=W, bias=np.array([0.25, 0.0]))),
        ("lif1", ir.LIF(shape=(2,), decay_v=0.5, threshold=1.0)),
        ("fc2", ir.Linear(weight=np.array([[1.0, -0.5], [0.25, 0.75]]))),
        ("if2", ir.IF(shape=(2,), threshold=0.5, comparator=">=")),
        ("fc3", ir.Affine(weight=np.array([[1.0, 1.0]]), bias=np.array([0.5]))),
        ("out", ir.Output(shape=(1,))))


def g_spike_products() -> ir.Graph:
    """K * V of two spiking layers on (heads=1, N=3, d=2), summed over tokens into a neuron."""
    nodes = {"in": ir.Input(shape=(2, 3)), "k": ir.IF(shape=(2, 3), threshold=0.5),
             "v": ir.IF(shape=(2, 3), threshold=0.25),
             "kt": ir.Permute(input_shape=(2, 3), perm=(1, 0)),
             "vt": ir.Permute(input_shape=(2, 3), perm=(1, 0)), "kv": ir.Mul(shape=(3, 2)),
             "col": ir.AxisSum(input_shape=(3, 2), axes=(0,), keepdim=True),
             "talk": ir.IF(shape=(1, 2), threshold=0.5), "out": ir.Output(shape=(1, 2))}
    edges = [("in", "k"), ("in", "v"), ("k", "kt"), ("v", "vt"), ("kt", "kv"), ("vt", "kv"),
             ("kv", "col"), ("col", "talk"), ("talk", "out")]
    return ir.Graph.build(nodes, edges)


CASES: dict[str, tuple[Callable[[], ir.Graph], str]] = {
    "lower-spike-products": (g_spike_products, "lower-spike-products"),
    "canonicalize": (g_canonicalize, "canonicalize"),
    "dce": (g_dce, "dce"),
    "fold-bn": (g_fold_bn, "fold-bn"),
    "fold-scale": (g_fold_scale, "fold-scale"),
    "fold-affine": (g_fold_affine, "fold-affine"),
    "avgpool-to-sumpool": (g_avgpool, "avgpool-to-sumpool"),
    "prune": (g_prune, "prune"),
    "quantize-loihi": (g_quantize, "quantize-loihi"),
    "lower-loihi": (g_quantize, "quantize-loihi,lower-loihi"),
}


def test_every_pass_has_a_golden_case() -> None:
    assert sorted(CASES) == default_registry().names()


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_text_ir(name: str) -> None:
    build, pipeline = CASES[name]
    x = (np.random.default_rng(0).random((8, 2, *build().nodes["in"].out_shape)) < 0.5) * 1.0
    out = PassManager(parse_pipeline(pipeline)).run(build(), PassContext(calibration={"in": x}))
    text = print_graph(out.graph)
    assert parse_graph(text) == out.graph
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no golden file {path}; run with SNNC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()
