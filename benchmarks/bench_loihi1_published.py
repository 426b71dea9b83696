"""snnc's Loihi 1 energy and time predictions against the published measurements.

shared/reference/loihi.md section 7 lists three networks measured on Loihi 1 silicon; none of
their trained weights is public, so each is *reconstructed*: the published topology with random
integer weights, thresholds set (by bisection) so each layer fires at a rate typical of such
networks, and a synthetic input of the stated kind. The event simulator runs the reconstruction
and the report turns its counts into energy and time with the default (SANA-FE) and the Davies
2018 models. A fourth row checks the accounting against SANA-FE's own prediction for the
peers.md benchmark network (a simulator, not silicon).

- keyword spotter (Blouw et al. 2019; 0.27 mJ dynamic per inference, 296 inferences/s):
  390 rate-coded inputs -> 256 -> 256 LIF (the nengo-loihi example's sizes), 10 steps per
  inference (its 10-step frame), hidden rates 10 %;
- NxTF MNIST CNN (Rueckauer et al. 2021; 0.66 mJ, 6.65 ms): 28x28 rate-coded -> conv 16@5x5/2
  -> conv 32@3x3/2 -> 128 -> 10 IF, 100 steps, rates 5 %;
- NxTF N-MNIST (same paper; 0.29 mJ, 6.46 ms): 34x34 events -> 512 -> 10 IF (522 neurons and
  597 K weights, as published), 100 steps, input 4 %, hidden 5 %;
- peers.md network (SANA-FE 2.2.9's prediction: 247 uJ, 6.31 ms for 100 steps): the exact
  784-512-256-10 network.

    python benchmarks/bench_loihi1_published.py [--samples 2]

Prints one row per network, through the package's own report (``build_report``, default model
``loihi1-sanafe`` with its calibrated [system] lines): the cores' dynamic energy, the dynamic
energy of every line (cores + input injection + management), the total (+ chip static + core
leakage) per inference, and the time per inference and per step, next to the published figure
and the error (predicted / published - 1). Which published figure is total or dynamic is stated
per row. The keyword spotter ran under nengo-loihi, whose host exchanges spikes with the chip
every step: it is priced with ``input_path = "host"``; the others with the embedded x86 path.
Which points calibrated the [system] constants and which were held back: benchmarks/calibrate.py.
Every comparison with silicon maps onto ``loihi1`` (the measurements are Loihi 1's). A second
table puts the same three reconstructions on Loihi 2, snnc's default chip, beside them: the
default ``loihi2-estimate`` model, an ESTIMATE (these networks were never measured on Loihi 2).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.report import build_report
from snnc.backends.report.energy import MODEL_DIR
from snnc.simulators.event import simulate

LIF = {"du": 4095, "dv": 0}  # current = this step's input; no leak (rate-coded IF)


@dataclass
class Net:
    name: str
    graph_for: Callable[[list[int]], ir.Graph]  # thresholds -> lowered graph
    stimulus: Callable[[int, int], np.ndarray]  # (steps, samples) -> (T, B, *shape)
    layers: list[str]
    rates: list[float]  # target firing rate per layer
    steps: int
    energy_mj: float
    energy_kind: str  # "dynamic" or "total"
    time_ms: float
    source: str


def _w(rng: np.random.Generator, shape: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
    return (rng.integers(lo, hi, shape) >> 1) << 1  # even: exact in Lava's mixed-sign 8 bit


def _dense_chain(sizes: list[int], seed: int, lo: int, hi: int) -> Callable[[list[int]], ir.Graph]:
    rng = np.random.default_rng(seed)
    ws = [_w(rng, (b, a), lo, hi) for a, b in itertools.pairwise(sizes)]

    def build(vth: list[int]) -> ir.Graph:
        nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=(sizes[0],)))]
        for k, w in enumerate(ws):
            nodes += [(f"d{k}", ir.LoihiDense(weight=w)),
                      (f"l{k}", ir.LoihiLIF(shape=(w.shape[0],), vth=vth[k], **LIF))]
        return ir.Graph.chain(*nodes, ("y", ir.Output(shape=(sizes[-1],))))

    return build


def _cnn(seed: int) -> Callable[[list[int]], ir.Graph]:
    rng = np.random.default_rng(seed)
    c1, c2 = _w(rng, (16, 1, 5, 5), -40, 60), _w(rng, (32, 16, 3, 3), -40, 60)
    f1, f2 = _w(rng, (128, 32 * 5 * 5), -40, 60), _w(rng, (10, 128), -40, 60)

    def build(vth: list[int]) -> ir.Graph:
        return ir.Graph.chain(
            ("x", ir.Input(shape=(1, 28, 28))),
            ("c1", ir.LoihiConv(input_shape=(1, 28, 28), weight=c1, stride=(2, 2))),
            ("l0", ir.LoihiLIF(shape=(16, 12, 12), vth=vth[0], **LIF)),
            ("c2", ir.LoihiConv(input_shape=(16, 12, 12), weight=c2, stride=(2, 2))),
            ("l1", ir.LoihiLIF(shape=(32, 5, 5), vth=vth[1], **LIF)),
            ("fl", ir.Flatten(input_shape=(32, 5, 5))), ("d2", ir.LoihiDense(weight=f1)),
            ("l2", ir.LoihiLIF(shape=(128,), vth=vth[2], **LIF)),
            ("d3", ir.LoihiDense(weight=f2)), ("l3", ir.LoihiLIF(shape=(10,), vth=vth[3], **LIF)),
            ("y", ir.Output(shape=(10,))))

    return build


def _rate_coded(shape: tuple[int, ...], mean: float, seed: int) -> Callable[[int, int], np.ndarray]:
    """Bernoulli spikes; per-element rates from a fixed random 'image' with the given mean."""
    def stim(steps: int, samples: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        img = rng.random((samples, *shape)) ** 3
        img *= mean / img.mean()
        return (rng.random((steps, samples, *shape)) < np.clip(img, 0, 1)).astype(np.int64)

    return stim


NETS = [
    Net("keyword spotter", _dense_chain([390, 256, 256], 1, -30, 60),
        _rate_coded((390,), 0.10, 11), ["l0", "l1"], [0.10, 0.10], 10, 0.27, "dynamic",
        1e3 / 296, "Blouw et al., NICE 2019 [S]"),
    Net("NxTF MNIST CNN", _cnn(2), _rate_coded((1, 28, 28), 0.10, 12), ["l0", "l1", "l2", "l3"],
        [0.05] * 4, 100, 0.66, "total?", 6.65, "Rueckauer et al., arXiv 2101.04261 [S]"),
    Net("NxTF N-MNIST", _dense_chain([1156, 512, 10], 3, -30, 60),
        _rate_coded((1156,), 0.04, 13), ["l0", "l1"], [0.05, 0.05], 100, 0.29, "total?", 6.46,
        "Rueckauer et al., arXiv 2101.04261 [S]"),
]


def _rates(graph: ir.Graph, x: np.ndarray, layers: list[str]) -> list[float]:
    res = simulate(map_graph(graph, "loihi1"), x, probes=[f"{n}.s" for n in layers])
    return [float(np.mean(res.probes[f"{n}.s"])) for n in layers]


def calibrate(net: Net, x: np.ndarray) -> list[int]:
    """Per layer, in order, the integer threshold whose firing rate is closest to the target."""
    vth = [2**17 - 1] * len(net.layers)
    for k, target in enumerate(net.rates):
        lo, hi = 1, 2**17 - 1
        while lo < hi:
            mid = (lo + hi) // 2
            vth[k] = mid
            if _rates(net.graph_for(vth), x, net.layers)[k] > target:
                lo = mid + 1
            else:
                hi = mid
        vth[k] = lo
    return vth


def measured_map(graph: ir.Graph, x: np.ndarray, chip: str = "loihi1") -> object:
    """Map ``graph`` on ``chip`` (Loihi 1 unless told: these are Loihi 1's measurements) as a
    compile with this input would: with the chip's default mapping (Loihi 1: balanced at the
    activity measured on ``x``, each layer's spikes per neuron per step and the input's, not
    the assumed 10 %; Loihi 2: vendor, which does not use the rates)."""
    layers = [n for n, node in graph.nodes.items() if node.op == "loihi.lif"]
    res = simulate(map_graph(graph, chip, strategy="compact"), x,
                   probes=[f"{n}.s" for n in layers])
    rates = {n: float(np.mean(res.probes[f"{n}.s"] != 0)) for n in layers}
    rates.update({i: float(np.mean(x != 0)) for i in graph.inputs})
    return map_graph(graph, chip, rates=rates)


def peers_network() -> tuple[ir.Graph, np.ndarray]:
    """shared/reference/peers.md benchmark network, lowered (dv = 256, vth 3000/5000/2500)."""
    rng = np.random.default_rng(0)
    nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=(784,)))]
    for k, (a, b, vth) in enumerate(((784, 512, 3000), (512, 256, 5000), (256, 10, 2500))):
        w = (rng.integers(-20, 40, size=(b, a)) >> 1) << 1
        nodes += [(f"d{k}", ir.LoihiDense(weight=w)),
                  (f"l{k}", ir.LoihiLIF(shape=(b,), vth=vth, du=4095, dv=256))]
    x = np.random.default_rng(1).random((100, 784)) < 0.1
    return ir.Graph.chain(*nodes, ("y", ir.Output(shape=(10,)))), x[:, None, :].astype(np.int64)


def _err(pred: float, pub: float) -> str:
    return f"{100 * (pred / pub - 1):+.0f}%"


def _row(name: str, doc: dict, pub_mj: float, kind: str, pub_ms: float, rates: str,
         role: str) -> str:
    e = doc["energy"]
    pred = e["dynamic"] if kind == "dynamic" else e["total"]
    if kind == "cores":
        pred = e["cores_dynamic"]
    t_ms = doc["latency"]["per_inference"] * 1e3
    if kind == "cores":
        t_ms -= doc["latency"]["stages"]["system"] * doc["input"]["timesteps"] * 1e3
    steps = doc["input"]["timesteps"]
    return (f"| {name} | {role} | {doc['chip']['cores']} | {steps} | {rates} | "
            f"{e['cores_dynamic'] * 1e3:.4f} | {e['dynamic'] * 1e3:.4f} | {e['total'] * 1e3:.4f} | "
            f"{pub_mj} ({kind}) | {_err(pred, pub_mj * 1e-3)} | {t_ms:.3f} | "
            f"{1e3 * t_ms / steps:.1f} | {pub_ms:.2f} | {_err(t_ms, pub_ms)} |")


HEADER = ("| network | role | cores | steps | layer rates | cores dynamic (mJ) | dynamic (mJ) | "
          "total (mJ) | published (mJ) | energy error | time (ms) | per step (µs) | "
          "published (ms) | time error |\n" + "|---" * 14 + "|")
ROLE = {"keyword spotter": "fit / fit", "NxTF MNIST CNN": "held back / fit",  # energy / time
        "NxTF N-MNIST": "held back / held back"}


def _host_model(name: str = "loihi1-sanafe") -> str:
    """A chip's default model with input_path = "host" (nengo-loihi), as a temporary TOML."""
    text = (MODEL_DIR / f"{name}.toml").read_text()
    out = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)  # noqa: SIM115
    out.write(text.replace('input_path = "x86"', 'input_path = "host"'))
    out.close()
    return out.name


