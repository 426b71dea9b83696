"""The fidelity report's step-by-step statistics (``fidelity_stats.py``) equal the reductions of
the full (T, B, N) traces, bit for bit, on random float models (spiking and readout outputs,
latencies 1..3, several samples, float weights that the quantizer does not reproduce exactly,
so spikes disagree and neurons come near their threshold)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from snnc import ir
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import fidelity_report, run_aligned
from snnc.passes.graphutil import is_spiking
from snnc.passes.quant_schema import read_layers


def random_model(rng: np.random.Generator) -> ir.Graph:
    sizes = [int(rng.integers(2, 9))] + [int(rng.integers(2, 40))
                                         for _ in range(int(rng.integers(1, 4)))]
    nodes: list[tuple[str, Any]] = [("in", ir.Input(shape=(sizes[0],)))]
    for k, (a, b) in enumerate(itertools.pairwise(sizes)):
        w = rng.normal(0.0, 1.2 / np.sqrt(a), (b, a))
        nodes.append((f"fc{k}", ir.Linear(weight=w)))
        thr = rng.uniform(0.3, 1.2, b)
        if rng.random() < 0.5:
            nodes.append((f"n{k}", ir.LIF(shape=(b,), threshold=thr,
                                          decay_v=np.full(b, rng.uniform(0.6, 1.0)))))
        else:
            nodes.append((f"n{k}", ir.IF(shape=(b,), threshold=thr)))
    if rng.random() < 0.5:  # a non-spiking readout: values, not spikes
        w = rng.normal(0.0, 0.5, (3, sizes[-1]))
        nodes.append(("ro", ir.Affine(weight=w, bias=rng.normal(0.0, 0.1, 3))))
        nodes.append(("out", ir.Output(shape=(3,))))
    else:
        nodes.append(("out", ir.Output(shape=(sizes[-1],))))
    return ir.Graph.chain(*nodes)


def compiled(g: ir.Graph, x: np.ndarray) -> tuple[ir.Graph, ir.Graph]:
    """(the float graph the report compares, as ``stages/optimize.py`` picks it; the lowered)."""
    res = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, PassContext(calibration={"in": x}))
    return res.last_exact_graph(), res.graph


def full_trace_rows(g: ir.Graph, low: ir.Graph, x: np.ndarray) -> tuple[list, dict]:
    """The report's definitions applied to the whole recorded traces (the code before)."""
    names = [n for n, node in g.nodes.items()
             if is_spiking(node) and n in low.nodes and low.nodes[n].op == "loihi.lif"]
    runs = run_aligned(g, low, x, None, names)
    meta = read_layers(low)
    rows = []
    for n in names:
        fs, xs, m, node = runs.float_[f"{n}.s"], runs.fixed[f"{n}.s"], meta.get(n), g.nodes[n]
        v, i = runs.float_[f"{n}.v"], runs.float_[f"{n}.i"]
        prev = np.concatenate([np.broadcast_to(node.v_init, v.shape[1:])[None], v[:-1]])
        v_pre = node.decays()[0] * prev + node.gain * i + node.bias
        close = (np.abs(v_pre - node.threshold) <= m.vth_lsb).any(axis=0).reshape(-1)
        rows.append({"layer": n, "neurons": int(np.prod(fs.shape[2:])),
                     "float_spikes": int(fs.sum()), "fixed_spikes": int(xs.sum()),
                     "fixed_rate": float((xs != 0).mean()),
                     "spike_agreement": float((fs == (xs != 0)).mean()),
                     "near_threshold": float(close.mean()), "clipped_weights": m.clipped,
                     "exact": m.exact, "notes": list(m.notes)})
    outs = {}
    for o in g.outputs:
        f, y = runs.float_[o], runs.fixed[o]
        row = {"max_abs_error": float(np.abs(f - y).max(initial=0.0)),
               "max_abs": float(np.abs(f).max(initial=0.0)),
               "equal_fraction": float((f == y).mean())}
        if int(np.prod(f.shape[2:])) > 1:
            cls = [a.sum(0).reshape(a.shape[1], -1).argmax(1) for a in (f, y)]
            row["classification_agreement"] = float((cls[0] == cls[1]).mean())
        outs[o] = row
    return rows, outs


@pytest.mark.parametrize("seed", range(12))
def test_bounded_statistics_equal_the_full_trace_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = random_model(rng)
    steps, batch = int(rng.integers(3, 20)), int(rng.integers(1, 6))
    x = rng.random((steps, batch, g.nodes["in"].out_shape[0]))
    if rng.random() < 0.5:
        x = (x < 0.4).astype(np.float64)  # spikes
    g, low = compiled(g, x)
    rep = fidelity_report(g, low, x)
    rows, outs = full_trace_rows(g, low, x)
    assert rep["layers"] == rows
    assert rep["outputs"] == outs
    assert rep["batch"] == batch
    assert rep["steps"] == steps


def test_the_random_models_exercise_disagreement() -> None:
    """The comparison above is not between all-equal traces: some models disagree."""
    seen_disagree = seen_near = False
    for seed in range(12):
        rng = np.random.default_rng(seed)
        g = random_model(rng)
        steps, batch = int(rng.integers(3, 20)), int(rng.integers(1, 6))
        x = rng.random((steps, batch, g.nodes["in"].out_shape[0]))
        if rng.random() < 0.5:
            x = (x < 0.4).astype(np.float64)
        g, low = compiled(g, x)
        rows, _ = full_trace_rows(g, low, x)
        seen_disagree |= any(r["spike_agreement"] < 1.0 for r in rows)
        seen_near |= any(r["near_threshold"] > 0.0 for r in rows)
    assert seen_disagree
    assert seen_near
