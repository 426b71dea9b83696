"""The event simulator's AOT kernels on 1 thread against 2 (every core), side by side.

Networks (weights uniform integers in [-20, 40) floored to even values from ``default_rng(0)``,
du = 4095, dv = 256, as ``bench_event_vs_lava.dense_spec``; input Bernoulli(0.1) spikes):

- ``peers``: 784-512-256-10, the benchmark network of shared/reference/peers.md (0.53 M
  synapses; its layers are below the 2048-neuron split minimum, so one sample runs on one
  thread whatever the setting);
- ``21M``: 1024-4096-4096-10 (21 M synapses, int8 weights 21 MB; layers over 125 and 107
  Loihi 2 cores).

For each: one sample and a batch of 16, wall and CPU time per step (a run of ``--long`` steps
minus a run of ``--short``, over the difference, best of ``--repeats``), synaptic events per
second, and the ratio 1 thread / 2 threads. Outputs and every counter are asserted identical
across thread counts. The machine may be shared: the load average is printed beside each row,
the CPU time shows what the second thread cost (equal CPU time: the split wastes nothing), and
the busiest thread's on-CPU time (``/proc/self/task/*/schedstat``) gives a load-independent
ratio, CPU of 1 thread / CPU of the busiest of 2: the speed-up on a quiet machine if waiting
for a descheduled thread is the only difference (memory contention between the two is in
it: it raises their CPU time). Lava ``fixed_pt`` on the peers net is
``bench_event_vs_lava.py``'s (the same per-step method).

Usage: ``.venv/bin/python benchmarks/bench_threads.py [--only peers|21M] [--repeats 3]
[--split 256] [--mapping balanced]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import pairwise
from pathlib import Path

# one OpenBLAS thread, as `snnc simulate OUT` runs (cli.main): snnc's threads are what is compared
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_event_vs_lava as bench

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import runners, simulate

NETS = {"peers": ((784, 512, 256, 10), (3000, 5000, 2500)),
        "21M": ((1024, 4096, 4096, 10), (3000, 5000, 2500))}
COUNTERS = ("syn_ops", "neurons_active", "spikes_out", "axon_in", "axon_out", "hops_ew",
            "step_ns")


def spec(sizes: tuple[int, ...], vths: tuple[int, ...]) -> dict:
    rng = np.random.default_rng(0)
    out: dict = {"layers": len(sizes) - 1, "in_shape": np.array([sizes[0]])}
    for i, (a, b) in enumerate(pairwise(sizes)):
        out.update({f"kind{i}": "dense", f"w{i}": (rng.integers(-20, 40, size=(b, a)) >> 1) << 1,
                    f"du{i}": 4095, f"dv{i}": 256, f"vth{i}": vths[i]})
    return out


def thread_cpu() -> dict[str, int]:
    """On-CPU nanoseconds of each thread of this process (/proc/self/task/*/schedstat; empty
    where there is none)."""
    out = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[tid] = int(f.read().split()[0])
    except OSError:
        return {}
    return out


def timed(fn, repeats: int) -> tuple[float, float, float, object]:
    """Best (wall, CPU, busiest thread's CPU) seconds of ``repeats`` calls, and the last
    result."""
    best = (float("inf"), float("inf"), float("inf"))
    res = None
    for _ in range(repeats):
        before = thread_cpu()
        c0, t0 = time.process_time(), time.perf_counter()
        res = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        after = thread_cpu()
        busiest = max((v - before.get(t, 0) for t, v in after.items()), default=0) / 1e9
        best = min(best, (wall, cpu, busiest or cpu))
    return (*best, res)


def per_step(program, x_short: np.ndarray, x_long: np.ndarray, repeats: int):
    """Per step: (wall, CPU, busiest thread's CPU, result of the long run)."""
    ws, cs, bs, _ = timed(lambda: simulate(program, x_short), repeats)
    wl, cl, bl, res = timed(lambda: simulate(program, x_long), repeats)
    n = x_long.shape[0] - x_short.shape[0]
    return (wl - ws) / n, (cl - cs) / n, (bl - bs) / n, res


def row(name: str, batch: int, program, short: int, long: int, repeats: int) -> None:
    k = runners.kernels()
    sp = {"in_shape": program.graph.nodes["x"].shape}
    x_long = bench.inputs({"in_shape": np.array(sp["in_shape"])}, long, batch, seed=2)
    x_short = np.ascontiguousarray(x_long[:short])
    simulate(program, x_short[:3])  # derived tables made once
    out = {}
    for n in (1, 2):
        old = k.set_threads(n)
        try:
            out[n] = per_step(program, x_short, x_long, repeats)
        finally:
            k.set_threads(old)
    a, b = out[1][3], out[2][3]
    assert np.array_equal(a.output, b.output), f"{name}: outputs differ across thread counts"
    for f in COUNTERS:
        assert np.array_equal(getattr(a.counters, f), getattr(b.counters, f)), f"{name} {f}"
    ev = a.counters.syn_ops.sum() / long  # events per step, all samples
    (w1, c1, _, _), (w2, c2, b2, _) = out[1], out[2]
    print(f"{name:6s} batch {batch:3d}: 1 thread {w1 * 1e6:8.1f} us/step (CPU {c1 * 1e6:8.1f}) "
          f"{ev / w1:8.3g} ev/s | 2 threads {w2 * 1e6:8.1f} us/step (CPU {c2 * 1e6:8.1f}, "
          f"busiest thread {b2 * 1e6:8.1f}) {ev / w2:8.3g} ev/s | RATIO 1/2 threads wall "
          f"{w1 / w2:4.2f}x, CPU 1 thread / busiest of 2 {c1 / b2:4.2f}x | identical "
          f"(load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=tuple(NETS), default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--split", type=int, default=0,
                    help="fewest columns / neurons per thread for one sample's split (the "
                         "kernels' default, 2048, unless given; e.g. 256 splits the peers net)")
    ap.add_argument("--mapping", choices=("vendor", "balanced", "compact"), default=None,
                    help="the mapping strategy (default: Loihi 2's default, vendor)")
    args = ap.parse_args()
    k = runners.kernels()
    if not hasattr(k, "set_threads"):
        raise SystemExit("bench_threads: the AOT kernels are not built "
                         "(python scripts/build_kernels.py)")
    if args.split:
        k.set_split(args.split)
    split = k.set_split(1)  # reads the minimum in force
    k.set_split(split)
    print(f"kernels={k.__name__.rsplit('.', 1)[-1]}, {os.cpu_count()} cores, "
          f"split minimum {split}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(snnc: PASSIVE)')}")
    for name, (sizes, vths) in NETS.items():
        if args.only not in (None, name):
            continue
        program = map_graph(bench.graph_of(spec(sizes, vths)), "loihi2", strategy=args.mapping)
        syn = sum(a * b for a, b in pairwise(sizes))
        print(f"== {name}: {'-'.join(map(str, sizes))}, {syn / 1e6:.2f} M synapses, "
              f"{program.n_cores} Loihi 2 cores")
        big = syn > 5e6
        for batch in (1, 16):
            short, long = (50, 150) if big else (100, 1000)
            if batch > 1:
                short, long = (20, 60) if big else (50, 250)
            row(name, batch, program, short, long, args.repeats)


if __name__ == "__main__":
    main()