def _report(graph: ir.Graph, x: np.ndarray, chip: str, host: bool,
            probes: list[str]) -> tuple[dict, Any]:
    """The report of ``graph`` mapped on ``chip`` as a compile with input ``x`` would (balanced
    at the measured activity) under the chip's default energy model (with the host input path
    for nengo-loihi's keyword spotter), and the simulation result."""
    program = measured_map(graph, x, chip)
    res = simulate(program, x, probes=probes)
    model = _host_model(DEFAULT_MODEL[chip]) if host else None
    doc = build_report(program, res, energy_model=model)
    if model is not None:
        Path(model).unlink()
    return doc, res


def run_net(net: Net, samples: int) -> tuple[str, str]:
    """The Loihi 1 row (against the publication) and the Loihi 2 row beside it (same network,
    thresholds and input; none of these networks was measured on Loihi 2)."""
    t0 = time.perf_counter()
    x = net.stimulus(net.steps, samples)
    vth = calibrate(net, x)
    graph, host, probes = net.graph_for(vth), net.name == "keyword spotter", \
        [f"{n}.s" for n in net.layers]
    doc, res = _report(graph, x, "loihi1", host, probes)
    doc2, _ = _report(graph, x, "loihi2", host, probes)
    rates = "/".join(f"{100 * np.mean(res.probes[f'{n}.s']):.1f}" for n in net.layers) + " %"
    print(f"# {net.name}: vth {vth}, {time.perf_counter() - t0:.1f} s; {net.source}")
    kind = net.energy_kind.rstrip("?")
    return (_row(net.name, doc, net.energy_mj, kind, net.time_ms, rates, ROLE[net.name]),
            _row2(net.name, doc, doc2, kind, net.energy_mj, net.time_ms))


