"""The ``snnc`` command line: a click group whose subcommands live in ``snnc/commands/``.

Every ``SnncError`` becomes a one-paragraph message on stderr and exit status 2; ``--debug``
shows the traceback instead. Subcommands are imported lazily so ``snnc --help`` stays fast and
never imports torch or lava.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import SnncError

# command name -> (module under snnc.commands, one-line help shown by `snnc --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "compile": ("compile", "Compile a trained model for a target (loihi-sim, lava, netx, nir)."),
    "convert": ("convert", "Convert a trained ANN (ONNX, PyTorch) into an SNN; accuracy vs T."),
    "simulate": ("simulate", "Run a model or compiled program on a backend and save spikes."),
    "report": ("report", "Show or compare energy and latency reports."),
    "learn": ("learn", "Simulate on-chip learning on a compiled program."),
    "eval": ("eval", "Evaluate a whole dataset on a compiled program (accuracy, energy)."),
    "sweep": ("sweep", "Compile and evaluate a grid of design points; Pareto plot."),
    "inspect": ("inspect", "Print the layers, shapes and parameters of a graph file."),
    "list": ("listing", "List targets, passes, chips or backends."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[name]
        try:
            module = importlib.import_module(f"snnc.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"snnc.commands.{module_name}":
                return _not_built(name)
            raise
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _not_built(name: str) -> click.Command:
    @click.command(name, help=COMMANDS[name][1], context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def cmd(args: tuple[str, ...]) -> None:
        raise SnncError(f"'snnc {name}' is not available in this version of snnc yet.")

    return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="snnc")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-paragraph "
              "errors (also accepted after the subcommand).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug logs).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """snnc: compile trained spiking neural networks for Loihi-class chips, simulate them
    bit-exactly, and report their energy and latency.

    \b
    Typical use:
      snnc compile model.pt --target loihi-sim -o out/
      snnc simulate out/ --input x.npy --steps 32 -o spikes.npz
      snnc report out/
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _split_debug(args: list[str]) -> tuple[list[str], bool]:
    """``--debug`` is accepted before or after the subcommand: move it to the group."""
    head, sep, tail = (args[: args.index("--")], ["--"], args[args.index("--") + 1:]) \
        if "--" in args else (args, [], [])
    debug = "--debug" in head
    rest = [a for a in head if a != "--debug"]
    return (["--debug"] if debug else []) + rest + sep + tail, debug


def _internal(exc: BaseException) -> None:
    """A bug, not bad input: one paragraph (exit 1) asking for a report; --debug shows more."""
    text = (str(exc).strip().splitlines() or [""])[0][:240]
    click.echo(f"error: internal error in snnc ({type(exc).__name__}: {text}). This is a bug; "
               "please report it with the command line, and run it again with --debug for the "
               "traceback.", err=True)
    sys.exit(1)


#: subcommands that never use numpy's BLAS: OpenBLAS starts a thread pool when numpy is
#: imported, and its idle workers spin (about 0.1 s CPU of a 0.2 s ``snnc inspect`` on 2 cores)
SERIAL_BLAS = frozenset({"inspect", "report", "list"})


def one_blas_thread(args: list[str], environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether ``snnc ARGS`` may ask OpenBLAS for one thread: the user chose no thread count
    (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``) and the command does no BLAS work: no
    subcommand (help), ``SERIAL_BLAS``, or ``simulate`` of a compile output on the event
    simulator (snnc's own kernels, threaded by ``SNNC_THREADS``)."""
    if "OPENBLAS_NUM_THREADS" in environ or "OMP_NUM_THREADS" in environ:
        return False
    pos = [a for a in args if not a.startswith("-")]
    if not pos or pos[0] in SERIAL_BLAS:
        return True
    if pos[0] != "simulate" or len(pos) < 2 or not Path(pos[1], "program.h5").is_file():
        return False
    for i, a in enumerate(args):
        value = a.split("=", 1)[1] if a.startswith("--backend=") else (
            args[i + 1] if a in ("--backend", "-b") and i + 1 < len(args) else None)
        if value is not None and value != "loihi-sim":
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning ``SnncError`` into a message and exit status 2."""
    args, debug = _split_debug(list(sys.argv[1:] if argv is None else argv))
    if "numpy" not in sys.modules and one_blas_thread(args, os.environ):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        cli.main(args=args, prog_name="snnc", standalone_mode=False)
    except SnncError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, EOFError):  # click turns any EOFError into Abort
            if debug:
                raise exc.__context__ from None
            _internal(exc.__context__)
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        _internal(exc)


if __name__ == "__main__":
    main()
