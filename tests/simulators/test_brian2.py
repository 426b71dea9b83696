"""Brian2 backend against snnc's reference simulator: identical spikes and states.

Random float graphs with dyadic parameters (k/2^m), so that both simulators are exact in float64
and any difference is a semantic one. The graphs cover dense, conv, pooling, residual add,
delays (on spikes, analog values and biases), recurrence, every neuron op and reset mode.
"""

from __future__ import annotations

import builtins
import dataclasses
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from snnc.errors import BackendError, UnsupportedOpError
from snnc.ir import (
    IF,
    LI,
    LIF,
    Add,
    Affine,
    AvgPool2d,
    Conv1d,
    Conv2d,
    CubaLI,
    CubaLIF,
    Delay,
    Flatten,
    Graph,
    I,
    Input,
    Linear,
    MaxPool2d,
    Output,
    Reshape,
    Scale,
    SumPool2d,
    Threshold,
)
from snnc.simulators.reference import simulate

NEURONS = {"i": I, "li": LI, "if": IF, "lif": LIF, "cubali": CubaLI, "cubalif": CubaLIF}
SPIKING = ("if", "lif", "cubalif")
DECAYS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
POW2_DECAYS = np.array([0.0, 0.5, 1.0])
POW2_GAINS = np.array([0.5, 1.0])
T = 16


def dy(rng, shape, lo, hi, den):
    """Dyadic values k/den, k in [lo, hi]: a scalar or per-neuron array, at random."""
    if rng.random() < 0.5:
        return rng.integers(lo, hi + 1) / den
    return rng.integers(lo, hi + 1, size=shape) / den


def pick(rng, shape, levels):
    return rng.choice(levels) if rng.random() < 0.5 else rng.choice(levels, size=shape)


def neuron(rng, shape, ops=tuple(NEURONS), pow2=False, **fixed):
    """A random neuron; ``pow2``: decays and gains are powers of two (no mantissa growth)."""
    op = fixed.pop("op", None) or str(rng.choice(ops))
    cls = NEURONS[op]
    decays, gains = (POW2_DECAYS, POW2_GAINS) if pow2 else (DECAYS, np.arange(1, 5) / 4)
    kw = {"shape": shape, "gain": pick(rng, shape, gains), "bias": dy(rng, shape, -2, 2, 16),
          "v_init": dy(rng, shape, -4, 4, 8)}
    if cls.leaky:
        kw["decay_v"] = pick(rng, shape, decays)
    if cls.current:
        kw.update(decay_i=pick(rng, shape, decays), gain_i=pick(rng, shape, gains))
    if cls.spiking:
        kw.update(threshold=dy(rng, shape, 1, 8, 8), comparator=str(rng.choice([">", ">="])),
                  reset=str(rng.choice(["hard", "subtract", "none"])),
                  v_reset=dy(rng, shape, -2, 2, 8), decay_reset=bool(rng.random() < 0.7),
                  graded=bool(rng.random() < 0.2))
    kw.update(fixed)
    return cls(**kw)


def weights(rng, shape, density=0.7, pow2=False):
    w = rng.choice([-1, -0.5, 0.5, 1], size=shape) if pow2 else rng.integers(-8, 9, size=shape) / 8
    return w * (rng.random(shape) < density)


def spikes(rng, n_in, batch=2, p=0.35):
    shape = n_in if isinstance(n_in, tuple) else (n_in,)
    return (rng.random((T, batch, *shape)) < p).astype(np.float64)


def dense_chain(rng, ops=tuple(NEURONS), **fixed):
    sizes = [int(rng.integers(3, 9)) for _ in range(int(rng.integers(2, 5)))]
    named = [("in", Input(shape=(sizes[0],)))]
    for k, (a, b) in enumerate(itertools.pairwise(sizes)):
        w = weights(rng, (b, a))
        fc = Affine(weight=w, bias=rng.integers(-2, 3, b) / 16) if rng.random() < 0.5 \
            else Linear(weight=w)
        named += [(f"fc{k}", fc), (f"n{k}", neuron(rng, (b,), ops, **dict(fixed)))]
    named.append(("out", Output(shape=(sizes[-1],))))
    return Graph.chain(*named), sizes[0]


