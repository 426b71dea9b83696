"""The public Python API, which the CLI calls: ``load``, ``compile``, ``simulate``.

Front ends are chosen by file suffix through ``LOADERS`` (module path + function name, imported
lazily so that the core never imports torch). Each loader has the signature
``load(path: Path, **options) -> Graph`` and raises ``FormatError`` / ``UnsupportedOpError``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .errors import BackendError, FormatError, SnncError
from .ir import Graph

# suffix -> (module, function)
LOADERS: dict[str, tuple[str, str]] = {
    ".snnc": ("snnc.ir.serialize", "read_graph"),
    ".nir": ("snnc.ir.nir_io", "read_nir"),
    ".net": ("snnc.frontend.netx", "read_netx"),
    ".pt": ("snnc.frontend.torch", "load_torch"),
    ".pth": ("snnc.frontend.torch", "load_torch"),
    ".pt2": ("snnc.frontend.torch", "load_torch"),
    ".onnx": ("snnc.frontend.onnx", "load_onnx"),
}


def loader_for(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        known = ", ".join(sorted(LOADERS))
        raise FormatError(f"{path}: unknown file type {suffix or '(no suffix)'!r}; "
                          f"snnc reads {known}")
    module, func = LOADERS[suffix]
    try:
        return getattr(importlib.import_module(module), func)
    except ImportError as exc:
        raise BackendError(f"{path}: reading {suffix} files needs a package this environment "
                           f"lacks ({exc}); install the matching extra (see README), or compile "
                           "the model where it is installed (`snnc compile MODEL -o OUT`) and "
                           "use OUT here") from None


def load(path: str | Path, **options: Any) -> Graph:
    """Read any model or graph file snnc understands into an IR ``Graph``."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file")
    if p.is_dir():
        raise FormatError(f"{p}: is a directory, expected a model file")
    from .frontend.policy import check_loadable
    from .frontend.snncpt import try_load
    from .readers import regular_file

    if p.suffix.lower() not in LOADERS:
        loader_for(p)  # refuses the unknown file type before anything reads the file
    regular_file(p, "a model or graph file")
    fast = try_load(p, options)  # snnc.nn Sequentials without torch: frontend/snncpt
    if fast is not None:
        return fast
    loader = loader_for(p)
    check_loadable(p, bool(options.get("trust_pickle", False)))  # one policy for every format
    return loader(p, **options)


def compile(model: str | Path | Graph, target: str = "loihi-sim", pipeline: str | None = None,
            calibration: Any = None, steps: int | None = None, out_dir: str | Path | None = None,
            dump_ir: str | Path | None = None, stop_after: str | None = None,
            chip: str | None = None, load_options: dict[str, Any] | None = None,
            echo: Any = None, check: bool = False, report_input: Any = None,
            force: bool = False, note: Any = None, mapping: str | None = None,
            conversion_data: Any = None, ann: Any = None,
            conversion_methods: tuple[str, ...] = ("plain",), tau: int = 8) -> Any:
    """Compile a model file or graph for ``target``; returns a ``CompileResult``.

    The stages of ``snnc.stages``, in order: load -> optimize (the target's pass pipeline, or
    ``pipeline`` such as ``"fold-bn,prune,quantize-loihi"``, and the fidelity report) -> map
    (``ChipProgram`` on ``chip``, default the target's) -> measure (the event simulator on
    ``report_input``, an X.npy path or a time-major array, default the calibration file) ->
    report. The result holds every stage's value (``.program``, ``.report``, ...) whether or
    not ``out_dir`` is given; ``out_dir`` only writes them (atomically).

    ``calibration`` is a time-major array (T, B, *shape), a dict per input, or a .npy/.npz file
    (time last); ``check`` simulates before and after every pass and fails if an exact pass
    changed the result. ``out_dir`` must be new, empty or an earlier snnc output holding only
    what snnc wrote (``snnc.outdir``; ``force`` is accepted for old callers and changes
    nothing: snnc never deletes files it did not write). ``note`` (a callable taking one line) is
    told, before the passes run, how the model was read (the loader's ``load_notes``) and what
    the input is taken to be (binary spikes, integers or analog values, and from what).
    ``mapping`` is the chip mapper's strategy (``balanced``, ``compact`` or ``vendor``:
    backends/loihi/mapper.py); None, the default: ``vendor`` on Loihi 2 (``balanced`` where
    vendor refuses the graph, the report saying why), ``balanced`` on Loihi 1.

    ``conversion_data`` (an .npz with ``x`` (N, *shape) and labels ``y``, or an ``(x, y)`` pair)
    on a converted SNN adds the report's accuracy-versus-T section (``stages/conversion.py``);
    ``ann`` is the float ANN for its ANN accuracy (a path or graph; default ``ann.snnc`` next
    to the model, as ``snnc convert`` writes it); ``conversion_methods`` adds SRP / COS
    (``tau`` pre-run steps) in float and in the chip's arithmetic.
    """
    from .convert import refuse_ann
    from .registry import default_registry
    from .stages import CompileResult, map_program, measure, optimize, report
    from .targets import get_target

    tgt = get_target(target)
    backend = default_registry().backend(tgt.backend)
    path = None if isinstance(model, Graph) else Path(model)
    inputs = tuple(Path(p) for p in (path, calibration, report_input, dump_ir, conversion_data,
                                     ann) if isinstance(p, (str, Path)))
    if out_dir is not None:
        from .outdir import check_output_dir

        check_output_dir(out_dir, inputs)
    from .progress import Stages

    names = ["load", "optimize", "map", "measure", "report", "write"]
    with Stages("compile", names, enabled=echo is not None) as bar:
        with bar.stage("load"):
            graph = model if isinstance(model, Graph) else load(model, **(load_options or {}))
        refuse_ann(graph)
        levels = sum(v.op == "qcfs" for v in graph.nodes.values())
        if note is not None and levels:
            note(f"note: {levels} qcfs node(s) compile as multi-level integer spikes (one binary "
                 "neuron per level, exact at every step); to run a QCFS ANN as rate-coded IF "
                 "neurons instead, snnc convert it first")
        if note is not None:
            from .stages.optimize import input_assumption

            for line in dict(graph.metadata).get("load_notes", ()) or ():
                note(f"note: {line}")
            if tgt.lowers:
                note(f"note: {input_assumption(graph, calibration, path)}")
        if conversion_data is not None and not tgt.lowers:
            raise SnncError(f"--data measures a converted SNN on a chip; target {tgt.name!r} "
                            "does not map onto one (use loihi-sim)")
        conv_run = None if conversion_data is None else _conversion_runner(
            graph, conversion_data, ann, path, steps, tuple(conversion_methods), tau)
        if conv_run is not None and report_input is None:  # the report measures the data too
            report_input = conv_run.report_input
        with bar.stage("optimize"):
            opt = optimize(graph, pipeline or tgt.pipeline, calibration=calibration,
                           steps=steps, dump_ir=dump_ir, stop_after=stop_after, model_path=path,
                           echo=echo, check=check, explicit=pipeline is not None,
                           programmable=programmable_neurons(tgt, chip))
        with bar.stage("map"):
            program = (map_program(opt, tgt, chip, backend, mapping)
                       if tgt.lowers or opt.lowered else None)
        measured = doc = None
        with bar.stage("measure"):
            if program is not None:
                if echo is not None:
                    echo("measuring activity on the event simulator for the report ...")
                measured = measure(program, opt, report_input, conv_run)
        with bar.stage("report"):
            if program is not None:
                doc = report(program, measured, opt, tgt.name)
        result = CompileResult(tgt, opt, program, measured, doc,
                               dt=(load_options or {}).get("dt"))
        with bar.stage("write"):
            if out_dir is not None:
                result.save(out_dir, backend=backend, inputs=inputs)
    return result


