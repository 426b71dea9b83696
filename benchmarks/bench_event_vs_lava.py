"""snnc's event simulator against lava-nc 0.10.0 ``fixed_pt`` models on identical networks.

Networks (shared/reference/peers.md, "Measured speed of peer simulators"):

- ``dense``: 784-512-256-10 Loihi CUBA LIF; weights uniform integers in [-20, 40) from
  ``default_rng(0)`` floored to even values, du = 4095, dv = 256, vth = 3000 / 5000 / 2500, no
  bias; input 784 Bernoulli(0.1) spike trains from ``default_rng(1)``; 100 steps.
- ``conv``: 2x16x16 input spikes (rate 0.2) -> conv 3x3, stride 2, padding 1, 8 channels ->
  LIF 8x8x8 -> dense 10 -> LIF.

Lava runs in ``.venv-lava`` through ``benchmarks/lava_fixed_pt.py`` (a subprocess); snnc runs
here. Output spikes are asserted identical. Timings (best of several runs): wall clock of one
run of 100 steps from network construction to the spikes read back (snnc: reading the compiled
``program.h5`` and simulating; imports excluded; snnc's numba kernels compiled and cached
beforehand), the per-step cost (run of 1000 steps minus run of 100, over 900, as in peers.md),
and snnc's synaptic events per second for one sample and for a batch of 64 samples.

Usage: ``.venv/bin/python benchmarks/bench_event_vs_lava.py [--lava-python PATH] [--repeats N]
[--chip loihi2|loihi1]`` (snnc maps onto the default chip, Loihi 2, unless told otherwise; the
spikes are the same on both, only the core boundaries differ).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import numpy as np

from snnc import ir
from snnc.backends.loihi.chips import DEFAULT_CHIP
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.program import ChipProgram
from snnc.simulators.event import runners, simulate

REPO = Path(__file__).resolve().parents[1]


def dense_spec() -> dict:
    rng = np.random.default_rng(0)
    sizes, vths = (784, 512, 256, 10), (3000, 5000, 2500)
    spec: dict = {"layers": 3, "in_shape": np.array([784])}
    for i, (a, b) in enumerate(pairwise(sizes)):
        spec.update({f"kind{i}": "dense", f"w{i}": (rng.integers(-20, 40, size=(b, a)) >> 1) << 1,
                     f"du{i}": 4095, f"dv{i}": 256, f"vth{i}": vths[i]})
    return spec


def conv_spec() -> dict:
    rng = np.random.default_rng(0)
    w0 = (rng.integers(-40, 80, size=(8, 2, 3, 3)) >> 1) << 1
    w1 = (rng.integers(-20, 40, size=(10, 512)) >> 1) << 1
    return {"layers": 2, "in_shape": np.array([2, 16, 16]),
            "kind0": "conv", "w0": w0, "pad0": np.array([1, 1]), "stride0": np.array([2, 2]),
            "out0": np.array([8, 8, 8]), "du0": 4095, "dv0": 256, "vth0": 100,
            "kind1": "dense", "w1": w1, "du1": 4095, "dv1": 256, "vth1": 300}


def graph_of(spec: dict) -> ir.Graph:
    shape = tuple(int(v) for v in spec["in_shape"])
    nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=shape))]
    for i in range(int(spec["layers"])):
        if spec[f"kind{i}"] == "conv":
            syn = ir.LoihiConv(input_shape=shape, weight=spec[f"w{i}"],
                               padding=tuple(spec[f"pad{i}"]), stride=tuple(spec[f"stride{i}"]))
        else:
            if len(shape) == 3:
                nodes.append((f"flat{i}", ir.Flatten(input_shape=shape)))
            syn = ir.LoihiDense(weight=spec[f"w{i}"])
        shape = syn.out_shape
        nodes += [(f"syn{i}", syn), (f"lif{i}", ir.LoihiLIF(
            shape=shape, du=spec[f"du{i}"], dv=spec[f"dv{i}"], vth=spec[f"vth{i}"]))]
    nodes.append(("y", ir.Output(shape=shape)))
    return ir.Graph.chain(*nodes)


def inputs(spec: dict, steps: int, batch: int, seed: int = 1) -> np.ndarray:
    shape = tuple(int(v) for v in spec["in_shape"])
    rate = 0.1 if len(shape) == 1 else 0.2
    rng = np.random.default_rng(seed)
    return (rng.random((steps, batch, *shape)) < rate).astype(np.uint8)


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_lava(lava_python: Path, spec: dict, x: np.ndarray, x_long: np.ndarray,
             repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        sp, op = Path(tmp) / "spec.npz", Path(tmp) / "out.npz"
        flat = {k: np.asarray(v) for k, v in spec.items()}
        flat["repeats"] = np.asarray(repeats)
        np.savez(sp, x=x[:, 0].reshape(x.shape[0], -1).T, x_long=x_long[:, 0].reshape(
            x_long.shape[0], -1).T, **flat)
        subprocess.run([str(lava_python), str(REPO / "benchmarks" / "lava_fixed_pt.py"),
                        str(sp), str(op)], check=True)
        with np.load(op) as z:
            return {k: z[k] for k in z.files}


def bench(name: str, spec: dict, lava_python: Path | None, repeats: int,
          chip: str = DEFAULT_CHIP) -> None:
    graph = graph_of(spec)
    x, x_long, xb = inputs(spec, 100, 1), inputs(spec, 1000, 1), inputs(spec, 100, 64, seed=2)
    t0 = time.perf_counter()
    program = map_graph(graph, chip)
    t_map = time.perf_counter() - t0
    tmp = tempfile.TemporaryDirectory()
    program.save(tmp.name)
    t0 = time.perf_counter()
    simulate(program, x[:5])  # compile or load the numba kernels
    warm = time.perf_counter() - t0

    def once(xs: np.ndarray):  # a compiled program read from disk, then simulated
        return simulate(ChipProgram.load(tmp.name), xs)

    res = once(x)
    t_short = best(lambda: once(x), repeats)
    # per step: the loaded program simulated again, 1000 steps minus 100 steps, as for Lava
    t100 = best(lambda: simulate(program, x), repeats)
    t1000 = best(lambda: simulate(program, x_long), repeats)
    t_batch = best(lambda: simulate(program, xb), max(1, repeats // 2))
    events = res.counters.syn_ops.sum()
    ev_batch = simulate(program, xb).counters.syn_ops.sum()
    per_step = (t1000 - t100) / 900
    print(f"\n== {name}: {res.counters.syn_ops.sum() / 100:.0f} synaptic events per step, "
          f"kernels={runners.kernels().__name__.rsplit('.', 1)[-1]} (first call {warm:.2f} s)")
    print(f"snnc  map onto {chip:11s}: {t_map * 1e3:8.2f} ms  ({program.n_cores} cores; "
          "done once by snnc compile)")
    print(f"snnc  100 steps, 1 sample : {t_short * 1e3:8.2f} ms  (load program.h5 + simulate)")
    print(f"snnc  per step            : {per_step * 1e6:8.2f} us   "
          f"{events / 100 / max(per_step, 1e-12):.3g} synaptic events/s")
    print(f"snnc  batch 64 x 100 steps: {t_batch * 1e3:8.2f} ms  (simulate)  "
          f"{ev_batch / t_batch:.3g} synaptic events/s")
    threads_side_by_side(program, x, x_long, events, repeats)
    if lava_python is None:
        print("lava  (skipped: no Lava environment; pass --lava-python)")
        return
    lava = run_lava(lava_python, spec, x, x_long, max(1, repeats // 2))
    same = np.array_equal(lava["out"], res.output[:, 0].reshape(100, -1).T)
    assert same, f"{name}: Lava and snnc output spikes differ"
    l_step = (float(lava["t_long"]) - float(lava["t_short"])) / 900
    print(f"lava  100 steps, 1 sample : {float(lava['t_short']) * 1e3:8.2f} ms  "
          f"(build + run + read)")
    print(f"lava  per step            : {l_step * 1e6:8.2f} us")
    print(f"spikes identical: {same} ({int(lava['out'].sum())} output spikes)")
    print(f"RATIO 100-step run  lava/snnc = {float(lava['t_short']) / t_short:8.1f}x")
    print(f"RATIO per step      lava/snnc = {l_step / max(per_step, 1e-12):8.1f}x")


def threads_side_by_side(program: ChipProgram, x: np.ndarray, x_long: np.ndarray,
                         events: float, repeats: int) -> None:
    """The AOT kernels' per step for one sample with 1 thread and with every core (a large
    layer splits over threads by neurons); outputs asserted identical."""
    k = runners.kernels()
    if not hasattr(k, "set_threads") or runners.threads() < 2:
        return
    old = k.set_threads(1)
    try:
        per, outs = {}, {}
        for n in (1, runners.threads()):
            k.set_threads(n)
            t100 = best(lambda: simulate(program, x), repeats)
            t1000 = best(lambda: simulate(program, x_long), repeats)
            per[n] = (t1000 - t100) / 900
            outs[n] = simulate(program, x_long).output
    finally:
        k.set_threads(old)
    one, many = per[1], per[runners.threads()]
    assert all(np.array_equal(outs[1], o) for o in outs.values()), "thread counts differ"
    print(f"snnc  per step, 1 thread  : {one * 1e6:8.2f} us   {events / 100 / one:.3g} "
          f"synaptic events/s")
    print(f"snnc  per step, {runners.threads()} threads : {many * 1e6:8.2f} us   "
          f"{events / 100 / many:.3g} synaptic events/s  (x{one / many:.2f}; outputs "
          f"identical; load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lava-python", type=Path, default=REPO / ".venv-lava" / "bin" / "python")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=("dense", "conv"), default=None)
    ap.add_argument("--chip", default=DEFAULT_CHIP, help="chip snnc maps onto (default: "
                    f"{DEFAULT_CHIP}, snnc's default; Lava's fixed_pt run has no chip)")
    args = ap.parse_args()
    lava = args.lava_python if args.lava_python.exists() else None
    for name, spec in (("dense", dense_spec()), ("conv", conv_spec())):
        if args.only in (None, name):
            bench(name, spec, lava, args.repeats, args.chip)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