def conv_net(rng):
    c, h = int(rng.integers(1, 3)), int(rng.integers(7, 10))
    stride, pad, dil = int(rng.integers(1, 3)), int(rng.integers(0, 2)), int(rng.integers(1, 3))
    conv = Conv2d(input_shape=(c, h, h), weight=weights(rng, (4, c, 3, 3)),
                  bias=rng.integers(-2, 3, 4) / 16, stride=(stride, stride), padding=(pad, pad),
                  dilation=(dil, dil))
    n1 = neuron(rng, conv.out_shape, SPIKING)
    pool_cls = SumPool2d if rng.random() < 0.5 else AvgPool2d
    pool = pool_cls(input_shape=conv.out_shape, kernel_size=(2, 2), stride=(1, 1),
                    padding=(int(rng.integers(0, 2)),) * 2)
    flat = Flatten(input_shape=pool.out_shape)
    fc = Linear(weight=weights(rng, (5, flat.out_shape[0])))
    g = Graph.chain(("in", Input(shape=(c, h, h))), ("conv", conv), ("n1", n1), ("pool", pool),
                    ("flat", flat), ("fc", fc), ("n2", neuron(rng, (5,))),
                    ("out", Output(shape=(5,))))
    return g, (c, h, h)


def residual_net(rng):
    n = int(rng.integers(3, 7))
    nodes = {"in": Input(shape=(n,)), "fc1": Linear(weight=weights(rng, (n, n))),
             "n1": neuron(rng, (n,)), "fc2": Linear(weight=weights(rng, (n, n))),
             "n2": neuron(rng, (n,), SPIKING), "fc3": Linear(weight=weights(rng, (n, n))),
             "skip": Scale(shape=(n,), scale=dy(rng, (n,), -4, 4, 4)), "add": Add(shape=(n,)),
             "n3": neuron(rng, (n,)), "out": Output(shape=(n,))}
    edges = [("in", "fc1"), ("fc1", "n1"), ("n1", "fc2"), ("fc2", "n2"), ("n2", "fc3"),
             ("fc3", "add"), ("n1", "skip"), ("skip", "add"), ("add", "n3"), ("n3", "out"),
             ("in", "add")]
    return Graph.build(nodes, edges), n


def delay_net(rng):
    n, m = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    nodes = {"in": Input(shape=(n,)),
             "fc1": Affine(weight=weights(rng, (m, n)), bias=rng.integers(-2, 3, m) / 8),
             "d1": Delay(shape=(m,), delay=rng.integers(0, 4, m)),
             "n1": neuron(rng, (m,)), "d2": Delay(shape=(m,), delay=int(rng.integers(1, 3))),
             "fc2": Linear(weight=weights(rng, (n, m))), "n2": neuron(rng, (n,)),
             "fc3": Linear(weight=weights(rng, (n, n))),
             "d3": Delay(shape=(n,), delay=rng.integers(0, 3, n)), "out": Output(shape=(n,))}
    edges = [("in", "fc1"), ("fc1", "d1"), ("d1", "n1"), ("n1", "d2"), ("d2", "fc2"),
             ("fc2", "n2"), ("n2", "d3"), ("d3", "out"), ("in", "fc3"), ("fc3", "n2")]
    return Graph.build(nodes, edges), n


def recurrent_net(rng):
    """Feedback of analog values would grow mantissas past 53 bits: powers of two only."""
    n, m = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    nodes = {"in": Input(shape=(n,)), "fc": Linear(weight=weights(rng, (m, n))),
             "n1": neuron(rng, (m,), pow2=True),
             "rec": Linear(weight=weights(rng, (m, m), pow2=True) / 2),
             "d": Delay(shape=(m,), delay=rng.integers(0, 3, m)),
             "fc2": Linear(weight=weights(rng, (m, m), pow2=True)),
             "n2": neuron(rng, (m,), pow2=True),
             "back": Linear(weight=weights(rng, (m, m), pow2=True) / 4),
             "out": Output(shape=(m,))}
    edges = [("in", "fc"), ("fc", "n1"), ("n1", "rec"), ("rec", "n1"), ("n1", "fc2"),
             ("fc2", "n2"), ("n2", "back"), ("back", "d"), ("d", "n1"), ("n2", "out")]
    return Graph.build(nodes, edges), n


