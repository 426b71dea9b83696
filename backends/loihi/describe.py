"""``describe_program``: a rich table of a compiled program (for ``snnc inspect OUTDIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .program import HOST, ChipProgram


def _pct(used: int, cap: int) -> str:
    return f"{100.0 * used / cap:.0f}%" if cap else "-"


def layer_rows(program: ChipProgram) -> list[dict[str, Any]]:
    """Per layer: neurons, cores, chips used, and the worst core's utilisation of each limit."""
    core = program.chip.core
    mem = core.synapse_memory_bits or core.shared_memory_bits
    rows = []
    for name, lm in program.layers.items():
        cs = [program.cores[i] for i in lm.cores]
        rows.append({
            "layer": name, "shape": lm.shape, "neurons": lm.size, "cores": len(cs),
            "chips": sorted({c.chip for c in cs}),
            "neuron_util": max(c.neurons for c in cs) / core.neurons,
            "memory_util": max(c.synapse_bits for c in cs) / mem if mem else 0.0,
            "axon_util": max(c.input_axons for c in cs) / core.input_axons,
            "fanout_util": max(c.output_axons for c in cs) / core.output_axons,
        })
    return rows


def utilisation(program: ChipProgram) -> dict[str, float]:
    """Whole-program use of the allocated cores: neurons, synaptic memory, input axons."""
    core, n = program.chip.core, max(program.n_cores, 1)
    mem = core.synapse_memory_bits or core.shared_memory_bits
    cs = program.cores
    return {"neurons": sum(c.neurons for c in cs) / (n * core.neurons),
            "memory": sum(c.synapse_bits for c in cs) / (n * mem) if mem else 0.0,
            "input_axons": sum(c.input_axons for c in cs) / (n * core.input_axons)}


def describe_program(path: str | Path | ChipProgram, packing: list[dict] | None = None,
                     costs: str | None = None) -> Any:
    """A rich renderable: chip, cores per layer, worst-core utilisation, chips and routes;
    with ``packing`` (``packing.packing``: the driver computes it, this layer may not import the
    mapper) also the fewest cores each layer needs and its cores' estimated work. ``costs``:
    the one line naming the chip and its cost figures' source (``report.energy.cost_line`` of
    the chip's default energy model, which the driver passes); without it, the chip file's
    own cost-table source."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    program = path if isinstance(path, ChipProgram) else ChipProgram.load(path)
    chip = program.chip
    u = utilisation(program)
    head = Text.assemble(
        ("Chip program ", "bold"), f"for {chip.name}: {program.n_cores} cores on "
        f"{program.n_tiles} tiles of {program.n_chips} chip(s) "
        f"({chip.mesh.cores_per_chip} cores per chip, {chip.core.neurons} neurons per core); "
        f"mapping strategy {program.strategy!r}"
        + (f" ({program.fallback})" if program.fallback else "") + "; allocated cores hold "
        f"{100 * u['neurons']:.0f}% of their neurons, {100 * u['memory']:.0f}% of their "
        f"synaptic memory, {100 * u['input_axons']:.0f}% of their input axons")
    activity = ("the activity measured on the calibration input (rate: spikes per neuron per "
                "step; * = assumed, not measured)" if program.rates else
                "an assumed 10 % activity (no calibration input was measured)")
    table = Table(title="Cores per layer (utilisation of the fullest core; work = estimated "
                        f"serial ns per step at {activity})")
    for col in ("layer", "shape", "neurons", "cores", "fewest", "chips", "neurons/core",
                "syn. memory", "input axons", "output edges", "rate", "work max/mean",
                "packing"):
        table.add_column(col, justify="left" if col in ("layer", "shape") else "right")
    empty = {"min_cores": "-", "work_max_ns": float("nan"), "work_mean_ns": float("nan"),
             "rate": float("nan"), "rate_measured": False, "choice": "-"}
    for r, p in zip(layer_rows(program), packing or [empty] * len(program.layers), strict=True):
        chips = ",".join(str(c) for c in r["chips"])
        table.add_row(r["layer"], "x".join(map(str, r["shape"])), str(r["neurons"]),
                      str(r["cores"]), str(p["min_cores"]), chips,
                      f"{100 * r['neuron_util']:.0f}%",
                      f"{100 * r['memory_util']:.0f}%", f"{100 * r['axon_util']:.0f}%",
                      f"{100 * r['fanout_util']:.0f}%",
                      f"{100 * p['rate']:.1f}%{'' if p['rate_measured'] else '*'}",
                      f"{p['work_max_ns']:.0f}/{p['work_mean_ns']:.0f}", p.get("choice", "-"))
    hops = [r.hops_ew + r.hops_ns for r in program.routes]
    inter = sum(1 for r in program.routes if r.chip_hops)
    host = sum(1 for r in program.routes if r.src == HOST)
    tail = Text(f"{len(program.routes)} routes ({host} from the host), longest "
                f"{max(hops, default=0)} tile hops, {inter} crossing chips.")
    line = Text(costs or f"chip {chip.name}, cost figures: {chip.costs.source}")
    return Group(line, head, table, tail)
