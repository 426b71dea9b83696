"""Learning rules against hand computations and analytic curves; plastic layers in graphs.

- STDP (builtin ``stdp``): the weight change of one pre/post pair against the exponential
  window ``A·16·exp(-|Δt|/τ)``;
- BSO (builtin ``bso``): momentum and flips against a case worked out by hand;
- ``loihi.plastic_dense`` with learned weights and tags through the text form and .snnc files;
- ``reference.simulate`` of a graph with a plastic layer against the engine driven by hand.

Lava itself is compared in tests/lava/test_learning_vs_lava.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from learning_random import LearnCase, run_engine

from snnc.ir import Graph, Input, LoihiLIF, LoihiPlasticDense, Output
from snnc.ir.learning_rule import RuleError, parse_rule
from snnc.ir.serialize import read_graph, write_graph
from snnc.ir.text import parse_graph, print_graph
from snnc.simulators.learning import builtin
from snnc.simulators.learning.engine import LearningRule, PlasticDense
from snnc.simulators.reference import simulate

SEEDS = range(20)
TAU = 10
PAIR_AT = 12  # the pre spike; the post spike comes Δt steps later (Δt in -10..10)


def pair_dw(rule: LearningRule, dt: int, seed: int) -> int:
    """Weight change after one pre spike at PAIR_AT and one post spike at PAIR_AT + dt."""
    syn = PlasticDense(weights=np.zeros((1, 1), np.int64), rule=replace(rule, rng_seed=seed))
    t_pre, t_post = PAIR_AT, PAIR_AT + dt
    for t in range(max(t_pre, t_post) + 3):
        syn.spike_phase(np.array([int(t == t_pre)]), np.array([int(t == t_post)]), t)
        if syn.is_learning_step(t):
            syn.learning_phase(t)
    return int(syn.weights[0, 0])


def window(a: float, dt: int) -> float:
    return float(np.sign(dt) * a * 16 * np.exp(-abs(dt) / TAU))


@pytest.mark.parametrize(("a_str", "a", "tol"), [("2", 2.0, 1.5), ("2^-2", 0.25, 1.3)])
def test_stdp_pair_follows_the_exponential_window(a_str, a, tol):
    """Mean Δw over 20 seeds against A·16·exp(-|Δt|/τ) (sign of Δt), τ = 10, impulse 16.

    With t_epoch = 1 the earlier spike's trace (impulse 16, exact) decays |Δt| times before the
    later spike reads it, each decay ``floor(x·e^(-1/τ))`` plus 1 with probability equal to the
    dropped fraction: unbiased, so E[trace] = 16·e^(-|Δt|/τ), with a per-seed spread that grows
    to sd ~0.8 (trace units) at |Δt| = 10.

    - A = 2: Δw = 2·trace exactly (the accumulator holds whole weight units, no rounding of
      the weight), sd of the 20-seed mean <= 1.6/sqrt(20) = 0.35: tolerance 1.5.
    - A = 2^-2 (the builtin default): Δw = trace/4 rounded stochastically to an integer with
      the synaptic random stream, which Lava seeds with 2 whatever rng_seed is: every seed
      rounds with the same draw at a given step, so that rounding (< 1 weight unit) does not
      average out; plus 3 sd of the trace noise (0.3): tolerance 1.3.
    """
    rule = builtin.stdp(a_str, a_str, tau=TAU).rule
    means = {}
    for dt in range(-10, 11):
        dws = np.array([pair_dw(rule, dt, s) for s in SEEDS])
        if dt == 0:  # both products read an impulse of 16 in the same epoch: they cancel
            assert (dws == 0).all()
            continue
        assert (np.sign(dws) == np.sign(dt)).all(), f"Δt={dt}: {dws}"
        means[dt] = dws.mean()
        assert abs(means[dt] - window(a, dt)) <= tol, (dt, means[dt], window(a, dt))
    if a >= 1:  # resolved finely enough to see the window fall off on both sides
        assert all(abs(means[d]) > abs(means[d + 1]) for d in range(1, 10))
        assert all(abs(means[-d]) > abs(means[-d - 1]) for d in range(1, 10))


def test_bso_flips_against_a_hand_worked_case():
    """builtin.bso: dt = 2^-1*x0*(y1-64) - 2^-4*u0*t, third factor y1, flip when
    sign(w)·t < -24; weights +64 and -64 from one pre neuron spiking every step, error
    y1 = 64 - 32 = 32 delivered to both post neurons every step.

    Per step (t_epoch 1, u0 = 1 every epoch), in the 16-bit accumulator:
      start      acc = t << 7 = 128·t
      product 1  x0·(y1-64) = -32 (y1 held: tau 65535 keeps 32, rounding down only with
                 probability 32/65535 = 0.05 %), width 4+7 = 11 <= 15 (no shift),
                 mantissa 1, stored exponent -1+7 = 6: -32 << 6 = -2048
      product 2  -(u0·t), width 4+9 = 13 (no shift), mantissa -1, stored exp -4+7 = 3: -8·t
      acc = 120·t - 2048, rounded stochastically to a multiple of 128, >> 7:
            t' = round(15·t/16 - 16)
    t: 0 -> -16 (exact) -> 15·(-16)/16 - 16 = -31 (exact).
    w = +64: sign(w)·t = -16 (no flip), then -31 < -24: flips to -64 and its t restarts at 0;
    the next step takes that t to -16 again, but now sign(w)·t = +16: no further flip.
    w = -64: sign(w)·t = +16, +31, ... never flips (the error pushes the same way). Its t
    goes on to 15·(-31)/16 - 16 = -45.06, i.e. -46 or -45 by the rounding draw.
    """
    spec = builtin.bso(seed=0)
    assert spec.flip_threshold == 24
    syn = PlasticDense(weights=np.array([[64], [-64]]), rule=spec.rule,
                       flip_threshold=spec.flip_threshold)
    error = {0: np.array([64 - 32, 64 - 32])}
    history = []
    for t in range(4):
        syn.spike_phase(np.array([1]), np.array([0, 0]), t, error)
        assert syn.is_learning_step(t)
        syn.learning_phase(t)
        history.append((syn.weights[:, 0].tolist(), syn.tag_1[:, 0].tolist()))
    assert history[0] == ([64, -64], [-16, -16])
    assert history[1] == ([-64, -64], [0, -31])  # flipped, momentum restarted
    assert history[2][0] == [-64, -64]
    assert history[2][1][0] == -16
    assert history[2][1][1] in (-45, -46)  # 15·(-31)/16 - 16 = -45.06, rounded stochastically
    assert history[3][0] == [-64, -64]  # sign(w)·t > 0 now for both
    assert syn.counts["flips"] == 1


@pytest.mark.parametrize(("mode", "bits", "start", "truncated", "learned"), [
    ("exc", 6, [[-10, 101]], [[-12, 100]], [[0, 100]]),
    ("inh", 7, [[11, -101]], [[12, -100]], [[0, -100]]),
])
def test_wrong_signed_weights_kept_until_dw_saturates_them(mode, bits, start, truncated,
                                                           learned):
    """Regression (found against Lava): LearningDense truncates initial weights to
    num_weight_bits without clipping them to the sign mode, so a wrong-signed weight drives
    the post neurons until the first dw update saturates it (max(0, .) for excitatory,
    min(0, .) for inhibitory). Truncation by 8 - bits: -10 >> 2 << 2 = -12; inhibitory
    truncates the magnitude: -((-11 >> 1) << 1) = 12."""
    rule = LearningRule(dw="2^-7*x0", t_epoch=2)  # no pre spike: the rule adds nothing
    syn = PlasticDense(weights=np.array(start), rule=rule, sign_mode=mode, num_weight_bits=bits)
    assert syn.weights.tolist() == truncated
    syn.accumulate(np.ones(2))
    assert syn.accumulate(np.zeros(2)).tolist() == [sum(truncated[0])]  # both weights drive
    for t in range(2):
        syn.spike_phase(np.zeros(2), np.zeros(1), t)
    assert syn.is_learning_step(1)
    syn.learning_phase(1)
    assert syn.weights.tolist() == learned


@pytest.mark.parametrize("text", ["x0*u1*y1", "2^-2*y0*u0", "y0*(x0)*x1"])
def test_rules_lava_would_misread_are_refused(text):
    """Regression: a u<k> after x0/y0 was dropped silently (Lava refuses the rule), and a
    bracketed bare dependency was kept as a factor (Lava silently drops it)."""
    with pytest.raises(RuleError):
        parse_rule(text)


# ---- plastic layers in graphs ---------------------------------------------------------------

LIF = {"du": 3000, "dv": 400, "vth": 5, "bias_mant": 30, "bias_exp": 2}


def _plastic_graph(weights: np.ndarray, rule: LearningRule, **extra: object) -> Graph:
    n_post, n_pre = weights.shape
    syn = LoihiPlasticDense(
        weight=weights, dw=rule.dw or "", dd=rule.dd or "", dt=rule.dt or "",
        x_impulse=(rule.x1_impulse, rule.x2_impulse), x_tau=(rule.x1_tau, rule.x2_tau),
        y_impulse=(rule.y1_impulse, rule.y2_impulse, rule.y3_impulse),
        y_tau=(rule.y1_tau, rule.y2_tau, rule.y3_tau), t_epoch=rule.t_epoch,
        rng_seed=rule.rng_seed, third_factor=rule.third_factor, **extra)
    return Graph.chain(("pre", Input(shape=(n_pre,))), ("syn", syn),
                       ("post", LoihiLIF(shape=(n_post,), **LIF)), ("out", Output(shape=(n_post,))))


RULE = LearningRule(dw="2^-2*y0*x1 - 3*2^-4*x0*(y1-8) + u1*sgn(t)*2^-3",
                    dt="y0*x1*2^-1 - x0*y2*2^-2", dd="u0*(d+3)*2^-5", x1_impulse=20.5,
                    x1_tau=8, x2_impulse=3.25, x2_tau=4, y1_impulse=16, y1_tau=12,
                    y2_impulse=9.75, y2_tau=5, y3_impulse=1, y3_tau=2, t_epoch=2, rng_seed=77)


def _spikes(seed: int, steps: int = 40, n: int = 4) -> np.ndarray:
    return (np.random.default_rng(seed).random((steps, n)) < 0.4).astype(np.int64)


def test_simulate_with_a_plastic_layer_learns_like_the_engine_by_hand():
    weights = np.random.default_rng(1).integers(0, 200, (3, 4))
    pre = _spikes(2)
    res = simulate(_plastic_graph(weights, RULE), pre[:, None],
                   probes=("syn.w", "syn.t", "syn.d", "syn.x1", "syn.y1", "post.s"))
    want = run_engine(LearnCase("by_hand", RULE, weights, pre, lif=LIF))
    w = res.probes["syn.w"][:, 0]
    assert (w != w[0]).any()
    assert (w[-1] != weights).any()
    assert np.array_equal(w, want["weights"])
    assert np.array_equal(res.probes["syn.t"][:, 0], want["tag_1"])
    assert np.array_equal(res.probes["syn.d"][:, 0], want["tag_2"])
    assert np.array_equal(res.probes["syn.x1"][:, 0], want["x1"])
    assert np.array_equal(res.probes["syn.y1"][:, 0], want["y1"])
    assert np.array_equal(res.probes["post.s"][:, 0], want["post"])
    assert np.array_equal(res.output[:, 0], want["post"])


def _learned_graph() -> Graph:
    """A plastic graph after 40 steps of learning, its weights and tags written back."""
    weights = np.random.default_rng(3).integers(-256, 256, (3, 4))
    graph = _plastic_graph(weights, RULE, flip_threshold=30, num_weight_bits=7,
                           tag_1=np.full((3, 4), -5), tag_2=np.full((3, 4), 7))
    res = simulate(graph, _spikes(4)[:, None], probes=("syn.w", "syn.t", "syn.d"))
    node = graph.nodes["syn"].replace(weight=res.probes["syn.w"][-1, 0],
                                      tag_1=res.probes["syn.t"][-1, 0],
                                      tag_2=res.probes["syn.d"][-1, 0])
    assert (node.weight != weights).any()
    assert (node.tag_1 != -5).any()
    assert (node.tag_2 != 7).any()
    return graph.edit().replace("syn", node).finish()


def _same_behaviour(a: Graph, b: Graph) -> None:
    probes = ("syn.w", "syn.t", "syn.d", "post.s")
    pre = _spikes(5, steps=30)[:, None]
    ra, rb = simulate(a, pre, probes=probes), simulate(b, pre, probes=probes)
    for p in probes:
        assert np.array_equal(ra.probes[p], rb.probes[p]), p


def test_plastic_dense_round_trips_through_text():
    graph = _learned_graph()
    text = print_graph(graph)
    assert "loihi.plastic_dense" in text
    back = parse_graph(text)
    assert back == graph
    assert print_graph(back) == text
    node = back.nodes["syn"]
    assert (node.dw, node.dt, node.dd) == (RULE.dw, RULE.dt, RULE.dd)
    assert node.x_impulse.tolist() == [20.5, 3.25]
    assert node.y_impulse[1] == 9.75
    _same_behaviour(graph, back)


def test_plastic_dense_round_trips_through_snnc_files(tmp_path):
    graph = _learned_graph()
    back = read_graph(write_graph(graph, tmp_path / "learned.snnc"))
    assert back == graph
    node = back.nodes["syn"]
    assert np.array_equal(node.tag_1, graph.nodes["syn"].tag_1)
    assert (node.t_epoch, node.rng_seed, node.flip_threshold) == (2, 77, 30)
    _same_behaviour(graph, back)
