"""Two reports side by side (``snnc report A --compare B``): key figures, their ratio B / A, and
the energy of every layer the two have in common (e.g. a 4-bit and a binary build of one net)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import fmt

# (label, getter, formatter)
ROWS: list[tuple[str, Callable[[dict], Any], Callable[[Any], str]]] = [
    ("energy / inference", lambda d: d["energy"]["total"], fmt.energy),
    ("  dynamic", lambda d: d["energy"]["dynamic"], fmt.energy),
    ("  static", lambda d: d["energy"]["static"], fmt.energy),
    ("latency / inference", lambda d: d["latency"]["per_inference"], fmt.seconds),
    ("throughput (/s)", lambda d: d["latency"]["throughput_per_s"], fmt.rate_per_s),
    ("cores", lambda d: d["chip"]["cores"], fmt.count),
    ("chips", lambda d: d["chip"]["chips"], fmt.count),
    ("synaptic ops", lambda d: d["activity"]["per_inference"]["syn_ops"], fmt.count),
    ("spikes", lambda d: d["activity"]["per_inference"]["spikes_out"], fmt.count),
    ("NeuroBench Effective_ACs", lambda d: _nb(d, "Effective_ACs"), fmt.count),
    ("NeuroBench Effective_MACs", lambda d: _nb(d, "Effective_MACs"), fmt.count),
    ("NeuroBench parameters", lambda d: (d.get("neurobench") or {}).get("parameter_count"),
     fmt.count),
    ("analytic SNN (45 nm)", lambda d: (d.get("analytic") or {}).get("snn_energy"), fmt.energy),
    ("ANN baseline (45 nm)", lambda d: (d.get("analytic") or {}).get("ann_energy"), fmt.energy),
]


def _nb(doc: dict, key: str) -> Any:
    syn = (doc.get("neurobench") or {}).get("synaptic_operations") or {}
    return syn.get(key)


def compare_rows(a: dict, b: dict) -> list[tuple[str, str, str, str]]:
    """(label, A, B, B/A) for every key figure and every common layer's energy."""
    rows = []
    for label, get, f in ROWS:
        va, vb = get(a), get(b)
        num = isinstance(va, int | float) and isinstance(vb, int | float)
        rows.append((label, f(va), f(vb), fmt.ratio(va, vb) if num else "-"))
    la, lb = a["energy"]["by_layer"], b["energy"]["by_layer"]
    for name in [n for n in la if n in lb]:
        rows.append((f"energy of {name}", fmt.energy(la[name]), fmt.energy(lb[name]),
                     fmt.ratio(la[name], lb[name])))
    return rows


def render_compare(a: dict, b: dict, name_a: str = "A", name_b: str = "B") -> Any:
    """A rich table of ``compare_rows`` with each side's chip, model and input kind."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"{name_a} vs {name_b}", title_justify="left")
    t.add_column("")
    t.add_column(name_a, justify="right")
    t.add_column(name_b, justify="right")
    t.add_column("B / A", justify="right")
    for row in compare_rows(a, b):
        t.add_row(*row)
    notes = []
    for name, d in ((name_a, a), (name_b, b)):
        m = d["energy"]["model"]
        notes.append(Text(f"{name}: {d['chip']['name']}, energy model {m['name']}"
                          f"{' (ESTIMATE)' if m['estimate'] else ''}, input {d['input']['kind']}, "
                          f"{d['input']['timesteps']} steps", style="dim"))
    if a["energy"]["model"]["name"] != b["energy"]["model"]["name"]:
        notes.append(Text("the two reports use different energy models", style="bold yellow"))
    if "worst-case" in (a["input"]["kind"], b["input"]["kind"]):
        notes.append(Text("one report is a worst case, the other may be measured",
                          style="bold yellow"))
    return Group(t, *notes)
