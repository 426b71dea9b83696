"""On-chip learning: the online learner on the event simulator against the reference executor.

The workload of ``examples/learn_digits_onchip.py``: the compiled qsnn4 digits network
(64-128-10), its readout reset to zero and learned with ``error3f`` over the training digits
(binary rate-coded, 8 steps each), with the test set evaluated three times along the way. Both
engines must produce the same accuracy curve and the same learned weights, tags and update
counts (asserted); the script prints the wall-clock time of each (training and evaluation
separately) and the ratio.

Usage: ``.venv/bin/python benchmarks/bench_learning.py [--train N] [--program OUT_DIR]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "examples"))

from learn_digits_onchip import RULE_OPTIONS, compiled_graph  # noqa: E402
from train_digits import data, encode  # noqa: E402

from snnc.backends.loihi.mapper import map_graph  # noqa: E402
from snnc.simulators.learning import builtin  # noqa: E402
from snnc.simulators.learning.runner import OnlineLearner  # noqa: E402
from snnc.simulators.learning.session import _zeroed  # noqa: E402


def run(engine: str, graph, readout: str, xs, ys, test, every: int) -> dict:
    learner = OnlineLearner(_zeroed(graph, [readout]), [readout],
                            builtin.error3f(**RULE_OPTIONS), engine=engine, map_program=map_graph)
    train_s = eval_s = 0.0
    curve = []
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if k % every == 0:
            t0 = time.perf_counter()
            curve.append(learner.accuracy(*test))
            eval_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        learner.run_sample(x, int(y), learn=True)
        train_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    curve.append(learner.accuracy(*test))
    eval_s += time.perf_counter() - t0
    return {"engine": learner.engine.name, "train_s": train_s, "eval_s": eval_s,
            "curve": curve, "blocks": learner.blocks, "steps": learner.steps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1437)
    ap.add_argument("--program", type=Path, help="a compile output dir (default: compile qsnn4)")
    args = ap.parse_args()
    graph = compiled_graph(args.program)
    readout = [n for n, v in graph.nodes.items() if v.op == "loihi.dense"][-1]
    xtr, ytr, xte, yte = data(0)
    xs = np.moveaxis(encode(xtr[:args.train]), 0, 1)
    test = (np.moveaxis(encode(xte), 0, 1), yte)
    every = max(args.train // 3, 1)
    res = {e: run(e, graph, readout, xs, ytr[:args.train], test, every)
           for e in ("reference", "event")}
    ref, ev = res["reference"], res["event"]
    assert ev["engine"] == "event", "the event engine fell back to the reference executor"
    assert ref["curve"] == ev["curve"], (ref["curve"], ev["curve"])
    assert ref["steps"] == ev["steps"]
    for name, block in ref["blocks"].items():
        other = ev["blocks"][name]
        for var in ("weights", "tag_1", "tag_2", "x", "y"):
            assert np.array_equal(getattr(block, var), getattr(other, var)), var
        assert block.counts == other.counts
    print(f"{args.train} training samples, {len(yte)} test samples x {len(ref['curve'])} "
          f"evaluations; identical curves {[round(a, 3) for a in ev['curve']]} and weights")
    print(f"{'engine':10s} {'train s':>9s} {'eval s':>9s} {'total s':>9s}")
    for r in (ref, ev):
        print(f"{r['engine']:10s} {r['train_s']:9.2f} {r['eval_s']:9.2f} "
              f"{r['train_s'] + r['eval_s']:9.2f}")
    print(f"event / reference speed-up: training {ref['train_s'] / ev['train_s']:.2f}x, "
          f"evaluation {ref['eval_s'] / ev['eval_s']:.1f}x, total "
          f"{(ref['train_s'] + ref['eval_s']) / (ev['train_s'] + ev['eval_s']):.2f}x")


if __name__ == "__main__":
    main()