def _row2(name: str, doc1: dict, doc2: dict, kind: str, pub_mj: float, pub_ms: float) -> str:
    """Loihi 2 (estimate) beside Loihi 1 and the Loihi 1 publication."""
    key = "dynamic" if kind == "dynamic" else "total"
    e1, e2 = doc1["energy"][key], doc2["energy"][key]
    t1, t2 = (d["latency"]["per_inference"] * 1e3 for d in (doc1, doc2))
    return (f"| {name} | {key} | {pub_mj} | {e1 * 1e3:.4f} | {e2 * 1e3:.4f} | {e2 / e1:.2f} | "
            f"{pub_ms:.2f} | {t1:.3f} | {t2:.3f} | {t2 / t1:.2f} | "
            f"{doc1['chip']['cores']} / {doc2['chip']['cores']} |")


HEADER2 = ("| network | energy | published Loihi 1 (mJ) | Loihi 1 (mJ) | Loihi 2 ESTIMATE (mJ) | "
           "L2 / L1 | published Loihi 1 (ms) | Loihi 1 (ms) | Loihi 2 ESTIMATE (ms) | L2 / L1 | "
           "cores L1 / L2 |\n" + "|---" * 11 + "|")
DEFAULT_MODEL = {"loihi1": "loihi1-sanafe", "loihi2": "loihi2-estimate"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2, help="samples per network")
    args = ap.parse_args()
    both = [run_net(net, args.samples) for net in NETS]
    rows = [r for r, _ in both]
    graph, x = peers_network()
    program = measured_map(graph, x, "loihi1")
    res = simulate(program, x, probes=["l0.s", "l1.s", "l2.s"])
    rates = "/".join(f"{100 * np.mean(res.probes[f'l{k}.s']):.0f}" for k in range(3)) + " %"
    rows.append(_row("peers.md net vs SANA-FE (simulator), cores only", build_report(program, res),
                     0.247, "cores", 6.31, rates, "held back / held back"))
    print(HEADER)
    print("\n".join(rows))
    print("\nThe same reconstructions on Loihi 2 (loihi2-estimate: an ESTIMATE; none of these "
          "networks was measured on Loihi 2):\n")
    print(HEADER2)
    print("\n".join(r for _, r in both))


if __name__ == "__main__":
    main()
