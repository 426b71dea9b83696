"""The model-loading options that ``compile``, ``inspect`` and ``simulate`` share.

One decorator (``loading_options``) adds them to each command and one function
(``load_options_from``) turns their values into ``snnc.api.load`` keyword options, so the three
commands cannot drift apart (tests/frontend/test_loading_cli.py runs every option on every
command):

- ``--input-shape``: the per-sample shape, when the model file does not say it (it is inferred
  from the first layer and an example input where it can be: ``frontend/torch/shapes.py``);
- ``--model module:factory``: the code that builds the module a state_dict is loaded into
  (``module`` is also looked for in the current directory and the model file's);
- ``--trust-pickle``: allow whole pickles of classes outside the allow-list (runs their code);
- ``--dt``: the time one step stands for (NIR files without a dt; event inputs' bin width);
- netx's reader options (``netx_options.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from ..errors import SnncError
from .netx_options import netx_load_options, netx_options

TORCH_SUFFIXES = (".pt", ".pth", ".pt2")
DT_HELP = ("Time one step stands for (1ms, 250us, or seconds): NIR files that do not record "
           "one, and the bin width of event inputs.")


def loading_options(netx_reset: bool = True, dt: bool = True) -> Callable[[Any], Any]:
    """Click decorator adding the loading options (``netx_reset=False``: the command has its own
    ``--reset-interval``; ``dt=False``: it has its own ``--dt``)."""

    def deco(f: Any) -> Any:
        f = netx_options(reset=netx_reset)(f)
        opts = [
            click.option("--input-shape", default=None,
                         help="Per-sample input shape, e.g. 64 or 2,34,34 (default: from the "
                              "file, or inferred from the first layer and an example input)."),
            click.option("--model", "factory", default=None, metavar="MODULE:FACTORY",
                         help="module:factory building the module a state_dict is loaded into "
                              "(MODULE is also looked for in the current directory and the "
                              "model file's; or a path: path/to/model.py:Net)."),
            click.option("--trust-pickle", is_flag=True,
                         help="Allow pickled classes outside the allow-list (runs their code)."),
        ]
        if dt:
            opts.append(click.option("--dt", default=None, help=DT_HELP))
        for opt in reversed(opts):
            f = opt(f)
        return f

    return deco


def is_compiled(path: Path) -> bool:
    """A compile output directory or a program file (loaded as compiled, not as a model)."""
    return path.is_dir() or path.suffix.lower() in (".h5", ".hdf5")


def load_options_from(model: Path, kw: dict[str, Any], *, dt_s: float | None = None,
                      reset_interval: int | None = None,
                      examples: Iterable[Path | None] = ()) -> dict[str, Any]:
    """Pop the ``loading_options`` values out of ``kw`` into ``snnc.api.load`` options.

    ``examples``: input files of the run (``--calibration``, ``--input``) that the input shape
    of a PyTorch model may be inferred from. The model-file options are refused for a compiled
    program, whose loading was fixed when it was compiled."""
    input_shape = kw.pop("input_shape", None)
    factory = kw.pop("factory", None)
    trust = bool(kw.pop("trust_pickle", False))
    netx = netx_load_options(model, kw.pop("netx_layers", None), reset_interval,
                             kw.pop("reset_offset", 0), kw.pop("input_bias", None),
                             kw.pop("input_message_bits", 0), kw.pop("netx_skip_layers", 0))
    given = [name for name, v in (("--input-shape", input_shape), ("--model", factory),
                                  ("--trust-pickle", trust)) if v]
    if given and is_compiled(Path(model)):
        raise SnncError(f"{', '.join(given)}: options for loading a model file; {model} is a "
                        "compiled program, loaded as it was compiled (pass them to `snnc "
                        "compile`, or give the model file instead)")
    opts: dict[str, Any] = {}
    if input_shape:
        opts["input_shape"] = input_shape
    if factory:
        opts["model"] = factory
    if trust:
        opts["trust_pickle"] = True
    if dt_s is not None:
        opts["dt"] = dt_s
    hints = tuple(Path(p) for p in examples if p is not None)
    if hints and not input_shape and Path(model).suffix.lower() in TORCH_SUFFIXES:
        opts["example_input"] = hints
    opts.update(netx)
    return opts


def print_notes(graph: Any) -> None:
    """The loader's notes on how it read the model (``load_notes`` metadata), on stderr."""
    for note in dict(graph.metadata).get("load_notes", ()) or ():
        click.echo(f"note: {note}", err=True)
