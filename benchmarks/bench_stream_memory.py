"""Peak memory of ``snnc simulate`` on dataset-sized inputs: it must not grow with samples.

The benchmark network (peers.md 784-512-256-10, ``bench_event_vs_lava.dense_spec``) is compiled
once; synthetic Bernoulli(0.1) spike inputs of N samples x 784 x T steps (uint8, time last) are
written to .npy files, and ``snnc simulate OUT -i X.npy -o R.npz`` runs on each as a fresh
process. The table gives the input file's size, the process's peak resident memory (ru_maxrss
of the child), the wall time and the synaptic events per second of the whole process. The input
is memory-mapped and simulated in chunks of samples (``--chunk-samples``, default about 64 MB of
input per chunk) and, within a chunk, window of steps after window of steps, with the results
streamed to R.npz, so the peak stays flat while N grows. ``--long`` runs one sample for growing
numbers of steps (the same table): the peak stays flat while T grows.

Usage: ``.venv/bin/python benchmarks/bench_stream_memory.py [--samples 256,1024,4096]
[--steps 100] [--long 10000,100000]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


WRITE_INPUT = """
import numpy as np
from numpy.lib.format import open_memmap
n, steps, seed, path = {n}, {steps}, {seed}, {path!r}
rng = np.random.default_rng(seed)
x = open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, 784, steps))
for b0 in range(0, n, 256):
    b1 = min(n, b0 + 256)
    x[b0:b1] = rng.random((b1 - b0, 784, steps)) < 0.1
x.flush()
"""


def write_input(path: Path, n: int, steps: int, seed: int) -> None:
    """N x 784 x T uint8 spikes, written by a separate process: a child's peak RSS (ru_maxrss)
    starts from the parent's at fork, so the parent must never hold the input's pages."""
    subprocess.run([sys.executable, "-c", WRITE_INPUT.format(n=n, steps=steps, seed=seed,
                                                             path=str(path))], check=True)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    import bench_event_vs_lava as bench

    from snnc.ir.serialize import write_graph

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default="256,1024,4096")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--long", default="",
                    help="also run one sample for each of these numbers of steps")
    ap.add_argument("--threads", default="",
                    help="also run the largest input with SNNC_THREADS set to each of these "
                         "(e.g. 1,2: one core against both; the results must be identical)")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    snnc = [sys.executable, "-m", "snnc"]
    print(f"{'samples':>8s} {'steps':>6s} {'input (MB)':>11s} {'peak RSS (MB)':>14s} "
          f"{'wall (s)':>9s} {'syn events/s':>13s}")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        write_graph(bench.graph_of(bench.dense_spec()), t / "dense.snnc")
        subprocess.run([*snnc, "compile", str(t / "dense.snnc"), "-o", str(t / "out")],
                       env=env, check=True, capture_output=True)
        runs = [(int(v), args.steps) for v in args.samples.split(",") if v]
        most = max(runs, default=None)  # the largest batch: also run with --threads
        runs += [(1, int(v)) for v in args.long.split(",") if v]
        for n, steps in runs:
            x = t / f"x{n}_{steps}.npy"
            write_input(x, n, steps, seed=n)
            wall, peak, out = run([*snnc, "simulate", str(t / "out"), "-i", str(x),
                                   "--no-align", "-o", str(t / "r.npz"), "--force"], env)
            # "... (S synaptic ops, ... per sample)" on the summary line
            per_sample = float(out.rsplit("(", 1)[1].split()[0])
            print(f"{n:8d} {steps:6d} {x.stat().st_size / 1e6:11.1f} {peak:14.0f} "
                  f"{wall:9.2f} {per_sample * n / wall:13.3g}")
            if (n, steps) == most and args.threads:
                results = []
                for th in args.threads.split(","):
                    r = t / f"r{th}.npz"
                    wall, peak, _ = run([*snnc, "simulate", str(t / "out"), "-i", str(x),
                                         "--no-align", "-o", str(r), "--force", "-q"],
                                        {**env, "SNNC_THREADS": th})
                    results.append(np.load(r)["output"])
                    print(f"{'':8s} SNNC_THREADS={th}: {wall:.2f} s, peak {peak:.0f} MB, "
                          f"{per_sample * n / wall:.3g} syn events/s")
                same = all(np.array_equal(results[0], o) for o in results[1:])
                print(f"{'':8s} outputs identical across thread counts: {same}")
                assert same
            x.unlink()
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
