"""The analytic energy estimate SNN papers quote, and the ANN baseline of the same network.

Constants: Horowitz, "Computing's Energy Problem", ISSCC 2014, 45 nm CMOS (loihi.md section
6.1): E_MAC = mult + add, E_AC = add; FP32 4.6 / 0.9 pJ (the usual choice), FP16 1.5 / 0.4,
INT8 0.23 / 0.03.

    E_ANN = E_MAC * sum_l FLOPs_l                          (one forward pass)
    E_SNN = E_MAC * FLOPs_first * T_first + E_AC * sum_{l > first} fr_l * T * FLOPs_l

FLOPs_l are layer l's dense MACs as papers count them (out x in; Cout * H_out * W_out * Cin/g *
kH * kW for convolutions), fr_l the fraction of non-zero elements of layer l's input per step
(measured), T the time steps. The *first* layers read the graph input: with analog input they
are charged as MACs, once if the input is the same at every step (direct encoding of a static
input, which the papers count once) or T times if it changes; with spiking input (only -1, 0, 1)
they are charged as ACs like every other layer. These are estimates for 45 nm digital logic,
not for any neuromorphic chip: the report quotes them next to the chip model to show the gap.

Spike-driven self-attention (Spike-driven Transformer V1, Yao et al., NeurIPS 2023, energy
appendix: E = E_MAC * FL_conv^1 + E_AC * T * (sum_n FL_conv^n * fr^n + sum_m FL_MLP^m * fr^m),
FL_conv = k^2 * h * w * c_in * c_out, FL_MLP = in * out): its projections are the connection
layers above; its Hadamard products are masks (no arithmetic, as the paper argues) and its column
sum over tokens adds ``fr * T * n_in`` ACs (n_in the elements of K * V summed; an ``axis_sum``
row, ``kind = "attention-sum"``). Multi-level integer spikes (QSD-Transformer, SpikeYOLO) and
integer products count one AC per unit of spike value, as those papers expand an integer spike
into that many binary spikes over virtual time steps (``graphstats.input_rate``; for binary
spikes this is the fraction above). ``per_block`` groups these rows and the chip's per-layer
energy by block (the ``blocks.<i>`` prefix of the PyTorch module path), so the report shows
both per block.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ...ir import Graph
from .graphstats import (
    attention_sums,
    connection_nodes,
    dense_flops,
    input_rate,
    node_input,
    reads_graph_input,
)

SOURCE = "Horowitz, ISSCC 2014, 45 nm (E_MAC = mult + add, E_AC = add)"
PRESETS = {"fp32": (4.6, 0.9), "fp16": (1.5, 0.4), "int8": (0.23, 0.03)}


def _layer(graph: Graph, name: str, x: np.ndarray | None, steps: int) -> dict[str, Any]:
    flops = dense_flops(graph.nodes[name])
    first = reads_graph_input(graph, name)
    rate = input_rate(graph, name, x)
    spiking = x is not None and not np.any((x != 0) & (x != 1) & (x != -1))
    if first and not spiking:
        static = x is not None and bool(np.all(x == x[:1]))
        t_first = 1 if static else steps
        return {"layer": name, "flops": flops, "input_rate": rate, "first": True,
                "charged_as": "MAC", "steps": t_first, "ops": float(flops * t_first)}
    return {"layer": name, "flops": flops, "input_rate": rate, "first": first,
            "charged_as": "AC", "steps": steps, "ops": rate * steps * flops}


def analytic_estimate(graph: Graph, probes: dict[str, np.ndarray] | None, steps: int,
                      precision: str = "fp32") -> dict[str, Any]:
    """SNN and ANN energy (J per inference) of ``graph`` (see the module docstring).

    ``probes``: recorded activity (``neurobench.record``); None means worst case (rate 1).
    """
    e_mac, e_ac = PRESETS[precision]
    layers = []
    for name in connection_nodes(graph):
        x = None if probes is None else node_input(graph, name, probes)
        row = _layer(graph, name, x, steps)
        row["energy"] = row["ops"] * (e_mac if row["charged_as"] == "MAC" else e_ac) * 1e-12
        layers.append(row)
    for name in attention_sums(graph):
        x = None if probes is None else node_input(graph, name, probes)
        n_in = int(np.prod(graph.nodes[name].input_shape))
        rate = input_rate(graph, name, x)
        layers.append({"layer": name, "kind": "attention-sum", "flops": n_in, "input_rate": rate,
                       "first": False, "charged_as": "AC", "steps": steps,
                       "ops": rate * steps * n_in, "energy": rate * steps * n_in * e_ac * 1e-12})
    snn = sum(r["energy"] for r in layers)
    ann = e_mac * sum(r["flops"] for r in layers if "kind" not in r) * 1e-12
    return {"source": SOURCE, "precision": precision, "e_mac_pj": e_mac, "e_ac_pj": e_ac,
            "timesteps": steps, "snn_energy": snn, "ann_energy": ann,
            "ann_over_snn": ann / snn if snn > 0 else None,
            "rates_from": "worst case (every input non-zero)" if probes is None
            else "measured activity of the float model",
            "layers": layers}


_BLOCK = re.compile(r"^(.*?\b(?:blocks?|layers?|stages?)\.\d+)(?:\.|_|$)")


def block_of(name: str) -> str:
    """``blocks.0.attn.q.0`` -> ``blocks.0``; names outside numbered blocks group by their first
    word (``embed.0`` and relays ``embed.0_..._relay1`` -> ``embed``; ``head_lif`` -> ``head``)."""
    m = _BLOCK.match(name)
    if m:
        return m.group(1)
    return re.split(r"[._]", name, maxsplit=1)[0] or name


def per_block(chip_layers: list[dict[str, Any]], analytic: dict[str, Any] | None
              ) -> list[dict[str, Any]]:
    """Chip energy from counted events and the 45 nm estimate, per block (first seen first)."""
    rows: dict[str, dict[str, Any]] = {}

    def row(b: str) -> dict[str, Any]:
        return rows.setdefault(b, {"block": b, "chip_energy": 0.0, "chip_syn_ops": 0.0,
                                   "chip_spikes": 0.0, "chip_layers": 0, "analytic_energy": 0.0,
                                   "analytic_mac": 0.0, "analytic_ac": 0.0,
                                   "analytic_layers": 0})

    for r in chip_layers:
        b = row(block_of(r["name"]))
        b["chip_energy"] += float(r.get("energy", 0.0))
        b["chip_syn_ops"] += float(r.get("syn_ops", 0.0))
        b["chip_spikes"] += float(r.get("spikes", 0.0))
        b["chip_layers"] += 1
    for r in (analytic or {}).get("layers", []):
        b = row(block_of(r["layer"]))
        b["analytic_energy"] += float(r["energy"])
        b["analytic_mac" if r["charged_as"] == "MAC" else "analytic_ac"] += float(r["ops"])
        b["analytic_layers"] += 1
    return list(rows.values())
