"""Chip weights in their narrowest integer type (issue 20, compile memory): the same values,
patterns, counts and programs as the int64 path they replaced."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.backends.loihi.connectivity import Connectivity
from snnc.errors import IRError
from snnc.ir.weights import (
    effective_dense_weights,
    effective_nonzero,
    nonzero_test,
    truncate,
)

ALL = np.arange(-256, 256)


@pytest.mark.parametrize(("lo", "hi"), [(0, 255), (-255, 0), (-256, 255), (-128, 127), (0, 0),
                                        (-1, 0), (0, 1), (-5, 3), (1, 1)])
def test_threshold_test_equals_the_effective_weights_for_every_value(lo, hi) -> None:
    """Every weight value of the sign mode the range picks (exc / inh / mixed, all-zero), every
    ``num_weight_bits``, in every dtype that holds the range: the comparison gives exactly the
    non-zeros of Lava's clip-and-truncate in int64 (a mixed 1-bit weight keeps only negatives,
    an excitatory 1-bit weight only 128..255, an int8 block never reaches a 128 threshold)."""
    w = np.clip(ALL, lo, hi).reshape(1, -1)
    for bits in range(1, 9):
        want = effective_dense_weights(w, bits) != 0
        test = nonzero_test(w, bits)
        dtypes = [np.int16, np.int32, np.int64] + ([np.int8] if lo >= -128 and hi <= 127 else [])
        for dt in dtypes:
            np.testing.assert_array_equal(effective_nonzero(w.astype(dt), test), want,
                                          err_msg=f"{lo}..{hi} bits={bits} {dt.__name__}")


def test_nodes_keep_the_narrowest_signed_type() -> None:
    rng = np.random.default_rng(0)
    small = rng.integers(-128, 128, size=(7, 5))
    cases = [(small, np.int8), (small.astype(np.float64), np.int8),
             (np.where(np.arange(35).reshape(7, 5) == 4, 255, small), np.int16),
             (np.where(np.arange(35).reshape(7, 5) == 9, -256, small), np.int16),
             (np.where(np.arange(35).reshape(7, 5) == 9, -129, small), np.int16),
             (np.zeros((3, 2), np.int64), np.int8), (np.zeros((0, 4)), np.int8)]
    for w, dtype in cases:
        node = ir.LoihiDense(weight=w)
        assert node.weight.dtype == dtype, (w.dtype, node.weight.dtype)
        np.testing.assert_array_equal(node.weight, w)
        assert not node.weight.flags.writeable
    conv = ir.LoihiConv(input_shape=(2, 5, 5), weight=rng.integers(-256, 256, size=(3, 2, 3, 3)))
    assert conv.weight.dtype == np.int16
    with pytest.raises(IRError, match="non-integral"):
        ir.LoihiDense(weight=np.full((2, 2), 0.5))
    with pytest.raises(IRError, match="weight must lie"):
        ir.LoihiDense(weight=np.full((2, 2), 256))


def test_frozen_arrays_are_shared_and_writable_ones_copied() -> None:
    w = np.arange(-6, 6, dtype=np.int8).reshape(3, 4)
    node = ir.LoihiDense(weight=w)
    w[0, 0] = 100  # the caller's writable array: the node holds a copy
    assert node.weight[0, 0] == -6
    again = node.replace(weight_exp=1)  # a frozen array of the right type is not copied
    assert again.weight is node.weight
    base = np.arange(12, dtype=np.int8).reshape(3, 4)
    view = base[:, :2]
    view.setflags(write=False)  # read-only view of a writable base: still copied
    held = ir.LoihiDense(weight=view)
    base[0, 0] = 9
    assert held.weight[0, 0] == 0


def _brute(node) -> np.ndarray:
    return effective_dense_weights(np.asarray(node.weight, np.int64), node.num_weight_bits) != 0


@pytest.mark.parametrize("sign", ["exc", "inh", "mixed", "mixed-late"])
@pytest.mark.parametrize("bits", [1, 2, 7, 8])
def test_dense_counts_from_narrow_weights_equal_the_int64_path(sign, bits, monkeypatch) -> None:
    """Fan-in counts, fan-out counts, fan-in sets of scattered and consecutive rows and the
    per-core counts of a narrow (int8 / int16) dense node, made a few rows at a time, equal
    the pattern of the int64 effective weights (the sign mode is the whole matrix's, also when
    the first blocks alone would pick another)."""
    import snnc.backends.loihi.connectivity as conn_mod

    monkeypatch.setattr(conn_mod, "_BLOCK", 3 * 9)  # blocks of 3 rows
    rng = np.random.default_rng(bits)
    lo, hi = {"exc": (0, 256), "inh": (-255, 1), "mixed": (-256, 256),
              "mixed-late": (-256, 256)}[sign]
    w = rng.integers(lo, hi, size=(23, 9))
    if sign == "mixed-late":
        w[:15] = np.abs(w[:15]) % 256
    node = ir.LoihiDense(weight=w, num_weight_bits=bits)
    assert node.weight.dtype in (np.int8, np.int16)
    c, want = Connectivity(node), _brute(node)
    np.testing.assert_array_equal(c.nonzero, want)
    np.testing.assert_array_equal(c.fanin_counts(), want.sum(1))
    np.testing.assert_array_equal(c.fanout_counts(), want.sum(0))
    assert c.nnz == int(want.sum())
    for rows in (np.arange(4, 11), np.array([0, 5, 22, 3]), np.array([7])):
        np.testing.assert_array_equal(c.fanin(rows), want[rows].any(0))
    core = rng.integers(0, 4, size=23)
    expect = np.stack([want[core == k].sum(0) for k in range(5)], axis=1)
    np.testing.assert_array_equal(c.pre_core_counts(core, 5), expect)
    np.testing.assert_array_equal(c.pre_core_counts(np.sort(core), 5),
                                  np.stack([want[np.sort(core) == k].sum(0) for k in range(5)],
                                           axis=1))
    np.testing.assert_array_equal(c.weights, effective_dense_weights(w, bits))
    assert c.weights.dtype == np.int64  # the simulators' view is unchanged


@pytest.mark.parametrize("mode", ["exc", "inh", "mixed"])
def test_plastic_weights_truncate_as_int64(mode) -> None:
    """``loihi.plastic_dense`` stores narrow weights too (the learning engine copies them into
    int64 state); its effective weights are the one-time truncation without clip, in int64 (a
    wrong-sign weight keeps its sign, -256 does not wrap), and every synapse is stored."""
    w = np.array([[-256, -129, -1, 0], [1, 127, 128, 255]])
    for bits in (1, 3, 8):
        node = ir.LoihiPlasticDense(weight=w, sign_mode=mode, num_weight_bits=bits, dw="x0")
        assert node.weight.dtype == np.int16
        c = Connectivity(node)
        assert c.weights.dtype == np.int64
        np.testing.assert_array_equal(c.weights, truncate(w, mode, bits))
        assert c.nonzero.all()
        assert c.nnz == w.size
        np.testing.assert_array_equal(c.fanin_counts(), np.full(2, 4))


def test_program_round_trip_keeps_narrow_weights(tmp_path) -> None:
    """A mapped program written and read back holds the same int8 / int16 weights (what the
    simulators widen), and writing it again gives the same file."""
    from snnc.backends.loihi.mapper import map_graph
    from snnc.backends.loihi.program import ChipProgram

    rng = np.random.default_rng(3)
    g = ir.Graph.chain(("x", ir.Input(shape=(6,))),
                       ("fc", ir.LoihiDense(weight=rng.integers(-256, 256, size=(8, 6)))),
                       ("l1", ir.LoihiLIF(shape=(8,), du=4095, dv=256, vth=100)),
                       ("fc2", ir.LoihiDense(weight=rng.integers(-100, 100, size=(4, 8)))),
                       ("l2", ir.LoihiLIF(shape=(4,), du=4095, dv=256, vth=100)),
                       ("y", ir.Output(shape=(4,))))
    prog = map_graph(g, "loihi2")
    first = prog.save(tmp_path / "a")
    back = ChipProgram.load(first)
    assert back.graph.nodes["fc"].weight.dtype == np.int16
    assert back.graph.nodes["fc2"].weight.dtype == np.int8
    assert back.graph == g
    second = back.save(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
