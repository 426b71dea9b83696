"""The ahead-of-time (Cython) kernels: the LIF step equals the one definition in
``simulators/loihi_lif.py``, and threaded batches equal one thread, numpy and the reference."""

from __future__ import annotations

import os

import numpy as np
import pytest
from aot_threads import _thread_small_batches, aot  # noqa: F401

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.simulators import reference
from snnc.simulators.event import runners, simulate
from snnc.simulators.loihi_lif import lif_step

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
    assert runners.kernels() is aot or os.environ.get("SNNC_KERNELS")
    with pytest.raises(Exception, match="not available"):
        runners.kernels("fortran")


def _build_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "scripts" / "build_kernels.py"
    spec = importlib.util.spec_from_file_location("build_kernels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_cython_lif_step_is_generated_from_the_one_definition() -> None:
    import ast
    import inspect

    from snnc.simulators import loihi_lif

    bk = _build_script()
    code = bk.lif_cython()
    fn = ast.parse(inspect.getsource(loihi_lif.lif_step)).body[0]
    assigned = [s.targets[0].id for s in fn.body if isinstance(s, ast.Assign)]
    body = [ln.strip() for ln in code.splitlines() if " = " in ln and "cdef" not in ln]
    # one generated line per assignment of lif_step, in order, then the three results
    assert [ln.split(" = ")[0] for ln in body] == [*assigned, "r.u", "r.v", "r.s"]
    assert "<<" not in code  # shifts left of possibly negative values became products
    # build() rebuilds when loihi_lif.py is newer than the module
    assert bk.LIF_SRC in bk._sources()


def test_the_generator_refuses_what_it_cannot_translate(tmp_path) -> None:
    bk = _build_script()
    src = tmp_path / "loihi_lif.py"
    src.write_text("def lif_step(x, u, v, fu, fv, bias, vth):\n"
                   "    if x > 0:\n        x = 0\n    return u, v, x\n")
    bk.LIF_SRC = src
    with pytest.raises(ValueError, match="only 'name = expression'"):
        bk.lif_cython()
    src.write_text("def lif_step(x, u, v, fu, fv, bias, vth):\n"
                   "    u = u << x\n    return u, v, x\n")
    with pytest.raises(ValueError, match="'<<' by a non-constant"):
        bk.lif_cython()
    src.write_text("def lif_step(x, u, v, fu, fv, bias, vth):\n"
                   "    u = u // 4096\n    return u, v, x\n")
    with pytest.raises(ValueError, match="unsupported expression: u // 4096"):
        bk.lif_cython()


@pytest.mark.parametrize("scenario", ["plain", "u_wrap", "v_sat", "graded"])
def test_aot_numba_and_numpy_agree_on_random_batched_programs(tmp_path, scenario: str) -> None:
    from loihi_chips import tiny_chip
    from loihi_random import SCENARIOS, random_network

    chip = tiny_chip(tmp_path, neurons=5)
    sets = [k for k in runners.available() if k != "aot"]
    for seed in range(4):
        rng = np.random.default_rng([seed, 40 + SCENARIOS.index(scenario)])
        net = random_network(rng, scenario, steps=20)
        prog = map_graph(net.graph, chip)
        x = np.concatenate([net.stimulus, np.roll(net.stimulus, 3, axis=0),
                            net.stimulus[::-1]], axis=1)  # a batch of 3
        old = aot.set_threads(2)
        try:
            want = simulate(prog, x, probes=net.probes, use_jit="aot")
        finally:
            aot.set_threads(old)
        for k in sets:
            got = simulate(prog, x, probes=net.probes, use_jit=k)
            np.testing.assert_array_equal(got.output, want.output, err_msg=k)
            for p in net.probes:
                np.testing.assert_array_equal(got.probes[p], want.probes[p], err_msg=f"{k} {p}")
            np.testing.assert_array_equal(got.counters.neurons_active,
                                          want.counters.neurons_active, err_msg=k)


def _split_runs(prog, x, probes):
    """(one thread, one sample split over 2 threads with slices of 1+ and of 64+ columns)."""
    old_t, old_s = aot.set_threads(1), aot.set_split(1)
    try:
        one = simulate(prog, x, probes=probes, use_jit="aot")
        aot.set_threads(2)
        split = [simulate(prog, x, probes=probes, use_jit="aot")]
        aot.set_split(64)
        split.append(simulate(prog, x, probes=probes, use_jit="aot"))
    finally:
        aot.set_threads(old_t)
        aot.set_split(old_s)
    return one, split


def _same_everything(got, want, probes, what) -> None:
    np.testing.assert_array_equal(got.output, want.output, err_msg=what)
    for p in probes:
        np.testing.assert_array_equal(got.probes[p], want.probes[p], err_msg=f"{what} {p}")
    for f in ("syn_ops_dense", "syn_ops_conv", "neurons_active", "spikes_out", "axon_in",
              "axon_out", "hops_ew"):
        np.testing.assert_array_equal(getattr(got.counters, f), getattr(want.counters, f),
                                      err_msg=f"{what} {f}")


@pytest.mark.parametrize("scenario", ["plain", "u_wrap", "v_sat", "conv_wrap", "graded"])
def test_one_sample_split_over_threads_equals_one_thread(tmp_path, scenario: str) -> None:
    """A single sample's layers split over 2 threads by neurons: bit-identical to 1 thread,
    numpy and the reference, counters included (random programs)."""
    from loihi_chips import tiny_chip
    from loihi_random import SCENARIOS, random_network

    chip = tiny_chip(tmp_path, neurons=5)
    for seed in range(4):
        rng = np.random.default_rng([seed, 70 + SCENARIOS.index(scenario)])
        net = random_network(rng, scenario, steps=20)
        prog = map_graph(net.graph, chip)
        one, split = _split_runs(prog, net.stimulus, net.probes)
        ref = reference.simulate(net.graph, net.stimulus, probes=net.probes)
        npy = simulate(prog, net.stimulus, probes=net.probes, use_jit="numpy")
        np.testing.assert_array_equal(one.output, ref.output)
        for k, got in enumerate([*split, npy]):
            _same_everything(got, one, net.probes, f"seed {seed} run {k}")


def _split_equals_one_and_reference(prog, graph, x, probes):
    """One thread equals the reference (which is not silent); every split run equals one
    thread in everything."""
    one, split = _split_runs(prog, x, probes)
    ref = reference.simulate(graph, x, probes=probes)
    assert ref.output.any()
    np.testing.assert_array_equal(one.output, ref.output)
    for k, got in enumerate(split):
        _same_everything(got, one, probes, f"run {k}")


def test_one_sample_conv_split_by_channels_equals_one_thread() -> None:
    rng = np.random.default_rng(9)
    graph = _net(rng)
    prog = map_graph(graph, "loihi1")
    x = (rng.random((30, 1, 2, 8, 8)) < 0.3).astype(np.uint8)
    probes = ["l0.v", "l1.u"]
    _split_equals_one_and_reference(prog, graph, x, probes)


def test_one_large_sample_split_in_vectors_equals_one_thread() -> None:
    """Layers wide enough for 64-column slices (300 and 130 neurons), recorded u and v."""
    rng = np.random.default_rng(12)
    graph = ir.Graph.chain(
        ("x", ir.Input(shape=(90,))), ("d0", ir.LoihiDense(weight=rng.integers(-30, 60,
                                                                              (300, 90)))),
        ("l0", ir.LoihiLIF(shape=(300,), du=900, dv=300, vth=200)),
        ("d1", ir.LoihiDense(weight=rng.integers(-30, 50, (130, 300)))),
        ("l1", ir.LoihiLIF(shape=(130,), du=4095, dv=100, vth=900)),
        ("y", ir.Output(shape=(130,))))
    prog = map_graph(graph, "loihi1")
    x = (rng.random((40, 1, 90)) < 0.2).astype(np.uint8)
    probes = ["l0.u", "l0.v", "l1.v"]
    _split_equals_one_and_reference(prog, graph, x, probes)
