"""The Lava backend (snnc.backends.lava): graphs built as Lava processes and run in Lava itself.

Tests marked ``lava`` run in the Lava environment and compare ``run_lava`` with the fixed-point
reference (which tests/lava/test_reference_vs_lava.py checks against Lava on random networks).
The unmarked tests run everywhere: the error when Lava is missing, and the layout conversions.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import loihi_graphs

from snnc import ir
from snnc.backends.lava import MISSING_LAVA, LavaJob, build_lava, layout, run_jobs, run_lava
from snnc.errors import BackendError, UnsupportedOpError
from snnc.simulators import kernels_float
from snnc.simulators.reference import simulate

lava = pytest.mark.lava


def all_probes(graph: ir.Graph) -> list[str]:
    probes = []
    for name, node in graph.nodes.items():
        if node.op.startswith("loihi."):
            probes.append(f"{name}.s")
        if node.op == "loihi.lif":
            probes += [f"{name}.u", f"{name}.v"]
    return probes


def assert_same(graph: ir.Graph, x, steps: int, probes=None) -> None:
    """run_lava and the reference agree on every output and probe at every step."""
    probes = all_probes(graph) if probes is None else probes
    got = run_lava(graph, x, steps, probes=probes)
    want = simulate(graph, x, steps, probes=probes)
    for name in want.outputs:
        np.testing.assert_array_equal(got.outputs[name], want.outputs[name], err_msg=name)
    for name in probes:
        np.testing.assert_array_equal(got.probes[name], want.probes[name], err_msg=name)


def lif(shape, **kw) -> ir.LoihiLIF:
    params = {"du": 400, "dv": 300, "vth": 60, "bias_mant": 0, "bias_exp": 0} | kw
    return ir.LoihiLIF(shape=shape, **params)


def spikes(rng, shape, p=0.4) -> np.ndarray:
    return (rng.random(shape) < p).astype(np.int64)


# ---- against the reference, in Lava -------------------------------------------------------------


@lava
@settings(max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(graph=loihi_graphs(), seed=st.integers(0, 2**16))
def test_random_graphs_match_reference(graph: ir.Graph, seed: int) -> None:
    rng = np.random.default_rng(seed)
    (name,) = graph.inputs
    x = spikes(rng, (12, 2, *graph.nodes[name].out_shape))
    assert_same(graph, x, 14)  # 2 steps past the stimulus: zero padding


@lava
def test_branches_fan_in_recurrence_reshapes_and_two_inputs() -> None:
    rng = np.random.default_rng(3)
    conv = ir.LoihiConv(input_shape=(2, 4, 5), weight=rng.integers(-90, 120, (3, 2, 2, 3)),
                        stride=(1, 2), padding=(1, 0))
    c_out = conv.out_shape
    n_flat = int(np.prod(c_out))
    nodes = {
        "img": ir.Input(shape=(2, 4, 5)),
        "vec": ir.Input(shape=(3,)),
        "conv": conv,
        "l_conv": lif(c_out, vth=20, bias_mant=rng.integers(-5, 9, c_out)),
        "flat": ir.Flatten(input_shape=c_out),
        "d1": ir.LoihiDense(weight=rng.integers(-200, 255, (4, n_flat)), weight_exp=2),
        "d2": ir.LoihiDense(weight=rng.integers(0, 255, (4, 3)), delays=rng.integers(0, 3, (4, 3))),
        "l_out": lif((4,), vth=100),
        "rec": ir.LoihiDense(weight=-rng.integers(0, 255, (4, 4)), weight_exp=1),
        "y": ir.Output(shape=(4,)),
        "y_map": ir.Output(shape=(n_flat,)),
        "img_flat": ir.Flatten(input_shape=(2, 4, 5)),
        "y_img": ir.Output(shape=(40,)),
    }
    edges = [("img", "conv"), ("conv", "l_conv"), ("l_conv", "flat"), ("flat", "d1"),
             ("vec", "d2"), ("d1", "l_out"), ("d2", "l_out"), ("l_out", "rec"),
             ("rec", "l_out"), ("l_out", "y"), ("flat", "y_map"), ("img", "img_flat"),
             ("img_flat", "y_img")]
    graph = ir.Graph.build(nodes, edges)
    x = {"img": spikes(rng, (16, 2, 2, 4, 5)), "vec": spikes(rng, (16, 2, 3), 0.6)}
    assert_same(graph, x, 18, [*all_probes(graph), "flat.s", "img.s"])


@lava
def test_batches_split_over_runs_keep_their_order() -> None:
    rng = np.random.default_rng(4)
    graph = ir.Graph.chain(("x", ir.Input(shape=(5,))),
                           ("d", ir.LoihiDense(weight=rng.integers(-256, 256, (3, 5)))),
                           ("l", lif((3,), vth=rng.integers(1, 200, 3))),
                           ("y", ir.Output(shape=(3,))))
    x = spikes(rng, (10, 5, 5))
    jobs = [LavaJob(graph, {"x": x[:, b]}, ("l.v",)) for b in range(5)]
    one_by_one = run_jobs(jobs, 10, max_processes=3)  # one Lava run per sample
    want = simulate(graph, x, 10, probes=["l.v"])
    for b, res in enumerate(one_by_one):
        np.testing.assert_array_equal(res["y"], want.output[:, b])
        np.testing.assert_array_equal(res["l.v"], want.probes["l.v"][:, b])
    assert_same(graph, x, 10)  # run_lava: all five samples side by side in one run


@lava
def test_lavas_own_sinks_and_monitors_give_the_same_record() -> None:
    rng = np.random.default_rng(5)
    graph = ir.Graph.chain(("x", ir.Input(shape=(6,))),
                           ("d", ir.LoihiDense(weight=rng.integers(0, 256, (4, 6)), weight_exp=3)),
                           ("l", ir.LoihiLIF(shape=(4,), du=10, dv=50, vth=500,
                                             reset_interval=5, reset_offset=2)),
                           ("y", ir.Output(shape=(4,))))
    x = spikes(rng, (12, 6))
    job = LavaJob(graph, {"x": x}, ("l.u", "l.v", "d.s"))
    (mon,) = run_jobs([job], 12, collector="monitors")
    (rec,) = run_jobs([job], 12)
    for name in rec:
        np.testing.assert_array_equal(mon[name], rec[name], err_msg=name)


@lava
def test_build_lava_ports_take_user_sources_and_sinks() -> None:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    rng = np.random.default_rng(6)
    conv = ir.LoihiConv(input_shape=(1, 5, 3), weight=rng.integers(1, 200, (2, 1, 3, 2)))
    graph = ir.Graph.chain(("x", ir.Input(shape=(1, 5, 3))), ("c", conv),
                           ("l", lif(conv.out_shape, vth=30)),
                           ("y", ir.Output(shape=conv.out_shape)))
    net = build_lava(graph)
    assert set(net.processes) == {"c", "l"}
    x = spikes(rng, (10, 1, 5, 3))
    src = Source(data=layout.to_lava(x).astype(np.int32))  # (W, H, C, T)
    sink = Sink(shape=net.outputs["y"].shape, buffer=10)
    src.s_out.connect(net.inputs["x"])
    net.outputs["y"].connect(sink.a_in)
    try:
        src.run(condition=RunSteps(num_steps=10), run_cfg=Loihi1SimCfg(select_tag="fixed_pt"))
        got = layout.from_lava(np.moveaxis(sink.data.get(), -1, 0), lead=1)
    finally:
        src.stop()
    want = simulate(graph, x[:, None], 10).output[:, 0]
    np.testing.assert_array_equal(got, want)


@lava
def test_conv_layout_is_lavas_flipped_convolution() -> None:
    from lava.proc.conv import utils

    assert not utils.TORCH_IS_AVAILABLE  # Lava's exact integer (SciPy) path, not float32 torch
    rng = np.random.default_rng(7)
    for _ in range(20):
        groups = int(rng.choice([1, 2]))
        w = rng.integers(-5, 6, (2 * groups, int(rng.integers(1, 3)), *rng.integers(1, 4, 2)))
        x = rng.integers(-3, 4, (w.shape[1] * groups, *rng.integers(5, 9, 2)))
        stride, pad, dil = (tuple(int(v) for v in rng.integers(lo, 3, 2)) for lo in (1, 0, 1))
        want = kernels_float.conv_nd(x[None].astype(float), w.astype(float), stride, pad, dil,
                                     groups)[0]
        got = utils.conv_scipy(layout.to_lava(x), layout.conv_weight_to_lava(w),
                               layout.xy(w.shape[2:]), layout.xy(stride), layout.xy(pad),
                               layout.xy(dil), groups)
        np.testing.assert_array_equal(layout.from_lava(got), want)


@lava
def test_errors_name_the_problem() -> None:
    graph = ir.Graph.chain(("x", ir.Input(shape=(2, 3))), ("f", ir.Flatten(input_shape=(2, 3))),
                           ("d", ir.LoihiDense(weight=np.ones((2, 6), int))),
                           ("y", ir.Output(shape=(2,))))
    with pytest.raises(BackendError, match="sources="):
        build_lava(graph)
    with pytest.raises(BackendError, match="non-integers"):
        run_lava(graph, np.full((3, 1, 2, 3), 0.5), 3)
    with pytest.raises(BackendError, match="lava-loihi"):
        run_lava(graph, np.ones((3, 1, 2, 3)), 3, hw=True)
    float_net = ir.Graph.chain(("x", ir.Input(shape=(2,))),
                               ("l", ir.LIF(shape=(2,), decay_v=0.5)),
                               ("y", ir.Output(shape=(2,))))
    with pytest.raises(UnsupportedOpError, match=r"'l'.*compile"):
        build_lava(float_net)


# ---- anywhere (no Lava needed) ------------------------------------------------------------------


def test_run_lava_without_lava_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for mod in [m for m in sys.modules if m == "lava" or m.startswith("lava.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "lava", None)  # what a missing package looks like
    graph = ir.Graph.chain(("x", ir.Input(shape=(2,))), ("l", lif((2,))),
                           ("y", ir.Output(shape=(2,))))
    with pytest.raises(BackendError) as err:
        run_lava(graph, np.zeros((3, 1, 2)), 3)
    assert MISSING_LAVA in str(err.value)
    with pytest.raises(BackendError, match="make setup-lava"):
        build_lava(graph)


def test_layout_round_trips() -> None:
    rng = np.random.default_rng(8)
    w = rng.integers(-9, 9, (4, 2, 3, 5))
    lw = layout.conv_weight_to_lava(w)
    assert lw.shape == (4, 5, 3, 2)
    assert lw[1, 0, 0, 1] == w[1, 1, 2, 4]  # kernel flipped in both spatial axes
    np.testing.assert_array_equal(layout.conv_weight_from_lava(lw), w)
    x = rng.integers(0, 9, (7, 2, 3, 4))
    assert layout.to_lava(x, lead=1).shape == (7, 4, 3, 2)
    np.testing.assert_array_equal(layout.from_lava(layout.to_lava(x, lead=1), lead=1), x)
    assert layout.neuron_param(np.full((2, 3), 7), (2, 3)) == 7
    assert layout.neuron_param(np.arange(6).reshape(2, 3), (2, 3)).shape == (3, 2)
