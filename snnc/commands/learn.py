"""``snnc learn``: online learning on the simulated chip, sample after sample."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from ..errors import FormatError, SnncError
from .force import force_option


def _load_graph(path: Path):
    from ..ir.serialize import read_graph

    if path.is_dir():
        for name in ("graph.lowered.snnc", "graph.learned.snnc"):
            if (path / name).exists():
                return read_graph(path / name)
        raise FormatError(f"{path}: no graph.lowered.snnc here; run `snnc compile MODEL -o {path}` "
                          f"first (learning needs the lowered, integer program)")
    return read_graph(path)


def _load_data(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    from ..io import to_time_major
    from ..readers import read_array

    arrays = read_array(path, "learning data", names=("x", "y"))
    if not isinstance(arrays, dict):
        raise FormatError(f"{path}: learning data is an .npz archive with arrays 'x' "
                          "(N, *shape, T) and 'y' (N,); this file holds a single array")
    x, y = arrays["x"], arrays["y"]
    if x.ndim != len(shape) + 2:
        raise FormatError(f"{path}: field 'x' has shape {x.shape}; expected (N, *shape, T) = "
                          f"(N, {', '.join(map(str, shape))}, T)")
    if x.shape[0] == 0 or x.shape[-1] == 0:
        raise FormatError(f"{path}: field 'x' has shape {x.shape}: no samples or T = 0 steps")
    xs = to_time_major(x, shape)  # (T, N, *shape)
    if y.ndim != 1 or (y.dtype.kind not in "iub" and not np.all(np.mod(y, 1) == 0)):
        raise FormatError(f"{path}: field 'y' must be a 1-d array of integer labels (N,); "
                          f"got shape {y.shape}, dtype {y.dtype}")
    if len(y) != xs.shape[1]:
        raise FormatError(f"{path}: {xs.shape[1]} samples in 'x' but {len(y)} labels in 'y'")
    return np.moveaxis(xs, 1, 0), y.astype(np.int64)


def _check_labels(path: Path, ys: np.ndarray, graph) -> None:
    classes = int(np.prod(graph.nodes[graph.outputs[0]].out_shape))
    bad = ys[(ys < 0) | (ys >= classes)]
    if bad.size:
        raise FormatError(f"{path}: field 'y' holds label {int(bad[0])}, but the program's output "
                          f"{graph.outputs[0]!r} has {classes} classes (labels 0..{classes - 1})")


def _default_layer(graph) -> str:
    dense = [n for n, v in graph.nodes.items() if v.op in ("loihi.dense", "loihi.plastic_dense")]
    if not dense:
        raise SnncError("the program has no dense synapse layer that could learn")
    return dense[-1]


@click.command("learn")
@click.argument("program", type=click.Path(exists=True, path_type=Path))
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="Training set .npz: x (N, *shape, T) time last, y (N,) integer labels.")
@click.option("--test", "test_path", type=click.Path(exists=True, path_type=Path),
              help="Test set .npz (same layout); default: the last 20% of --data.")
@click.option("--rule", default="error3f", show_default=True,
              type=click.Choice(["stdp", "rstdp", "error3f", "bso"]), help="Built-in rule.")
@click.option("--layers", default=None, help="Comma-separated layers that learn (default: last).")
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(1, 1000))
@click.option("--eval-every", default=0, type=click.IntRange(0, 10**9),
              help="Samples between tests.")
@click.option("--error-scale", default=32, show_default=True, type=click.IntRange(1, 63))
@click.option("--reset-layers", is_flag=True, help="Start the learning layers from zero weights.")
@click.option("--chip", default="loihi2", show_default=True,
              type=click.Choice(["loihi1", "loihi2"]), help="Cost table for learning energy.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output directory (default: PROGRAM/learned): new, empty or an earlier "
              "snnc output holding only what snnc wrote.")
@force_option
def command(program: Path, data_path: Path, test_path: Path | None, rule: str, layers: str | None,
            epochs: int, eval_every: int, error_scale: int, reset_layers: bool, chip: str,
            output: Path | None) -> None:
    """Learn on the simulated chip: run PROGRAM (a compile output directory or a lowered .snnc
    graph) sample after sample while LAYERS adapt with a built-in RULE; print test accuracy over
    time and write the learned program and a learning report with its energy."""
    from .. import api
    from ..backends.report.learning import print_summary
    from ..ir.serialize import write_graph
    from ..outdir import check_output_dir, output_dir

    out = output or (program / "learned" if program.is_dir() else program.with_suffix(".learned"))
    inputs = [p for p in (program, data_path, test_path) if p is not None]
    check_output_dir(out, inputs)
    graph = _load_graph(program)
    shape = graph.nodes[graph.inputs[0]].out_shape
    xs, ys = _load_data(data_path, shape)
    test = _load_data(test_path, shape) if test_path else None
    if test is None:
        cut = int(len(ys) * 0.8)
        xs, ys, test = xs[:cut], ys[:cut], (xs[cut:], ys[cut:])
    _check_labels(data_path, ys, graph)
    if test_path is not None:
        _check_labels(test_path, test[1], graph)
    names = layers.split(",") if layers else [_default_layer(graph)]
    result, doc = api.learn(graph, names, rule, xs, ys, test, epochs=epochs,
                            eval_every=eval_every, error_scale=error_scale,
                            reset_layers=reset_layers, chip=chip)
    with output_dir(out, inputs=inputs, kind="learn") as tmp:
        write_graph(result.graph, tmp / "graph.learned.snnc")
        (tmp / "learning_report.json").write_text(json.dumps(doc, indent=2))
    print_summary(doc, out)
