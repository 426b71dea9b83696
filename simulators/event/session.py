"""``EventSession``: a mapped program kept alive across samples, for on-chip learning.

``simulate`` is a pure function: each call starts from the program's stored weights. A session
instead owns one ``PlasticDense`` block per plastic synapse for its whole life, so what a sample
teaches is used by the next one, as on the chip::

    sess = EventSession(program, learn=True, third=my_third_factor)
    for x in samples:                       # x: (T, 1, *input_shape), time-major
        res = sess.run_sample(x)            # a SimResult with counters, for this sample
    sess.learn = False
    res = sess.run_sample(x_batch)          # static weights: any batch
    learned = sess.learned_program()        # same mapping, learned weights and tags

Every ``run_sample`` starts a new sample (neuron state, synaptic buffers and the blocks' pending
``a_buf`` restart; weights, tags and traces stay), unless ``reset=False`` continues the previous
one. Chip time ``steps`` runs on across samples (learning epochs, ``u<k>`` dependencies and
``LIFReset`` follow it); a caller may move it (for example past samples it ran as one batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ...backends.loihi.program import ChipProgram
from ...backends.loihi.topology import topology
from ...errors import SnncError
from ..learning.engine import PlasticDense
from ..learning.kernel import block_from_node
from ..result import SimResult
from .derived import ProgramCache
from .engine import EventRun, LearningOptions, check_stimuli, event_probes
from .plastic import Third


class EventSession:
    """Run a ``ChipProgram`` sample after sample with persistent plastic synapses."""

    def __init__(self, program: ChipProgram, *, learn: bool = True,
                 third: Third | Mapping[str, Third] | None = None,
                 use_jit: bool | str | None = None) -> None:
        self.program = program
        self.options = LearningOptions(learn, third)
        self.use_jit = use_jit
        graph = program.graph
        self.blocks: dict[str, PlasticDense] = {
            s: block_from_node(graph.nodes[s]) for s in topology(graph).plastic(graph)}
        self.steps = 0
        self.cache = ProgramCache()  # what the runs derive from the program, made once
        self._runs: dict[tuple[int, bool], EventRun] = {}
        self._last: EventRun | None = None

    @property
    def learn(self) -> bool:
        return self.options.learn

    @learn.setter
    def learn(self, value: bool) -> None:
        self.options = LearningOptions(bool(value), self.options.third)

    @property
    def third(self) -> Third | Mapping[str, Third] | None:
        return self.options.third

    @third.setter
    def third(self, value: Third | Mapping[str, Third] | None) -> None:
        self.options = LearningOptions(self.options.learn, value)

    def _run_for(self, batch: int) -> EventRun:
        key = (batch, self.options.learn)
        if key not in self._runs:
            self._runs[key] = EventRun(self.program, batch, self.use_jit, self.options,
                                       self.blocks, self.cache)
        run = self._runs[key]
        run.set_learning(self.options)  # the third factor may have changed
        return run

    def run_sample(self, x: np.ndarray | Mapping[str, np.ndarray], steps: int | None = None,
                   probes: Iterable[str] = (), reset: bool = True) -> SimResult:
        """Run one sample ((T, B, *shape) per input; B must be 1 while learning) from chip time
        ``self.steps``; returns its outputs, probes and counters. ``reset=False`` continues the
        previous sample (same batch and learning mode) instead of starting a new one."""
        stim = check_stimuli(self.program, x)
        steps = max(v.shape[0] for v in stim.values()) if steps is None else int(steps)
        run = self._run_for(next(iter(stim.values())).shape[1])
        if reset:
            run.reset()
        elif self._last is not None and run is not self._last:
            raise SnncError("reset=False continues the previous sample, which ran with another "
                            "batch size or learning mode; start a new sample instead")
        run.begin(stim, steps, event_probes(self.program, probes), t_base=self.steps)
        run.advance()
        self.steps += steps
        self._last = run
        return run.result()

    def new_sample(self) -> None:
        """Start a new sample now (what ``run_sample`` does by default): neuron state, synaptic
        buffers and pending ``a_buf`` restart; weights, tags, traces and chip time stay."""
        self._last = None
        for run in self._runs.values():
            run.reset()

    def learned_program(self) -> ChipProgram:
        """The program with the blocks' current weights and tags (mapping unchanged)."""
        p = self.program
        ed = p.graph.edit()
        for name, block in self.blocks.items():
            ed.replace(name, p.graph.nodes[name].replace(
                weight=block.weights, tag_1=block.tag_1, tag_2=block.tag_2))
        return ChipProgram(ed.finish(), p.chip, p.layers, p.cores, p.blocks, p.routes,
                           p.chip_grid)

    def counts(self) -> dict[str, dict[str, Any]]:
        """The blocks' own counters (updates, epochs, flips) by synapse name."""
        return {n: dict(b.counts) for n, b in self.blocks.items()}
