"""``snnc report OUT_DIR [--compare OTHER] [--html/--no-html] [--json]``.

OUT_DIR is a ``snnc compile`` output directory (or its ``report.json``). Prints the energy and
latency summary table, and (re)draws ``report.html`` beside the JSON (only a report.html snnc
wrote, or none; recorded in the output's manifest); ``--json`` prints the
document instead; ``--compare OTHER`` shows two reports side by side with their ratios. When
``snnc eval`` has evaluated a dataset on this program, its summary follows the table.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import FormatError, SnncError


@click.command("report")
@click.argument("out_dir", type=click.Path(exists=True, path_type=Path))
@click.option("--compare", "-c", "other", type=click.Path(exists=True, path_type=Path),
              default=None, help="Another compile output directory (or report.json) to show "
              "side by side.")
@click.option("--html/--no-html", default=True, show_default=True,
              help="(Re)write report.html next to report.json.")
@click.option("--json", "as_json", is_flag=True, help="Print report.json instead of the table.")
@click.option("--brief", is_flag=True, help="Only the summary table.")
def command(out_dir: Path, other: Path | None, html: bool, as_json: bool, brief: bool) -> None:
    """Show an energy and latency report, or compare two."""
    from rich.console import Console

    from ..backends.report import load_report, write_html
    from ..backends.report.schema import dumps, report_path

    doc = load_report(out_dir)
    if as_json:
        if other is not None:
            raise SnncError("--json prints one report; drop --compare or --json")
        click.echo(dumps(doc))
        return
    console = Console()
    if other is not None:
        from ..backends.report.compare import render_compare

        other_doc = load_report(other)
        console.print(_safe(lambda: render_compare(doc, other_doc, _name(out_dir),
                                                   _name(other)), f"{out_dir} or {other}"))
    else:
        from ..backends.report.terminal import render_terminal

        console.print(_safe(lambda: render_terminal(doc, verbose=not brief), str(out_dir)))
        _eval_summary(report_path(out_dir).parent)
    if html:
        dest = report_path(out_dir).with_name("report.html")
        _refuse_foreign_html(dest)
        _safe(lambda: write_html(doc, dest), str(out_dir))
        from ..manifest import record

        record(dest.parent, [dest.name])  # its new size, in a compile output's manifest
        if other is None:
            console.print(f"[dim]HTML report: {dest}[/dim]")


def _refuse_foreign_html(dest: Path) -> None:
    """snnc redraws only a report.html it wrote (its title), never a user's file."""
    if not dest.exists() and not dest.is_symlink():
        return
    ok = dest.is_file() and not dest.is_symlink()
    if ok:
        with dest.open("rb") as fh:
            ok = b"<title>snnc report" in fh.read(4096)
    if not ok:
        raise SnncError(f"{dest}: exists and was not written by snnc; snnc never overwrites "
                        "files it did not write. Move it, or pass --no-html.")


def _safe(render, where: str):
    """Run a renderer; a field the schema check let through but the renderer cannot use (a
    hand-edited or damaged report) becomes a FormatError naming the file."""
    try:
        return render()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError,
            OverflowError) as exc:
        raise FormatError(f"{where}: the report has a missing or mistyped field "
                          f"({type(exc).__name__}: {exc}); was it written by snnc?") from None


def _eval_summary(folder: Path) -> None:
    """The dataset evaluation of this program, if ``snnc eval`` wrote one here."""
    import json

    from ..evaluate.report import KIND, terminal

    path = folder / "eval.json"
    try:
        doc = json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == KIND:
        click.echo(terminal(doc))
        click.echo(f"(from {path}; see {folder / 'eval.html'})")


def _name(path: Path) -> str:
    p = path.parent if path.suffix == ".json" else path
    return p.name or str(p)
