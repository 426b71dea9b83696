"""``snnc simulate MODEL_OR_OUTDIR --input X.npy --steps T --backend B -o R.npz``.

MODEL_OR_OUTDIR is a compile output directory (holding ``program.h5``) or any model file
``snnc.api.load`` reads. Backends: ``loihi-sim`` (the event simulator on the mapped program),
``reference`` (the reference executor on the program's lowered graph, or on the model's graph),
``lava`` (Lava's fixed_pt models, needs the Lava environment) and ``brian2`` (float graphs).

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
from ..io import atomic_path, to_time_last

log = logging.getLogger(__name__)
BACKENDS = ("loihi-sim", "reference", "lava", "brian2")


def _load_target(path: Path, backend: str, chip: str | None) -> tuple[Any, Any]:
    """(graph, program or None) for ``path``; the program only when the backend needs it."""
    from ..backends.loihi.program_io import program_file

    if path.is_dir() or path.suffix in (".h5", ".hdf5"):
        from ..backends.loihi.program import ChipProgram

        program = ChipProgram.load(program_file(path))
        return program.graph, program
    from .. import api

    graph = api.load(path)
    if backend != "loihi-sim":
        return graph, None
    return graph, _compile(api, graph, chip)


def _compile(api: Any, graph: Any, chip: str | None) -> Any:
    from ..backends.loihi.mapper import map_graph
    from ..backends.loihi.topology import ALLOWED

    if all(n.op in ALLOWED for n in graph.nodes.values()):
        return map_graph(graph, chip or "loihi1")
    compile_fn = getattr(api, "compile", None)
    if compile_fn is None:
        raise SnncError("this model is not lowered to Loihi ops and this snnc has no compiler "
                        "yet; use --backend reference, or simulate a `snnc compile` output "
                        "directory")
    out = compile_fn(graph, target="loihi-sim", **({"chip": chip} if chip else {}))
    return getattr(out, "program", out)


def _inputs(graph: Any, path: Path, opts: Any = None) -> tuple[np.ndarray, bool]:
    from ..events.inputs import read_input

    names = graph.inputs
    if len(names) != 1:
        raise SnncError(f"the model has inputs {names}; snnc simulate takes one input array")
    return read_input(path, tuple(graph.nodes[names[0]].out_shape), opts)


def _run(backend: str, graph: Any, program: Any, x: np.ndarray, steps: int | None,
         probes: tuple[str, ...], reset_interval: int, quiet: bool, lava_hw: bool) -> Any:
    if lava_hw and backend != "lava":
        raise SnncError("--lava-hw selects Lava's Loihi 2 hardware run; use it with --backend lava")
    if backend == "loihi-sim":
        from ..simulators.event import simulate

        return simulate(program, x, steps, probes, reset_interval=reset_interval,
                        progress=not quiet)
    if reset_interval:
        raise SnncError("--reset-interval is only supported by --backend loihi-sim")
    if backend == "reference":
        from ..simulators.reference import simulate as ref

        return ref(graph, x, steps, probes)
    if backend == "lava":
        from ..backends.lava import run_lava

        return run_lava(graph, x, steps, probes, hw=lava_hw)
    from ..simulators.brian2 import run_brian2

    return run_brian2(graph, x, steps, probes, target="numpy")


def _save(path: Path, result: Any, batched: bool) -> None:
    def last(a: np.ndarray) -> np.ndarray:
        a = to_time_last(a)
        return a if batched else a[0]

    arrays = {"output": last(result.output)}
    arrays.update({name: last(val) for name, val in result.probes.items()})
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)


@click.command("simulate")
@click.argument("model_or_outdir", type=click.Path(exists=True, path_type=Path))
@click.option("--input", "-i", "input_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Input: an array .npy, time last ((*shape, T) or (B, *shape, T)); an event "
                   "file (.aedat4, .raw EVT2/3, .dat DAT or SpikeCV, tonic .npy/.npz), binned "
                   "with --dt; or static data with --encode.")
@click.option("--dt", default=None, help="Events: time one step stands for (1ms, 250us, or "
              "seconds).")
@event_options
@click.option("--steps", "-T", type=click.IntRange(min=1), default=None,
              help="Time steps (default: the input's length; shorter inputs are zero-padded).")
@click.option("--backend", "-b", type=click.Choice(BACKENDS), default="loihi-sim",
              show_default=True)
@click.option("--probe", "-p", "probes", multiple=True, metavar="LAYER.u|LAYER.v|LAYER.s",
              help="Record a layer's state or output (repeatable).")
@click.option("--chip", default=None, help="Chip for models that still need mapping: loihi1, "
              "loihi2 or a .toml chip file.")
@click.option("--reset-interval", type=click.IntRange(min=0), default=0,
              help="loihi-sim: zero all state every N steps (one sample per N steps).")
@click.option("--counters", "counters_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="loihi-sim: also write the per-core counters (.json or .npz).")
@click.option("--output", "-o", "out", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Result file R.npz.")
@click.option("--lava-hw", is_flag=True,
              help="With --backend lava: run on Loihi 2 through Lava's hardware run "
                   "configuration (needs Intel's lava-loihi and a board).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def command(model_or_outdir: Path, input_path: Path, steps: int | None, backend: str,
            probes: tuple[str, ...], chip: str | None, reset_interval: int,
            counters_path: Path | None, lava_hw: bool, out: Path, quiet: bool, dt: str | None,
            **event_kw: Any) -> None:
    """Run a model or compiled program and save its output spikes and probes."""
    opts = options_from(event_kw, steps, dt)
    graph, program = _load_target(model_or_outdir, backend, chip)
    x, batched = _inputs(graph, input_path, opts)
    result = _run(backend, graph, program, x, steps, probes, reset_interval, quiet, lava_hw)
    _save(out, result, batched)
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
