"""The counters of the worst case: every input and every neuron spikes at every step.

Built with the simulator's own accounting (``CounterPlan``), so it is an upper bound on the
activity of any run of the same program and steps. The report uses it when no input was given.
"""

from __future__ import annotations

import numpy as np

from ...backends.loihi.program import ChipProgram
from .counters import Counters
from .counting import CounterPlan, syn_totals, synapse_pairs


def worst_case_counters(program: ChipProgram, steps: int) -> Counters:
    """Counters of ``steps`` steps in which every input and every neuron spikes every step
    (the sums of the synapses' counter tables, made core by core: ``syn_totals``)."""
    from ...backends.loihi.traffic import traffic_of

    pairs = dict(synapse_pairs(program))
    traffic = traffic_of(program, pairs)
    totals = {s: syn_totals(program, s, src, tgt, traffic[s]) for s, (src, tgt) in pairs.items()}
    plan = CounterPlan(program, steps, 1, None, {s: sc for s, (sc, _) in totals.items()})
    syn = {name: np.broadcast_to(tot, (steps, 1, tot.size)).copy()
           for name, (_, tot) in totals.items()}
    lif = {}
    for name, lm in program.layers.items():
        k = np.array([program.cores[c].neurons for c in lm.cores], np.int64)
        full = np.broadcast_to(k, (steps, 1, len(k))).copy()
        lif[name] = (full, full)
    plan.chunk(0, steps, syn, lif)
    return plan.counters
