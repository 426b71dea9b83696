"""``snnc list passes|targets|chips|backends``: what this installation provides."""

from __future__ import annotations

import click

WHAT = ("passes", "targets", "chips", "backends")


def _rows(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] if rows else []
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])


def _passes() -> list[tuple[str, ...]]:
    from ..passes import default_registry

    return [(name, f"[{sem}]", summary) for name, sem, summary in default_registry().describe()]


def _targets() -> list[tuple[str, ...]]:
    from ..targets import DEFAULT_TARGET, TARGETS

    return [(t.name + (" (default)" if t.name == DEFAULT_TARGET else ""), t.chip or "-",
             t.description) for t in TARGETS.values()]


def _chips() -> list[tuple[str, ...]]:
    from ..backends.loihi.chips import DEFAULT_CHIP, builtin_chips, load_chip

    return [(name + (" (default)" if name == DEFAULT_CHIP else ""), load_chip(name).description)
            for name in builtin_chips()]


def _backends() -> list[tuple[str, ...]]:
    """The registry targets and ``simulate --backend`` read (``snnc/registry.py``)."""
    from ..registry import default_registry
    from ..targets import TARGETS

    rows = []
    for name, roles, text in default_registry().describe():
        used = [t.name for t in TARGETS.values() if t.backend == name]
        where = f"; target {', '.join(used)}" if used else ""
        rows.append((name, f"[{roles}]", text + where))
    return rows


@click.command("list")
@click.argument("what", type=click.Choice(WHAT))
@click.option("--pipeline", "show_pipeline", is_flag=True,
              help="For targets: also print each target's pass pipeline.")
def command(what: str, show_pipeline: bool) -> None:
    """List passes (with one-line descriptions), targets, chips or backends."""
    rows = {"passes": _passes, "targets": _targets, "chips": _chips, "backends": _backends}[what]()
    _rows(rows)
    if what == "targets" and show_pipeline:
        from ..targets import TARGETS

        for t in TARGETS.values():
            click.echo(f"{t.name}: {t.pipeline}")
