"""The public Python API, which the CLI calls: ``load``, ``compile``, ``simulate``.

Front ends are chosen by file suffix through ``LOADERS`` (module path + function name, imported
lazily so that the core never imports torch). Each loader has the signature
``load(path: Path, **options) -> Graph`` and raises ``FormatError`` / ``UnsupportedOpError``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .errors import FormatError
from .ir import Graph

# suffix -> (module, function)
LOADERS: dict[str, tuple[str, str]] = {
    ".snnc": ("snnc.ir.serialize", "read_graph"),
    ".nir": ("snnc.ir.nir_io", "read_nir"),
    ".net": ("snnc.frontend.netx", "read_netx"),
    ".pt": ("snnc.frontend.torch", "load_torch"),
    ".pth": ("snnc.frontend.torch", "load_torch"),
    ".pt2": ("snnc.frontend.torch", "load_torch"),
}


def loader_for(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        known = ", ".join(sorted(LOADERS))
        raise FormatError(f"{path}: unknown file type {suffix or '(no suffix)'!r}; "
                          f"snnc reads {known}")
    module, func = LOADERS[suffix]
    return getattr(importlib.import_module(module), func)


def load(path: str | Path, **options: Any) -> Graph:
    """Read any model or graph file snnc understands into an IR ``Graph``."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file")
    if p.is_dir():
        raise FormatError(f"{p}: is a directory, expected a model file")
    return loader_for(p)(p, **options)


def compile(model: str | Path | Graph, target: str = "loihi-sim", pipeline: str | None = None,
            calibration: Any = None, steps: int | None = None, out_dir: str | Path | None = None,
            dump_ir: str | Path | None = None, stop_after: str | None = None,
            chip: str | None = None, load_options: dict[str, Any] | None = None,
            echo: Any = None, check: bool = False, report_input: Any = None) -> Any:
    """Compile a model file or graph for ``target``; returns a ``CompileResult``.

    ``pipeline`` overrides the target's pass pipeline (``"fold-bn,prune,quantize-loihi"``);
    ``calibration`` is a time-major array (T, B, *shape), a dict per input, or a .npy/.npz file
    (time last); ``out_dir`` writes the result (graphs, fidelity.json, target artifacts)
    atomically; ``check`` simulates before and after every pass and fails if an exact pass
    changed the result; ``report_input`` (an X.npy path or a time-major array) is the input whose
    activity the energy/latency report measures (default: the calibration input). See
    ``snnc.passes.driver`` and ``snnc.backends.report``.
    """
    from .passes.driver import compile_graph
    from .targets import get_target

    tgt = get_target(target)
    path = None if isinstance(model, Graph) else Path(model)
    graph = model if isinstance(model, Graph) else load(model, **(load_options or {}))
    result = compile_graph(graph, tgt, pipeline=pipeline, calibration=calibration, steps=steps,
                           dump_ir=dump_ir, stop_after=stop_after, model_path=path, echo=echo,
                           check=check,
                           programmable_neurons=tgt.backend in ("loihi", "lava")
                           and _programmable(chip or tgt.chip))
    result.report_input = report_input
    if out_dir is not None:
        result.save(out_dir, chip=chip, dt=(load_options or {}).get("dt"))
    return result


def _programmable(chip: str | None) -> bool:
    """Whether the chip runs programmable neurons (Loihi 2): '>=' and subtract reset native."""
    if chip is None:
        return False
    from .backends.loihi.chips import load_chip

    return bool(load_chip(chip).neuron.programmable)
