"""``snnc compile MODEL -o OUT``: passes, fidelity report and target artifacts.

MODEL is any file ``snnc.api.load`` reads (.pt/.pth/.pt2, .nir, .net, .snnc). The output
directory (written atomically) holds ``graph.float.snnc``, ``graph.lowered.snnc``,
``fidelity.json``, ``compile.json`` and the target's artifacts (``program.h5`` for loihi-sim).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import SnncError
from ..events.inputs import event_options, options_from
from .force import force_option
from .load_options import load_options_from, loading_options


def _echo(message: str) -> None:
    click.echo(message, err=True)


def _print_fidelity(fid: dict[str, Any]) -> None:
    click.echo(f"fidelity (float vs fixed point, {fid['steps']} steps, batch {fid['batch']}, "
               f"latency {fid['latency']} steps; {fid['calibration']}):")
    click.echo(f"  {'layer':<24} {'float':>8} {'fixed':>8} {'agree':>7} {'near-thr':>9} "
               f"{'clipped':>8}")
    for row in fid["layers"]:
        near = "-" if row["near_threshold"] is None else f"{row['near_threshold']:.1%}"
        click.echo(f"  {row['layer']:<24} {row['float_spikes']:>8} {row['fixed_spikes']:>8} "
                   f"{row['spike_agreement']:>7.1%} {near:>9} {row['clipped_weights']:>8}")
    if fid.get("classification_agreement") is not None:
        click.echo(f"  classification agreement: {fid['classification_agreement']:.1%}")
    align = fid.get("alignment") or {}
    for syn, d in align.get("delays", {}).items():
        click.echo(f"  aligned: synapse {syn!r} delayed {d} step(s) (synaptic delay)")
    for syn, relays in align.get("relays", {}).items():
        click.echo(f"  aligned: synapse {syn!r} behind {len(relays)} relay neuron layer(s) "
                   f"{', '.join(relays)} (its synapse cannot hold a delay)")


def _converted(model: Path, load_options: dict[str, Any], opts: Any, *paths: Path | None
               ) -> list[Any]:
    """Event files and ``--encode`` inputs as time-major arrays (other paths unchanged)."""
    from ..events.inputs import needs_conversion, read_input

    todo = [p is not None and needs_conversion(p, opts) for p in paths]
    if not any(todo):
        return list(paths)
    from ..api import load

    graph = load(model, **load_options)
    if len(graph.inputs) != 1:
        raise SnncError(f"the model has inputs {graph.inputs}; event and encoded inputs need a "
                        "single-input model")
    shape = tuple(graph.nodes[graph.inputs[0]].out_shape)
    return [read_input(p, shape, opts)[0] if do else p for p, do in zip(paths, todo, strict=True)]


@click.command("compile")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="Output directory: new, empty or an earlier snnc output holding only "
              "what snnc wrote (replaced atomically; snnc never deletes files it did not "
              "write).")
@click.option("--target", default="loihi-sim", show_default=True,
              help="Target (see `snnc list targets`).")
@click.option("--pipeline", default=None,
              help='Pass pipeline instead of the target\'s, e.g. "fold-bn,prune{threshold=0},'
                   'quantize-loihi" (see `snnc list passes`).')
@click.option("--dump-ir", type=click.Path(path_type=Path), default=None,
              help="Write the text IR after every pass into this directory.")
@click.option("--stop-after", default=None, help="Stop after this pass.")
@click.option("--calibration", type=click.Path(path_type=Path), default=None,
              help="Calibration input X.npy, (*shape, T) or (B, *shape, T), or an event file / "
                   "static data as for --input (default: MODEL.input.npy if present, else "
                   "synthetic).")
@click.option("--input", "-i", "input_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Input whose activity the energy/latency report measures: X.npy (time last), "
                   "an event file binned with --dt, or static data with --encode (default: the "
                   "calibration input; with neither, the report states it is worst case).")
@click.option("--data", "conv_data", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Converted SNNs (snnc convert): labelled .npz (x: (N, *shape), y: (N,)) for "
                   "the report's accuracy and energy at T = 1..32 on the chip.")
@click.option("--ann", "ann_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The float ANN for --data's ANN accuracy (default: ann.snnc next to MODEL).")
@click.option("--method", "conv_methods", default="plain", show_default=True,
              help="With --data: conversion methods plain, srp, cos (comma-separated); SRP/COS "
                   "run with a host-driven pre-run in the chip's arithmetic.")
@click.option("--tau", "conv_tau", type=int, default=8, show_default=True,
              help="With --data: pre-run steps of SRP and COS.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=None,
              help="Time steps for calibration and fidelity.")
@click.option("--chip", default=None, help="Chip spec name (loihi2, loihi1) or TOML file "
              "(default: the target's; loihi2 for loihi-sim).")
@click.option("--mapping", type=click.Choice(["balanced", "compact", "vendor"]), default=None,
              help="Chip mapping: vendor (Loihi 2's default: cores per layer as Lava's Loihi 2 "
                   "compiler chooses them; balanced where it refuses, with a note), balanced "
                   "(Loihi 1's default: more cores for the busiest layers, NoC-aware placement) "
                   "or compact (fewest cores, snake placement: the earlier mapping).")
@loading_options()
@event_options
@click.option("--check", is_flag=True,
              help="Simulate before and after every pass on the calibration input; fail if an "
                   "exact pass changes the result (agreements go into compile.json).")
@force_option
@click.option("-q", "--quiet", is_flag=True, help="No progress lines or notes.")
def command(model: Path, out: Path, target: str, pipeline: str | None, dump_ir: Path | None,
            stop_after: str | None, calibration: Path | None, input_path: Path | None,
            steps: int | None, chip: str | None, mapping: str | None, dt: str | None,
            check: bool, quiet: bool, reset_interval: int | None,
            conv_data: Path | None, ann_path: Path | None, conv_methods: str, conv_tau: int,
            **kw: Any) -> None:
    """Compile MODEL for a target: folds, pruning, quantization, lowering, mapping."""
    from ..api import compile as compile_model

    opts = options_from(kw, steps, dt)
    load_options = load_options_from(model, kw, dt_s=opts.dt_s, reset_interval=reset_interval,
                                     examples=() if opts.encode else (calibration, input_path))
    report_input, calib = _converted(model, load_options, opts, input_path, calibration)
    result = compile_model(model, target=target, pipeline=pipeline, calibration=calib,
                           steps=steps, out_dir=out, dump_ir=dump_ir, stop_after=stop_after,
                           chip=chip, load_options=load_options,
                           echo=None if quiet else _echo, check=check,
                           report_input=report_input,
                           note=None if quiet else _echo, mapping=mapping,
                           conversion_data=conv_data, ann=ann_path, tau=conv_tau,
                           conversion_methods=tuple(m.strip() for m in conv_methods.split(",")
                                                    if m.strip()))
    if result.fidelity is not None:
        _print_fidelity(result.fidelity)
    art = result.artifacts
    extra = (f", {art['cores']} cores on {art['chips']} {art['chip']} chip(s)" if "cores" in art
             else "")
    click.echo(f"wrote {out}{extra}")
    if result.report is not None:
        from ..backends.report.terminal import summary_line

        click.echo(summary_line(result.report))
        if result.report["chip"].get("costs"):
            click.echo(result.report["chip"]["costs"])
        if result.report.get("conversion"):
            from ..backends.report.conversion import conversion_lines

            click.echo("\n".join(conversion_lines(result.report["conversion"])))
        click.echo(f"see {out / 'report.html'} or `snnc report {out}`")
