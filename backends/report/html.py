"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no network).

Drawn from the report document alone, so ``snnc report OUT_DIR`` can redraw it. Charts (each a
``<figure class="chart" id=...>``): energy by layer, energy by kind of event, spike raster,
firing rate per layer over time, step time over time, core utilisation on the chip mesh, and
float-vs-fixed fidelity per layer. Tables: summary, energy models, NeuroBench metrics, the
analytic estimate and ANN baseline, per-layer figures, notes.
"""

from __future__ import annotations

from html import escape
from typing import Any

from . import fmt, svg

CSS = """
body{font-family:sans-serif;margin:24px auto;max-width:980px;color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.badge{display:inline-block;padding:2px 8px;border-radius:4px;font-size:12px;font-weight:bold;
margin-right:6px;color:#fff}.est{background:#c0392b}.worst{background:#d35400}.ok{background:#27ae60}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.card .v{font-size:18px;font-weight:bold}.card .k{font-size:11px;color:#666}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}figure{margin:8px 0}
figcaption{font-size:12px;color:#555;margin-bottom:4px}.note{font-size:12px;color:#555}
"""


def _table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    th = "".join(f"<th>{escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _figure(ident: str, caption: str, chart: str) -> str:
    return (f'<figure class="chart" id="{ident}"><figcaption>{escape(caption)}</figcaption>'
            f"{chart}</figure>")


def _cards(doc: dict) -> str:
    e, lat, chip, inp = doc["energy"], doc["latency"], doc["chip"], doc["input"]
    items = [("energy / inference", fmt.energy(e["total"]), fmt.span(e["total_range"])),
             ("dynamic", fmt.energy(e["dynamic"]), ""),
             ("static", fmt.energy(e["static"]) if e["static"] is not None else "unknown",
              fmt.span(e.get("static_range"))),
             ("latency / inference", fmt.seconds(lat["per_inference"]),
              fmt.span(lat.get("per_inference_range"), fmt.seconds)),
             ("throughput", fmt.rate_per_s(lat["throughput_per_s"]), "inferences"),
             ("chip", f"{chip['cores']} cores", f"{chip['chips']} × {chip['name']}"),
             ("input", inp["kind"], f"{inp['timesteps']} steps × {inp['samples']} sample(s)")]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{escape(v)}</div>'
        f'<div class="k">{escape(sub)}</div></div>' for k, v, sub in items) + "</div>"


def _lines_table(doc: dict) -> str:
    """Every cost line: the cores' events, then the system lines (chip / system / board)."""
    e = doc["energy"]
    if "lines" not in e:
        return ""
    rows = [["neuromorphic cores and mesh (events)", "chip", "dynamic",
             fmt.energy(e["cores_dynamic"]), "", "per-event table"]]
    prog = e.get("programmable") or {}
    if prog.get("layers"):
        rows.append(["of which programmable neuron updates (Loihi 2 microcode), "
                     f"{fmt.count(prog['updates'])} updates", "chip", "dynamic",
                     fmt.energy(prog["joules"]), "", "ESTIMATE: priced as a standard neuron "
                     "update (no published per-update figure)"])
    for ln in e["lines"]:
        val = "not modelled" if ln["joules"] is None else fmt.energy(ln["joules"])
        rows.append([ln["line"].replace("_", " "), ln["scope"], ln["kind"], val,
                     fmt.span(ln["range"]) if ln.get("range") else "",
                     "ESTIMATE" if ln.get("estimate") else "sourced / calibrated"])
    return _table(["cost line", "scope", "kind", "energy / inference", "range", "basis"], rows)


def _header(doc: dict) -> str:
    model = doc["energy"]["model"]
    badges = []
    if model["estimate"]:
        badges.append('<span class="badge est">ESTIMATE</span>')
    if doc["input"]["kind"] == "worst-case":
        badges.append('<span class="badge worst">WORST CASE</span>')
    else:
        badges.append('<span class="badge ok">MEASURED ACTIVITY</span>')
    title = f"snnc report: {doc['chip']['name']}" + (f" ({doc['target']})" if doc["target"] else "")
    return (f"<h1>{escape(title)}</h1><div>{''.join(badges)}</div>"
            + (f'<p class="chip-costs">{escape(doc["chip"]["costs"])}</p>'
               if doc["chip"].get("costs") else "")
            + f'<p class="note">Energy model <b>{escape(model["name"])}</b>: '
            f"{escape(model['source'])}. {escape(doc['input']['note'])}.</p>")


def _energy_charts(doc: dict) -> str:
    layers = sorted(doc["energy"]["by_layer"].items(), key=lambda kv: -kv[1])
    kinds = sorted(((k, v) for k, v in doc["energy"]["by_kind"].items() if v > 0),
                   key=lambda kv: -kv[1])
    return (_figure("chart-energy-layer", "Dynamic energy per inference, by layer (a layer "
                    "includes the synapses into it)", svg.hbars(layers, fmt.energy, "by layer"))
            + _figure("chart-energy-kind", "Dynamic energy per inference, by kind of event",
                      svg.hbars(kinds, fmt.energy, "by kind", svg.PALETTE[3])))


def _activity_charts(doc: dict) -> str:
    ras = doc["activity"]["raster"]
    layers = [(n, ras[n]) for n in (lay["name"] for lay in doc["layers"]) if n in ras]
    rates = [(lay["name"], lay["rate_over_time"]) for lay in doc["layers"]]
    width = max((lay["bin_steps"] for lay in doc["layers"]), default=1)
    lat = doc["latency"]
    return (_figure("chart-raster", "Spike raster (first sample; neurons that fired, evenly "
                    "spaced)", svg.raster(layers, "spike raster"))
            + _figure("chart-rates", "Firing rate per layer over time (spikes per neuron per "
                      f"step{'' if width == 1 else f', mean over {width}-step bins'})",
                      svg.lines(rates, width, lambda v: f"{v:.3g}", "firing rates"))
            + _figure("chart-latency", "Time per step: slowest core + NoC + barrier",
                      svg.lines([("step time", [v * 1e-9 for v in lat["over_time_ns"]])],
                                lat["bin_steps"], fmt.seconds, "step time")))


def _mesh_chart(doc: dict) -> str:
    return _figure("chart-mesh", "Core utilisation on the chip mesh (busy time / run time; "
                   "hover a core for details)", svg.mesh(doc["chip"], doc["cores"], "mesh"))


def _fidelity(doc: dict) -> str:
    fid = doc.get("fidelity") or {}
    rows = fid.get("layers") or []
    agree = svg.hbars([(r["layer"], r["spike_agreement"]) for r in rows], fmt.pct,
                      "spike agreement", svg.PALETTE[4]) if rows else svg.empty(
        "no float-vs-chip comparison (needs the float model and recorded chip spikes)",
        "fidelity")
    rates = svg.paired_bars([(r["layer"], r["float_rate"], r["chip_rate"]) for r in rows],
                            ("float", "chip"), lambda v: f"{v:.3g}", "rates") if rows else ""
    table = _table(["layer", "float layer", "float rate", "chip rate", "agreement", "lag"],
                   [[r["layer"], r["float_layer"], f"{r['float_rate']:.4g}",
                     f"{r['chip_rate']:.4g}", fmt.pct(r["spike_agreement"], 2), r["lag_steps"]]
                    for r in rows]) if rows else ""
    return _figure("chart-fidelity", "Float vs fixed-point (chip) per layer: spike agreement "
                   "and firing rates", agree + rates) + table


def _models_table(doc: dict) -> str:
    rows = [[a["model"] + (" (ESTIMATE)" if a["estimate"] else ""), fmt.energy(a["total"]),
             fmt.span(a["total_range"]) or "unknown", fmt.energy(a["dynamic"]),
             fmt.energy(a["static"]) if a["static"] is not None else "unknown",
             fmt.seconds(a["latency_per_inference"]), a["source"]]
            for a in doc["alternative_energy"]]
    return _table(["energy model", "total", "range", "dynamic", "static", "latency", "source"],
                  rows)


def _neurobench_table(doc: dict) -> str:
    nb = doc.get("neurobench")
    if not nb:
        return '<p class="note">No NeuroBench metrics (no graph given).</p>'
    syn = nb.get("synaptic_operations") or {}
    rows = [["Effective_ACs per sample", fmt.count(syn.get("Effective_ACs"))],
            ["Effective_MACs per sample", fmt.count(syn.get("Effective_MACs"))],
            ["Dense synaptic ops per sample", fmt.count(syn.get("Dense"))],
            ["ActivationSparsity", "-" if nb["activation_sparsity"] is None
             else f"{nb['activation_sparsity']:.4f}"],
            ["MembraneUpdates per sample", fmt.count(nb["membrane_updates"])],
            ["ConnectionSparsity", f"{nb['connection_sparsity']:.4f}"],
            ["ParameterCount", nb["parameter_count"]],
            ["Footprint (bytes)", nb["footprint_bytes"]]]
    return (f'<p class="note">{escape(nb["model"])}. {escape(nb["definitions"])}</p>'
            + _table(["NeuroBench metric", "value"], rows))


def _analytic_table(doc: dict) -> str:
    an = doc.get("analytic")
    if not an:
        return ""
    rows = [["chip model (" + doc["energy"]["model"]["name"] + "), dynamic",
             fmt.energy(doc["energy"]["dynamic"])],
            [f"SNN analytic (E_MAC {an['e_mac_pj']} pJ, E_AC {an['e_ac_pj']} pJ)",
             fmt.energy(an["snn_energy"])],
            ["ANN baseline, same network (E_MAC x FLOPs)", fmt.energy(an["ann_energy"])]]
    layers = [[r["layer"], fmt.count(r["flops"]), f"{r['input_rate']:.4g}", r["charged_as"],
               r["steps"], fmt.count(r["ops"]), fmt.energy(r["energy"])] for r in an["layers"]]
    return (f'<p class="note">{escape(an["source"])}; rates from {escape(an["rates_from"])}. '
            "Analytic figures are 45 nm digital-logic estimates, not chip measurements.</p>"
            + _table(["estimate", "energy per inference"], rows)
            + _table(["layer", "FLOPs/step", "input rate", "as", "steps", "ops", "energy"],
                     layers))


def _conversion(doc: dict) -> str:
    sec = doc.get("conversion")
    if not sec:
        return ""
    ann = sec.get("ann_accuracy")
    extra = [m for m in sec.get("methods", []) if m != "plain"]
    rows = [[r["T"], fmt.pct(r["snn_accuracy"]), fmt.pct(r["chip_accuracy"]),
             *[f'{fmt.pct(r["methods"][m]["snn_accuracy"])} / '
               f'{fmt.pct(r["methods"][m]["chip_accuracy"])}' for m in extra],
             fmt.energy(r["energy"]), fmt.seconds(r["latency_per_inference"])]
            for r in sec["rows"]]
    return ("<h2>Accuracy vs time steps (converted SNN)</h2>"
            f'<p>ANN accuracy {"-" if ann is None else fmt.pct(ann)} on {sec["samples"]} '
            f'samples ({escape(str(sec["source"]))}); energy model '
            f'{escape(sec["energy_model"])}.</p><p class="note">{escape(sec["note"])}</p>'
            + _table(["T", "SNN accuracy (float)", "SNN accuracy (chip)",
                      *[f"{m} (float / chip)" for m in extra], "energy / inference (plain)",
                      "latency / inference (plain)"], rows))


def _layer_table(doc: dict) -> str:
    rows = [[lay["name"], "x".join(map(str, lay["shape"])), lay["neurons"], lay["cores"],
             fmt.count(lay["spikes"]), f"{lay['firing_rate']:.4g}", fmt.count(lay["syn_ops"]),
             fmt.energy(lay["energy"]), fmt.pct(lay["energy_share"]),
             ", ".join(lay.get("programmable") or []) or "fixed"] for lay in doc["layers"]]
    return _table(["layer", "shape", "neurons", "cores", "spikes", "rate", "syn. ops",
                   "energy", "share", "neuron model"], rows)


def _model_constants(doc: dict) -> str:
    m = doc["energy"]["model"]
    est = set(m["estimated_events"])
    rows = [[k + (" [E]" if k in est else ""), m["energy_pj"][k], m["time_ns"].get(k, "-")]
            for k in m["energy_pj"]]
    unc = m["uncertainty"].get("basis", "not stated")
    watts = m["static_w_per_chip"]
    static = "unknown" if watts is None else f"{watts} W per chip"
    return (_table(["event", "energy (pJ)", "time (ns)"], rows)
            + f'<p class="note">Uncertainty: {escape(str(unc))}. Static power: '
            f"{escape(static)} ({escape(m['static_source'])}). [E] marks snnc estimates.</p>")


def render_html(doc: dict) -> str:
    """The whole page for one report document."""
    notes = "".join(f"<li>{escape(n)}</li>" for n in doc["notes"])
    parts = [_header(doc), _cards(doc),
             "<h2>Energy</h2>", _lines_table(doc), _energy_charts(doc), _models_table(doc),
             "<h2>Activity and latency</h2>", _activity_charts(doc), _layer_table(doc),
             "<h2>Chip</h2>", _mesh_chart(doc),
             "<h2>Float vs fixed-point fidelity</h2>", _fidelity(doc),
             "<h2>NeuroBench metrics</h2>", _neurobench_table(doc),
             "<h2>Analytic estimate and ANN baseline</h2>", _analytic_table(doc),
             _conversion(doc),
             "<h2>Energy model</h2>", _model_constants(doc),
             f"<h2>Notes</h2><ul>{notes}</ul>",
             f'<p class="note">{escape(doc["generator"])}, report schema v{doc["version"]}.</p>']
    title = escape(f"snnc report: {doc['chip']['name']}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{CSS}</style></head><body>"
            + "".join(parts) + "</body></html>\n")
