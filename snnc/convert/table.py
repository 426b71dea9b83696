"""Accuracy versus time steps for a converted model, with the energy per inference at each T.

For the user's labelled data: the float ANN's accuracy, then the SNN's accuracy at each T
(prediction = argmax of the output summed over T steps) for each method, and the energy per
inference at T from the 45 nm analytic model (``backends.report.analytic``: E_MAC for the first
layer on analog input, once, and E_AC per synaptic event after it, from the measured spike
rates). That trade-off is what users of conversion choose on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import Graph
from .runtime import ann_output, run

STEPS = (1, 2, 4, 8, 16, 32)
#: samples whose activity sets the energy estimate (rates are averages; this bounds the cost)
ENERGY_SAMPLES = 256


def accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores.reshape(len(y), -1), axis=1) == y))


def _energy(snn: Graph, x: np.ndarray, steps: tuple[int, ...]) -> dict[int, float]:
    from ..backends.report.analytic import analytic_estimate
    from ..stages.measure import record_float as record

    xs = np.asarray(x[:ENERGY_SAMPLES], dtype=np.float64)
    t_max = max(steps)
    probes = record(snn, np.broadcast_to(xs, (t_max, *xs.shape)), t_max)
    return {t: analytic_estimate(snn, {k: v[:t] for k, v in probes.items()}, t)["snn_energy"]
            for t in steps}


def accuracy_table(ann: Graph, snn: Graph, x: np.ndarray, y: np.ndarray,
                   steps: tuple[int, ...] = STEPS, methods: tuple[str, ...] = ("plain",),
                   tau: int = 8) -> dict[str, Any]:
    """ANN accuracy and SNN accuracy per method and T (see the module docstring)."""
    y = np.asarray(y).astype(np.int64).reshape(-1)
    x = np.asarray(x, dtype=np.float64)
    ann_acc = accuracy(ann_output(ann, x), y)
    t_max = max(steps)
    per_method = {}
    for m in methods:
        cum = run(snn, x, t_max, m, tau)
        per_method[m] = {t: accuracy(cum[t - 1], y) for t in steps}
    energy = _energy(snn, x, steps)
    from ..backends.report.analytic import analytic_estimate

    ann_energy = analytic_estimate(ann, None, 1)["ann_energy"]
    rows = [{"T": t, "accuracy": {m: per_method[m][t] for m in methods},
             "latency_steps": {m: t + (tau if m != "plain" else 0) for m in methods},
             "energy_45nm_j": energy[t]} for t in steps]
    return {"samples": len(y), "ann_accuracy": ann_acc, "ann_energy_45nm_j": ann_energy,
            "methods": list(methods), "tau": tau, "rows": rows,
            "energy_source": "45 nm analytic estimate (Horowitz 2014), plain method's spikes, "
                             f"first {min(len(y), ENERGY_SAMPLES)} samples"}


def format_table(tab: dict[str, Any]) -> list[str]:
    methods = tab["methods"]
    head = f"  {'T':>3}  " + "  ".join(f"{m:>7}" for m in methods) + f"  {'energy/inf':>11}"
    lines = [f"ANN accuracy {tab['ann_accuracy']:.1%} on {tab['samples']} samples "
             f"(ANN energy {tab['ann_energy_45nm_j'] * 1e9:.3g} nJ at 45 nm)", head]
    for r in tab["rows"]:
        accs = "  ".join(f"{r['accuracy'][m]:>7.1%}" for m in methods)
        lines.append(f"  {r['T']:>3}  {accs}  {r['energy_45nm_j'] * 1e9:>8.3g} nJ")
    return lines


def html_page(doc: dict[str, Any]) -> str:
    """A self-contained ``conversion.html``: thresholds per layer and the accuracy-vs-T table."""
    from html import escape

    conv = doc["conversion"]
    rows = "".join(f"<tr><td>{escape(lay['name'])}</td><td>{lay['op']}</td>"
                   f"<td>{np.round(lay['threshold'], 6).tolist()}</td>"
                   f"<td>{np.round(lay['v_init'], 6).tolist()}</td></tr>"
                   for lay in conv["layers"])
    parts = [f"<h1>Conversion of {escape(doc['model'])}</h1>",
             f"<p>threshold mode {escape(str(conv['mode']))}, OPI {conv['opi']}</p>",
             "<table><tr><th>layer</th><th>op</th><th>threshold</th><th>v0 (thresholds)</th>"
             f"</tr>{rows}</table>"]
    tab = doc.get("accuracy_vs_timesteps")
    if tab:
        ms = tab["methods"]
        head = "".join(f"<th>{m}</th>" for m in ms)
        body = "".join(
            f"<tr><td>{r['T']}</td>" + "".join(f"<td>{r['accuracy'][m]:.1%}</td>" for m in ms)
            + f"<td>{r['energy_45nm_j'] * 1e9:.3g} nJ</td></tr>" for r in tab["rows"])
        parts += [f"<h2>Accuracy vs time steps ({tab['samples']} samples)</h2>",
                  f"<p>ANN accuracy {tab['ann_accuracy']:.1%}; ANN energy "
                  f"{tab['ann_energy_45nm_j'] * 1e9:.3g} nJ. Energy: "
                  f"{escape(tab['energy_source'])}. SRP/COS add {tab['tau']} pre-steps.</p>",
                  f"<table><tr><th>T</th>{head}<th>energy / inference</th></tr>{body}</table>"]
    style = "body{font-family:sans-serif}td,th{border:1px solid #999;padding:2px 8px}"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>snnc conversion</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
