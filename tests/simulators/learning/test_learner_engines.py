"""The online learner on the event simulator equals the learner on the reference executor."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from snnc.backends.loihi.mapper import map_graph
from snnc.ir import Graph, Input, LoihiDense, LoihiLIF, Output
from snnc.simulators.learning import builtin
from snnc.simulators.learning.runner import OnlineLearner, train


def _graph(rng: np.random.Generator, reset_interval: int = 0) -> Graph:
    return Graph.chain(
        ("pixels", Input(shape=(6,))),
        ("hidden_syn", LoihiDense(weight=rng.integers(-60, 120, (8, 6)))),
        ("hidden", LoihiLIF(shape=(8,), du=3000, dv=1000, vth=30,
                            reset_interval=reset_interval)),
        ("out_syn", LoihiDense(weight=rng.integers(-20, 40, (3, 8)))),
        ("out", LoihiLIF(shape=(3,), du=4095, dv=1024, vth=40)),
        ("y", Output(shape=(3,))),
    )


def _data(rng: np.random.Generator, n: int, steps: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Class k drives inputs 2k and 2k + 1 (p = 0.8), the rest fire at p = 0.1."""
    ys = rng.integers(0, 3, n)
    xs = (rng.random((n, steps, 6)) < 0.1).astype(np.int64)
    for i, y in enumerate(ys):
        xs[i, :, 2 * y:2 * y + 2] = rng.random((steps, 2)) < 0.8
    return xs, ys


RULES = [("error3f", {"shift": 2, "decay_every": 2}, ["out_syn"]),
         ("rstdp", {}, ["out_syn"]),
         ("bso", {"flip_threshold": 4}, ["out_syn"]),
         ("stdp", {}, ["hidden_syn", "out_syn"]),
         ("error3f", {"shift": 3}, ["hidden_syn", "out_syn"])]


@pytest.mark.parametrize(("rule", "options", "layers"), RULES)
@pytest.mark.parametrize("reset_interval", [0, 3])
def test_event_engine_equals_reference_engine(rule, options, layers, reset_interval) -> None:
    rng = np.random.default_rng(len(rule) + reset_interval)
    graph = _graph(rng, reset_interval)
    xs, ys = _data(rng, 24)
    test = _data(rng, 12)
    runs = {}
    for engine in ("reference", "event"):
        learner = OnlineLearner(graph, layers, builtin.BUILTIN[rule](**options), engine=engine,
                                map_program=map_graph)
        assert learner.engine.name == engine
        curve = train(learner, xs, ys, epochs=2, eval_set=test, eval_every=10)
        preds = [learner.predict(x) for x in test[0]]
        runs[engine] = (learner, curve, preds)
    (ref, ref_curve, ref_preds), (ev, ev_curve, ev_preds) = runs["reference"], runs["event"]
    assert ev_curve == ref_curve
    assert ev_preds == ref_preds
    assert ev.steps == ref.steps == 2 * 24 * 8 + 12 * 8 * (len(ref_curve) + 1)
    for name in layers:
        a, b = ref.blocks[name], ev.blocks[name]
        for var in ("weights", "tag_1", "tag_2", "x", "y"):
            np.testing.assert_array_equal(getattr(b, var), getattr(a, var), err_msg=var)
        assert b.counts == a.counts
    assert any((ref.blocks[n].weights != graph.nodes[n].weight).any() for n in layers)
    assert ev.learned_graph() == ref.learned_graph()


def test_learner_falls_back_to_the_reference_when_the_chip_is_too_small(tmp_path,
                                                                        caplog) -> None:
    chip = tmp_path / "one_core.toml"
    chip.write_text('base = "loihi1"\nname = "one_core"\n[mesh]\ncores_per_chip = 1\n'
                    'max_chips = 1\n')
    rng = np.random.default_rng(0)
    with caplog.at_level(logging.INFO):
        learner = OnlineLearner(_graph(rng), ["out_syn"], builtin.stdp(), chip=str(chip),
                                map_program=map_graph)
    assert learner.engine.name == "reference"
    assert "cannot map" in caplog.text
    xs, ys = _data(rng, 2)
    learner.run_sample(xs[0], int(ys[0]), learn=True)
    assert learner.steps == 8


def test_unknown_engine_is_refused() -> None:
    from snnc.errors import SnncError

    with pytest.raises(SnncError, match="unknown learning engine"):
        OnlineLearner(_graph(np.random.default_rng(0)), ["out_syn"], builtin.stdp(),
                      engine="gpu")
