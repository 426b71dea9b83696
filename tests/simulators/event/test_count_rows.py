"""``CountRows`` (the AOT kernels' compact counter tables) and the kernels that add them:
the same counts as ``F`` for every thread count, split and batch, and as numpy."""

from __future__ import annotations

import numpy as np
import pytest
from aot_threads import _thread_small_batches, aot  # noqa: F401
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.simulators import reference
from snnc.simulators.event import kernels_np, simulate
from snnc.simulators.event.count_rows import CountRows, table_for
from snnc.simulators.event.counting import syn_tables


def _table(rng: np.random.Generator, n: int, k: int, ks: int) -> np.ndarray:
    """A table shaped as counting.py's: 2k dense columns, then 4 one-hot blocks of ks."""
    F = np.zeros((n, 2 * k + 4 * ks), np.int64)
    F[:, :k] = rng.integers(0, 40, (n, k)) * (rng.random((n, k)) < 0.7)
    F[:, k:2 * k] = F[:, :k] > 0
    src = rng.integers(0, ks, n)
    for j in range(4):
        F[np.arange(n), 2 * k + j * ks + src] = rng.integers(0, 9, n)
    return F


@pytest.mark.parametrize("shape", [(50, 6, 9), (40, 1, 30), (30, 12, 1), (0, 3, 2), (7, 0, 1)])
def test_count_rows_hold_the_table_exactly(shape) -> None:
    F = _table(np.random.default_rng(sum(shape)), *shape)
    r = CountRows.of(F)
    np.testing.assert_array_equal(r.dense(), F)
    assert r.head.dtype == np.int32
    assert r.val.dtype == np.int64
    assert np.all(r.col >= r.head.shape[1])
    if shape == (40, 1, 30):  # 2 dense columns and 120 one-hot ones: a short head
        assert r.head.shape[1] <= 2
        assert len(r.val) <= 4 * 40


def test_count_rows_beyond_int32_go_to_the_tail() -> None:
    F = _table(np.random.default_rng(1), 20, 5, 3)
    F[3, 1] = 2**40
    r = CountRows.of(F)
    assert r.head.shape[1] == 0
    np.testing.assert_array_equal(r.dense(), F)


def test_table_for_gives_f_to_kernels_that_take_it() -> None:
    F = _table(np.random.default_rng(2), 10, 3, 2)
    assert table_for(kernels_np, F, None) is F
    assert isinstance(table_for(aot, F, None), CountRows)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gather_counts_equal_numpy_for_any_thread_count(threads: int) -> None:
    rng = np.random.default_rng(threads)
    F = _table(rng, 60, 7, 11)
    x = (rng.random((9, 5, 60)) < 0.3).astype(np.uint8)
    want = np.zeros((9, 5, F.shape[1]), np.int64)
    kernels_np.gather_counts(x, F, want)
    got = np.zeros_like(want)
    old = aot.set_threads(threads)
    try:
        aot.gather_counts(x, CountRows.of(F), got)
    finally:
        aot.set_threads(old)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize(("threads", "batch"), [(1, 3), (2, 3), (2, 1)])
def test_dense_counts_in_int32_lanes_or_not_equal_numpy(big: bool, threads: int,
                                                        batch: int) -> None:
    """The dense kernel sums a step's head in int32 when ``fits32`` allows (small counts) and
    in int64 otherwise (head values near 2**31 / n_in: sums beyond int32), the same counts as
    numpy either way, on one thread, over samples and split over columns (batch 1)."""
    rng = np.random.default_rng([threads, batch, big])
    n_in, n_out = 70, 300
    F = _table(rng, n_in, 7, 5)
    if big:
        F[:, :7] *= 2**31 // 400  # entries fit in int32, one step's sums do not
    rows = CountRows.of(F)
    assert rows.head.shape[1] > 0
    assert rows.fits32 is not big
    x = (rng.random((6, batch, n_in)) < 0.6).astype(np.uint8)
    wt = rng.integers(-100, 100, (n_in, n_out)).astype(np.int8)
    outs = {}
    for kern, table in ((kernels_np, F), (aot, rows)):
        ring = np.zeros((1, batch, n_out), np.int64)
        y = np.empty((6, batch, n_out), np.int64)
        cnt = np.zeros((6, batch, F.shape[1]), np.int64)
        old_t, old_s = aot.set_threads(threads), aot.set_split(64)
        try:
            kern.dense_run(x, wt, 0, False, ring, 0, y, np.zeros(n_out, np.int32), True, table,
                           cnt)
        finally:
            aot.set_threads(old_t)
            aot.set_split(old_s)
        outs[kern] = (y, cnt)
    np.testing.assert_array_equal(outs[aot][0], outs[kernels_np][0])
    np.testing.assert_array_equal(outs[aot][1], outs[kernels_np][1])
    assert bool(outs[aot][1].max() >= 2**31) is big


def _runs(prog, x, probes, split: int):
    out = {}
    old_t, old_s = aot.set_threads(1), aot.set_split(split)
    try:
        for th in (1, 2, 3):
            aot.set_threads(th)
            out[th] = simulate(prog, x, probes=probes, use_jit="aot")
    finally:
        aot.set_threads(old_t)
        aot.set_split(old_s)
    return out


