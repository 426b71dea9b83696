"""The terminal summary of a report (rich renderables, printed by ``snnc report`` and compile)."""

from __future__ import annotations

from typing import Any

from . import fmt

LINE_LABEL = {"input_injection": "input injection (x86)", "management": "management + sync",
              "graded_payload": "graded payloads", "chip_static": "chip static",
              "core_leakage": "powered cores (leakage)", "board": "board"}
STAGE_LABEL = {"cores": "neuromorphic cores", "noc": "NoC", "barrier": "barrier",
               "system": "x86 / host (management + input)"}



def _mapping_line(mp: dict) -> str:
    """How the chip was mapped; only ``balanced`` weighs per-core work by activity."""
    if not mp:
        return ""
    strategy = mp.get("strategy", "unknown")
    line = f"{strategy} mapping" + (f" ({mp['fallback']})" if mp.get("fallback") else "")
    if strategy == "vendor":
        return line + ", cores per layer as Lava's Loihi 2 compiler chooses them"
    if strategy != "balanced":
        return line
    return line + ", per-core work weighed at " + (
        "the measured activity" if mp.get("activity") == "measured" else
        "an assumed 10 % activity")

def _summary(doc: dict) -> Any:
    from rich.table import Table

    e, lat, chip, inp = doc["energy"], doc["latency"], doc["chip"], doc["input"]
    model = e["model"]
    t = Table(title="snnc report" + (f" ({doc['target']})" if doc["target"] else ""),
              show_header=False, title_justify="left",
              caption="estimate: no measurement behind the figure; fitted: calibrated on "
                      "published Loihi 1 measurements (benchmarks/calibrate.py); unmarked: "
                      "published per-event costs", caption_justify="left")
    t.add_column("what", style="bold")
    t.add_column("value")
    t.add_column("range / detail", style="dim")
    label = model["name"] + (" [red]ESTIMATE[/red]" if model["estimate"] else "")
    mp = chip.get("mapping") or {}
    t.add_row("chip", f"{chip['name']}: {chip['cores']} cores on {chip['tiles']} tiles of "
              f"{chip['chips']} chip(s)", _mapping_line(mp))
    kind = inp["kind"] if inp["kind"] != "worst-case" else "[bold red]WORST CASE[/bold red]"
    t.add_row("input", f"{kind}: {inp['timesteps']} steps x {inp['samples']} sample(s)", "")
    t.add_row("energy model", label, model["source"])
    t.add_row("energy / inference", fmt.energy(e["total"]), fmt.span(e["total_range"]))
    static = fmt.energy(e["static"]) if e["static"] is not None else "unknown (not included)"
    srange = fmt.span(e.get("static_range"))
    t.add_row("  dynamic / static", f"{fmt.energy(e['dynamic'])} / {static}",
              f"static {srange}" if srange else "")
    model_est = " [yellow]estimate[/yellow]" if model["estimate"] else ""
    if "cores_dynamic" in e:
        t.add_row("    neuromorphic cores", fmt.energy(e["cores_dynamic"]) + model_est,
                  "chip, dynamic")
    prog = e.get("programmable") or {}
    if prog.get("layers"):
        t.add_row("      of which programmable", fmt.energy(prog["joules"]),
                  f"{fmt.count(prog['updates'])} neuron updates (Loihi 2 microcode), "
                  "[yellow]priced as a standard update[/yellow] (no Loihi 2 figure)")
    for ln in e.get("lines", []):
        if ln["joules"] is None and ln["line"] != "board":
            continue
        val = fmt.energy(ln["joules"]) if ln["joules"] is not None else "not known"
        est = (" [yellow]estimate[/yellow]" if ln.get("estimate") else
               " [cyan]fitted[/cyan]" if ln.get("fitted") else "")
        t.add_row(f"    {LINE_LABEL.get(ln['line'], ln['line'])}", val + est,
                  f"{ln['scope']}, {ln['kind']}" + (f" {fmt.span(ln['range'])}"
                                                     if ln.get("range") else ""))
    t.add_row("latency / inference", fmt.seconds(lat["per_inference"]) + model_est,
              fmt.span(lat.get("per_inference_range"), fmt.seconds))
    ps = lat["per_step"]
    t.add_row("  per step (mean)", fmt.seconds(ps["mean"]),
              f"slowest core {fmt.seconds(ps['compute_mean'])} + NoC "
              f"{fmt.seconds(ps['noc_mean'])} + barrier {fmt.seconds(ps['barrier'])}"
              + (f" + x86/host {fmt.seconds(ps['system_mean'])}" if ps.get("system_mean")
                 else ""))
    t.add_row("throughput", fmt.rate_per_s(lat["throughput_per_s"]) + " inferences", "")
    b = lat["bottleneck"]
    if b["core"] is not None and b["core"] >= 0:
        t.add_row("bottleneck", f"core {b['core']} ({b['layer']})",
                  f"slowest in {fmt.pct(b['fraction_of_steps'], 0)} of busy steps")
        pipe = lat.get("pipeline")
        if pipe:
            st = {k: v for k, v in pipe["bottleneck_core_stages"].items() if v > 0}
            t.add_row("  its pipeline / step", " + ".join(
                f"{k.replace('_', ' ')} {fmt.seconds(v)}" for k, v in st.items()) or "idle",
                f"slowest core {fmt.pct(pipe['slowest_core_share'], 0)} of a step")
    if b.get("stage"):
        t.add_row("  slowest stage", STAGE_LABEL.get(b["stage"], b["stage"]),
                  f"{fmt.pct(b['stage_share'], 0)} of the run time")
    return t


