"""Running a sweep: each point compiles the model and evaluates the dataset on the result.

Layout of the sweep directory (only ever added to; nothing in it is deleted):

    sweep.json                  marker and the experiment (model, data, grid, point keys)
    points/<key>/point.json     a finished point (written last, atomically): its parameters,
                                pipeline, cores, chips and the eval summary, or its error
    points/<key>/build[-N]/     the compile output and its eval.json / eval.html
    sweep.html, results.json    the Pareto plots and table, rewritten after every run

A point with a ``point.json`` is done and is never run again; an interrupted point has none and
runs again into a fresh ``build-N`` folder. Points run in this process (``workers == 1``) or as
Ray tasks (``snnc.evaluate.engine``); with ``--address`` the sweep directory must be on a file
system the workers share.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SnncError
from ..io import atomic_path
from ..manifest import MARKER, record
from .grid import Point
from .pipeline import point_pipeline

KIND = "snnc.sweep"
_BUILD = re.compile(r"build(-[0-9]+)?")


@dataclass(frozen=True)
class DataSpec:
    path: str
    x_key: str = "x"
    y_key: str = "y"
    limit: int | None = None
    encode: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class PointTask:
    key: str
    values: dict[str, Any]
    graph: Any  # the loaded model (snnc.ir.Graph)
    calibration: str | None
    base_pipeline: str
    data: DataSpec
    point_dir: str


def fingerprint(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _fresh(d: Path) -> Path:
    build, n = d / "build", 1
    while build.exists():
        n += 1
        build = d / f"build-{n}"
    return build


def _dataset(task: PointTask, shape: tuple[int, ...]) -> Any:
    from ..evaluate import Dataset, load_dataset

    d, steps = task.data, task.values.get("steps")
    data = load_dataset(d.path, shape, d.x_key, d.y_key, d.encode, steps if d.encode else None,
                        d.seed).subset(d.limit)
    if steps is None or d.encode:
        return data
    x = data.x[:, :steps]
    if x.shape[1] < steps:
        x = np.concatenate([x, np.zeros((x.shape[0], steps - x.shape[1], *x.shape[2:]),
                                        x.dtype)], axis=1)
    return Dataset(x, data.y, f"{data.source} ({steps} steps)")


def run_point(task: PointTask) -> dict[str, Any]:
    """Compile and evaluate one point; returns its ``point.json`` document (never raises for a
    point that fails to compile or evaluate: the error is the point's result)."""
    from .. import api
    from ..backends.loihi.program import ChipProgram
    from ..commands.eval import write_eval
    from ..evaluate import ProgramFiles, evaluate
    from ..evaluate.costs import default_model
    from ..evaluate.report import eval_doc
    from ..evaluate.shard import latency_steps

    v = task.values
    pipeline = point_pipeline(task.base_pipeline, v)
    doc: dict[str, Any] = {"key": task.key, "params": v, "pipeline": pipeline}
    build = _fresh(Path(task.point_dir))
    t0 = time.perf_counter()
    try:
        api.compile(task.graph, target="loihi-sim", pipeline=pipeline,
                    calibration=task.calibration, steps=v.get("steps"), out_dir=build,
                    chip=v.get("chip"))
        t1 = time.perf_counter()
        program = ChipProgram.load(build)
        g = program.graph
        data = _dataset(task, tuple(g.nodes[g.inputs[0]].out_shape))
        counts = evaluate(build, data, files=ProgramFiles.from_dir(build))
        ev = eval_doc(counts, {"program": str(build), "data": data.source,
                               "chip": program.chip.name,
                               "energy_model": default_model(program).name,
                               "steps": int(data.x.shape[1]), "latency_steps": latency_steps(g),
                               "workers": 1, "float_model": True})
        write_eval(build, ev)
    except SnncError as exc:
        return {**doc, "build": build.name, "error": str(exc)}
    except Exception as exc:  # a bug, not bad input: keep the sweep going, keep the trace
        return {**doc, "build": build.name, "error": f"internal error: {exc!r}",
                "traceback": traceback.format_exc()}
    return {**doc, "build": build.name, "chip": program.chip.name, "cores": program.n_cores,
            "chips": program.n_chips, "summary": ev["summary"],
            "compile_s": round(t1 - t0, 3), "eval_s": round(time.perf_counter() - t1, 3)}


def read_point(point_dir: Path) -> dict[str, Any] | None:
    f = point_dir / "point.json"
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return None


def write_point(point_dir: Path, doc: dict[str, Any]) -> None:
    with atomic_path(point_dir / "point.json") as tmp:
        tmp.write_text(json.dumps(doc, indent=1, default=str))


def is_sweep_dir(root: Path) -> bool:
    """True if ``root`` is a directory an earlier ``snnc sweep`` wrote (its ``sweep.json``)."""
    try:
        return json.loads((root / "sweep.json").read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def open_root(root: Path, experiment: dict[str, Any]) -> None:
    """Create the sweep directory, or reuse one this sweep wrote; refuse anything else."""
    marker = root / "sweep.json"
    fresh = not root.is_dir() or not any(root.iterdir())
    if root.exists() and not root.is_dir():
        raise SnncError(f"{root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()) and not is_sweep_dir(root):
        raise SnncError(f"{root} is not empty and is not an snnc sweep directory (no "
                        "sweep.json); choose another -o (snnc never overwrites files it "
                        "did not write)")
    (root / "points").mkdir(parents=True, exist_ok=True)
    own = root / MARKER
    if not own.exists():  # snnc/outdir.py's marker: the directory is an snnc output; an older
        # sweep without one is judged by the names snnc writes (no manifest)
        own.write_text(json.dumps({"snnc": "sweep", **({"manifest": {}} if fresh else {})})
                       + "\n")
    with atomic_path(marker) as tmp:
        tmp.write_text(json.dumps({"kind": KIND, "version": 1, **experiment}, indent=1,
                                  default=str))
    record(root, ["points", "sweep.json"])


def record_points(root: Path, keys: list[str]) -> None:
    """Add the points' folders, ``point.json`` and ``build[-N]`` compile outputs to the sweep's
    manifest (the points may have run in other processes; only this one writes the marker)."""
    rels = []
    for key in keys:
        d = root / "points" / key
        if not d.is_dir():
            continue
        rels.append(f"points/{key}")
        rels += [f"points/{key}/{p.name}" for p in sorted(d.iterdir())
                 if (p.name == "point.json" and p.is_file())
                 or (_BUILD.fullmatch(p.name) and (p / MARKER).is_file())]
    record(root, rels)


def pending(root: Path, points: list[Point], fp: str) -> tuple[list[tuple[Point, str]],
                                                               dict[str, dict[str, Any]]]:
    """(points still to run with their keys, finished point docs by key)."""
    todo, done = [], {}
    for p in points:
        key = p.key(fp)
        doc = read_point(root / "points" / key)
        if doc is not None:
            done[key] = doc
        else:
            todo.append((p, key))
    return todo, done
