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


def snnc_side(program, x: np.ndarray) -> dict[str, float]:
    """snnc's per-step prediction for ``program`` on input ``x`` (T, 1, 784)."""
    c = simulate(program, x).counters
    model = load_model("loihi1-sanafe", program.chip)
    en, _ = run_model(program, model, c)
    lines = {ln["line"]: (ln["joules"] or 0.0) for ln in en.lines}
    busiest = int(np.argmax(c.core_ns.sum(0)))
    t = program.chip.costs.time_ns
    gen = (c.neurons_active[:, busiest].sum() * t["neuron_active"]
           + c.neurons_inactive[:, busiest].sum() * t["neuron_inactive"]
           + c.spikes_out[:, busiest].sum() * t["spike_out"]
           + c.axon_out[:, busiest].sum() * t["axon_out"]) / STEPS
    return {"step_us": float(c.step_ns.mean()) / 1e3, "cores_uj": en.dynamic_j / STEPS * 1e6,
            "input_uj": lines.get("input_injection", 0.0) / STEPS * 1e6,
            "syn_ops": float(c.syn_ops_dense.sum() + c.syn_ops_sparse.sum()
                             + c.syn_ops_conv.sum()) / STEPS,
            "busiest_gen_us": float(gen) / 1e3, "barrier_us": float(c.barrier_ns) / 1e3,
            "cores": program.n_cores}


def sanafe_side(sim: str, arch: str, spec: dict, x: np.ndarray, cores: list[np.ndarray],
                input_cores: np.ndarray | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "net.yaml"
        bs.write_yaml(net, spec, x[:, 0].reshape(len(x), -1), cores, input_cores)
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
    spec = bench.dense_spec()
    graph = bench.graph_of(spec)
    x = bench.inputs(spec, STEPS, 1)
    n_layers = int(spec["layers"])
    with tempfile.TemporaryDirectory() as tmp:
        progs = {"balanced (snnc default)": measured_map(graph, x, "loihi1"),
                 "compact": map_graph(graph, "loihi1", strategy="compact"),
                 "64 neurons per core": map_graph(graph, chip_with_neurons(64, Path(tmp)),
                                                  strategy="compact")}
    print("| mapping | cores (snnc / SANA-FE incl. input core) | snnc µs/step | SANA-FE µs/step "
          "| time snnc vs SANA-FE | snnc µJ/step (cores + input msgs) | SANA-FE µJ/step | "
          "energy snnc vs SANA-FE | synaptic ops/step (snnc / SANA-FE) |")
    print("|---|---|---|---|---|---|---|---|---|")
    compact_cores = None
    for label, prog in progs.items():
        mine = snnc_side(prog, x)
        cores = layer_cores(prog, n_layers)
        if label == "compact":
            compact_cores = cores
        theirs = sanafe_side(args.sim, args.arch, spec, x, cores)
        uj = mine["cores_uj"] + mine["input_uj"]
        print(f"| {label} | {mine['cores']} / {mine['cores'] + 1} | {mine['step_us']:.2f} | "
              f"{theirs['step_us']:.2f} | {_pct(mine['step_us'], theirs['step_us'])} | "
              f"{uj:.3f} | {theirs['uj']:.3f} | {_pct(uj, theirs['uj'])} | "
              f"{mine['syn_ops']:.0f} / {theirs['syn_ops']:.0f} |")
        print(f"#   snnc: barrier {mine['barrier_us']:.2f} µs; busiest core's neuron updates and "
              f"spike output {mine['busiest_gen_us']:.2f} µs/step (snnc adds them to the core's "
              "synaptic work; SANA-FE overlaps a core's neuron updates with its message "
              "processing)")
    assert compact_cores is not None
    inputs7 = np.arange(784) // 128  # 7 input cores, the compact layers after them
    shifted = [c + 7 for c in compact_cores]
    theirs = sanafe_side(args.sim, args.arch, spec, x, shifted, inputs7)
    print(f"| compact + inputs on 7 cores (SANA-FE only) | - / 14 | - | {theirs['step_us']:.2f} | "
          f"- | - | {theirs['uj']:.3f} | - | - / {theirs['syn_ops']:.0f} |")
    print("# peers.md's SANA-FE 2.2.9 prediction, 14 cores, mapping not recorded: 63.1 µs/step, "
          "2.47 µJ/step")


if __name__ == "__main__":
    main()