def assert_same(graph, x, probes=(), target="numpy"):
    from snnc.simulators.brian2 import run_brian2

    ref = simulate(graph, x, probes=probes)
    got = run_brian2(graph, x, probes=probes, target=target)
    assert set(got.outputs) == set(ref.outputs)
    for name, want in ref.outputs.items():
        np.testing.assert_array_equal(got.outputs[name], want, err_msg=f"output {name}")
    for name, want in ref.probes.items():
        np.testing.assert_array_equal(got.probes[name], want, err_msg=f"probe {name}")
    return ref


def probes_of(graph):
    out = []
    for name, node in graph.nodes.items():
        if node.op in NEURONS:
            out += [f"{name}.s", f"{name}.v", f"{name}.i"]
    return out


pytestmark = pytest.mark.brian2


@pytest.mark.parametrize("seed", range(8))
def test_dense_random(seed):
    rng = np.random.default_rng(seed)
    g, n = dense_chain(rng)
    assert_same(g, spikes(rng, n), probes_of(g))


@pytest.mark.parametrize("reset", ["hard", "subtract", "none"])
@pytest.mark.parametrize("decay_reset", [True, False])
@pytest.mark.parametrize("op", SPIKING)
def test_reset_modes(op, reset, decay_reset):
    rng = np.random.default_rng([SPIKING.index(op), ["hard", "subtract", "none"].index(reset),
                                 int(decay_reset)])
    g, n = dense_chain(rng, op=op, reset=reset, decay_reset=decay_reset, graded=False,
                       threshold=0.25)
    ref = assert_same(g, spikes(rng, n, p=0.6), probes_of(g))
    assert ref.probes["n0.s"].any()  # resets did happen


@pytest.mark.parametrize("seed", range(4))
def test_conv_pool_random(seed):
    rng = np.random.default_rng(100 + seed)
    g, shape = conv_net(rng)
    assert_same(g, spikes(rng, shape), ["n1.s", "n1.v", "pool.s", "flat.s"])


def test_conv1d_reshape():
    rng = np.random.default_rng(7)
    conv = Conv1d(input_shape=(2, 9), weight=weights(rng, (4, 1, 3)), groups=2,
                  stride=(2,), padding=(1,), bias=np.array([0.125, 0, -0.25, 0.5]))
    co, lo = conv.out_shape
    g = Graph.chain(("in", Input(shape=(2, 9))), ("conv", conv),
                    ("n", neuron(rng, conv.out_shape, op="lif")),
                    ("r", Reshape(input_shape=(co, lo), output_shape=(co * lo,))),
                    ("out", Output(shape=(co * lo,))))
    assert_same(g, spikes(rng, (2, 9)), ["n.v", "conv.s"])


@pytest.mark.parametrize("seed", range(4))
def test_residual_add(seed):
    rng = np.random.default_rng(200 + seed)
    g, n = residual_net(rng)
    assert_same(g, spikes(rng, n), [*probes_of(g), "add.s"])


@pytest.mark.parametrize("dt", [None, 3.7e-5])
@pytest.mark.parametrize("seed", range(2))
def test_delays(seed, dt):
    """Delays in steps whatever ``dt`` (Brian2 delays are times: seconds = steps * dt)."""
    rng = np.random.default_rng(300 + seed)
    g, n = delay_net(rng)
    g = dataclasses.replace(g, dt=dt)
    assert_same(g, spikes(rng, n), [*probes_of(g), "d1.s"])


@pytest.mark.parametrize("seed", range(4))
def test_recurrent(seed):
    rng = np.random.default_rng(400 + seed)
    g, n = recurrent_net(rng)
    assert_same(g, spikes(rng, n), probes_of(g))


def test_analog_input_and_threshold():
    rng = np.random.default_rng(5)
    nodes = {"in": Input(shape=(4,)), "fc": Linear(weight=weights(rng, (4, 4))),
             "th": Threshold(shape=(4,), threshold=np.array([0, 0.25, -0.5, 0.125]),
                             comparator=">="),
             "fc2": Affine(weight=weights(rng, (3, 4)), bias=np.full(3, 0.25)),
             "n": neuron(rng, (3,), op="li"), "out": Output(shape=(3,))}
    g = Graph.chain(*nodes.items())
    x = rng.integers(-4, 5, size=(T, 3, 4)) / 4
    assert_same(g, x, ["th.s", "n.v"])


