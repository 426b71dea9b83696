"""The evaluation report: ``eval.json`` (the merged counts and what follows from them), a
terminal summary and ``eval.html`` (confusion matrix, energy and latency histograms over
samples; inline SVG, no scripts)."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from ..backends.report import fmt
from ..backends.report.html import CSS
from .counts import EvalCounts, summary
from .plots import heatmap, histogram

KIND = "snnc.eval"
VERSION = 1


def eval_doc(c: EvalCounts, meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON document: ``meta`` (program, data, chip, steps, ...), summary, counts."""
    k = c.n_classes
    per_class = []
    for i in range(k):
        n_i = int(c.confusion[i].sum())
        per_class.append({"class": i, "samples": n_i,
                          "accuracy": float(c.confusion[i, i]) / n_i if n_i else None})
    return {"kind": KIND, "version": VERSION, **meta, "summary": summary(c),
            "per_class": per_class, "counts": c.to_dict()}


def _dist_row(name: str, d: dict[str, float], f: Any) -> str:
    if not d:
        return f"  {name:<16} -"
    return (f"  {name:<16} mean {f(d['mean'])}  median {f(d['median'])}  "
            f"p5 {f(d['p5'])}  p95 {f(d['p95'])}  max {f(d['max'])}")


def terminal(doc: dict[str, Any]) -> str:
    s = doc["summary"]
    lines = [f"eval: {s['samples']} samples of {doc['data']} on {doc['chip']} "
             f"({doc['steps']} + {doc['latency_steps']} steps, energy model "
             f"{doc['energy_model']})",
             f"  accuracy         {fmt.pct(s['accuracy'])} (float model "
             f"{fmt.pct(s['float_accuracy'])}, agreement {fmt.pct(s['agreement'])})",
             _dist_row("energy/sample", s["energy_j"], fmt.energy),
             _dist_row("latency/sample", s["latency_s"], fmt.seconds)]
    return "\n".join(lines)


def _cards(s: dict[str, Any]) -> str:
    items = [("accuracy (chip)", fmt.pct(s["accuracy"])),
             ("accuracy (float model)", fmt.pct(s["float_accuracy"])),
             ("chip/float agreement", fmt.pct(s["agreement"])),
             ("energy per sample (mean)", fmt.energy(s["energy_j"].get("mean"))),
             ("energy p95", fmt.energy(s["energy_j"].get("p95"))),
             ("latency per sample (mean)", fmt.seconds(s["latency_s"].get("mean"))),
             ("latency p95", fmt.seconds(s["latency_s"].get("p95")))]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{escape(v)}</div><div class="k">{escape(k)}</div>'
        "</div>" for k, v in items) + "</div>"


def _figure(ident: str, caption: str, chart: str) -> str:
    return (f'<figure class="chart" id="{ident}"><figcaption>{escape(caption)}</figcaption>'
            f"{chart}</figure>")


def html(doc: dict[str, Any]) -> str:
    s, c = doc["summary"], doc["counts"]
    rows = "".join(f"<tr><td>{r['class']}</td><td>{r['samples']}</td>"
                   f"<td>{fmt.pct(r['accuracy']) if r['accuracy'] is not None else '-'}</td></tr>"
                   for r in doc["per_class"])
    parts = [f"<h1>snnc eval: {escape(str(doc['program']))}</h1>",
             f'<p class="note">{s["samples"]} samples of {escape(doc["data"])} on '
             f'{escape(doc["chip"])}; {doc["steps"]} input steps + {doc["latency_steps"]} '
             f'pipeline steps; energy model {escape(doc["energy_model"])}; '
             f'{doc["workers"]} worker(s).</p>', _cards(s),
             "<h2>Confusion matrix (rows: label, columns: chip prediction)</h2>",
             _figure("confusion", "samples per (label, prediction)",
                     heatmap(np.asarray(c["confusion"]), "confusion matrix", "predicted",
                             "label")),
             "<h2>Energy and latency over samples</h2>",
             _figure("energy-hist", "energy per sample (dynamic + static)",
                     histogram(c["energy_j"], fmt.energy, "energy per sample")),
             _figure("latency-hist", "latency per sample",
                     histogram(c["latency_s"], fmt.seconds, "latency per sample")),
             "<h2>Per class</h2><table><tr><th>class</th><th>samples</th><th>accuracy</th>"
             f"</tr>{rows}</table>",
             '<p class="note">Counts are merged per shard (confusion matrices added, per-sample '
             "records concatenated); every rate and percentile is computed once from them.</p>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>snnc eval</title><style>{CSS}</style></head><body>" + "".join(parts)
            + "</body></html>\n")
