"""snnc's predicted Loihi 1 time and energy per step against SANA-FE's, on the SAME mapping.

    .venv/bin/python benchmarks/bench_sanafe_predict.py [--sim PATH] [--arch PATH]

The peers.md network (784-512-256-10, ``bench_event_vs_lava.dense_spec``, 100 steps of
Bernoulli(0.1) input) is mapped by snnc and written as a SANA-FE YAML network with every neuron
on the core snnc chose (``bench_sanafe.write_yaml``); both then predict the same run:

- snnc: the event simulator's step times on the ``loihi1`` chip (the cores, NoC and barrier:
  ``Counters.step_ns``, no ``[system]`` management line, which SANA-FE does not model) and the
  ``loihi1-sanafe`` model's energy of the cores' events, plus the input messages (snnc prices
  them on the ``input_injection`` line; SANA-FE's input neurons sit on a core and pay
  ``axon_out`` for them);
- SANA-FE: ``sim_time`` and ``total`` energy of its run summary (its detailed timing model,
  ``arch/loihi.yaml``).

Mappings: snnc's default (balanced at the measured activity), ``compact`` (fewest cores), and
64 neurons per core (a user chip file with ``[core] neurons = 64``: 13 cores for the layers, 14
with SANA-FE's input core). One more SANA-FE-only row puts the 784 inputs on 7 cores of 128
(14 cores with compact's 7): snnc's input comes from the x86/host, not from cores, so it has no
such mapping; the row shows what input cores cost in SANA-FE's model. SANA-FE's own 14-core
prediction in peers.md (6.31 ms, 247 µJ per 100 steps) used a mapping that was not recorded.

Without the SANA-FE executable or its arch file the script says so and exits 0
(``SANAFE_SIM`` / ``SANAFE_ARCH`` or ``--sim`` / ``--arch``, as ``bench_sanafe.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_event_vs_lava as bench
import bench_sanafe as bs
from bench_loihi1_published import measured_map

from snnc.backends.loihi.chips import load_chip
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.report.energy import load_model
from snnc.backends.report.sections import run_model
from snnc.simulators.event import simulate

STEPS = 100


GEN = {"neurons_active": "neuron_active", "neurons_inactive": "neuron_inactive",
       "spikes_out": "spike_out", "axon_out": "axon_out"}  # a core's own neurons' work
RECV = {"syn_ops_dense": "syn_op_dense", "syn_ops_sparse": "syn_op_sparse",
        "syn_ops_conv": "syn_op_conv", "axon_in": "axon_in"}  # its incoming messages' work


def _work(c, t: dict[str, float], fields: dict[str, str]) -> np.ndarray:
    """(T, n_cores) ns of the counters' ``fields`` at the chip's times (one sample)."""
    return sum(np.asarray(getattr(c, f), np.float64) * t[e] for f, e in fields.items())


def snnc_side(program, x: np.ndarray) -> dict[str, float]:
    """snnc's per-step prediction for ``program`` on input ``x`` (T, 1, ...), and the other
    core model from the same counters: a core's own-neuron work and incoming-message work
    summed (snnc before issue 19's third session) where the chip overlaps them, or overlapped
    (their maximum, SANA-FE's core model) where it sums them."""
    c = simulate(program, x).counters
    model = load_model("loihi1-sanafe", program.chip)
    en, _ = run_model(program, model, c)
    lines = {ln["line"]: (ln["joules"] or 0.0) for ln in en.lines}
    t = program.chip.costs.time_ns
    gen, recv = _work(c, t, GEN), _work(c, t, RECV)
    costs = program.chip.costs
    assert np.allclose(costs.core_time(gen, recv), c.core_ns)  # the simulator's core model
    busiest = int(np.argmax(c.core_ns.sum(0)))
    other = (gen + recv) if costs.core_overlap else np.maximum(gen, recv)
    overlap = other.max(1) + c.noc_ns + c.barrier_ns
    return {"step_us": float(c.step_ns.mean()) / 1e3, "cores_uj": en.dynamic_j / STEPS * 1e6,
            "input_uj": lines.get("input_injection", 0.0) / STEPS * 1e6,
            "syn_ops": float(c.syn_ops_dense.sum() + c.syn_ops_sparse.sum()
                             + c.syn_ops_conv.sum()) / STEPS,
            "busiest_gen_us": float(gen[:, busiest].mean()) / 1e3,
            "other_us": float(overlap.mean()) / 1e3, "overlap": costs.core_overlap,
            "barrier_us": float(c.barrier_ns) / 1e3, "cores": program.n_cores}


def sanafe_side(sim: str, arch: str, spec: dict, x: np.ndarray, cores: list[np.ndarray],
                input_cores: np.ndarray | None = None) -> dict[str, float]:
    """SANA-FE's per-step prediction with every neuron on ``cores`` (a conv layer's synapses
    priced by its conv unit, as snnc prices them on Loihi 1)."""
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "net.yaml"
        bs.write_yaml(net, spec, x[:, 0].reshape(len(x), -1), cores, input_cores,
                      conv_hw="loihi_conv_synapse")
        _, s = bs.run_sanafe(sim, arch, net, STEPS, Path(tmp) / "out")
    return {"step_us": s["sim_time"] / STEPS * 1e6, "uj": s["total"] / STEPS * 1e6,
            "syn_ops": s["total_spikes"] / STEPS}


def layer_cores(program, n_layers: int) -> list[np.ndarray]:
    return [program.core_of_neuron(f"lif{i}") for i in range(n_layers)]


def chip_with_neurons(n: int, tmp: Path):
    path = tmp / f"loihi1-{n}.toml"
    path.write_text(f'base = "loihi1"\nname = "loihi1-{n}"\n[core]\nneurons = {n}\n')
    return load_chip(path)


def _pct(a: float, b: float) -> str:
    return f"{100 * (a / b - 1):+.1f} %"


def rows(name: str, spec: dict, progs: dict, sim: str, arch: str) -> dict:
    """Print one row per mapping of network ``spec``; returns the layer cores per mapping."""
    x = bench.inputs(spec, STEPS, 1)
    out = {}
    for label, prog in progs.items():
        mine = snnc_side(prog, x)
        cores = layer_cores(prog, int(spec["layers"]))
        out[label] = cores
        theirs = sanafe_side(sim, arch, spec, x, cores)
        uj = mine["cores_uj"] + mine["input_uj"]
        print(f"| {name}, {label} | {mine['cores']} / {mine['cores'] + 1} | "
              f"{mine['step_us']:.2f} | {theirs['step_us']:.2f} | "
              f"{_pct(mine['step_us'], theirs['step_us'])} | {uj:.3f} | {theirs['uj']:.3f} | "
              f"{_pct(uj, theirs['uj'])} | {mine['syn_ops']:.0f} / {theirs['syn_ops']:.0f} |")
        other = "summed" if mine["overlap"] else "overlapped (max, as SANA-FE)"
        print(f"#   snnc: sync {mine['barrier_us']:.2f} µs; the busiest core's own neuron work "
              f"{mine['busiest_gen_us']:.2f} µs/step; with own and message work {other}: "
              f"{mine['other_us']:.2f} µs/step, {_pct(mine['other_us'], theirs['step_us'])} "
              "vs SANA-FE")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", default=bs.SIM, help="SANA-FE's standalone executable (sim)")
    ap.add_argument("--arch", default=bs.ARCH, help="SANA-FE's arch/loihi.yaml")
    args = ap.parse_args()
    missing = [p for p in (args.sim, args.arch) if not Path(p).is_file()]
    if missing:
        print(f"bench_sanafe_predict: skipped, SANA-FE is not built here ({', '.join(missing)} "
              "not found); see benchmarks/README.md, or pass --sim / --arch")
        return
    print("| network, mapping | cores (snnc / SANA-FE incl. input core) | snnc µs/step | "
          "SANA-FE µs/step | time snnc vs SANA-FE | snnc µJ/step (cores + input msgs) | "
          "SANA-FE µJ/step | energy snnc vs SANA-FE | synaptic ops/step (snnc / SANA-FE) |")
    print("|---|---|---|---|---|---|---|---|---|")
    dense = bench.dense_spec()
    graph = bench.graph_of(dense)
    x = bench.inputs(dense, STEPS, 1)
    with tempfile.TemporaryDirectory() as tmp:
        progs = {"balanced (snnc default)": measured_map(graph, x, "loihi1"),
                 "compact": map_graph(graph, "loihi1", strategy="compact"),
                 "64 neurons per core": map_graph(graph, chip_with_neurons(64, Path(tmp)),
                                                  strategy="compact")}
    cores = rows("peers.md", dense, progs, args.sim, args.arch)
    inputs7 = np.arange(784) // 128  # 7 input cores, the compact layers after them
    shifted = [c + 7 for c in cores["compact"]]
    theirs = sanafe_side(args.sim, args.arch, dense, x, shifted, inputs7)
    print(f"| peers.md, compact + inputs on 7 cores (SANA-FE only) | - / 14 | - | "
          f"{theirs['step_us']:.2f} | - | - | {theirs['uj']:.3f} | - | "
          f"- / {theirs['syn_ops']:.0f} |")
    conv = bench.conv_spec()
    graph = bench.graph_of(conv)
    x = bench.inputs(conv, STEPS, 1)
    rows("conv", conv, {"balanced (snnc default)": measured_map(graph, x, "loihi1"),
                        "compact": map_graph(graph, "loihi1", strategy="compact")},
         args.sim, args.arch)
    print("# peers.md's SANA-FE 2.2.9 prediction, 14 cores, mapping not recorded: 63.1 µs/step, "
          "2.47 µJ/step")


if __name__ == "__main__":
    main()
