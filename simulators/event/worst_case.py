"""The counters of the worst case: every input and every neuron spikes at every step.

Built with the simulator's own accounting (``CounterPlan``), so it is an upper bound on the
activity of any run of the same program and steps. The report uses it when no input was given.
"""

from __future__ import annotations

import numpy as np

from ...backends.loihi.program import ChipProgram
from .counters import Counters
from .counting import FIELDS, CounterPlan, syn_totals, synapse_pairs

WINDOW_BYTES = 2 << 20


def worst_case_counters(program: ChipProgram, steps: int) -> Counters:
    """Counters of ``steps`` steps in which every input and every neuron spikes every step
    (the sums of the synapses' counter tables, made core by core: ``syn_totals``)."""
    from ...backends.loihi.traffic import traffic_of

    pairs = dict(synapse_pairs(program))
    traffic = traffic_of(program, pairs)
    totals = {s: syn_totals(program, s, src, tgt, traffic[s]) for s, (src, tgt) in pairs.items()}
    plan = CounterPlan(program, steps, 1, None, {s: sc for s, (sc, _) in totals.items()})
    ks = {name: np.array([program.cores[c].neurons for c in lm.cores], np.int64)
          for name, lm in program.layers.items()}
    # windows of steps (every step is the same): the plan's (fields, T, 1, cores) int64 work
    # array stays near WINDOW_BYTES (0.18 MB per step on the 2011-core ResNet-18-sized program,
    # and as much again in its float step times); integer sums and per-step values, so the
    # counters are those of one chunk of every step
    window = max(1, WINDOW_BYTES // (8 * len(FIELDS) * max(program.n_cores, 1)))
    for t0 in range(0, max(steps, 1), window):
        T = min(window, steps - t0)
        syn = {name: np.broadcast_to(tot, (T, 1, tot.size)).copy()
               for name, (_, tot) in totals.items()}
        lif = {}
        for name, k in ks.items():
            full = np.broadcast_to(k, (T, 1, len(k))).copy()
            lif[name] = (full, full)
        plan.chunk(t0, T, syn, lif)
    return plan.counters
