"""Per-step cost of one long run of one sample on Loihi 2's mappings, with its page faults.

The peers.md net (784-512-256-10) mapped ``vendor`` (Loihi 2's default, 20 cores) and
``balanced`` (7 cores); each is simulated for ``--steps`` steps (one chunk) in this process, best
of ``--repeats``; printed: wall time per step, synaptic events per second, the minor page faults
of the last run (the counters' work arrays once faulted fresh on many cores), the time in
``CounterPlan.chunk``, and the vendor / balanced ratio. One thread, one OpenBLAS thread.

Usage: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_counter_cost.py [--steps 3000]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_event_vs_lava as bench
import bench_threads as bt
import numpy as np

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import counting, runners, simulate


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=6)
    args = ap.parse_args()
    runners.kernels().set_threads(1)
    spent = [0.0]
    chunk = counting.CounterPlan.chunk

    def timed_chunk(self, *a, **kw):  # time inside the counters, summed over the run
        t = time.perf_counter()
        chunk(self, *a, **kw)
        spent[0] += time.perf_counter() - t

    counting.CounterPlan.chunk = timed_chunk
    sizes, vths = bt.NETS["peers"]
    per: dict[str, float] = {}
    for m in ("vendor", "balanced"):
        p = map_graph(bench.graph_of(bt.spec(sizes, vths)), "loihi2", strategy=m)
        x = bench.inputs({"in_shape": np.array(p.graph.nodes["x"].shape)}, args.steps, 1, seed=2)
        simulate(p, x[:3])
        best, best_chunk, n_faults, ev = float("inf"), float("inf"), 0, 0.0
        for _ in range(args.repeats):
            spent[0] = 0.0
            f0, t0 = faults(), time.perf_counter()
            res = simulate(p, x)
            wall = time.perf_counter() - t0
            n_faults = faults() - f0
            best, best_chunk = min(best, wall), min(best_chunk, spent[0])
            ev = res.counters.syn_ops.sum() / args.steps
        per[m] = best / args.steps
        print(f"{m:8s} {p.n_cores:3d} cores: {per[m] * 1e6:6.2f} us/step, {ev / per[m]:.3g} ev/s, "
              f"counters {best_chunk * 1e3:.2f} ms per run, {n_faults} page faults per run "
              f"(load average {os.getloadavg()[0]:.1f})")
    print(f"RATIO vendor / balanced per step {per['vendor'] / per['balanced']:.2f}x")


if __name__ == "__main__":
    main()
