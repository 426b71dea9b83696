"""Compile time and peak memory of four models, each ``snnc compile`` as a fresh process.

- ``qsnn4``: the shipped example, ``examples/models/qsnn4.pt`` (64-128-10, 4-bit, snnc.nn; read
  by the torch-free reader ``snnc/frontend/snncpt``, 12 passes, fidelity run, mapping, report);
  ``qsnn4-torch`` is the same compile with ``SNNC_TORCH_LOADER=1`` (torch.load + the torch.fx
  trace, the path before the reader), and the ratio of the two is printed;
- ``pilotnet-lif``: lava-dl's PilotNet LIF netx file (``.cache/lava-dl/netx/gts/pilotnet_lif``,
  five conv and four dense layers, already integer);
- ``resnet18-sized``: the conv layers of a CIFAR ResNet-18 on a 3x32x32 input as one chain of
  Loihi conv + LIF layers (64x5 @32x32, 128x4 @16x16, 256x4 @8x8, 448x5 @4x4, stride 2 at each
  stage's first conv; 448 not 512 channels, see RESNET_STAGES), global pooling (a depthwise
  4x4 conv) and a dense 448 -> 10 readout:
  11.0 M conv weights, random 8-bit integers (the residual adds are left out: they change
  neither the weight count nor the mapping work), compiled for Loihi 2 from a lowered ``.snnc``
  file;
- ``dense-64x1M``: the issue's large dense network, 64 inputs -> 1,000,000 LIF neurons (64 M
  random 8-bit weights), lowered, for Loihi 2.

- ``dense-64x1M-torch``: the same shape from a float model (``dense_1m_torch``), read by the
  torch-free reader: its float32 weights alone are 256 MB.

Each row: the wall time and CPU time (user + system, ``os.wait4``) of the whole process, its
peak resident memory (ru_maxrss), the baseline (the peak of an interpreter that imports every
module that compile imported and does nothing else: numpy, h5py and snnc's modules, about
45 MB; torch's with the torch loader), the size of the ``program.h5`` it wrote, peak / program
and (peak - baseline) / program, and the program as snnc holds it in memory
(``ChipProgram.load``: the bytes of its graph's arrays, chip weights in int8 / int16).
Usage: ``.venv/bin/python benchmarks/bench_compile.py [--only NAME[,NAME]] [--repeats 1]``
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
PILOTNET = REPO / ".cache" / "lava-dl" / "netx" / "gts" / "pilotnet_lif" / "network.net"

# channels, convs, stride; the last stage has 448 channels, not 512: a Loihi 2 core accepts 4096
# input axons and a 3x3 conv from 512 channels needs 4608 (snnc refuses it, naming the layer),
# and a fifth conv there keeps the weight count at ResNet-18's 11 M
RESNET_STAGES = ((64, 5, 1), (128, 4, 2), (256, 4, 2), (448, 5, 2))


def resnet18_sized(path: Path) -> int:
    """Write the ResNet-18-sized chain as a lowered graph; its number of conv weights."""
    from snnc import ir
    from snnc.ir.serialize import write_graph

    rng = np.random.default_rng(0)
    shape: tuple[int, ...] = (3, 32, 32)
    nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=shape))]
    n_weights, k = 0, 0
    for ch, convs, stride in RESNET_STAGES:
        for j in range(convs):
            s = stride if j == 0 else 1
            w = rng.integers(-128, 128, size=(ch, shape[0], 3, 3))
            n_weights += w.size
            syn = ir.LoihiConv(input_shape=shape, weight=w, padding=(1, 1), stride=(s, s))
            shape = syn.out_shape
            nodes += [(f"conv{k}", syn), (f"lif{k}", ir.LoihiLIF(
                shape=shape, du=4095, dv=256, vth=int(64 * 9 * shape[0] ** 0.5)))]
            k += 1
    c, h, w_ = shape  # global pooling as a depthwise conv (ResNet's average pool), then fc
    pool = ir.LoihiConv(input_shape=shape, weight=np.ones((c, 1, h, w_), np.int64),
                        stride=(h, w_), groups=c)
    nodes += [("pool", pool), ("pool_lif", ir.LoihiLIF(shape=pool.out_shape, du=4095, dv=4095,
                                                       vth=4))]
    shape = pool.out_shape
    nodes.append(("flat", ir.Flatten(input_shape=shape)))
    w = rng.integers(-128, 128, size=(10, int(np.prod(shape))))
    nodes += [("fc", ir.LoihiDense(weight=w)),
              ("out_lif", ir.LoihiLIF(shape=(10,), du=4095, dv=256, vth=20000)),
              ("y", ir.Output(shape=(10,)))]
    write_graph(ir.Graph.chain(*nodes), path)
    return n_weights


def dense_1m(path: Path) -> int:
    """The issue's large dense network: 64 inputs -> 1,000,000 LIF neurons, random 8-bit
    weights (64 M synapses), as a lowered graph; its number of weights."""
    from snnc import ir
    from snnc.ir.serialize import write_graph

    n = 1_000_000
    w = np.random.default_rng(0).integers(-128, 128, size=(n, 64))
    write_graph(ir.Graph.chain(("x", ir.Input(shape=(64,))), ("fc", ir.LoihiDense(weight=w)),
                               ("lif", ir.LoihiLIF(shape=(n,), du=4095, dv=256, vth=20000)),
                               ("y", ir.Output(shape=(n,)))), path)
    return w.size


def dense_1m_torch(path: Path) -> int:
    """The same 64 -> 1,000,000 shape as a float model: a ``torch.save``d Sequential of an
    8-bit ``snnc.nn.QuantLinear`` (float32 weights, 256 MB) and an ``snnc.nn.LIF``, read by the
    torch-free reader and quantized by the passes; its number of weights."""
    import torch

    from snnc.nn import LIF, QuantLinear

    torch.manual_seed(0)
    net = torch.nn.Sequential(QuantLinear(64, 1_000_000, bits=8), LIF(beta=0.9, threshold=1.0))
    torch.save(net, path)
    return 64 * 1_000_000


WRITERS = {"resnet18-sized": resnet18_sized, "dense-64x1M": dense_1m,
           "dense-64x1M-torch": dense_1m_torch}
SUFFIXES = {"dense-64x1M-torch": ".pt"}

#: what the baseline child imports: the modules a compile imported (written by ``--modules``)
_MODULES_CODE = """
import atexit, json, sys
OUT = sys.argv[1]
atexit.register(lambda: open(OUT, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["snnc", "compile", *sys.argv[2:]]
import runpy
runpy.run_module("snnc", run_name="__main__")
"""
_BASELINE_CODE = """
import importlib, json, sys
for name in json.load(open(sys.argv[1])):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def baseline(argv: list[str], env: dict[str, str], tmp: Path) -> float:
    """Peak RSS (MB) of an interpreter that imports every module a compile of ``argv``
    imported and does nothing else (the compile's floor: numpy, h5py, snnc's own modules)."""
    mods = tmp / "modules.json"
    subprocess.run([sys.executable, "-c", _MODULES_CODE, str(mods), *argv], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run([sys.executable, "-c", _BASELINE_CODE, str(mods)], env)[2]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def loaded_size(path: Path) -> float:
    """MB of the arrays of the program's graph as ``ChipProgram.load`` gives them."""
    from snnc.backends.loihi.program import ChipProgram

    graph = ChipProgram.load(path).graph
    return sum(v.nbytes for node in graph.nodes.values() for v in vars(node).values()
               if isinstance(v, np.ndarray)) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, type=lambda v: set(v.split(",")),
                    help="comma-separated: qsnn4, qsnn4-torch, pilotnet-lif, resnet18-sized, "
                         "dense-64x1M, dense-64x1M-torch")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--write", nargs=2, help=argparse.SUPPRESS)  # NAME PATH, in a child
    args = ap.parse_args()
    if args.write:
        print(WRITERS[args.write[0]](Path(args.write[1])))
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["SNNC_PROGRESS"] = "0"
    snnc = [sys.executable, "-m", "snnc", "compile"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        qsnn4 = [str(REPO / "examples" / "models" / "qsnn4.pt")]
        models = {"qsnn4": (qsnn4, "torch-free reader"),
                  "qsnn4-torch": (qsnn4, "SNNC_TORCH_LOADER=1: torch.load + torch.fx"),
                  "pilotnet-lif": ([str(PILOTNET)], "")}
        for name, what in (("resnet18-sized", "conv weights"), ("dense-64x1M", "synapses"),
                           ("dense-64x1M-torch", "float32 weights")):
            if args.only is not None and name not in args.only:
                continue
            # in a child: a child's ru_maxrss starts from its parent's RSS at fork time, so
            # this process stays small (it would inflate every later row's peak otherwise)
            src = t / f"{name}{SUFFIXES.get(name, '.snnc')}"
            n = int(subprocess.run(
                [sys.executable, __file__, "--write", name, str(src)],
                env=env, check=True, capture_output=True, text=True).stdout)
            models[name] = ([str(src), "--chip", "loihi2"], f"{n / 1e6:.1f} M {what}")
        for name, (argv, note) in models.items():
            skipped = args.only is not None and name not in args.only
            if skipped or (name == "pilotnet-lif" and not PILOTNET.exists()):
                continue
            out = t / f"out-{name}"
            child = {**env, "SNNC_TORCH_LOADER": "1"} if name == "qsnn4-torch" else env
            runs = [run([*snnc, *argv, "-o", str(out), "--force"], child)
                    for _ in range(args.repeats)]
            wall, cpu, peak = min(runs)
            size = (out / "program.h5").stat().st_size / 2**20
            base = baseline([*argv, "-o", str(t / "modules-out"), "--force"], child, t)
            rows.append((name, wall, cpu, peak, base, size, out / "program.h5", note))
        rows = [(*r[:6], loaded_size(r[6]), r[7]) for r in rows]  # after every compile ran
    print(f"\n{'model':18s} {'wall (s)':>9s} {'CPU (s)':>8s} {'peak RSS (MB)':>14s} "
          f"{'baseline (MB)':>14s} {'program.h5 (MB)':>16s} {'peak / h5':>10s} "
          f"{'(peak - base) / h5':>19s} {'in memory (MB)':>15s}")
    for name, wall, cpu, peak, base, size, mem, note in rows:
        h5 = max(size, 1e-9)
        print(f"{name:18s} {wall:9.2f} {cpu:8.2f} {peak:14.0f} {base:14.0f} {size:16.2f} "
              f"{peak / h5:10.1f} {(peak - base) / h5:19.1f} {mem:15.1f}  {note}")
    walls = {r[0]: r[1] for r in rows}
    if "qsnn4" in walls and "qsnn4-torch" in walls:
        ratio = walls["qsnn4-torch"] / walls["qsnn4"]
        print(f"qsnn4: torch path / torch-free reader = {ratio:.1f}x wall")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