def test_zero_latency_through_deep_chain():
    """A spike at step 0 crosses every layer within step 0, as in the reference."""
    layers = [("in", Input(shape=(1,)))]
    for k in range(6):
        layers += [(f"fc{k}", Linear(weight=np.ones((1, 1)))), (f"n{k}", IF(shape=(1,),
                                                                              threshold=0.5))]
    g = Graph.chain(*layers, ("out", Output(shape=(1,))))
    x = np.zeros((4, 1, 1))
    x[0] = 1
    ref = assert_same(g, x)
    assert ref.output[:, 0, 0].tolist() == [1, 0, 0, 0]


def test_two_inputs_two_outputs_and_padding():
    rng = np.random.default_rng(9)
    nodes = {"a": Input(shape=(3,)), "b": Input(shape=(3,)), "add": Add(shape=(3,)),
             "n": neuron(rng, (3,), op="lif"), "o1": Output(shape=(3,)), "o2": Output(shape=(3,))}
    edges = [("a", "add"), ("b", "add"), ("add", "n"), ("n", "o1"), ("b", "o2")]
    g = Graph.build(nodes, edges)
    x = {"a": spikes(rng, 3), "b": spikes(rng, 3)[:10]}
    from snnc.simulators.brian2 import run_brian2

    ref, got = simulate(g, x, steps=T), run_brian2(g, x, steps=T)
    for name in ("o1", "o2"):
        np.testing.assert_array_equal(got.outputs[name], ref.outputs[name])


def test_unsupported_op_is_named():
    from snnc.simulators.brian2 import run_brian2

    pool = MaxPool2d(input_shape=(1, 4, 4), kernel_size=(2, 2), stride=(2, 2))
    g = Graph.chain(("in", Input(shape=(1, 4, 4))), ("mp", pool), ("out", Output(shape=(1, 2, 2))))
    with pytest.raises(UnsupportedOpError, match="'mp'"):
        run_brian2(g, np.zeros((2, 1, 1, 4, 4)))


def test_bad_probe_is_an_error():
    from snnc.errors import SnncError
    from snnc.simulators.brian2 import run_brian2

    g, n = dense_chain(np.random.default_rng(1))
    with pytest.raises(SnncError, match=r"fc0\.v"):
        run_brian2(g, np.zeros((2, 1, n)), probes=["fc0.v"])


@pytest.mark.slow  # ~90 s with a cold Brian2 cython cache (16 extensions), ~4 s warm
@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                    reason="the cython target needs a C compiler")
def test_cython_target_same_spikes():
    rng = np.random.default_rng(11)
    lif = LIF(shape=(4,), decay_v=0.75, threshold=0.25, reset="subtract", decay_reset=False)
    g = Graph.chain(("in", Input(shape=(5,))), ("fc", Linear(weight=weights(rng, (4, 5)))),
                    ("n", lif), ("out", Output(shape=(4,))))
    ref = assert_same(g, spikes(rng, 5, p=0.5), ["n.v"], target="cython")
    assert ref.output.any()


def test_missing_brian2_names_the_extra(monkeypatch):
    from snnc.simulators.brian2 import run_brian2

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "brian2" or name.startswith("brian2."):
            raise ImportError("No module named 'brian2'")
        return real_import(name, *args, **kwargs)

    g, n = dense_chain(np.random.default_rng(0))
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackendError, match=r"pip install 'snnc\[brian2\]'"):
        run_brian2(g, np.zeros((1, 1, n)))


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "models").glob("*.pt"))


@pytest.mark.torch
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_models_same_spikes(path):
    """The shipped example models, on random spikes and on the shipped X.npy (analog, time last)."""
    from snnc.api import load
    from snnc.io import to_time_major

    graph = load(path)
    (name,) = graph.inputs
    shape = tuple(graph.nodes[name].out_shape)
    ref = assert_same(graph, spikes(np.random.default_rng(0), shape, batch=2, p=0.2))
    assert ref.output.any()
    shipped = path.parent / "X.npy"
    if shipped.is_file() and np.load(shipped).shape[1:-1] == shape:
        ref = assert_same(graph, to_time_major(np.load(shipped), shape))
        assert ref.output.any()
