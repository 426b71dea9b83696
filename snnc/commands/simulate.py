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
import os
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import SnncError
from ..events.inputs import event_options, options_from
from ..io import atomic_path, check_output_file, to_time_last
from ..simulators.result import SimResult
from .load_options import is_compiled, load_options_from, loading_options, print_notes
from .netx_options import MAX_INTERVAL, is_netx

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

    check_output_file(path, True, _ours)
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


CHUNK_BYTES = 64 << 20  # input bytes (as int64) of one streamed chunk of samples


def _chunk_samples(x: np.ndarray, steps: int | None, asked: int | None) -> int:
    """Samples per chunk: ``asked``, else as many as keep one chunk's input near CHUNK_BYTES."""
    if asked is not None:
        return asked
    per_sample = max(int(steps or len(x)), len(x)) * int(np.prod(x.shape[2:])) * 8
    return max(1, CHUNK_BYTES // max(per_sample, 1))


def _simulate_streamed(program: Any, x: np.ndarray, steps: int | None, lat: int,
                       probes: tuple[str, ...], chunk: int, reset_interval: int, out: Path,
                       quiet: bool) -> None:
    """The samples of ``x`` (T, B, *shape; a memory-mapped file's view) ``chunk`` at a time:
    each chunk is read from disk, simulated (samples are independent, so the results equal one
    batch's) and appended to one temporary .npy per result array, time last; R.npz is then
    assembled from those files. Memory holds one chunk, whatever the number of samples."""
    import zipfile

    from ..simulators.event import simulate

    n = x.shape[1]
    parts: dict[str, tuple[Path, Any]] = {}
    syn = spikes = 0.0
    tmp_dir = out.parent if str(out.parent) else Path(".")
    try:
        for b0 in range(0, n, chunk):
            xc = np.ascontiguousarray(x[:, b0:b0 + chunk])  # reads this chunk only
            res = simulate(program, xc, steps, probes, reset_interval=reset_interval)
            arrays = {"output": res.output[lat:] if lat else res.output, **res.probes}
            for name, val in arrays.items():
                last = np.ascontiguousarray(to_time_last(val))  # (b, *shape, T)
                if name not in parts:
                    parts[name] = _open_part(tmp_dir, out, (n, *last.shape[1:]), last.dtype)
                parts[name][1].write(last.tobytes())
            _release(x)
            tot = res.counters.totals()
            syn += (tot["syn_ops_dense"] + tot["syn_ops_sparse"] + tot["syn_ops_conv"]) \
                * xc.shape[1]
            spikes += tot["spikes_out"] * xc.shape[1]
        for _, fh in parts.values():
            fh.close()
        with atomic_path(out) as tmp, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, (path, _) in parts.items():
                _copy_member(zf, path, name)
    finally:
        for path, fh in parts.values():
            fh.close()
            path.unlink(missing_ok=True)
    if not quiet:
        click.echo(f"loihi-sim: {x.shape[0] if steps is None else steps - lat} steps x {n} "
                   f"sample(s) in chunks of {chunk} -> {out} ({syn / n:.0f} synaptic ops, "
                   f"{spikes / n:.0f} spikes per sample)")


def _release(x: np.ndarray) -> None:
    """Let the kernel drop the pages of a memory-mapped input that were read so far (they count
    in the process's resident memory until it needs them elsewhere); they are re-read on use."""
    import mmap

    base: Any = x
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "_mmap", None) or getattr(base, "base", None)
    if isinstance(base, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)


def _open_part(tmp_dir: Path, out: Path, shape: tuple[int, ...], dtype: np.dtype
               ) -> tuple[Path, Any]:
    """A temporary .npy file beside ``out`` with the header of ``shape``; rows are appended."""
    import tempfile

    from numpy.lib import format as npf

    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name[:200]}.", suffix=".part.npy",
                                    dir=tmp_dir)
    except OSError as exc:
        raise SnncError(f"{out}: cannot write here ({exc.strerror or exc})") from None
    fh = os.fdopen(fd, "wb")
    npf.write_array_header_2_0(fh, {"descr": npf.dtype_to_descr(np.dtype(dtype)),
                                    "fortran_order": False, "shape": shape})
    return Path(name), fh


def _copy_member(zf: Any, path: Path, name: str) -> None:
    """The .npy file ``path`` into the archive as ``name.npy``, a megabyte at a time."""
    import shutil

    with path.open("rb") as src, zf.open(f"{name}.npy", "w", force_zip64=True) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


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
@click.option("--force", is_flag=True,
              help="Overwrite -o/--counters files even if snnc did not write them.")
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
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def command(model_or_outdir: Path, input_path: Path | None, steps: int | None, backend: str,
            probes: tuple[str, ...], chip: str | None, reset_interval: int,
            counters_path: Path | None, lava_hw: bool, out: Path, force: bool, align: bool,
            fidelity: str, quiet: bool, dt: str | None, **kw: Any) -> None:
    """Run a model or compiled program and save its output spikes and probes."""
    chunk_samples = kw.pop("chunk_samples", None)
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
    check_output_file(out, force, _ours)
    if counters_path is not None:
        check_output_file(counters_path, force, _ours_counters)
    loaded, graph = _subject_of(model_or_outdir, load_options)
    if not is_compiled(model_or_outdir) and not quiet:
        print_notes(graph)
    x, batched = _inputs(graph, input_path, opts, steps)
    sim = registry.simulator(backend)
    # what the simulator runs (a model file is compiled here, as api.simulate does), so that
    # the latency is the program's also when the program is made on the fly
    subject = api.prepare(loaded, sim.needs, sim.compile_target, chip, x, load_options)
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
    chunk = _chunk_samples(x, run_steps, chunk_samples)
    if (batched and chunk < x.shape[1] and backend == "loihi-sim" and counters_path is None
            and fidelity == "fixed_pt" and sim.needs == "program"
            and "netx" not in dict(graph.metadata)):
        _simulate_streamed(subject, x, run_steps, lat, probes, chunk, reset_interval, out,
                           quiet)
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
    if not quiet:
        t, b = result.output.shape[:2]
        msg = f"{backend}: {t} steps x {b} sample(s) -> {out}"
        if result.counters is not None:
            tot = result.counters.totals()
            syn = tot["syn_ops_dense"] + tot["syn_ops_sparse"] + tot["syn_ops_conv"]
            msg += (f" ({syn:.0f} synaptic ops, {tot['spikes_out']:.0f} spikes, "
                    f"{tot['time_ns'] / 1e3:.1f} us chip time per sample)")
        click.echo(msg)
