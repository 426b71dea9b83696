"""Programmable neuron updates (Loihi 2 microcode): counted and priced apart in the report.

A chip layer whose ``loihi.lif`` node is ``programmable`` (subtract reset, the ``>=``
comparator or a non-zero ``v_init``; ``ir/loihi_ops.py``) does not run Lava's fixed LIF but a
neuron program, which only Loihi 2 has (shared/reference/loihi.md §2: "programmable
(microcode)"). Intel publishes no energy per neuron update for Loihi 2 (loihi.md §2, "Not
published"), and the one neuron-update rate it gives (Hala Point's 240e12 neuron ops/s, a peak
figure ``loihi2_facts.py`` uses for the time factor) does not say which neuron program it
counts, so snnc prices such an update as a standard neuron update of the energy model's
table: the program computes what the fixed LIF computes (the same u and v decays, one
comparison) plus at most one subtraction per spike (subtract reset) or one register load per
periodic reset (``v_init``), and no figure says what that costs. The section makes that
visible instead of burying it in the layer's total: which layers, what makes them
programmable, how many updates, and the joules those updates are charged (already part of
``energy.cores_dynamic``; nothing is added).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .energy import EnergyModel

BASIS = ("priced as a standard neuron update (the model's neuron_active / neuron_inactive "
         "cost): Intel publishes no per-update energy for Loihi 2 and no figure per microcode "
         "neuron program (shared/reference/loihi.md §2); the program does the fixed LIF's work "
         "plus at most one subtraction per spike (subtract reset) or one load per reset "
         "(v_init)")


def features(node: Any) -> list[str]:
    """What makes a ``loihi.lif`` node need a neuron program (empty: Lava's fixed LIF)."""
    if getattr(node, "op", None) != "loihi.lif" or not getattr(node, "programmable", False):
        return []
    out = []
    if node.reset == "subtract":
        out.append("subtract reset" + ("" if node.decay_reset else " (delayed)"))
    if node.comparator != ">":
        out.append(f"comparator {node.comparator}")
    if np.any(np.asarray(node.v_init) != 0):
        out.append("v_init")
    return out


def programmable_section(program: Any, counters: Any, model: EnergyModel) -> dict[str, Any]:
    """``energy.programmable`` of the report: per programmable layer its features, neuron
    updates and their energy per inference (J); totals; the pricing basis. Zero updates and
    no layers when the program has no programmable neuron."""
    n = max(int(counters.n_samples), 1)
    active = np.asarray(counters.neurons_active, np.float64).sum(0) / n
    inactive = np.asarray(counters.neurons_inactive, np.float64).sum(0) / n
    pj_a, pj_i = model.energy_pj["neuron_active"], model.energy_pj["neuron_inactive"]
    rows = []
    for name, lm in program.layers.items():
        feats = features(program.graph.nodes.get(name))
        if not feats:
            continue
        cores = list(lm.cores)
        a, i = float(active[cores].sum()), float(inactive[cores].sum())
        rows.append({"layer": name, "features": feats, "updates": a + i,
                     "joules": (a * pj_a + i * pj_i) * 1e-12})
    return {"updates": sum(r["updates"] for r in rows),
            "joules": sum(r["joules"] for r in rows),
            "priced_as": "standard neuron update", "basis": BASIS, "layers": rows}


def note(section: dict[str, Any], cores_dynamic_j: float) -> str | None:
    """The report note for programmable updates, or None when there are none."""
    if not section["layers"]:
        return None
    share = section["joules"] / cores_dynamic_j if cores_dynamic_j else 0.0
    names = ", ".join(f"{r['layer']} ({', '.join(r['features'])})" for r in section["layers"])
    return (f"programmable neuron updates (Loihi 2 microcode) in {names}: "
            f"{section['updates']:.6g} per inference, {share:.1%} of the cores' dynamic "
            f"energy; {section['basis']}")
