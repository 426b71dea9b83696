"""A run's results as a stream of pieces: one per window of consecutive steps.

The event simulator advances a run chunk of steps after chunk of steps (``engine.EventRun``) and
hands each chunk's results on as a ``Piece``: the output and probe values of those steps and the
counters of those steps alone. ``collect`` joins the pieces of a run into one ``SimResult``
(what ``simulate`` returns; a run of one chunk is the one-piece case); a consumer that writes
the pieces out as they come (``snnc simulate`` on dataset-sized inputs) holds one piece at a
time, so its memory does not grow with the number of steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np

from ..result import SimResult
from .counters import Counters


class Piece(NamedTuple):
    """Steps ``t0 .. t0 + T - 1`` of a run (recording time): ``outputs`` per output node and
    ``probes`` per probe, each (T, B, *shape) int64; ``counters`` of these steps only."""

    t0: int
    T: int
    outputs: dict[str, np.ndarray]
    probes: dict[str, np.ndarray]
    counters: Counters


def collect(pieces: Iterable[Piece], batch: int, out_shapes: Mapping[str, tuple[int, ...]],
            probe_shapes: Mapping[str, tuple[int, ...]], empty: Counters) -> SimResult:
    """One ``SimResult`` from a run's pieces in order. ``out_shapes`` / ``probe_shapes``: every
    output / probe name -> its per-sample shape (for a run of zero steps); ``empty``: the
    counters of zero steps."""
    outs: dict[str, list[np.ndarray]] = {n: [] for n in out_shapes}
    probes: dict[str, list[np.ndarray]] = {n: [] for n in probe_shapes}
    counters: list[Counters] = []
    for p in pieces:
        for name, val in p.outputs.items():
            outs[name].append(val)
        for name, val in p.probes.items():
            probes[name].append(val)
        counters.append(p.counters)

    def cat(parts: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        if not parts:
            return np.zeros((0, batch, *shape), np.int64)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    return SimResult({n: cat(outs[n], out_shapes[n]) for n in out_shapes},
                     {n: cat(probes[n], probe_shapes[n]) for n in probe_shapes},
                     Counters.concat(counters) if counters else empty)
