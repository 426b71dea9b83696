"""snnc's reference simulator vs Brian2 (numpy and cython targets) on the peers.md network.

The network of shared/reference/peers.md ("Measured speed of peer simulators") in float form:
feed-forward 784-512-256-10 LIF, weights integers from ``default_rng(0).integers(-20, 40)``
floored to even values, ``decay_v = 1 - 256/4096`` (Loihi ``dv = 256``), the current cleared
every step (``du = 4095`` -> i = x), thresholds 3000 / 5000 / 2500, bias 0, hard reset to 0;
input 784 Bernoulli(0.1) spike trains from ``default_rng(1)``. Both simulators run the same
float graph and must produce identical output spikes.

Per step = (run of ``--long`` steps - run of ``--short`` steps) / difference; start-up = the
short run minus its steps (graph / network construction, code generation). Medians of
``--repeats`` runs in one process, after a warm-up run (imports, and for cython the compilation,
whose time is printed separately: about 80-90 s with a cold cache).

    python benchmarks/bench_brian2.py [--short 100] [--long 1000] [--no-cython]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time
from collections.abc import Callable

import numpy as np

from snnc.ir import LIF, Graph, Input, Linear, Output
from snnc.simulators.brian2 import run_brian2
from snnc.simulators.reference import simulate

SIZES = (784, 512, 256, 10)
VTH = (3000.0, 5000.0, 2500.0)
SYN_EVENTS_PER_STEP = 64_400  # peers.md


def network() -> Graph:
    rng = np.random.default_rng(0)
    named: list[tuple[str, object]] = [("in", Input(shape=(SIZES[0],)))]
    for k, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        w = (rng.integers(-20, 40, size=(n_out, n_in)) >> 1) << 1
        named.append((f"fc{k}", Linear(weight=w.astype(np.float64))))
        named.append((f"lif{k}", LIF(shape=(n_out,), decay_v=1 - 256 / 4096, threshold=VTH[k])))
    named.append(("out", Output(shape=(SIZES[-1],))))
    return Graph.chain(*named)  # type: ignore[arg-type]


def stimulus(steps: int) -> np.ndarray:
    x = np.random.default_rng(1).random((steps, SIZES[0])) < 0.1
    return x.astype(np.float64)[:, None, :]


def timed(run: Callable[[np.ndarray], np.ndarray], steps: int) -> tuple[float, np.ndarray]:
    gc.collect()
    x = stimulus(steps)
    t0 = time.perf_counter()
    out = run(x)
    return time.perf_counter() - t0, out


def measure(name: str, run: Callable[[np.ndarray], np.ndarray], short: int, long: int,
            repeats: int) -> dict[str, object]:
    """Medians over ``repeats`` of the short and long runs, after one warm-up run."""
    timed(run, 2)
    t_short = float(np.median([timed(run, short)[0] for _ in range(repeats)]))
    longs = [timed(run, long) for _ in range(repeats)]
    t_long = float(np.median([t for t, _ in longs]))
    per_step = (t_long - t_short) / (long - short)
    return {"name": name, "startup": t_short - short * per_step, "per_step": per_step,
            "out": longs[0][1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=100)
    ap.add_argument("--long", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-cython", action="store_true", help="skip Brian2's cython target")
    args = ap.parse_args()
    g = network()
    rates = simulate(g, stimulus(args.short), probes=["lif0.s", "lif1.s", "lif2.s"]).probes
    print("firing rates per layer (%):",
          " / ".join(f"{100 * rates[f'lif{k}.s'].mean():.1f}" for k in range(3)))
    runs = [("snnc reference (float64)", lambda x: simulate(g, x).output),
            ("brian2 numpy", lambda x: run_brian2(g, x, target="numpy").output)]
    if not args.no_cython:
        t0 = time.perf_counter()
        run_brian2(g, stimulus(2), target="cython")
        print(f"brian2 cython warm-up (compiles; cold or warm cache): "
              f"{time.perf_counter() - t0:.1f} s")
        runs.append(("brian2 cython", lambda x: run_brian2(g, x, target="cython").output))
    rows = [measure(name, fn, args.short, args.long, args.repeats) for name, fn in runs]
    base = rows[0]
    print(f"\n{'simulator':28s} {'start-up (s)':>12s} {'per step (ms)':>14s} "
          f"{'syn events/s':>13s} {'step time / snnc':>17s} {'same spikes':>12s}")
    for r in rows:
        same = np.array_equal(r["out"], base["out"])
        print(f"{r['name']:28s} {r['startup']:12.2f} {1e3 * r['per_step']:14.3f} "
              f"{SYN_EVENTS_PER_STEP / r['per_step']:13.2e} "
              f"{r['per_step'] / base['per_step']:17.2f} {same!s:>12s}")


if __name__ == "__main__":
    main()