def _equal(got, want, what: str) -> None:
    np.testing.assert_array_equal(got.output, want.output, err_msg=what)
    for f in ("syn_ops", "neurons_active", "spikes_out", "axon_in", "axon_out", "hops_ew",
              "hops_ns", "host_axon_out", "step_ns"):
        np.testing.assert_array_equal(getattr(got.counters, f), getattr(want.counters, f),
                                      err_msg=f"{what} {f}")


def test_many_core_layer_counts_equal_for_every_thread_count_and_numpy(tmp_path) -> None:
    """Layers over many small cores (tables with long one-hot tails), one sample split over
    2 and 3 threads in 1-column slices and a batch of 4 over samples: outputs and every
    counter equal one thread's, numpy's, and the reference's spikes."""
    rng = np.random.default_rng(5)
    graph = ir.Graph.chain(
        ("x", ir.Input(shape=(70,))),
        ("d0", ir.LoihiDense(weight=rng.integers(-30, 60, (90, 70)))),
        ("l0", ir.LoihiLIF(shape=(90,), du=900, dv=300, vth=150)),
        ("d1", ir.LoihiDense(weight=rng.integers(-30, 50, (5, 90)))),
        ("l1", ir.LoihiLIF(shape=(5,), du=4095, dv=100, vth=400)),
        ("y", ir.Output(shape=(5,))))
    prog = map_graph(graph, tiny_chip(tmp_path, neurons=4))
    assert max(len(t.tcores) + len(t.scores) for t in syn_tables(prog).values()) > 20
    probes = ["l0.s"]
    for x in ((rng.random((25, 1, 70)) < 0.25).astype(np.uint8),
              (rng.random((25, 4, 70)) < 0.25).astype(np.uint8)):
        ref = reference.simulate(graph, x, probes=probes)
        npy = simulate(prog, x, probes=probes, use_jit="numpy")
        assert ref.output.any()
        runs = _runs(prog, x, probes, split=1)
        np.testing.assert_array_equal(runs[1].output, ref.output)
        for th, got in runs.items():
            _equal(got, npy, f"batch {x.shape[1]}, {th} threads")


@pytest.mark.parametrize("seed", range(3))
def test_random_programs_with_graded_and_conv_equal_numpy_on_three_threads(tmp_path,
                                                                            seed: int) -> None:
    chip = tiny_chip(tmp_path, neurons=3)
    for scenario in ("graded", "conv_wrap", "plain"):
        net = random_network(np.random.default_rng([seed, 90]), scenario, steps=15)
        prog = map_graph(net.graph, chip)
        x = np.concatenate([net.stimulus, net.stimulus[::-1]], axis=1)
        npy = simulate(prog, x, probes=net.probes, use_jit="numpy")
        for th, got in _runs(prog, x, net.probes, split=1).items():
            _equal(got, npy, f"{scenario} {th} threads")


@pytest.mark.parametrize(("scale", "exp", "bits", "n_in", "w_dt", "a_dt"), [
    (40, 0, 0, 60, np.int8, np.int16),  # small weights, few inputs: int8 rows, int16 sums
    (255, 0, 0, 300, np.int16, np.int32),  # 9-bit weights: int16 rows, int32 sums
    (100, 6, 0, 120, np.int16, np.int32),  # weight_exp 6: pre-shifted int16 rows
    (60, 0, 8, 80, np.int8, np.int64),  # graded 8-bit payloads: int64 sums, int32 wrap
])
def test_weight_and_sum_types_equal_numpy_and_reference_on_any_threads(
        tmp_path, scale, exp, bits, n_in, w_dt, a_dt) -> None:
    """Each storage / accumulator type the kernels are instantiated for, one sample split
    over 1-3 threads and a batch of 3 over samples: outputs, probes and counters equal numpy,
    and the outputs equal the reference."""
    from snnc.simulators.event.runners import SynapseStatic

    rng = np.random.default_rng([scale, exp, bits])
    d0 = ir.LoihiDense(weight=rng.integers(-scale, scale + 1, (40, n_in)), weight_exp=exp,
                       num_message_bits=bits)
    st = SynapseStatic.of(d0)
    assert (st.wt.dtype, st.acc_dtype) == (w_dt, a_dt)
    vth = max(50, int(np.abs(st.wt.astype(np.int64)).sum(0).mean() // (4 if bits else 8)))
    graph = ir.Graph.chain(
        ("x", ir.Input(shape=(n_in,))), ("d0", d0),
        ("l0", ir.LoihiLIF(shape=(40,), du=700, dv=400, vth=vth * (30 if bits else 1))),
        ("d1", ir.LoihiDense(weight=rng.integers(-40, 80, (6, 40)))),
        ("l1", ir.LoihiLIF(shape=(6,), du=4095, dv=200, vth=120)), ("y", ir.Output(shape=(6,))))
    prog = map_graph(graph, tiny_chip(tmp_path, neurons=6))
    probes = ["l0.v", "l0.s"]
    for batch in (1, 3):
        x = rng.random((20, batch, n_in)) < 0.3
        x = (x * rng.integers(1, 256, x.shape)) if bits else x.astype(np.uint8)
        ref = reference.simulate(graph, x, probes=probes)
        npy = simulate(prog, x, probes=probes, use_jit="numpy")
        assert ref.probes["l0.s"].any()
        np.testing.assert_array_equal(npy.output, ref.output)
        for th, got in _runs(prog, x, probes, split=1).items():
            _equal(got, npy, f"batch {batch}, {th} threads")
            np.testing.assert_array_equal(got.probes["l0.v"], ref.probes["l0.v"])
