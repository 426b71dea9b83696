"""``packing``: how a program's layers were packed into cores, for ``snnc inspect``.

Per layer: the cores used, the fewest that fit the core limits (``partition``), how the
mapping strategy chose them (``choice``: "fewest + 1 for work", "16 of 200 W columns per
core", "SynMem 7680 of 12000 words"), and the estimated work per step of its busiest and its
mean core at the activity the mapping was balanced with.
"""

from __future__ import annotations

from .balance import rate_of, work, work_per_position
from .mapper import _partition_all
from .partition import LayerCost
from .program import ChipProgram
from .topology import topology
from .vendor import SYNMEM_WORDS, column_width, dense_words


def _choice(program: ChipProgram, name: str, cost: LayerCost, fewest: int) -> str:
    """How the strategy chose this layer's cores, in a few words (``snnc inspect``)."""
    lm = program.layers[name]
    if program.strategy != "vendor":
        extra = len(lm.cores) - fewest
        return "fewest that fit" if extra <= 0 else f"fewest + {extra} for work"
    if len(lm.shape) == 3:
        return f"{column_width(lm.shape)} of {lm.shape[2]} W columns per core"
    worst = max(sum(dense_words(program.cores[i].neurons, s.conn.n_in) for s in cost.syns)
                for i in lm.cores)
    return f"SynMem {worst} of {SYNMEM_WORDS} words"


def packing(program: ChipProgram) -> list[dict]:
    """Per layer, the packing choice: cores used, the fewest that fit the core limits, how the
    strategy chose (``choice``), and the
    estimated work per step (ns, ``balance.work``) of its busiest and its mean core, at the
    activity the mapping was balanced with (``program.rates``: measured; else assumed)."""
    topo = topology(program.graph)
    parts, costs = _partition_all(program.graph, topo, program.chip)
    if program.strategy == "vendor":  # the vendor ranges are positions in whc order
        costs = _partition_all(program.graph, topo, program.chip, program.strategy)[1]
    rates = dict(program.rates) or None
    rows = []
    for name, lm in program.layers.items():
        cost = costs[name]
        per = work_per_position(cost, rates=rates)
        ws = [work(cost, program.cores[i].start, program.cores[i].stop, per, rates=rates)
              for i in lm.cores]
        rows.append({"layer": name, "cores": len(lm.cores), "min_cores": len(parts[name][1]),
                     "choice": _choice(program, name, cost, len(parts[name][1])),
                     "rate": rate_of(name, rates), "rate_measured": bool(rates and name in rates),
                     "work_max_ns": max(ws, default=0.0),
                     "work_mean_ns": sum(ws) / len(ws) if ws else 0.0})
    return rows
