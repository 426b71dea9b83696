"""The counters of the worst case: every input and every neuron spikes at every step.

Built with the simulator's own accounting (``CounterPlan``), so it is an upper bound on the
activity of any run of the same program and steps. The report uses it when no input was given.
"""

from __future__ import annotations

import numpy as np

from ...backends.loihi.program import ChipProgram
from .counters import Counters
from .counting import CounterPlan


def worst_case_counters(program: ChipProgram, steps: int) -> Counters:
    """Counters of ``steps`` steps in which every input and every neuron spikes every step."""
    plan = CounterPlan(program, steps, 1, None)
    syn = {name: np.broadcast_to(sc.F.sum(0), (steps, 1, sc.F.shape[1])).copy()
           for name, sc in plan.syns.items()}
    lif = {}
    for name, lm in program.layers.items():
        k = np.array([program.cores[c].neurons for c in lm.cores], np.int64)
        full = np.broadcast_to(k, (steps, 1, len(k))).copy()
        lif[name] = (full, full)
    plan.chunk(0, steps, syn, lif)
    return plan.counters
