"""Pareto fronts of a sweep and its page (``sweep.html``) and terminal table.

A point is on the front of (accuracy, cost) when no other point has at least its accuracy at
no more than its cost and is better in one of them. Costs: mean energy per sample and mean
latency per sample (``eval`` summaries). Failed points are listed, not plotted.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..backends.report import fmt
from ..backends.report.html import CSS
from ..evaluate.plots import scatter

MARK = "<title>snnc sweep</title>"


def front(rows: list[tuple[str, float, float]]) -> set[str]:
    """Keys of the non-dominated (key, accuracy, cost) rows."""
    out = set()
    for k, a, c in rows:
        dominated = any((a2 >= a and c2 <= c) and (a2 > a or c2 < c) for _, a2, c2 in rows)
        if not dominated:
            out.add(k)
    return out


def _ok(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in points if "summary" in p]


def fronts(points: list[dict[str, Any]]) -> dict[str, set[str]]:
    good = _ok(points)
    acc = {p["key"]: p["summary"]["accuracy"] for p in good}
    return {cost: front([(p["key"], acc[p["key"]], p["summary"][cost]["mean"]) for p in good])
            for cost in ("energy_j", "latency_s")}


def _params(p: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in p["params"].items()) or "(defaults)"


def table_rows(points: list[dict[str, Any]]) -> list[list[str]]:
    f = fronts(points)
    rows = []
    for p in points:
        if "summary" not in p:
            rows.append([_params(p), "failed", "-", "-", "-", "-", "-", p.get("error", "")[:120]])
            continue
        s = p["summary"]
        marks = "".join(m for m, c in (("E", "energy_j"), ("L", "latency_s"))
                        if p["key"] in f[c])
        rows.append([_params(p), fmt.pct(s["accuracy"]), fmt.pct(s["float_accuracy"]),
                     fmt.pct(s["agreement"]), fmt.energy(s["energy_j"]["mean"]),
                     fmt.seconds(s["latency_s"]["mean"]), f"{p['cores']}/{p['chips']}", marks])
    return rows


HEAD = ["point", "accuracy", "float acc.", "agreement", "energy/sample", "latency/sample",
        "cores/chips", "Pareto"]


def terminal(points: list[dict[str, Any]]) -> str:
    rows = [HEAD, *table_rows(points)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEAD))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def html(points: list[dict[str, Any]], experiment: dict[str, Any]) -> str:
    f = fronts(points)
    good = _ok(points)
    charts = []
    for cost, name, fm in (("energy_j", "energy per sample", fmt.energy),
                           ("latency_s", "latency per sample", fmt.seconds)):
        pts = [(p["summary"][cost]["mean"], p["summary"]["accuracy"], _params(p),
                p["key"] in f[cost]) for p in good]
        charts.append(f'<figure class="chart" id="pareto-{cost.split("_")[0]}"><figcaption>'
                      f"accuracy vs {name} (red: Pareto front)</figcaption>"
                      f"{scatter(pts, fm, name, 'accuracy', f'accuracy vs {name}')}</figure>")
    head = "".join(f"<th>{escape(h)}</th>" for h in HEAD)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>"
                   for r in table_rows(points))
    failed = len(points) - len(good)
    parts = [f"<h1>snnc sweep: {escape(str(experiment.get('model', '')))}</h1>",
             f'<p class="note">{len(points)} points ({failed} failed) on '
             f'{escape(str(experiment.get("data", "")))}; grid '
             f'{escape(str(experiment.get("grid", "")))}. Pareto: E = energy front, '
             "L = latency front.</p>", *charts,
             f"<h2>Points</h2><table><tr>{head}</tr>{body}</table>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"{MARK}<style>{CSS}</style></head><body>" + "".join(parts) + "</body></html>\n")
