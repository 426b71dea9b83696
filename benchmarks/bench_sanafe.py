"""snnc's event simulator against SANA-FE (SLAM-Lab/SANA-FE, C++) on the same networks, one run.

SANA-FE is not part of snnc and none of its code is here: build it from its source outside the
repository (benchmarks/README.md says how it was built on the 2-core machine) and point this
script at the executable and its ``arch/loihi.yaml``: ``--sim PATH`` / ``--arch PATH``, or the
environment variables ``SANAFE_SIM`` / ``SANAFE_ARCH`` (default ``/work/peers/build/sim`` and
``/work/peers/sana-fe/arch/loihi.yaml``). Without them the script says so and exits 0.

Networks (``bench_event_vs_lava``): ``dense`` (peers.md 784-512-256-10) and ``conv`` (2x16x16 ->
conv 3x3 stride 2 pad 1 -> 8x8x8 -> dense 10). Each is written as a SANA-FE YAML network: input
neurons with the same Bernoulli spike trains (``spikes`` lists), ``leaky_integrate_fire`` somas
(SANA-FE's Loihi LIF: ``input_decay`` = (4096 - du) / 4096, ``leak_decay`` = (4096 - dv) / 4096,
``threshold`` = vth, hard reset to 0) and the same integer weights (dense edges for dense
layers; the conv as a sparse edge list of its non-zero taps, since SANA-FE's conv2d has no
padding). Neurons sit on the cores snnc's mapping gave them (tile = core // 4), the inputs on
core 31.3. SANA-FE is not bit-accurate with Lava (float potentials quantised to 1/64; it also
processes every synapse of a dense edge, zeros included), so spikes are compared by count only.

Per step = (run of 1000 steps - run of 100 steps) / 900, both from the same YAML file, one
processing thread (``-N 1``), best of ``--repeats``. For SANA-FE the runs are timed by its own
loop timers (``wall_time`` of its run_summary.yaml: neuron + message processing + scheduler),
because its whole process spends seconds loading the YAML network, which would drown the
difference; the whole process's time is printed too. snnc's per step is measured the same way
in this process (kernels loaded, one sample).

Usage: ``.venv/bin/python benchmarks/bench_sanafe.py [--repeats 3] [--only dense|conv]``
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_event_vs_lava as bench

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import simulate

SIM = os.environ.get("SANAFE_SIM", "/work/peers/build/sim")
ARCH = os.environ.get("SANAFE_ARCH", "/work/peers/sana-fe/arch/loihi.yaml")
INPUT_CORE = "31.3"


def conv_matrix(w: np.ndarray, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
                stride: tuple[int, int], pad: tuple[int, int]) -> np.ndarray:
    """The (out, in) matrix of an integer conv (no groups, no dilation), C-ordered (c, y, x)."""
    ci_n, h, wd = in_shape
    co_n, oh, ow = out_shape
    m = np.zeros((co_n * oh * ow, ci_n * h * wd), np.int64)
    for co in range(co_n):
        for oy in range(oh):
            for ox in range(ow):
                o = (co * oh + oy) * ow + ox
                for ci in range(ci_n):
                    for ky in range(w.shape[2]):
                        for kx in range(w.shape[3]):
                            iy, ix = oy * stride[0] - pad[0] + ky, ox * stride[1] - pad[1] + kx
                            if 0 <= iy < h and 0 <= ix < wd:
                                m[o, (ci * h + iy) * wd + ix] += w[co, ci, ky, kx]
    return m


def layers_of(spec: dict) -> list[tuple[str, np.ndarray, dict]]:
    """(kind, (out, in) weights, LIF parameters) per layer of a bench_event_vs_lava spec."""
    shape = tuple(int(v) for v in spec["in_shape"])
    out = []
    for i in range(int(spec["layers"])):
        lif = {k: int(spec[f"{k}{i}"]) for k in ("du", "dv", "vth")}
        if spec[f"kind{i}"] == "conv":
            o = tuple(int(v) for v in spec[f"out{i}"])
            m = conv_matrix(np.asarray(spec[f"w{i}"]), shape, o, tuple(spec[f"stride{i}"]),
                            tuple(spec[f"pad{i}"]))
            out.append(("sparse", m, lif))
            shape = o
        else:
            m = np.asarray(spec[f"w{i}"], np.int64)
            out.append(("dense", m, lif))
            shape = (m.shape[0],)
    return out


def _ints(a: np.ndarray) -> str:
    return "[" + ", ".join(str(int(v)) for v in a) + "]"


def _runs(core: np.ndarray, group: str) -> list[str]:
    """YAML mapping lines: each run of consecutive neurons of ``group`` on one core."""
    starts = np.flatnonzero(np.diff(core, prepend=-1))
    out = []
    for a, b in zip(starts, [*starts[1:], len(core)], strict=True):
        c = int(core[a])
        out.append(f"  - {group}.{a}..{b - 1}: [core: {c // 4}.{c % 4}]")
    return out


def write_yaml(path: Path, spec: dict, x: np.ndarray, cores: list[np.ndarray],
               input_cores: np.ndarray | None = None,
               conv_hw: str = "loihi_sparse_synapse") -> None:
    """The network as SANA-FE YAML; ``x`` (T, n_in) input spikes, ``cores[l]`` the chip core
    of every neuron of layer l (snnc's mapping), ``input_cores`` the core of every input
    neuron (default: all on core ``INPUT_CORE``, as snnc's x86/host feeds them); a conv
    layer's edge list is priced by SANA-FE's synapse unit ``conv_hw``."""
    layers = layers_of(spec)
    lines = ["network:", "  name: snnc_bench", "  groups:", "    - name: in",
             "      attributes: {log_spikes: false}", "      neurons:"]
    for i in range(x.shape[1]):  # one input soma unit (one spike train) per input neuron
        lines.append(f"        - {i}: {{soma_hw_name: 'loihi_inputs[{i}]', "
                     f"spikes: {_ints(x[:, i])}}}")
    for li, (kind, m, p) in enumerate(layers):
        hw = "loihi_dense_synapse" if kind == "dense" else conv_hw
        lines += [f"    - name: l{li}",
                  f"      attributes: {{soma_hw_name: loihi_lif, synapse_hw_name: {hw}, "
                  f"threshold: {p['vth']}, "
                  f"reset: 0, reset_mode: hard, input_decay: {(4096 - p['du']) / 4096!r}, "
                  f"leak_decay: {(4096 - p['dv']) / 4096!r}}}",
                  "      neurons:", f"        - 0..{m.shape[0] - 1}"]
    lines.append("  edges:")
    src = "in"
    for li, (kind, m, _) in enumerate(layers):
        if kind == "dense":
            lines.append(f"    - {src} -> l{li}: {{type: dense, "
                         f"weight: {_ints(m.T.ravel())}}}")
        else:
            o, i = np.nonzero(m)
            order = np.lexsort((o, i))
            pairs = ", ".join(f"[{a}, {b}]" for a, b in zip(i[order], o[order], strict=True))
            lines.append(f"    - {src} -> l{li}: {{type: sparse, "
                         f"source_target_pairs: [{pairs}], weight: {_ints(m[o, i][order])}}}")
        src = f"l{li}"
    lines.append("mappings:")
    if input_cores is None:
        lines.append(f"  - in.0..{x.shape[1] - 1}: [core: {INPUT_CORE}]")
    else:
        lines += _runs(np.asarray(input_cores), "in")
    for li, core in enumerate(cores):
        lines += _runs(np.asarray(core), f"l{li}")
    path.write_text("\n".join(lines) + "\n")


def run_sanafe(sim: str, arch: str, net: Path, steps: int, out: Path) -> tuple[float, dict]:
    """(wall seconds of the whole process, run summary) of one SANA-FE run."""
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sim, "-N", "1", "-o", str(out), arch, str(net), str(steps)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or "Run finished" not in proc.stdout + proc.stderr:
        log = (proc.stdout + proc.stderr)[-2000:]
        raise SystemExit(f"SANA-FE failed ({proc.returncode}):\n{log}")
    summary: dict = {}
    for line in (out / "run_summary.yaml").read_text().splitlines():
        key, _, val = line.strip().partition(":")
        try:
            summary[key] = float(val)
        except ValueError:
            continue
    return wall, summary


def sim_wall(summary: dict) -> float:
    """SANA-FE's own wall-clock timers of the simulation loop (its run_summary.yaml
    ``wall_time``: neuron processing + message processing + scheduler; network loading and
    set-up excluded)."""
    return sum(summary[k] for k in ("neuron_processing", "message_processing", "scheduler"))


def best(fn, repeats: int):
    runs = [fn() for _ in range(repeats)]
    return min(runs, key=lambda r: r[0])


def bench_one(name: str, spec: dict, sim: str, arch: str, repeats: int) -> None:
    graph = bench.graph_of(spec)
    program = map_graph(graph, "loihi1")
    x_long = bench.inputs(spec, 1000, 1)
    x = x_long[:100]
    cores = [program.core_of_neuron(f"lif{i}") for i in range(int(spec["layers"]))]
    simulate(program, x[:5])  # kernels loaded
    t_s = best(lambda: (_timed(lambda: simulate(program, x)),), repeats)[0]
    t_l = best(lambda: (_timed(lambda: simulate(program, x_long)),), repeats)[0]
    res = simulate(program, x_long)
    events = res.counters.syn_ops.sum() / 1000
    spikes = int(res.counters.spikes_out.sum())
    snnc_step = (t_l - t_s) / 900
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / f"{name}.yaml"
        write_yaml(net, spec, x_long[:, 0].reshape(1000, -1), cores)
        short = [run_sanafe(sim, arch, net, 100, Path(tmp) / "o100") for _ in range(repeats)]
        long = [run_sanafe(sim, arch, net, 1000, Path(tmp) / "o1000") for _ in range(repeats)]
    sf_step = (min(sim_wall(s) for _, s in long) - min(sim_wall(s) for _, s in short)) / 900
    summ = long[0][1]
    fired = summ.get("total_neurons_fired", float("nan")) - int(x_long.sum())
    print(f"\n== {name}: {events:.0f} synaptic events per step (snnc count), "
          f"{program.n_cores} cores")
    print(f"snnc     per step {snnc_step * 1e6:10.2f} us  ({events / max(snnc_step, 1e-12):.3g} "
          f"synaptic events/s); 100-step simulate {t_s * 1e3:.2f} ms")
    print(f"SANA-FE  per step {sf_step * 1e6:10.2f} us  ({events / max(sf_step, 1e-12):.3g} "
          f"synaptic events/s; its own loop timers); whole process of 100 steps "
          f"{min(w for w, _ in short):.2f} s (YAML network loading and set-up)")
    print(f"neurons fired over 1000 steps: snnc {spikes} (bit-exact with Lava), SANA-FE "
          f"{fired:.0f} (its float Loihi LIF)")
    print(f"SANA-FE predicted for 1000 steps: {summ.get('total', float('nan')):.3g} J, "
          f"{summ.get('sim_time', float('nan')):.3g} s of chip time")
    print(f"RATIO per step   SANA-FE/snnc = {sf_step / max(snnc_step, 1e-12):8.1f}x")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", default=SIM, help="SANA-FE's standalone executable (sim)")
    ap.add_argument("--arch", default=ARCH, help="SANA-FE's arch/loihi.yaml")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=("dense", "conv"), default=None)
    args = ap.parse_args()
    missing = [p for p in (args.sim, args.arch) if not Path(p).is_file()]
    if missing:
        print(f"bench_sanafe: skipped, SANA-FE is not built here ({', '.join(missing)} not "
              "found); build it outside the repository as benchmarks/README.md describes and "
              "pass --sim / --arch or set SANAFE_SIM / SANAFE_ARCH")
        return
    for name, spec in (("dense", bench.dense_spec()), ("conv", bench.conv_spec())):
        if args.only in (None, name):
            bench_one(name, spec, args.sim, args.arch, args.repeats)
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
