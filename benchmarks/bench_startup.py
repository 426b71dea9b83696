"""Start-up as whole processes: snnc's CLI against Lava and Brian2 on the benchmark network.

The benchmark network is shared/reference/peers.md's 784-512-256-10 Loihi CUBA LIF
(``bench_event_vs_lava.dense_spec``), compiled once with ``snnc compile`` into a temporary
directory. Each command below then runs as a fresh process, ``--repeats`` times after one
warm-up run (bytecode caches written, as on a user's machine), and the table gives the best and
the median wall-clock time and the median CPU time (user + system of the process and its
children, from ``os.wait4``; on a loaded machine it is the steadier figure):

- ``python -c pass``: the interpreter alone (its site-packages hooks included);
- ``snnc --help``, ``snnc inspect OUT``;
- ``snnc simulate OUT --input X.npy -o R.npz``: 100 steps of one sample, result written;
- Lava: ``benchmarks/lava_fixed_pt.py`` in ``.venv-lava``: import Lava, build the same network
  of ``fixed_pt`` processes, run 100 steps, read the spikes back and write them (Lava's
  equivalent of the simulate command); its output spikes must equal snnc's;
- Brian2 (if importable in this environment): import Brian2, build the float form of the
  network through ``snnc.simulators.brian2`` (numpy target), run 100 steps.

Ratios peer / snnc are printed. Usage:
``.venv/bin/python benchmarks/bench_startup.py [--repeats 7] [--lava-python PATH]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

BRIAN2_RUN = """
import sys
sys.path.insert(0, {bench!r})
import numpy as np
from bench_brian2 import network
from snnc.simulators.brian2 import run_brian2
x = np.load({x!r}).astype(np.float64)  # (1, 784, T)
out = run_brian2(network(), np.moveaxis(x, -1, 0), target="numpy").output
np.save({out!r}, out)
"""


def run_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(name: str, cmd: list[str], env: dict[str, str], repeats: int) -> dict:
    run_process(cmd, env)  # warm-up: bytecode caches, page cache
    runs = [run_process(cmd, env) for _ in range(repeats)]
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    return {"name": name, "best": min(walls), "median": statistics.median(walls),
            "cpu": statistics.median(cpus)}


def main() -> None:
    import bench_event_vs_lava as bench

    from snnc.ir.serialize import write_graph

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--lava-python", type=Path, default=REPO / ".venv-lava" / "bin" / "python")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    py = sys.executable
    snnc = [py, "-m", "snnc"]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        spec = bench.dense_spec()
        write_graph(bench.graph_of(spec), t / "dense.snnc")
        x = bench.inputs(spec, 100, 1)  # (T, 1, 784)
        np.save(t / "x.npy", np.moveaxis(x, 0, -1))  # (1, 784, T): time last
        subprocess.run([*snnc, "compile", str(t / "dense.snnc"), "-o", str(t / "out")],
                       env=env, check=True, capture_output=True)
        rows = [measure("python -c pass", [py, "-c", "pass"], env, args.repeats),
                measure("snnc --help", [*snnc, "--help"], env, args.repeats),
                measure("snnc inspect OUT", [*snnc, "inspect", str(t / "out")], env,
                        args.repeats),
                measure("snnc simulate OUT (100 steps)",
                        [*snnc, "simulate", str(t / "out"), "-i", str(t / "x.npy"), "-q",
                         "--force", "-o", str(t / "r.npz")], env, args.repeats)]
        snnc_out = np.load(t / "r.npz")["output"]  # (1, 10, T): X had a batch axis
        sim = rows[-1]
        peers = []
        if args.lava_python.exists():
            flat = {k: np.asarray(v) for k, v in spec.items()}
            np.savez(t / "spec.npz", x=x[:, 0].T, **flat)
            lava_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
            peers.append(measure("Lava fixed_pt (100 steps)", [
                str(args.lava_python), str(REPO / "benchmarks" / "lava_fixed_pt.py"),
                str(t / "spec.npz"), str(t / "lava.npz")], lava_env, max(3, args.repeats // 2)))
            lava_out = np.load(t / "lava.npz")["out"]
            same = np.array_equal(lava_out, snnc_out.reshape(-1, lava_out.shape[-1]))
            assert same, "Lava and snnc output spikes differ"
            peers[-1]["name"] += " (same spikes)"
        else:
            print("Lava: skipped (no .venv-lava; pass --lava-python)")
        try:
            import brian2  # noqa: F401
        except ImportError:
            print("Brian2: skipped (not installed in this environment)")
        else:
            script = BRIAN2_RUN.format(bench=str(REPO / "benchmarks"), x=str(t / "x.npy"),
                                       out=str(t / "b2.npy"))
            peers.append(measure("Brian2 numpy (100 steps, float)", [py, "-c", script], env,
                                 max(3, args.repeats // 2)))
    print(f"\n{'process':38s} {'best (s)':>9s} {'median (s)':>11s} {'CPU (s)':>8s} "
          f"{'vs snnc simulate (median wall / CPU)':>38s}")
    for r in rows + peers:
        ratio = "" if r not in peers else \
            f"{r['median'] / sim['median']:.1f}x / {r['cpu'] / sim['cpu']:.1f}x"
        print(f"{r['name']:38s} {r['best']:9.3f} {r['median']:11.3f} {r['cpu']:8.3f} "
              f"{ratio:>38s}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
