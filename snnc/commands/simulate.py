"""``snnc simulate MODEL_OR_OUTDIR --input X.npy --steps T --backend B -o R.npz``.

MODEL_OR_OUTDIR is a compile output directory (holding ``program.h5``) or any model file
``snnc.api.load`` reads; ``snnc.api.simulate`` runs it with a simulator of ``snnc/registry.py``:
``loihi-sim`` (the event simulator on the mapped program; a model file goes through the compile
stages first), ``reference`` (the reference executor on the program's lowered graph, or on the
model's graph), ``lava`` (Lava's fixed_pt models on the lowered graph, needs the Lava
environment; a float model is compiled for the ``lava`` target first) and ``brian2`` (float
graphs). A model compiled here is calibrated on its ``<model>.input.npy`` when present, else
on the input being simulated.

X.npy has time last: (*shape, T) or (B, *shape, T). Event files and ``--encode`` for static
data are read by ``snnc.events.read_input``. R.npz holds ``output`` (the output node's
values, time last, with a batch axis only if X had one) and every probe under its name, also time
last; with ``--counters`` the event simulator's counters go to a JSON or NPZ file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import SnncError
from ..events.inputs import event_options, options_from
from ..io import atomic_path, check_output_file, to_time_last
from ..simulators.result import SimResult
from .force import force_option
from .load_options import is_compiled, load_options_from, loading_options, print_notes
from .netx_options import MAX_INTERVAL, is_netx
from .streamed import CHUNK_BYTES, chunk_samples_for, sample_bytes, simulate_streamed

log = logging.getLogger(__name__)


def _simulators() -> list[str]:
    from ..registry import default_registry

    return default_registry().simulator_names()


def _subject_of(path: Path, load_options: dict[str, Any]) -> tuple[Any, Any]:
    """(what ``api.simulate`` runs: the loaded program of a compile output, else the path;
    the graph whose input node names and shapes the input file is read against)."""
    from .. import api
    from ..backends.loihi.program_io import program_file

    if path.is_dir() or path.suffix in (".h5", ".hdf5"):
        from ..backends.loihi.program import ChipProgram

        program = ChipProgram.load(program_file(path))  # read once, simulated below
        return program, program.graph
    return path, api.load(path, **load_options)


def _inputs(graph: Any, path: Path | None, opts: Any = None, steps: int | None = None
            ) -> tuple[np.ndarray, bool]:
    from ..events.inputs import read_input

    names = graph.inputs
    if len(names) != 1:
        raise SnncError(f"the model has inputs {names}; snnc simulate takes one input array")
    shape = tuple(graph.nodes[names[0]].out_shape)
    if path is None:  # netx input bias: the stimulus is zero
        if steps is None or dict(graph.metadata).get("netx", {}).get("input") != "bias":
            raise SnncError("--input is required (it may be left out only for a netx file "
                            "driven by --input-bias, with --steps)")
        return np.zeros((steps, 1, *shape), np.int64), False
    return read_input(path, shape, opts)


def pipeline_latency(graph: Any) -> int:
    """Steps by which a lowered graph's outputs lag the float model's (``loihi.latency`` of
    the nodes feeding the outputs), 0 for graphs that were not lowered by snnc."""
    depth = dict(graph.metadata).get("loihi.latency") or {}
    feeding = [depth.get(p, 0) for o in graph.outputs for p in graph.predecessors(o)]
    return int(max(feeding, default=0))


def _save(path: Path, result: Any, batched: bool, average: np.ndarray | None = None) -> None:
    def last(a: np.ndarray) -> np.ndarray:
        a = to_time_last(a)
        return a if batched else a[0]

    check_output_file(path, _ours)  # again: the run may have been long
    arrays = {"output": last(result.output)}
    if average is not None:
        arrays["average"] = last(average)
    arrays.update({name: last(val) for name, val in result.probes.items()})
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)


def _ours(path: Path) -> bool:
    """A result file snnc simulate wrote (an .npz archive holding ``output``)."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return "output.npy" in zf.namelist()


def _ours_counters(path: Path) -> bool:
    from ..readers import read_json

    if path.suffix != ".json":
        import zipfile

        with zipfile.ZipFile(path) as zf:
            return "syn_ops_dense.npy" in zf.namelist()
    return "syn_ops_dense" in read_json(path, "counters")


