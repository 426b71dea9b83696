"""``snnc convert MODEL --data D.npz -o OUT``: ANN-to-SNN conversion with an accuracy table.

MODEL is a float ANN in any file ``snnc.api.load`` reads (.onnx, .pt/.pth/.pt2, .snnc) whose
activations are ReLU, clamp/clip from 0, or QCFS. D.npz holds ``x`` (N, *input shape, no time
axis) and ``y`` (N,) labels; the calibration data (``--calibration``, an .npz with ``x`` or an
.npy) defaults to D's ``x``. OUT (written atomically) gets ``ann.snnc`` (the float ANN, kept for
comparison), ``snn.snnc`` (the converted SNN: compile it with ``snnc compile OUT/snn.snnc``) and
``conversion.json`` / ``conversion.html`` (thresholds per layer, ANN accuracy, SNN accuracy
and energy per inference per T).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import FormatError, SnncError
from .eval import MAX_STEPS
from .force import force_option


def _array(path: Path, key: str, required: bool = True) -> np.ndarray | None:
    from ..readers import read_array

    if path.suffix == ".npy":
        return np.asarray(read_array(path, "conversion data")) if key == "x" else None
    arrays = read_array(path, "conversion data")
    if key not in arrays:
        if required:
            raise FormatError(f"{path}: no array {key!r} (it has {sorted(arrays)})")
        return None
    return arrays[key]


def _samples(path: Path, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if x.dtype.kind not in "biuf" or tuple(x.shape[1:]) != tuple(shape):
        raise FormatError(f"{path}: x has shape {x.shape} ({x.dtype}); the model takes "
                          f"(N, {', '.join(map(str, shape))}) numbers, without a time axis")
    return x.astype(np.float64)


def _steps(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        steps = ()
    if not steps or steps[0] < 1 or steps[-1] > MAX_STEPS:
        raise SnncError(f"--steps {text!r} is not a list of integers in [1, {MAX_STEPS}] such "
                        "as 1,2,4,8")
    return steps


def _write(out: Path, conv: Any, doc: dict[str, Any], inputs: list[Path]) -> None:
    from ..convert.table import html_page
    from ..ir.serialize import write_graph
    from ..outdir import output_dir

    with output_dir(out, inputs=inputs, kind="convert") as tmp:
        write_graph(conv.ann, tmp / "ann.snnc")
        write_graph(conv.snn, tmp / "snn.snnc")
        (tmp / "conversion.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        (tmp / "conversion.html").write_text(html_page(doc))


@click.command("convert")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Output directory: new, empty or an earlier snnc output holding only "
              "what snnc wrote (written atomically).")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Labelled data .npz (x: (N, *shape), y: (N,)) for the table.")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Calibration inputs (.npz with x, or .npy); default --data.")
@click.option("--mode", default="max", show_default=True,
              help="Thresholds: max, a percentile such as 99.9%, or a fraction of the max.")
@click.option("--opi", is_flag=True, help="Start every neuron at half its threshold (OPI).")
@click.option("--method", "methods", default="plain", show_default=True,
              help="Methods evaluated in the table: plain, srp, cos (comma-separated).")
@click.option("--tau", type=click.IntRange(1, MAX_STEPS), default=8, show_default=True,
              help="Pre-simulation steps of SRP and COS.")
@click.option("--steps", "steps_text", default="1,2,4,8,16,32", show_default=True,
              help="Time steps of the accuracy table.")
@click.option("--maxpool", type=click.Choice(["refuse", "spike"]), default="refuse",
              show_default=True, help="Max pooling: refuse, or pool the spikes (approximate).")
@click.option("--calib-batch", type=click.IntRange(1, 10**7), default=None,
              help="Calibration batch size (SpikingJelly's momentum 0.1 between batches).")
@click.option("--input-shape", default=None, help="Per-sample input shape, e.g. 1,28,28.")
@click.option("--model", "factory", default=None,
              help="pkg.module:factory (or path/to/model.py:factory) building the module a "
                   "state_dict is loaded into.")
@click.option("--trust-pickle", is_flag=True, help="Allow arbitrary pickled classes (runs code).")
@force_option
def command(model: Path, out: Path, data: Path | None, calibration: Path | None, mode: str,
            opi: bool, methods: str, tau: int, steps_text: str, maxpool: str,
            calib_batch: int | None, input_shape: str | None, factory: str | None,
            trust_pickle: bool) -> None:
    """Convert a trained ANN (ReLU/clamp/QCFS) into an SNN of integrate-and-fire neurons."""
    from ..api import load
    from ..convert import convert
    from ..convert.runtime import METHODS
    from ..convert.table import accuracy_table, format_table
    from ..outdir import check_output_dir
    from .load_options import load_options_from

    method_list = tuple(m.strip() for m in methods.split(",") if m.strip())
    if not method_list or any(m not in METHODS for m in method_list):
        raise SnncError(f"--method {methods!r}: choose from {', '.join(METHODS)}")
    steps = _steps(steps_text)
    inputs = [p for p in (model, data, calibration) if p is not None]
    check_output_dir(out, inputs)
    ann = load(model, **load_options_from(model, {"input_shape": input_shape,
                                                  "factory": factory,
                                                  "trust_pickle": trust_pickle}))
    shape = ann.nodes[ann.inputs[0]].shape
    cal_path = calibration or data
    x_cal = None if cal_path is None else _samples(cal_path, _array(cal_path, "x"), shape)
    conv = convert(ann, x_cal, mode=mode, opi=opi, batch_size=calib_batch, maxpool=maxpool)
    doc: dict[str, Any] = {"model": model.name, "conversion": conv.summary()}
    if data is not None:
        x = _samples(data, _array(data, "x"), shape)
        y = _array(data, "y", required=False)
        if y is None or len(y) != len(x):
            raise FormatError(f"{data}: needs labels y with one entry per sample of x")
        doc["accuracy_vs_timesteps"] = tab = accuracy_table(conv.ann, conv.snn, x, y, steps,
                                                            method_list, tau)
        click.echo("\n".join(format_table(tab)))
    _write(out, conv, doc, inputs)
    click.echo(f"wrote {out}: ann.snnc, snn.snnc, conversion.json ({len(conv.layers)} "
               f"activations converted); next: snnc compile {out / 'snn.snnc'} -o ...")
