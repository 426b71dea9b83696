"""The ahead-of-time (Cython) kernels: the LIF step equals the one definition in
``simulators/loihi_lif.py``, and threaded batches equal one thread, numpy and the reference."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.simulators import reference
from snnc.simulators.event import runners, simulate
from snnc.simulators.loihi_lif import lif_step

aot = pytest.importorskip("snnc.simulators.event.kernels_aot",
                          reason="AOT kernels not built (scripts/build_kernels.py)")

EDGES = np.array([0, 1, -1, 4095, -4096, 2**23 - 1, 2**23, 2**23 + 1, -(2**23), -(2**23) - 1,
                  2**24, 2**31 - 1, -(2**31), 2**31, 2**32 + 5, -(2**33)], np.int64)


def test_lif_step_mirror_equals_the_one_definition() -> None:
    rng = np.random.default_rng(7)
    n = 20000
    x = np.concatenate([rng.integers(-2**34, 2**34, n), rng.choice(EDGES, n)])
    u = np.concatenate([rng.integers(-2**23, 2**23, n), rng.choice(EDGES[:11], n)])
    v = np.concatenate([rng.integers(-2**23, 2**23, n), rng.choice(EDGES[:11], n)])
    fu = rng.integers(0, 4097, 2 * n)
    fv = rng.integers(0, 4097, 2 * n)
    bias = rng.integers(-2**20, 2**20, 2 * n)
    vth = rng.integers(0, 2**17, 2 * n) << 6
    want = lif_step(x, u, v, fu, fv, bias, vth)
    got = np.array([aot.lif_step_scalar(*map(int, a)) for a in zip(x, u, v, fu, fv, bias, vth,
                                                                     strict=True)])
    for k in range(3):
        np.testing.assert_array_equal(got[:, k], np.asarray(want[k], np.int64))
    assert want[2].any()  # both spiking and silent steps were covered
    assert not want[2].all()


def _net(rng: np.random.Generator) -> ir.Graph:
    conv = ir.LoihiConv(input_shape=(2, 8, 8), weight=rng.integers(-60, 90, (4, 2, 3, 3)),
                        padding=(1, 1), stride=(2, 2))
    dense = ir.LoihiDense(weight=rng.integers(-40, 60, (12, 64)))
    return ir.Graph.chain(
        ("x", ir.Input(shape=(2, 8, 8))), ("c", conv),
        ("l0", ir.LoihiLIF(shape=conv.out_shape, du=4095, dv=300, vth=60)),
        ("f", ir.Flatten(input_shape=conv.out_shape)), ("d", dense),
        ("l1", ir.LoihiLIF(shape=(12,), du=1000, dv=200, vth=80)), ("y", ir.Output(shape=(12,))))


def test_threaded_batches_equal_one_thread_numpy_and_reference() -> None:
    rng = np.random.default_rng(3)
    graph = _net(rng)
    prog = map_graph(graph, "loihi1")
    x = (rng.random((30, 5, 2, 8, 8)) < 0.3).astype(np.uint8)
    probes = ["l0.v", "l1.u", "l1.v"]
    ref = reference.simulate(graph, x, probes=probes)
    old = aot.set_threads(1)
    try:
        one = simulate(prog, x, probes=probes, use_jit="aot")
        aot.set_threads(2)
        two = simulate(prog, x, probes=probes, use_jit="aot")
    finally:
        aot.set_threads(old)
    npy = simulate(prog, x, probes=probes, use_jit="numpy")
    assert ref.output.any()
    for res in (one, two, npy):
        np.testing.assert_array_equal(res.output, ref.output)
        for p in probes:
            np.testing.assert_array_equal(res.probes[p], ref.probes[p], err_msg=p)
    for f in ("syn_ops_dense", "syn_ops_conv", "neurons_active", "spikes_out", "axon_in"):
        np.testing.assert_array_equal(getattr(two.counters, f), getattr(one.counters, f))
        np.testing.assert_array_equal(getattr(npy.counters, f), getattr(one.counters, f))


def test_default_kernels_are_aot_and_named_sets_are_checked() -> None:
    assert runners.kernels() is aot or runners.os.environ.get("SNNC_KERNELS")
    with pytest.raises(Exception, match="not available"):
        runners.kernels("fortran")