@click.command("simulate")
@click.argument("model_or_outdir", type=click.Path(exists=True, path_type=Path))
@click.option("--input", "-i", "input_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Input: an array .npy, time last ((*shape, T) or (B, *shape, T)); an event "
                   "file (.aedat4, .raw EVT2/3, .dat DAT or SpikeCV, tonic .npy/.npz), binned "
                   "with --dt; or static data with --encode.")
@loading_options(netx_reset=False)
@event_options
@click.option("--steps", "-T", type=click.IntRange(1, 10_000_000), default=None,
              help="Time steps (default: the input's length; shorter inputs are zero-padded).")
@click.option("--backend", "-b", default="loihi-sim", show_default=True,
              help="Simulator (see `snnc list backends`): loihi-sim, reference, lava, brian2, "
                   "or one an installed package registers.")
@click.option("--probe", "-p", "probes", multiple=True, metavar="LAYER.u|LAYER.v|LAYER.s",
              help="Record a layer's state or output (repeatable).")
@click.option("--chip", default=None, help="Chip for models that still need mapping: loihi2 "
              "(the default), loihi1 or a .toml chip file.")
@click.option("--reset-interval", type=click.IntRange(0, MAX_INTERVAL), default=0,
              help="loihi-sim: zero all state every N steps (one sample per N steps); for a "
                   "netx .net file: netx's reset_interval (each layer offset by its depth).")