def _conversion_runner(graph: Graph, data: Any, ann: Any, path: Path | None,
                       steps: int | None, methods: tuple[str, ...], tau: int) -> Any:
    """Check the labelled data (and ANN) now; the measure stage calls the returned runner."""
    import numpy as np

    from .convert.runtime import METHODS
    from .stages.conversion import default_ann, is_converted, measure_conversion, read_labelled

    if not methods or any(m not in METHODS for m in methods):
        raise SnncError(f"conversion methods {methods}: choose from {', '.join(METHODS)}")
    if tau < 1:
        raise SnncError(f"--tau {tau}: SRP and COS need at least one pre-run step")
    if not is_converted(graph):
        raise SnncError("--data gives the accuracy-versus-time-steps table of a converted SNN "
                        "(written by snnc convert); this model is not one. Use --input for "
                        "the activity the report measures")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise SnncError("accuracy versus time steps needs a model with one input and one output")
    shape = tuple(graph.nodes[graph.inputs[0]].out_shape)
    if isinstance(data, tuple):
        x, y = (np.asarray(v) for v in data)
        x, y = x.astype(np.float64), y.astype(np.int64).reshape(-1)
        source = "given"
    else:
        x, y = read_labelled(data, shape)
        source = str(data)
    ann_src = ann if ann is not None else default_ann(path)
    ann_graph = ann_src if isinstance(ann_src, Graph) or ann_src is None else load(ann_src)
    if ann_graph is not None:
        a_shape = tuple(ann_graph.nodes[ann_graph.inputs[0]].out_shape)
        if a_shape != shape or len(ann_graph.outputs) != 1:
            raise SnncError(f"the ANN ({ann_src}) takes input shape {a_shape}, the SNN {shape}: "
                            "give the ANN the SNN was converted from (--ann)")
    snn = graph

    def run(program: Any) -> Any:
        return measure_conversion(program, snn, x, y, ann_graph, source=source,
                                  methods=methods, tau=tau)

    from .stages.measure import MAX_SAMPLES
    from .stages.optimize import DEFAULT_STEPS

    xs = x[:MAX_SAMPLES]
    run.report_input = {graph.inputs[0]: np.broadcast_to(xs, (steps or DEFAULT_STEPS,
                                                               *xs.shape))}  # type: ignore
    return run


