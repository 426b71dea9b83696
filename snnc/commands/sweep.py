"""``snnc sweep MODEL --grid sweep.toml --data test.npz -o SWEEP_DIR``: every point of the grid
compiled and evaluated; ``sweep.html`` plots accuracy against energy and latency with the
Pareto fronts, and a table. Finished points are cached in SWEEP_DIR, so running the same
command again after an interruption only runs the points that had not finished
(``snnc/sweep/run.py``).

SWEEP_DIR follows ``snnc/outdir.py``'s rules: a new or empty directory, or an earlier sweep
(resumed in place; what it adds goes into the sweep's manifest), is used as it is; another snnc
output holding only what snnc wrote is replaced: the sweep runs in a temporary directory beside
it that replaces it, atomically, only when the sweep has finished. Any other non-empty directory
is refused (``--force`` changes nothing), and a directory holding the model, the grid or the
dataset is never replaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import SnncError
from ..io import atomic_path
from .eval import MAX_SAMPLES, MAX_WORKERS
from .force import force_option


def _data_spec(grid: Any, data_path: Path | None, x_key: str | None, y_key: str | None,
               limit: int | None, encode: str | None) -> Any:
    from ..sweep.run import DataSpec

    d = grid.data
    path = data_path or d.get("path")
    if path is None:
        raise SnncError("snnc sweep needs a dataset: --data test.npz or [data] path = ... in the "
                        "grid file")
    p = Path(path)
    if data_path is None and not p.is_absolute():
        p = Path(grid.source).parent / p
    if not p.is_file():
        raise SnncError(f"{p}: dataset not found")
    return DataSpec(str(p), x_key or d.get("x_key", "x"), y_key or d.get("y_key", "y"),
                    limit or d.get("limit"), encode or d.get("encode"), int(d.get("seed", 0)))


def _write_pages(root: Path, docs: list[dict[str, Any]], experiment: dict[str, Any]) -> Path:
    from ..sweep.pareto import MARK, html

    page, res = root / "sweep.html", root / "results.json"
    for f, mark in ((page, MARK), (res, '"kind": "snnc.sweep.results"')):
        if f.exists() and mark not in f.read_text(errors="replace")[:4096]:
            raise SnncError(f"{f} was not written by snnc sweep; not replacing it")
    with atomic_path(res) as tmp:
        tmp.write_text(json.dumps({"kind": "snnc.sweep.results", "points": docs}, indent=1,
                                  default=str))
    with atomic_path(page) as tmp:
        tmp.write_text(html(docs, experiment))
    from ..manifest import record

    record(root, [res.name, page.name])
    return page


@click.command("sweep")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--grid", "grid_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Grid TOML: [grid] bits, prune_threshold, steps, chip, pipeline lists.")
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Dataset .npz (x, y) as for snnc eval (or [data] path).")
@click.option("--x-key", default=None, help="Array holding the samples (default x).")
@click.option("--y-key", default=None, help="Array holding the labels (default y).")
@click.option("--limit", type=click.IntRange(1, MAX_SAMPLES), default=None,
              help="Evaluate the first N samples only.")
@click.option("--encode", type=click.Choice(["rate", "latency", "delta", "direct"]),
              default=None, help="Encode static samples (the steps axis sets the length).")
@click.option("-o", "--output", "root", required=True, type=click.Path(path_type=Path),
              help="Sweep directory (cache, results, sweep.html): new, empty, an earlier "
              "sweep (resumed) or another snnc output holding only what snnc wrote.")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=1, show_default=True,
              help="Points run in parallel as Ray tasks when > 1.")
@click.option("--address", default=None, help="Attach to this Ray cluster instead.")
@click.option("--trust-pickle", is_flag=True, help="Allow arbitrary pickled classes (runs code).")
@force_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def command(model: Path, grid_path: Path, data_path: Path | None, x_key: str | None,
            y_key: str | None, limit: int | None, encode: str | None, root: Path, workers: int,
            address: str | None, trust_pickle: bool, quiet: bool) -> None:
    """Compile and evaluate every point of a design grid; plot the Pareto fronts."""
    from ..outdir import check_output_dir, output_dir
    from ..sweep.grid import read_grid
    from ..sweep.pareto import terminal
    from ..sweep.run import is_sweep_dir

    grid = read_grid(grid_path)
    data = _data_spec(grid, data_path, x_key, y_key, limit, encode)
    inputs = [model, grid_path, Path(data.path)]
    resume = is_sweep_dir(root)
    in_place = resume or not root.is_dir() or not any(root.iterdir())
    # an earlier sweep is resumed, not replaced: only the name and input checks apply
    check_output_dir(root, inputs, what="sweep", replace=not in_place)
    from .. import api

    # the model is read before anything is written: a damaged file leaves no sweep directory
    graph = api.load(model, **({"trust_pickle": True} if trust_pickle else {}))
    args = (model, graph, grid, grid_path, data, workers, address, quiet)
    if in_place:
        docs = _sweep(root, *args)
    else:
        with output_dir(root, inputs, kind="sweep", what="sweep") as tmp:
            docs = _sweep(tmp, *args)
    click.echo(terminal(docs))
    failed = sum("summary" not in d for d in docs)
    click.echo(f"wrote {root / 'sweep.html'}" +
               (f" ({failed} point(s) failed; see the table)" if failed else ""))


def _sweep(root: Path, model: Path, graph: Any, grid: Any, grid_path: Path, data: Any,
           workers: int, address: str | None, quiet: bool) -> list[dict[str, Any]]:
    """Run the points not cached in ``root``; write results.json and sweep.html there."""
    from ..evaluate.engine import Progress, map_shards
    from ..manifest import record
    from ..passes import DEFAULT_PIPELINE
    from ..sweep.run import PointTask, fingerprint, open_root, pending, record_points

    fp = fingerprint(model, Path(data.path)) + json.dumps(data.__dict__, sort_keys=True)
    points = grid.points()
    experiment = {"model": str(model), "data": data.path, "grid": str(grid_path),
                  "points": [p.key(fp) for p in points]}
    open_root(root, experiment)
    todo, done = pending(root, points, fp)
    if not quiet:
        click.echo(f"sweep: {len(points)} points, {len(done)} cached, {len(todo)} to run",
                   err=True)
    if todo:
        calib = model.with_name(model.stem + ".input.npy")
        tasks = []
        for p, key in todo:
            (root / "points" / key).mkdir(parents=True, exist_ok=True)
            tasks.append((PointTask(key, p.values, graph, str(calib) if calib.is_file() else None,
                                    DEFAULT_PIPELINE, data, str(root / "points" / key)),))
        record(root, [f"points/{key}" for _, key in todo])  # before they run
        with Progress("points", len(tasks), show=not quiet) as bar:
            results = map_shards(_run_and_store, tasks, workers, address, bar)
        done.update({r["key"]: r for r in results})
    record_points(root, experiment["points"])  # also points an interrupted run finished
    docs = [done[p.key(fp)] for p in points]
    _write_pages(root, docs, experiment)
    return docs


def _run_and_store(task: Any) -> dict[str, Any]:
    """Run one point and write its ``point.json`` (as soon as it finishes, for resuming)."""
    from ..sweep.run import run_point, write_point

    doc = run_point(task)
    write_point(Path(task.point_dir), doc)
    return doc