@click.option("--counters", "counters_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="loihi-sim: also write the per-core counters (.json or .npz).")
@click.option("--output", "-o", "out", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Result file R.npz.")
@click.option("--lava-hw", is_flag=True,
              help="With --backend lava: run on Loihi 2 through Lava's hardware run "
                   "configuration (needs Intel's lava-loihi and a board).")
@force_option
@click.option("--align/--no-align", default=True, show_default=True,
              help="Compiled programs: run the pipeline latency's extra steps and drop the "
                   "leading ones, so `output` has the input's steps, aligned with the float "
                   "model (probes keep the chip's own timing).")
@click.option("--fidelity", type=click.Choice(["fixed_pt", "silicon"]), default="fixed_pt",
              show_default=True,
              help="fixed_pt: Lava's CPU models (bit-exact with Lava); silicon: also the Loihi 2 "
                   "behaviours Lava leaves out (periodic reset every interval + 1 steps; v "
                   "reads 128 after a spike), see docs/loihi-sim.md.")
@click.option("--chunk-samples", type=click.IntRange(min=1), default=None,
              help="loihi-sim on a compile output: simulate this many samples at a time "
                   "(default: as many as fit in about 64 MB of input), reading a memory-mapped "
                   "X.npy chunk by chunk and streaming the results to R.npz.")
@click.option("--chunk-steps", type=click.IntRange(min=1), default=None,
              help="loihi-sim on a compile output: write results every this many steps "
                   "(default: windows of about 64 MB of simulator values; inputs or runs too "
                   "large for one chunk are streamed window by window, memory flat in steps).")
@click.option("--compare-gt", "compare_gt", default=None,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A recording to compare with (e.g. lava-dl's gts/pilotnet_lif): print per "
                   "layer how many steps fixed_pt and silicon each reproduce exactly (both "
                   "modes run; -o holds the --fidelity run).")
@click.option("--compare-json", "compare_json", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="With --compare-gt: also write the comparison to this JSON file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def command(model_or_outdir: Path, input_path: Path | None, steps: int | None, backend: str,
            probes: tuple[str, ...], chip: str | None, reset_interval: int,
            counters_path: Path | None, lava_hw: bool, out: Path, align: bool,
            fidelity: str, quiet: bool, dt: str | None, **kw: Any) -> None:
    """Run a model or compiled program and save its output spikes and probes."""
    chunk_samples = kw.pop("chunk_samples", None)
    chunk_steps = kw.pop("chunk_steps", None)
    compare_gt, compare_json = kw.pop("compare_gt", None), kw.pop("compare_json", None)
    if compare_json is not None and compare_gt is None:
        raise SnncError("--compare-json needs --compare-gt (the recording to compare with)")
    opts = options_from(kw, steps, dt)
    netx_reset = reset_interval if is_netx(model_or_outdir) and reset_interval else None
    examples = () if opts.encode else (input_path,)
    load_options = load_options_from(model_or_outdir, kw, dt_s=opts.dt_s,
                                     reset_interval=netx_reset, examples=examples)
    if netx_reset:
        reset_interval = 0  # the reader's staggered per-layer resets replace the global one
    from .. import api
    from ..registry import default_registry

    registry = default_registry()
    if not registry.has_simulator(backend):
        raise click.BadParameter(f"{backend!r} is not one of {', '.join(_simulators())}",
                                 param_hint="'--backend'")
    registry.simulator(backend)  # a broken plug-in fails before any work
    check_output_file(out, _ours)
    if counters_path is not None:
        check_output_file(counters_path, _ours_counters)
    if compare_gt is not None:
        from .ground_truth import check_json

        check_json(compare_json)
    loaded, graph = _subject_of(model_or_outdir, load_options)
    if not is_compiled(model_or_outdir) and not quiet:
        print_notes(graph)
    x, batched = _inputs(graph, input_path, opts, steps)
    sim = registry.simulator(backend)
    # what the simulator runs (a model file is compiled here, as api.simulate does), so that
    # the latency is the program's also when the program is made on the fly
    subject = api.prepare(loaded, sim.needs, sim.compile_target, chip, x, load_options)
    x = api.chip_inputs(subject, x)  # analog values encoded as the program says, as api.simulate
    comparison = None
    if compare_gt is not None:  # before the run: a recording that does not fit fails early
        from .ground_truth import ground_truth_report

        comparison = ground_truth_report(sim, subject, x, steps, reset_interval, compare_gt)
    if fidelity == "silicon":
        from ..simulators import silicon

        subject = silicon.silicon_subject(subject)
    ran = getattr(subject, "graph", subject)
    lat = pipeline_latency(ran) if align and steps is None and not reset_interval else 0
    if lat and not quiet:
        click.echo(f"aligning with the float model: the program's pipeline latency is {lat} "
                   f"step(s), so {len(x) + lat} steps run and the first {lat} output steps "
                   "are dropped (--no-align keeps them)", err=True)
    run_probes = tuple(probes)
    if fidelity == "silicon":
        run_probes = silicon.probes_needed(ran, probes)
    run_steps = len(x) + lat if lat else steps
    chunk = chunk_samples_for(x, run_steps, chunk_samples)
    large = chunk < x.shape[1] or sample_bytes(x, run_steps) > CHUNK_BYTES or chunk_steps
    # counters stream as .npz window by window, over one chunk of samples (their means over
    # samples are then the whole batch's, bit for bit)
    counters_ok = counters_path is None or (counters_path.suffix == ".npz"
                                            and chunk >= x.shape[1])
    if (large and counters_ok and backend == "loihi-sim" and fidelity == "fixed_pt"
            and comparison is None and sim.needs == "program"
            and "netx" not in dict(graph.metadata)):
        simulate_streamed(subject, x, run_steps, lat, probes, chunk, reset_interval, out,
                          quiet, batched, chunk_steps, counters_path)
        return
    result = sim.run(subject, x, run_steps, run_probes,
                     reset_interval=reset_interval, progress=not quiet, lava_hw=lava_hw)
    if fidelity == "silicon":
        result = silicon.silicon_readout(ran, result, probes)
    if lat:
        result = SimResult({k: v[lat:] for k, v in result.outputs.items()}, result.probes,
                           result.counters)
    average = None
    if "netx" in dict(graph.metadata):  # a netx file's average readout block
        from ..frontend.netx import average_readout

        average = average_readout(graph, result.output)
    _save(out, result, batched, average)
    if counters_path is not None:
        if result.counters is None:
            raise SnncError(f"--counters: backend {backend!r} does not count chip events")
        result.counters.save(counters_path)
    if comparison is not None:
        from .ground_truth import emit

        emit(comparison, compare_json, quiet)
    if not quiet:
        t, b = result.output.shape[:2]
        msg = f"{backend}: {t} steps x {b} sample(s) -> {out}"
        if result.counters is not None:
            tot = result.counters.totals()
            syn = tot["syn_ops_dense"] + tot["syn_ops_sparse"] + tot["syn_ops_conv"]
            msg += (f" ({syn:.0f} synaptic ops, {tot['spikes_out']:.0f} spikes, "
                    f"{tot['time_ns'] / 1e3:.1f} us chip time per sample)")
        click.echo(msg)