def simulate(model: str | Path, inputs: Any, steps: int | None = None,
             backend: str = "loihi-sim", probes: tuple[str, ...] = (), chip: str | None = None,
             load_options: dict[str, Any] | None = None, fidelity: str = "fixed_pt",
             **options: Any) -> Any:
    """Run a compile output directory (``program.h5``), a loaded ``ChipProgram`` or any model
    file on ``inputs``
    (time-major, per input node or one array) with a registered simulator; a ``SimResult``.

    What the simulator runs on (``Simulator.needs``) is made by the compile stages when the
    file does not hold it yet: a program (``loihi-sim``) is mapped on ``chip``, a lowered graph
    (``lava``) is compiled for the simulator's target; ``reference`` and ``brian2`` run the
    graph as loaded. ``load_options`` go to the model's reader (e.g. netx's ``num_layers``).
    A lowered program receives the input as compile encoded it (analog values as
    ``round(x * 2**k)``), so ``inputs`` are the model's own values, as for ``snnc simulate``.
    ``options``: ``reset_interval``, ``progress`` (loihi-sim), ``lava_hw``. ``fidelity``:
    ``"fixed_pt"`` (Lava's CPU semantics) or ``"silicon"`` (the Loihi 2 behaviours Lava leaves
    out, ``simulators/silicon.py``).
    """
    from .registry import default_registry
    from .simulators import silicon

    silicon.check_fidelity(fidelity)
    sim = default_registry().simulator(backend)
    subject = prepare(model, sim.needs, sim.compile_target, chip, inputs, load_options)
    inputs = chip_inputs(subject, inputs)
    if fidelity == "fixed_pt":
        return sim.run(subject, inputs, steps, tuple(probes), **options)
    subject = silicon.silicon_subject(subject)
    graph = subject if isinstance(subject, Graph) else subject.graph
    result = sim.run(subject, inputs, steps, silicon.probes_needed(graph, probes), **options)
    return silicon.silicon_readout(graph, result, probes)


def chip_inputs(subject: Any, inputs: Any) -> Any:
    """The model's input as a lowered program receives it (``qinputs.chip_stimulus``: analog
    values encoded as compile calibrated them; another kind of input refused)."""
    from .passes.fidelity import is_lowered
    from .passes.qinputs import chip_stimulus

    graph = getattr(subject, "graph", subject)
    if not isinstance(graph, Graph) or not is_lowered(graph) or len(graph.inputs) != 1:
        return inputs
    if isinstance(inputs, dict):
        name = graph.inputs[0]
        return {**inputs, name: chip_stimulus(graph, inputs[name])} if name in inputs else inputs
    return chip_stimulus(graph, inputs)


def prepare(model: str | Path, needs: str, compile_target: str | None = None,
            chip: str | None = None, calibration: Any = None,
            load_options: dict[str, Any] | None = None) -> Any:
    """The program, lowered graph or graph that a simulator ``needs``, from a compile output
    directory (or ``program.h5``) or a model file, through the compile stages."""
    from .backends.loihi.program import ChipProgram
    from .backends.loihi.program_io import program_file

    if isinstance(model, ChipProgram):  # a program the caller has loaded already
        return model if needs == "program" else model.graph
    p = Path(model)
    if p.is_dir() or p.suffix in (".h5", ".hdf5"):
        program = ChipProgram.load(program_file(p))
        return program if needs == "program" else program.graph
    graph = load(p, **(load_options or {}))
    if needs == "graph":
        return graph
    from .registry import default_registry
    from .stages import map_program, optimize
    from .targets import get_target

    tgt = get_target(compile_target or "loihi-sim")
    sibling = p.with_name(p.stem + ".input.npy")
    opt = optimize(graph, tgt.pipeline, calibration=None if sibling.is_file() else calibration,
                   model_path=p, programmable=programmable_neurons(tgt, chip))
    if opt.lowered is None:
        raise SnncError(f"{p}: the {tgt.name} pipeline did not lower this model to loihi.* ops; "
                        "run `snnc compile` on it to see why, or use --backend reference")
    if needs == "lowered":
        return opt.lowered
    return map_program(opt, tgt, chip, default_registry().backend(tgt.backend))


def learn(graph: Graph, layers: Any, rule: str, xs: Any, ys: Any, test: Any = None,
          **options: Any) -> Any:
    """Learn online on the simulated chip (``simulators.learning.session.run``; ``options`` go
    to it): the plastic graph is mapped here and run on the event simulator. Returns the
    ``LearningResult`` and its ``learning_report.json`` document (with energy):
    ``(result, doc)``."""
    from .backends.loihi.mapper import map_graph
    from .backends.report.learning import learning_document
    from .simulators.learning import session

    result = session.run(graph, layers, rule, xs, ys, test, map_program=map_graph, **options)
    return result, learning_document(result.report)


def programmable_neurons(target: Any, chip: str | None) -> bool:
    """Whether the chip runs programmable neurons (Loihi 2): '>=' and subtract reset native."""
    chip = chip or target.chip
    if chip is None or target.backend not in ("loihi-sim", "loihi", "lava"):  # netx: plain LIF
        return False
    from .backends.loihi.chips import load_chip

    return bool(load_chip(chip).neuron.programmable)
