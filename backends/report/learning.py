"""What on-chip learning cost: the energy and time of the updates the simulator counted.

Costs per synaptic update come from Davies et al., IEEE Micro 2018, Table 2 ("synaptic update,
pairwise STDP": 120 pJ, 6.1 ns at 0.75 V) [P]. No Loihi 2 figure is published; snnc uses the
Loihi 1 value for it and labels the result an estimate. ``learning_document`` is
``learning_report.json`` (schema ``snnc.learning/1``): the counts of
``simulators.learning.report.LearningReport`` plus ``cost`` and ``energy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

UPDATE_COST = {
    "loihi1": {"energy_pj": 120.0, "time_ns": 6.1, "estimate": False,
               "source": "Davies et al., IEEE Micro 38(1) 2018, Table 2 (pairwise STDP update)"},
    "loihi2": {"energy_pj": 120.0, "time_ns": 6.1, "estimate": True,
               "source": "no published Loihi 2 figure; Loihi 1 value (Davies et al. 2018) used"},
}


def learning_energy(updates_event: int, updates_timestep: int, cost: dict[str, Any]
                    ) -> dict[str, float]:
    pj, ns = cost["energy_pj"], cost["time_ns"]
    event_j = updates_event * pj * 1e-12
    step_j = updates_timestep * pj * 1e-12
    return {"event_driven_j": event_j, "time_step_driven_j": step_j,
            "event_driven_update_time_s": updates_event * ns * 1e-9,
            "saving_factor": step_j / event_j if event_j else float("inf")}


def learning_document(counts: Any) -> dict[str, Any]:
    """``learning_report.json`` of a ``LearningReport`` (its counts, the chip's costs)."""
    cost = dict(UPDATE_COST[counts.chip])
    return {**counts.to_dict(), "cost": cost, "schema": "snnc.learning/1",
            "energy": learning_energy(counts.updates_event, counts.updates_timestep, cost)}


def print_summary(doc: dict[str, Any], out: Path | None) -> None:
    """The accuracy curve and the learning energy of ``learning_document``, on the terminal."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"on-chip learning: rule {doc['rule']}, layers {', '.join(doc['layers'])}")
    table.add_column("samples seen", justify="right")
    table.add_column("test accuracy", justify="right")
    for row in doc["accuracy_curve"]:
        table.add_row(str(row["samples"]), f"{row['accuracy']:.1%}")
    console.print(table)
    e, cost = doc["energy"], doc["cost"]
    tag = " (estimate)" if cost.get("estimate") else ""
    console.print(f"synaptic updates: {doc['updates_event']:,} event-driven vs "
                  f"{doc['updates_timestep']:,} time-step-driven")
    console.print(f"learning energy{tag}: {e['event_driven_j'] * 1e6:.2f} µJ event-driven vs "
                  f"{e['time_step_driven_j'] * 1e6:.2f} µJ time-step-driven "
                  f"({e['saving_factor']:.1f}x less), at {cost['energy_pj']} pJ/update")
    if out is not None:
        console.print(f"wrote {out}/graph.learned.snnc and {out}/learning_report.json")
