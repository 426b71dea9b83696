"""Lava backend: lowered graphs (``loihi.*`` ops) as Lava processes, run with ``fixed_pt`` models.

``build_lava(graph) -> LavaNetwork`` gives the processes and the ports to connect your own
sources and sinks to; ``run_lava(graph, inputs, steps, probes, hw=False) -> SimResult`` runs it
(Lava's bit-accurate CPU models, or Loihi 2 with ``hw=True``) with the same contract as
``snnc.simulators.reference.simulate``.

Lava (lava-nc 0.10.0) needs Python 3.10 and numpy<2, so it is imported only inside functions;
without it every entry point raises ``BackendError`` saying how to install it.
"""

from __future__ import annotations

from ._env import MISSING_LAVA, require_lava
from .build import LavaNetwork, build_lava
from .run import LavaJob, run_jobs, run_lava

__all__ = ["MISSING_LAVA", "LavaJob", "LavaNetwork", "build_lava", "require_lava", "run_jobs",
           "run_lava"]
