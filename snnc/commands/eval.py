"""``snnc eval OUT --data test.npz``: the whole dataset through a compiled program.

OUT is a ``snnc compile`` output directory. Writes ``eval.json`` (merged counts, accuracy,
confusion matrix, chip/float agreement, energy and latency distributions) and ``eval.html``
into OUT (or ``-o DIR``) and prints a summary. ``-o DIR`` follows ``snnc/outdir.py``'s rules:
DIR is new, empty, an earlier snnc eval output (replaced whole, atomically, if it holds only
what snnc wrote) or another snnc output such as a compile directory (the two files are added to
it, each replaced only if snnc eval wrote it, and recorded in its manifest); any other non-empty
DIR is refused (``--force`` changes nothing). ``--workers N`` > 1 runs
shards as Ray tasks on a local Ray instance (or the cluster at ``--address``); ``--workers 1``
runs in this process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import SnncError
from ..io import atomic_path
from .force import force_option

MARK_HTML = "<title>snnc eval</title>"
#: bounds of the integer options (as snnc compile's --steps; a batch or a worker count beyond
#: these is a typo, not a plan)
MAX_STEPS, MAX_SAMPLES, MAX_WORKERS, MAX_BATCH = 100_000, 10**9, 1024, 65536


def check_ours(path: Path, marker: str) -> None:
    """Refuse to replace a file that snnc did not write (identified by ``marker``)."""
    if path.exists() and (path.is_dir() or marker not in path.read_text(errors="replace")[:4096]):
        raise SnncError(f"{path} exists and was not written by snnc eval; choose another "
                        "directory with -o (snnc never overwrites files it did not write)")


def write_eval(dest: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    """eval.json and eval.html written into ``dest`` (each replaced only if snnc eval wrote
    it)."""
    from ..evaluate.report import KIND, html
    from ..manifest import record

    dest.mkdir(parents=True, exist_ok=True)
    js, page = dest / "eval.json", dest / "eval.html"
    check_ours(js, f'"kind": "{KIND}"')
    check_ours(page, MARK_HTML)
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(doc, indent=1))
    with atomic_path(page) as tmp:
        tmp.write_text(html(doc))
    record(dest, [js.name, page.name])  # a compile output's manifest lists them now
    return js, page


def _adds_to(dest: Path) -> bool:
    """True when eval's files go into ``dest`` beside what is there: another kind of snnc
    output (a compile directory); an eval output of its own, a new, empty or foreign
    directory is written whole (``snnc/outdir.py``)."""
    from ..outdir import output_kind

    if not dest.is_dir():
        return False
    kind = output_kind(dest)
    if kind is not None:
        return kind != "eval"
    # an eval -o directory of an earlier snnc (no marker): only files snnc eval wrote
    from ..evaluate.report import KIND

    names = {p.name for p in dest.iterdir()}
    marks = {"eval.json": f'"kind": "{KIND}"', "eval.html": MARK_HTML}
    return bool(names) and names <= set(marks) and all(
        (dest / n).is_file() and marks[n] in (dest / n).read_text(errors="replace")[:4096]
        for n in names)


def _check_dest(dest: Path, inputs: list[Path]) -> None:
    from ..outdir import check_output_dir

    check_output_dir(dest, inputs, what="evaluation")


def run_eval(out_dir: Path, data_path: Path, *, x_key: str = "x", y_key: str = "y",
             encode: str | None = None, steps: int | None = None, seed: int = 0,
             limit: int | None = None, workers: int = 1, address: str | None = None,
             batch: int = 64, quiet: bool = True) -> dict[str, Any]:
    """Evaluate and return the eval document (shared by ``snnc eval`` and ``snnc sweep``)."""
    from ..backends.loihi.program import ChipProgram
    from ..evaluate import ProgramFiles, evaluate, load_dataset
    from ..evaluate.costs import default_model
    from ..evaluate.engine import Progress
    from ..evaluate.report import eval_doc
    from ..evaluate.shard import latency_steps

    files = ProgramFiles.from_dir(out_dir)
    program = ChipProgram.load(out_dir)
    g = program.graph
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise SnncError(f"{out_dir}: snnc eval needs one input and one output; the program has "
                        f"inputs {g.inputs} and outputs {g.outputs}")
    data = load_dataset(data_path, tuple(g.nodes[g.inputs[0]].out_shape), x_key, y_key, encode,
                        steps, seed).subset(limit)
    with Progress("samples", len(data), show=not quiet) as bar:
        counts = evaluate(out_dir, data, workers, address, batch, progress=bar, files=files)
    meta = {"program": str(out_dir), "data": data.source, "chip": program.chip.name,
            "energy_model": default_model(program).name, "steps": int(data.x.shape[1]),
            "latency_steps": latency_steps(g), "workers": workers,
            "float_model": files.float_graph is not None}
    return eval_doc(counts, meta)


@click.command("eval")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--data", "data_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Dataset .npz: x (N, *shape, T) time last (or static with --encode), y (N,).")
@click.option("--x-key", default="x", show_default=True, help="Array holding the samples.")
@click.option("--y-key", default="y", show_default=True, help="Array holding the labels.")
@click.option("--encode", type=click.Choice(["rate", "latency", "delta", "direct"]),
              default=None, help="Encode static samples (N, *shape) over --steps steps.")
@click.option("--steps", type=click.IntRange(1, MAX_STEPS), default=None,
              help="Steps for --encode.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Rate encoder seed.")
@click.option("--limit", type=click.IntRange(1, MAX_SAMPLES), default=None,
              help="First N samples only.")
@click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=1, show_default=True,
              help="Parallel workers; >1 runs shards as Ray tasks (needs ray).")
@click.option("--address", default=None,
              help="Attach to this Ray cluster ('auto' or host:port) instead of a local one.")
@click.option("--batch", type=click.IntRange(1, MAX_BATCH), default=64, show_default=True,
              help="Samples simulated together.")
@click.option("-o", "--output", "dest", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Where eval.json / eval.html go (default: OUT_DIR).")
@force_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def command(out_dir: Path, data_path: Path, x_key: str, y_key: str, encode: str | None,
            steps: int | None, seed: int, limit: int | None, workers: int, address: str | None,
            batch: int, dest: Path | None, quiet: bool) -> None:
    """Evaluate a whole dataset on a compiled program: accuracy, confusion matrix, agreement
    with the float model, and energy and latency per sample."""
    from ..evaluate.report import terminal
    from ..outdir import output_dir

    own_dir = dest is not None and not _adds_to(dest)
    if own_dir:  # refused before the (long) evaluation, not after
        _check_dest(dest, [out_dir, data_path])
    doc = run_eval(out_dir, data_path, x_key=x_key, y_key=y_key, encode=encode, steps=steps,
                   seed=seed, limit=limit, workers=workers, address=address, batch=batch,
                   quiet=quiet)
    if own_dir:
        assert dest is not None
        with output_dir(dest, [out_dir, data_path], kind="eval", what="evaluation") as tmp:
            write_eval(tmp, doc)
        js, page = dest / "eval.json", dest / "eval.html"
    else:
        js, page = write_eval(dest or out_dir, doc)
    click.echo(terminal(doc))
    click.echo(f"wrote {js} and {page}")