def _layers(doc: dict) -> Any:
    from rich.table import Table

    t = Table(title="Per layer (per inference)", title_justify="left")
    for col in ("layer", "neurons", "cores", "spikes", "rate", "syn. ops", "energy", "share"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for lay in doc["layers"]:
        name = lay["name"] + (" (programmable)" if lay.get("programmable") else "")
        t.add_row(name, str(lay["neurons"]), str(lay["cores"]), fmt.count(lay["spikes"]),
                  f"{lay['firing_rate']:.3g}", fmt.count(lay["syn_ops"]),
                  fmt.energy(lay["energy"]), fmt.pct(lay["energy_share"]))
    host = doc["energy"]["by_layer"].get("(host input)")
    if host:
        t.add_row("(host input)", "", "", "", "", "", fmt.energy(host), "")
    return t


def _estimates(doc: dict) -> Any:
    from rich.table import Table

    t = Table(title="Energy per inference, every estimate", title_justify="left")
    for col in ("estimate", "total", "range", "latency"):
        t.add_column(col, justify="left" if col == "estimate" else "right")
    for a in doc["alternative_energy"]:
        name = a["model"] + (" (ESTIMATE)" if a["estimate"] else "")
        t.add_row(name, fmt.energy(a["total"]), fmt.span(a["total_range"]) or "unknown",
                  fmt.seconds(a["latency_per_inference"]))
    an = doc.get("analytic")
    if an:
        t.add_row(f"SNN analytic, 45 nm ({an['e_mac_pj']}/{an['e_ac_pj']} pJ)",
                  fmt.energy(an["snn_energy"]), "", "")
        t.add_row("ANN baseline, 45 nm", fmt.energy(an["ann_energy"]), "", "")
    return t


def _neurobench(doc: dict) -> Any:
    from rich.table import Table

    nb = doc.get("neurobench")
    if not nb:
        return None
    syn = nb.get("synaptic_operations") or {}
    t = Table(title="NeuroBench metrics (per sample)", title_justify="left", show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k in ("Effective_ACs", "Effective_MACs", "Dense"):
        t.add_row(f"SynapticOperations {k}", fmt.count(syn.get(k)))
    sp = nb["activation_sparsity"]
    t.add_row("ActivationSparsity", "-" if sp is None else f"{sp:.4f}")
    t.add_row("MembraneUpdates", fmt.count(nb["membrane_updates"]))
    t.add_row("ConnectionSparsity", f"{nb['connection_sparsity']:.4f}")
    t.add_row("ParameterCount / Footprint", f"{nb['parameter_count']} / {nb['footprint_bytes']} B")
    return t


def _blocks(doc: dict) -> Any:
    """Per block: the chip estimate from counted events next to the papers' 45 nm estimate
    (shown when the model has numbered blocks, e.g. a spiking transformer)."""
    from rich.table import Table

    rows = (doc.get("analytic") or {}).get("blocks") or []
    if not any("." in r["block"] for r in rows):
        return None
    t = Table(title="Per block: chip (counted events) vs the papers' 45 nm estimate",
              title_justify="left")
    for col in ("block", "chip energy", "chip syn ops", "45 nm energy", "45 nm MACs",
                "45 nm ACs"):
        t.add_column(col, justify="left" if col == "block" else "right")
    for r in rows:
        t.add_row(r["block"], fmt.energy(r["chip_energy"]), f"{r['chip_syn_ops']:.0f}",
                  fmt.energy(r["analytic_energy"]), f"{r['analytic_mac']:.0f}",
                  f"{r['analytic_ac']:.0f}")
    return t


def render_terminal(doc: dict, verbose: bool = True) -> Any:
    """A rich ``Group``: summary, then (with ``verbose``) layers, estimates, NeuroBench, notes."""
    from rich.console import Group
    from rich.text import Text

    parts = [_summary(doc)]
    costs = doc["chip"].get("costs")  # reports before issue 21 lack the line
    if costs:
        parts.insert(0, Text(costs))
    if verbose:
        parts += [_layers(doc), _estimates(doc)]
        blocks = _blocks(doc)
        if blocks is not None:
            parts.append(blocks)
        nb = _neurobench(doc)
        if nb is not None:
            parts.append(nb)
    if doc.get("conversion"):
        from .conversion import conversion_lines

        parts.append(Text("\n".join(conversion_lines(doc["conversion"]))))
    parts += [Text("note: " + n, style="dim") for n in doc["notes"]]
    return Group(*parts)


def summary_line(doc: dict) -> str:
    """One line for ``snnc compile``: energy, latency, throughput, model and input kind."""
    e, lat, inp = doc["energy"], doc["latency"], doc["input"]
    model = e["model"]["name"] + (" ESTIMATE" if e["model"]["estimate"] else "")
    static = fmt.energy(e["static"]) if e["static"] is not None else "unknown"
    kind = ("WORST CASE: no input given (use --input X.npy)" if inp["kind"] == "worst-case"
            else f"{inp['kind']} input")
    return (f"report: {fmt.energy(e['total'])} per inference (dynamic {fmt.energy(e['dynamic'])}"
            f", static {static}), {fmt.seconds(lat['per_inference'])}, "
            f"{fmt.rate_per_s(lat['throughput_per_s'])} inferences [{model}; {kind}]")
