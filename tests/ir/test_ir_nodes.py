"""Node verification: bad fields raise IRError; nodes are frozen and compare structurally."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from strategies import neuron_nodes

from snnc import ir
from snnc.errors import IRError


@pytest.mark.parametrize(("make", "match"), [
    (lambda: ir.Affine(weight=np.ones((2, 3)), bias=np.ones(3)), "bias must have shape"),
    (lambda: ir.Linear(weight=np.ones(3)), "weight must be 2-d"),
    (lambda: ir.Scale(shape=(2,), scale=np.ones(3)), "does not broadcast"),
    (lambda: ir.Conv2d(input_shape=(3, 4, 4), weight=np.ones((2, 2, 3, 3))), "groups=1"),
    (lambda: ir.Conv2d(input_shape=(1, 2, 2), weight=np.ones((1, 1, 3, 3))), "is empty"),
    (lambda: ir.Conv1d(input_shape=(1, 4, 4), weight=np.ones((1, 1, 3))), "conv1d needs"),
    (lambda: ir.Conv2d(input_shape=(1, 4, 4), weight=np.ones((1, 1, 1, 1)), stride=(1,)),
     "stride must be 2"),
    (lambda: ir.SumPool2d(input_shape=(4, 4), kernel_size=(2, 2), stride=(2, 2)), "(C, H, W)"),
    (lambda: ir.Flatten(input_shape=(2, 3), start_dim=2), "out of range"),
    (lambda: ir.Flatten(input_shape=(2, 3, 4), start_dim=2, end_dim=1), "after end_dim"),
    (lambda: ir.Reshape(input_shape=(2, 3), output_shape=(5,)), "cannot reshape"),
    (lambda: ir.Delay(shape=(2,), delay=[-1, 0]), "delays must be >= 0"),
    (lambda: ir.Delay(shape=(2,), delay=0.5), "must hold integers"),
    (lambda: ir.Threshold(shape=(2,), threshold=1.0, comparator="<"), "comparator"),
    (lambda: ir.LIF(shape=(2,), reset="soft"), "reset must be one of"),
    (lambda: ir.LIF(shape=(2, 3), decay_v=np.ones((3, 3))), "decay_v has shape"),
    (lambda: ir.CubaLIF(shape=(2,), gain_i=np.ones(4)), "gain_i has shape"),
    (lambda: ir.BatchNorm(shape=(2,), mean=[0.0], var=[1.0, 1.0], weight=[1.0, 1.0],
                          bias=[0.0, 0.0]), "mean must have shape"),
    (lambda: ir.BatchNorm(shape=(1,), mean=[0.0], var=[-1.0], weight=[1.0], bias=[0.0]),
     "var \\+ eps"),
    (lambda: ir.QTensor(mant=[[8]], scale=1.0, bits=4), "outside the 4-bit range"),
    (lambda: ir.QTensor(mant=[[1, 0]], scale=1.0, bits=1, kind="binary"), "binary"),
    (lambda: ir.QTensor(mant=[[1], [2]], scale=[1.0, 2.0, 3.0], bits=4), "per-channel"),
    (lambda: ir.CodebookTensor(codebook=[1, -1], indices=[[2]], alpha=[1.0]), "codebook index"),
    (lambda: ir.LoihiDense(weight=[[300]]), "weight must lie in"),
    (lambda: ir.LoihiDense(weight=[[1]], weight_exp=9), "weight_exp"),
    (lambda: ir.LoihiLIF(shape=(2,), du=5000), "du must lie in"),
    (lambda: ir.LoihiConv(input_shape=(2, 3, 3), weight=np.ones((1, 1, 2, 2), int)), "groups"),
    (lambda: ir.Subgraph(graph=ir.Graph.build({"a": ir.Scale(shape=(1,), scale=1.0)}, [])),
     "exactly one input"),
])
def test_bad_fields_raise_irerror(make, match):
    with pytest.raises(IRError, match=match):
        make()


def test_shapes_follow_pytorch_rules():
    conv = ir.Conv2d(input_shape=(2, 7, 5), weight=np.ones((4, 1, 3, 2)), stride=(2, 1),
                     padding=(1, 0), dilation=(1, 2), groups=2)
    assert conv.out_shape == (4, 4, 3)
    pool = ir.AvgPool2d(input_shape=(3, 5, 5), kernel_size=(2, 2), stride=(2, 2), padding=(1, 1))
    assert pool.out_shape == (3, 3, 3)
    assert ir.Flatten(input_shape=(2, 3, 4), start_dim=-2).out_shape == (2, 12)


def test_nodes_are_frozen_with_read_only_arrays():
    node = ir.Affine(weight=np.ones((2, 2)), bias=np.zeros(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.bias = np.ones(2)
    with pytest.raises(ValueError, match="read-only"):
        node.weight[0, 0] = 5.0


def test_arrays_are_copied_on_construction():
    w = np.ones((2, 2))
    node = ir.Linear(weight=w)
    w[0, 0] = 7.0
    assert node.weight[0, 0] == 1.0


def test_structural_equality_distinguishes_dtype_and_shape():
    a = ir.Delay(shape=(2,), delay=1)
    assert a == ir.Delay(shape=(2,), delay=np.int64(1))
    assert a != ir.Delay(shape=(2,), delay=[1, 1])  # same values, different shape
    assert ir.LIF(shape=(1,)) != ir.IF(shape=(1,))
    q = ir.QTensor(mant=[[1]], scale=0.5, bits=2)
    assert ir.Linear(weight=q) != ir.Linear(weight=q.dequant())


@given(neuron_nodes())
def test_random_neurons_verify_and_replace_keeps_equality(node):
    assert node.in_shape == node.out_shape == node.shape
    assert node.replace() == node
    assert node.stateful
