"""Plastic synapses in the event simulator against the reference executor's plastic kernel.

Random chains of loihi.dense / loihi.plastic_dense -> loihi.lif layers (one or two plastic), with
two-factor rules (STDP, tags, u<k> decays, sgn) and three-factor rules fed by a callback, t_epoch
1..3, run over several samples with a per-sample reset: spikes, u/v, weights after every step,
learned weights and tags at the end, and the syn_updates counter must all agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from loihi_chips import tiny_chip

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.errors import SnncError
from snnc.simulators.event import EventSession, LearningOptions, runners, simulate
from snnc.simulators.reference import Executor
from snnc.simulators.reference import simulate as ref_simulate

JIT = runners.available()  # every kernel set built here: aot, numba, numpy
HOLD = {"y_impulse": (0.0, 0.0, 0.0), "y_tau": (65535, 65535, 65535)}
RULES_2F = [
    {"dw": "2^-2*y0*x1 - 2^-2*x0*y1"},
    {"dw": "3*2^-3*y0*x1 - 2^-1*x0*y1 - 2^-5*u1*w"},
    {"dt": "2^-1*y0*x1 - 2^-1*x0*y1 - 2^-3*u0*t", "dw": "u0*t*2^-3"},
    {"dw": "2^-2*y0*(x1+4)*sgn(w+1) - 2^-3*x0*y2", "dd": "2^-2*x0*y1 - 2^-4*u0*d"},
    {"dw": "2^-3*x0*(y1-8) + 2^-4*y0*x2*x0"},
]
RULES_3F = [
    {"dw": "2^-4*x0*(y1-64) - 2^-7*u2*w"},
    {"dt": "2^-2*y0*x1 - 2^-2*x0*x1 - 2^-4*u0*t", "dw": "u0*t*(y2-64)*2^-6"},
]


def third_factor(post: np.ndarray, t: int) -> dict[int, np.ndarray]:
    """A deterministic third factor: y1 and y2 move with the post spikes and the time."""
    sign = 2 * np.asarray(post, np.int64) - 1
    return {0: np.clip(64 + 24 * sign * ((t % 3) - 1), 0, 127),
            1: np.full(post.shape, 64 + 16 * ((t // 2) % 3 - 1))}


@dataclass
class Case:
    graph: ir.Graph
    plastic: list[str]
    third: list[str]  # plastic synapses with a three-factor rule
    samples: list[np.ndarray]  # (T, 1, n_in) each


def _plastic(rng: np.random.Generator, n_out: int, n_in: int, three: bool) -> ir.Node:
    mode = str(rng.choice(["mixed", "mixed", "exc", "inh"]))
    lo, hi = {"mixed": (-200, 256), "exc": (0, 256), "inh": (-255, 1)}[mode]
    rule = dict(RULES_3F[rng.integers(len(RULES_3F))] if three else
                RULES_2F[rng.integers(len(RULES_2F))])
    traces = {"x_impulse": tuple(float(v) for v in rng.integers(0, 40 * 4, 2) / 4),
              "x_tau": tuple(int(v) for v in rng.choice([0, 3, 10, 40], 2)),
              "y_impulse": tuple(float(v) for v in rng.integers(0, 40 * 4, 3) / 4),
              "y_tau": tuple(int(v) for v in rng.choice([0, 3, 10, 40], 3))}
    if three:
        traces.update(HOLD)
    tags = {}
    if rng.random() < 0.4:
        tags = {"tag_1": rng.integers(-60, 60, (n_out, n_in)),
                "tag_2": rng.integers(0, 60, (n_out, n_in))}
    return ir.LoihiPlasticDense(
        weight=rng.integers(lo, hi, (n_out, n_in)), weight_exp=int(rng.integers(-1, 2)),
        num_weight_bits=int(rng.choice([8, 8, 7, 6])), sign_mode=mode, **rule, **traces,
        **tags, t_epoch=int(rng.integers(1, 4)), rng_seed=int(rng.integers(0, 1000)),
        third_factor=three)


def random_case(rng: np.random.Generator, n_plastic: int, steps: int = 20,
                n_samples: int = 3) -> Case:
    n_layers = int(rng.integers(n_plastic, 4))
    where = set(rng.choice(n_layers, n_plastic, replace=False).tolist())
    n = int(rng.integers(2, 9))
    nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=(n,)))]
    case = Case(None, [], [], [])  # type: ignore[arg-type]
    for k in range(n_layers):
        n_out = int(rng.integers(1, 9))
        if k in where:
            three = rng.random() < 0.35
            syn = _plastic(rng, n_out, n, three)
            case.plastic.append(f"syn{k}")
            if three:
                case.third.append(f"syn{k}")
        else:
            delays = rng.integers(0, 3, (n_out, n)) if rng.random() < 0.3 else None
            syn = ir.LoihiDense(weight=rng.integers(-120, 256, (n_out, n)), delays=delays,
                                weight_exp=int(rng.integers(-1, 2)))
        nodes.append((f"syn{k}", syn))
        nodes.append((f"lif{k}", ir.LoihiLIF(
            shape=(n_out,), du=int(rng.integers(0, 4096)), dv=int(rng.integers(0, 4096)),
            vth=int(rng.integers(5, 80)), bias_mant=int(rng.integers(0, 3)),
            reset_interval=int(rng.choice([0, 0, 0, 7])))))
        n = n_out
    nodes.append(("y", ir.Output(shape=(n,))))
    case.graph = ir.Graph.chain(*nodes)
    rate = float(rng.choice([0.2, 0.4, 0.7]))
    case.samples = [(rng.random((steps, 1, nodes[0][1].out_shape[0])) < rate).astype(np.int64)
                    for _ in range(n_samples)]
    return case


def run_reference(case: Case, probes: list[str]) -> tuple[dict[str, np.ndarray], Executor]:
    """The reference executor over all samples, reset before each, chip time running on."""
    ex = Executor(case.graph, 1)
    for name in case.third:
        ex.state[name]["third"] = third_factor
    rec: dict[str, list[np.ndarray]] = {p: [] for p in ["y.s", *probes]}
    t = 0
    for x in case.samples:
        ex.reset()
        for i in range(x.shape[0]):
            cur = ex.step(t, {"x": x[i]})
            for p in rec:
                node, var = p.split(".")
                rec[p].append(ex.probe(node, var, cur))
            t += 1
    return {p: np.stack(v) for p, v in rec.items()}, ex


def _probes(case: Case) -> list[str]:
    lifs = [n for n, v in case.graph.nodes.items() if v.op == "loihi.lif"]
    return ([f"{n}.{v}" for n in lifs for v in ("s", "u", "v")]
            + [f"{s}.{v}" for s in case.plastic for v in ("w", "t", "x1", "y1", "s")])


CASES = [(seed, n_plastic) for seed in range(5) for n_plastic in (1, 2)]


@pytest.mark.parametrize("use_jit", JIT)
@pytest.mark.parametrize(("seed", "n_plastic"), CASES)
def test_learning_matches_reference(tmp_path, seed, n_plastic, use_jit) -> None:
    case = random_case(np.random.default_rng([seed, n_plastic, 8]), n_plastic)
    probes = _probes(case)
    ref, ex = run_reference(case, probes)
    prog = map_graph(case.graph, tiny_chip(tmp_path, neurons=3))
    steps = case.samples[0].shape[0]
    res = simulate(prog, np.concatenate(case.samples), probes=probes, reset_interval=steps,
                   use_jit=use_jit, learning=LearningOptions(third={s: third_factor
                                                                    for s in case.third}))
    np.testing.assert_array_equal(res.output, ref["y.s"])
    for p in probes:
        np.testing.assert_array_equal(res.probes[p], ref[p], err_msg=p)
    c = res.counters
    for s in case.plastic:
        block = ex.state[s]["block"]
        cores = list(prog.layers[prog.graph.successors(s)[0]].cores)
        assert c.syn_updates[:, cores].sum() == block.counts["updates"]
        assert c.learning_epochs[:, cores].sum() == block.counts["epochs"] * len(cores)
    assert c.syn_updates.sum() == sum(ex.state[s]["block"].counts["updates"]
                                      for s in case.plastic)


@pytest.mark.parametrize("seed", range(4))
def test_session_matches_reference_sample_by_sample(tmp_path, seed) -> None:
    case = random_case(np.random.default_rng([seed, 77]), int(1 + seed % 2))
    probes = _probes(case)
    ref, ex = run_reference(case, probes)
    prog = map_graph(case.graph, tiny_chip(tmp_path, neurons=4))
    sess = EventSession(prog, third=third_factor)
    steps = case.samples[0].shape[0]
    for k, x in enumerate(case.samples):
        res = sess.run_sample(x, probes=probes)
        window = slice(k * steps, (k + 1) * steps)
        np.testing.assert_array_equal(res.output, ref["y.s"][window])
        for p in probes:
            np.testing.assert_array_equal(res.probes[p], ref[p][window], err_msg=p)
    assert sess.steps == steps * len(case.samples)
    for s in case.plastic:
        block = ex.state[s]["block"]
        for var in ("weights", "tag_1", "tag_2", "x", "y"):
            np.testing.assert_array_equal(getattr(sess.blocks[s], var), getattr(block, var))
        assert sess.counts()[s] == block.counts
    learned = sess.learned_program()
    assert learned.cores == prog.cores
    assert learned.blocks == prog.blocks
    for s in case.plastic:
        np.testing.assert_array_equal(learned.graph.nodes[s].weight, sess.blocks[s].weights)


def test_syn_updates_per_core_by_hand(tmp_path) -> None:
    """STDP, t_epoch 1: a core's updates per step are n_x * |c| + n_y(c) * n_pre - n_x * n_y(c),
    computed here from the recorded pre and post spikes."""
    rng = np.random.default_rng(5)
    w = rng.integers(0, 256, (7, 5))
    g = ir.Graph.chain(("x", ir.Input(shape=(5,))),
                       ("syn", ir.LoihiPlasticDense(weight=w, dw="2^-2*y0*x1 - 2^-2*x0*y1",
                                                    x_impulse=(16.0, 0.0), x_tau=(10, 0),
                                                    y_impulse=(16.0, 0.0, 0.0),
                                                    y_tau=(10, 0, 0))),
                       ("lif", ir.LoihiLIF(shape=(7,), du=4095, dv=0, vth=60)),
                       ("y", ir.Output(shape=(7,))))
    prog = map_graph(g, tiny_chip(tmp_path, neurons=3))  # cores of 3, 2, 2 neurons (even split)
    x = (rng.random((30, 1, 5)) < 0.5).astype(np.int64)
    res = simulate(prog, x)
    post = res.output[:, 0]
    n_x = x[:, 0].sum(1)[:, None]
    cores = prog.core_of_neuron("lif")
    ids = list(prog.layers["lif"].cores)
    size = np.array([(cores == c).sum() for c in ids])
    n_y = np.stack([post[:, cores == c].sum(1) for c in ids], axis=1)
    want = n_x * size + n_y * 5 - n_x * n_y
    np.testing.assert_array_equal(res.counters.syn_updates[:, ids], want)
    assert want.sum() > 0
    assert post.sum() > 0
    np.testing.assert_array_equal(res.counters.learning_epochs[:, ids], np.ones((30, len(ids))))


def test_learning_off_is_static_dense_and_takes_batches(tmp_path) -> None:
    case = random_case(np.random.default_rng(3), 1)
    prog = map_graph(case.graph, tiny_chip(tmp_path, neurons=4))
    x = np.concatenate(case.samples, axis=1)  # a batch of 3
    frozen = case.graph.edit()
    for s in case.plastic:
        node = case.graph.nodes[s]
        frozen.replace(s, ir.LoihiDense(weight=prog.connectivity(s).weights,
                                        weight_exp=node.weight_exp))
    ref = ref_simulate(frozen.finish(), x, probes=["lif0.v"])
    res = simulate(prog, x, probes=["lif0.v", f"{case.plastic[0]}.w"],
                   learning=LearningOptions(learn=False))
    np.testing.assert_array_equal(res.output, ref.output)
    np.testing.assert_array_equal(res.probes["lif0.v"], ref.probes["lif0.v"])
    assert res.counters.syn_updates.sum() == 0
    w = res.probes[f"{case.plastic[0]}.w"]
    assert w.shape[:2] == (x.shape[0], 3)
    assert (w == w[0, 0]).all()


def test_learning_with_a_batch_is_refused(tmp_path) -> None:
    case = random_case(np.random.default_rng(1), 1)
    prog = map_graph(case.graph, tiny_chip(tmp_path))
    with pytest.raises(SnncError, match="batch of 2"):
        simulate(prog, np.concatenate(case.samples[:2], axis=1))
    sess = EventSession(prog)
    with pytest.raises(SnncError, match="one sample at a time"):
        sess.run_sample(np.concatenate(case.samples[:2], axis=1))


def test_session_switches_between_learning_and_frozen_samples(tmp_path) -> None:
    """Learn on one sample, evaluate a batch with the learned weights, learn on: the weights the
    batch sees are the learned ones, and the batch does not disturb learning."""
    case = random_case(np.random.default_rng([2, 77]), 1, n_samples=3)
    s = case.plastic[0]
    prog = map_graph(case.graph, tiny_chip(tmp_path))
    sess, twin = EventSession(prog, third=third_factor), EventSession(prog, third=third_factor)
    for k in (sess, twin):
        k.run_sample(case.samples[0])
    sess.learn = False
    batch = np.concatenate(case.samples, axis=1)
    frozen = sess.run_sample(batch)
    learned = sess.learned_program()
    again = simulate(learned, batch, learning=LearningOptions(learn=False))
    np.testing.assert_array_equal(frozen.output, again.output)
    sess.learn = True
    twin.steps = sess.steps
    for k in (sess, twin):
        k.run_sample(case.samples[1])
    np.testing.assert_array_equal(sess.blocks[s].weights, twin.blocks[s].weights)


def test_learned_program_saves_and_loads(tmp_path) -> None:
    from snnc.backends.loihi.program import ChipProgram

    case = random_case(np.random.default_rng(4), 2)
    prog = map_graph(case.graph, tiny_chip(tmp_path, neurons=3))
    sess = EventSession(prog, third=third_factor)
    for x in case.samples:
        sess.run_sample(x)
    learned = sess.learned_program()
    learned.save(tmp_path / "out")
    assert ChipProgram.load(tmp_path / "out") == learned


def test_plastic_probe_on_a_lif_is_refused(tmp_path) -> None:
    case = random_case(np.random.default_rng(1), 1)
    prog = map_graph(case.graph, tiny_chip(tmp_path))
    with pytest.raises(SnncError, match="no variable 'w'"):
        simulate(prog, case.samples[0], probes=["lif0.w"])


@pytest.mark.parametrize("use_jit", JIT)
def test_recurrent_plastic_synapse_matches_reference(tmp_path, use_jit) -> None:
    """A plastic synapse in a loop (lif -> plastic -> lif): the whole graph runs step-wise."""
    rng = np.random.default_rng(9)
    n = 6
    nodes = {"x": ir.Input(shape=(4,)),
             "fc": ir.LoihiDense(weight=rng.integers(0, 256, (n, 4))),
             "rec": ir.LoihiPlasticDense(weight=rng.integers(-150, 150, (n, n)),
                                         dw="2^-2*y0*x1 - 2^-2*x0*y1 - 2^-6*u1*w",
                                         x_impulse=(20.0, 0.0), x_tau=(8, 0),
                                         y_impulse=(12.5, 0.0, 0.0), y_tau=(6, 0, 0), t_epoch=2),
             "lif": ir.LoihiLIF(shape=(n,), du=200, dv=300, vth=40),
             "y": ir.Output(shape=(n,))}
    edges = [("x", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "y")]
    g = ir.Graph.build(nodes, edges)
    case = Case(g, ["rec"], [], [(rng.random((25, 1, 4)) < 0.3).astype(np.int64)
                                 for _ in range(2)])
    probes = ["lif.u", "lif.v", "rec.w", "rec.s"]
    ref, ex = run_reference(case, probes)
    prog = map_graph(g, tiny_chip(tmp_path, neurons=4))
    res = simulate(prog, np.concatenate(case.samples), probes=probes, reset_interval=25,
                   use_jit=use_jit, chunk_steps=7)
    np.testing.assert_array_equal(res.output, ref["y.s"])
    for p in probes:
        np.testing.assert_array_equal(res.probes[p], ref[p], err_msg=p)
    assert (ref["rec.w"][-1] != ref["rec.w"][0]).any()
    assert res.counters.syn_updates.sum() == ex.state["rec"]["block"].counts["updates"]


def test_learning_counters_save_load_and_old_files(tmp_path) -> None:
    import json

    from snnc.simulators.event.counters import LEARNING_FIELDS, Counters

    case = random_case(np.random.default_rng(0), 1)
    prog = map_graph(case.graph, tiny_chip(tmp_path))
    c = simulate(prog, case.samples[0]).counters
    assert c.syn_updates.sum() > 0
    assert c.totals()["syn_updates"] == c.syn_updates.sum()
    for suffix in (".json", ".npz"):
        back = Counters.load(c.save(tmp_path / f"c{suffix}"))
        for name in LEARNING_FIELDS:
            np.testing.assert_array_equal(getattr(back, name), getattr(c, name))
    old = json.loads((tmp_path / "c.json").read_text())
    for name in LEARNING_FIELDS:
        del old[name]
    (tmp_path / "old.json").write_text(json.dumps(old))
    back = Counters.load(tmp_path / "old.json")
    assert back.syn_updates.shape == c.syn_ops_dense.shape
    assert back.syn_updates.sum() == 0
    np.testing.assert_array_equal(back.syn_ops_dense, c.syn_ops_dense)
