"""Whole-dataset evaluation of a compiled program (``snnc eval``), sharded over workers.

``evaluate(out_dir, dataset, workers=1)`` splits the samples into shards, runs each shard with
``shard.run_shard`` (a pure function of the program files and the samples) in this process or
as Ray tasks (``engine.py``), and merges the shards' ``EvalCounts`` (``counts.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .counts import EvalCounts, merge_all, summary
from .dataset import Dataset, load_dataset
from .engine import map_shards
from .shard import ProgramFiles, run_shard


def shard_bounds(n: int, workers: int, shard_size: int | None = None) -> list[tuple[int, int]]:
    """Contiguous [start, stop) shards: ``shard_size`` each, or about 4 shards per worker."""
    size = shard_size or max(1, min(512, -(-n // (4 * max(workers, 1)))))
    return [(s, min(n, s + size)) for s in range(0, n, size)]


def evaluate(out_dir: str | Path, data: Dataset, workers: int = 1, address: str | None = None,
             batch: int = 64, shard_size: int | None = None,
             progress: Callable[[int, int], None] | None = None,
             files: ProgramFiles | None = None) -> EvalCounts:
    """Merged counts of every sample of ``data`` through the program in ``out_dir``."""
    files = files or ProgramFiles.from_dir(out_dir)
    index = np.arange(len(data))
    tasks: list[tuple[Any, ...]] = [
        (files, data.x[a:b], data.y[a:b], index[a:b], batch)
        for a, b in shard_bounds(len(data), workers, shard_size)]
    samples = np.cumsum([len(t[2]) for t in tasks])

    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress(int(samples[done - 1]), len(data))

    return merge_all(map_shards(run_shard, tasks, workers, address, tick))


__all__ = ["Dataset", "EvalCounts", "ProgramFiles", "evaluate", "load_dataset", "run_shard",
           "shard_bounds", "summary"]
