"""QSD-Transformer-style blocks (multi-level integer spikes, Q(KᵀV) with integer KᵀV) traced from
PyTorch equal the forward value for value; lowered for Loihi 2 (unary neurons per level, ANDs
of binary spikes with fixed coefficient synapses) the program equals the float graph under the
latency convention, and loihi-sim runs it as snnc's reference runs the program."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from frontend.fe_torch_util import run_steps  # noqa: E402
from spiking_transformer.qsd_models import random_qsd  # noqa: E402

from snnc import ir  # noqa: E402
from snnc.backends.loihi.mapper import map_graph  # noqa: E402
from snnc.errors import UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline  # noqa: E402
from snnc.passes.fidelity import compare_graphs  # noqa: E402
from snnc.passes.qinputs import encode_inputs  # noqa: E402
from snnc.passes.spike_products import LowerSpikeProducts  # noqa: E402
from snnc.simulators import event  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = [pytest.mark.torch]
SHAPE = (4, 4)  # 4 tokens of 4 pixels
# seed, dim, heads, levels, kind ("floor": clamp(floor(x), 0, L); "round": QSD's Quant.apply)
CASES = [(2, 4, 1, 2, "floor"), (4, 4, 2, 2, "floor"), (9, 4, 1, 3, "floor"),
         (0, 4, 1, 2, "round"), (2, 4, 2, 3, "round")]


def attention_neuron(g: ir.Graph) -> str:
    return "attn.attn_s" if "attn.attn_s" in g.nodes else "attn"


def spikes(seed: int, t: int = 6, b: int = 2) -> np.ndarray:
    return (np.random.default_rng(seed).random((t, b, *SHAPE)) < 0.5).astype(np.float64)


def lower(g: ir.Graph, x: np.ndarray) -> tuple[ir.Graph, PassContext]:
    ctx = PassContext(calibration={g.inputs[0]: x}, programmable_neurons=True)
    return PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph, ctx


@pytest.mark.parametrize(("seed", "dim", "heads", "levels", "kind"), CASES)
def test_traced_qsd_equals_the_forward(seed: int, dim: int, heads: int, levels: int,
                                       kind: str) -> None:
    model = random_qsd(seed, dim, heads, levels, kind)
    g = trace(model, SHAPE)
    ops = [n.op for n in g.nodes.values()]
    assert ops.count("qcfs") == 7
    want_rounding = "half_even" if kind == "round" else "floor"
    assert {n.rounding for n in g.nodes.values() if n.op == "qcfs"} == {want_rounding}
    assert ops.count("mul") == 2
    x = spikes(seed)
    with torch.no_grad():
        want = run_steps(model, torch.from_numpy(x)).numpy()
    out = simulate(g, x).output
    assert np.array_equal(out, want), f"{np.sum(out != want)} of {want.size} differ"
    assert len(np.unique(want)) > 5
    # the multi-level spikes use more than one level, and Q(K^T V) is not 0/1
    an = attention_neuron(g)
    probes = simulate(g, x, probes=["attn.q_s.s", "attn.matmul_1.s", f"{an}.s"]).probes
    unit = 0.5 if kind == "round" else 1.0  # RoundSpike divides by a norm of 2
    assert probes["attn.q_s.s"].max() >= 2 * unit
    assert probes["attn.matmul_1.s"].max() > unit
    assert 0.1 * unit < probes[f"{an}.s"].mean() < (levels - 0.1) * unit  # it varies


@pytest.mark.parametrize(("seed", "dim", "heads", "levels", "kind"), CASES)
def test_qsd_lowers_exactly_and_runs_on_loihi_sim(seed: int, dim: int, heads: int,
                                                  levels: int, kind: str) -> None:
    g = trace(random_qsd(seed, dim, heads, levels, kind), SHAPE)
    x = spikes(seed)
    low, ctx = lower(g, x)
    info = ctx.last_report("lower-spike-products")
    assert len(info["unary"]) == 7
    assert all(u["levels"] == levels for u in info["unary"].values())
    assert {p["integer"] for p in info["products"].values()} == {True}
    assert all(m["exact"] for m in low.metadata["loihi.layers"].values())
    assert not any(n.op in ("mul", "qcfs", "axis_sum", "permute") for n in low.nodes.values())
    cmp = compare_graphs(g, low, x)
    assert cmp.identical, cmp
    lat = max(low.metadata["loihi.latency"].values())
    steps = len(x) + lat
    stim = encode_inputs(low, {g.inputs[0]: x})[g.inputs[0]]
    ref = simulate(low, stim, steps=steps)
    ev = event.simulate(map_graph(low, "loihi2"), np.concatenate(
        [stim, np.zeros((lat, *stim.shape[1:]))]), steps)
    np.testing.assert_array_equal(ev.output, ref.output)
    # the outer ANDs (Q with AND(K, V)) fire: the integer attention is not silent on the chip
    outer = info["products"]["attn.matmul_1_prod"]["neuron"]
    fired = event.simulate(map_graph(low, "loihi2"), np.concatenate(
        [stim, np.zeros((lat, *stim.shape[1:]))]), steps, probes=(f"{outer}.s",))
    assert fired.probes[f"{outer}.s"].any()


def test_qsd_latency_is_as_stated() -> None:
    """Unary neurons replace the neuron they are (one layer each); each product adds one layer:
    Q(KᵀV) reads Q at D(q) and AND(K, V) at D(q) + 1, so its ANDs sit at D(q) + 2."""
    g = trace(random_qsd(2), SHAPE)
    low, ctx = lower(g, spikes(2))
    d = low.metadata["loihi.latency"]
    info = ctx.last_report("lower-spike-products")["products"]
    assert d["attn.q_s"] == d["attn.k_s"] == d["attn_s"] + 1
    assert d[info["attn.matmul_prod"]["neuron"]] == d["attn.k_s"] + 1
    assert d[info["attn.matmul_1_prod"]["neuron"]] == d["attn.q_s"] + 2
    assert d["attn"] == d["attn.q_s"] + 3


@pytest.mark.parametrize("rounding", ["floor", "half_even"])
def test_unary_neurons_count_levels(rounding: str) -> None:
    """A qcfs of L levels is L binary neurons of thresholds (j - offset) theta / L (halves to
    even: (j - 1/2 - offset) theta / L, '>' for odd j, '>=' for even j): their spike count
    times step is the qcfs value for every input, ties included, offsets and per-channel
    thresholds."""
    rng = np.random.default_rng(3)
    shape = (3, 2)
    q = ir.QCFS(shape=shape, threshold=np.array([[1.5], [3.0], [0.75]]), levels=3,
                offset=np.float64(0.5), step=np.array([[0.5], [1.0], [2.0]]),
                rounding=rounding)
    g = ir.Graph.build({"in": ir.Input(shape=(2,)), "fc": ir.Linear(weight=rng.integers(
        -4, 5, size=(6, 2)) / 4), "r": ir.Reshape(input_shape=(6,), output_shape=shape), "q": q,
        "f": ir.Flatten(input_shape=shape), "fc2": ir.Linear(weight=np.eye(6)),
        "n": ir.LI(shape=(6,), decay_v=np.float64(0.0)), "out": ir.Output(shape=(6,))},
        [("in", "fc"), ("fc", "r"), ("r", "q"), ("q", "f"), ("f", "fc2"), ("fc2", "n"),
         ("n", "out")])
    x = rng.integers(-16, 17, size=(40, 5, 2)) / 2  # z = x L / theta + 1/2 hits halves
    low = LowerSpikeProducts().run(g, PassContext())
    assert low.nodes["q"].op == "lif"
    pops = [n for n, v in low.nodes.items() if v.op == "lif" and n in ("q", "q_odd")]
    assert sum(low.nodes[n].shape[0] for n in pops) == 9
    assert len(pops) == (2 if rounding == "half_even" else 1)
    want = simulate(g, x).output
    assert len(np.unique(want)) > 6
    np.testing.assert_array_equal(simulate(low, x).output, want)
    # the rounding matters on these inputs: the other rule gives other values
    other = "floor" if rounding == "half_even" else "half_even"
    g2 = g.edit().replace("q", q.replace(rounding=other, offset=np.float64(
        0.5 if other == "half_even" else 1.0))).finish()
    assert not np.array_equal(simulate(g2, x).output, want)


def test_product_of_currents_is_refused_by_name() -> None:
    n = 4
    nodes = {"in": ir.Input(shape=(n,)), "a": ir.Linear(weight=np.eye(n)),
             "s": ir.IF(shape=(n,), threshold=0.5), "m": ir.Mul(shape=(n,)),
             "fc": ir.Linear(weight=np.eye(n)), "o": ir.LI(shape=(n,)),
             "out": ir.Output(shape=(n,))}
    edges = [("in", "a"), ("in", "s"), ("a", "m"), ("s", "m"), ("m", "fc"), ("fc", "o"),
             ("o", "out")]
    with pytest.raises(UnsupportedOpError, match=r"'m' \(mul\).*'a' \(linear\).*not a fixed "
                       r"map of spikes.*product of currents"):
        LowerSpikeProducts().run(ir.Graph.build(nodes, edges), PassContext())


def test_qsd_compiles_exactly_for_loihi1() -> None:
    """The lowering uses binary spikes only (no graded payloads): on Loihi 1 the unary neurons'
    ``>=`` becomes ``> theta - 1`` on the integer grid (memoryless, whole input units), exact."""
    from snnc import api

    g = trace(random_qsd(2), SHAPE)
    x = spikes(2)
    res = api.compile(g, "loihi-sim", chip="loihi1", calibration=x)
    low = res.program.graph
    assert all(m["exact"] for m in low.metadata["loihi.layers"].values())
    assert not any(getattr(n, "programmable", False) for n in low.nodes.values())
    assert compare_graphs(g, low, x).identical
    lat = max(low.metadata["loihi.latency"].values())
    stim = encode_inputs(low, {g.inputs[0]: x})[g.inputs[0]]
    stim = np.concatenate([stim, np.zeros((lat, *stim.shape[1:]))])
    ev = event.simulate(map_graph(low, "loihi1"), stim, len(stim))
    np.testing.assert_array_equal(ev.output, simulate(low, stim).output)


def test_45nm_estimate_counts_one_ac_per_unit_of_a_multi_level_spike() -> None:
    """QSD / SpikeYOLO expand an integer spike n into n binary spikes (virtual time steps): the
    layer reading a qcfs of step 0.5 is charged mean(n) * T * FLOPs ACs, n = value / 0.5."""
    from snnc.backends.report.analytic import analytic_estimate

    rng = np.random.default_rng(4)
    q = ir.QCFS(shape=(3,), threshold=np.float64(1.5), levels=3, offset=np.float64(0.0),
                step=np.float64(0.5))
    g = ir.Graph.build({"in": ir.Input(shape=(2,)), "a": ir.Linear(weight=rng.normal(
        size=(3, 2))), "q": q, "b": ir.Linear(weight=np.ones((4, 3))),
        "n": ir.LI(shape=(4,)), "out": ir.Output(shape=(4,))},
        [("in", "a"), ("a", "q"), ("q", "b"), ("b", "n"), ("n", "out")])
    x = (rng.random((5, 2, 2)) < 0.5).astype(np.float64)
    probes = simulate(g, x, probes=["in.s", "q.s"]).probes
    n = probes["q.s"] / 0.5
    assert n.max() > 1  # several levels used
    rows = {r["layer"]: r for r in analytic_estimate(g, probes, steps=5)["layers"]}
    assert rows["b"]["input_rate"] == pytest.approx(n.mean())
    assert rows["b"]["ops"] == pytest.approx(n.mean() * 5 * 12)
    assert rows["b"]["charged_as"] == "AC"


def test_multi_level_spike_of_the_input_itself() -> None:
    """A qcfs reading the graph input directly gets an identity synapse tiled per level."""
    q = ir.QCFS(shape=(4,), threshold=np.float64(2.0), levels=2, offset=np.float64(0.0),
                step=np.float64(1.0))
    g = ir.Graph.build({"in": ir.Input(shape=(4,)), "q": q, "fc": ir.Linear(
        weight=np.arange(16.0).reshape(4, 4) / 4), "n": ir.LI(shape=(4,), decay_v=0.0),
        "out": ir.Output(shape=(4,))}, [("in", "q"), ("q", "fc"), ("fc", "n"), ("n", "out")])
    x = np.random.default_rng(0).integers(0, 4, size=(6, 2, 4)).astype(np.float64)
    low = LowerSpikeProducts().run(g, PassContext())
    assert low.nodes["q"].op == "lif"
    want = simulate(g, x).output
    assert len(np.unique(want)) > 3
    np.testing.assert_array_equal(simulate(low, x).output, want)
