"""One-paragraph messages: --debug before or after the subcommand, suggestions name real options,
tracing failures name the user's file and line, an empty .npy is an error (exit 2), not "aborted".
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import click
import pytest
from cli_run import run

from snnc.cli import COMMANDS, cli, main

REPO = Path(__file__).resolve().parents[2]



def _all_options() -> set[str]:
    ctx = click.Context(cli)
    names = {"--help", "--version"} | {o for p in cli.params for o in p.opts}
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        names |= {o for p in cmd.params
                  for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))}
    return names


def test_suggested_options_exist():
    """Every ``--option`` quoted in a message anywhere in the package is a real CLI option."""
    known = _all_options()
    unknown = {}
    for root in ("snnc", "backends", "simulators", "ir"):
        for path in (REPO / root).rglob("*.py"):
            for lit in re.findall(r'"(?:[^"\\\n]|\\.)*"', path.read_text()):
                for opt in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", lit):
                    if opt not in known:
                        unknown.setdefault(opt, str(path.relative_to(REPO)))
    assert unknown == {}


def test_empty_npy_is_a_format_error_not_an_abort(tmp_path, capsys):
    from snnc.ir import Graph, Input, Output
    from snnc.ir.serialize import write_graph

    g = write_graph(Graph({"x": Input(shape=(3,)), "y": Output(shape=(3,))}, (("x", "y"),)),
                    tmp_path / "g.snnc")
    empty = tmp_path / "x.npy"
    empty.write_bytes(b"")
    argv = ["simulate", str(g), "-i", str(empty), "-o", str(tmp_path / "r.npz"), "-b", "reference"]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert "aborted" not in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_before_or_after_the_subcommand(tmp_path, capsys, where):
    from snnc.errors import FormatError

    bad = tmp_path / "bad.snnc"
    bad.write_bytes(b"garbage")
    argv = ["--debug", "inspect", str(bad)] if where == "before" else ["inspect", "--debug",
                                                                        str(bad)]
    with pytest.raises(FormatError):  # --debug: the exception propagates (full traceback)
        main(argv)
    code, _, err = run(["inspect", str(bad)], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1


@pytest.mark.torch
def test_tracing_failure_names_the_users_file_and_line(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    src = tmp_path / "mymodel.py"
    src.write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class Branchy(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)

            def forward(self, x):
                if x.sum() > 0:  # data-dependent control flow: fx cannot trace it
                    return self.fc(x)
                return -self.fc(x)

        def build():
            return Branchy()
    """))
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        path = tmp_path / "sd.pt"
        torch.save(__import__("mymodel").build().state_dict(), path)
        code, _, err = run(["compile", str(path), "--model", "mymodel:build", "--input-shape",
                            "4", "-o", str(tmp_path / "out")], capsys)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("mymodel", None)
    assert code == 2
    assert err.startswith("error: ")
    assert "Branchy.forward" in err
    assert f"{src}:11" in err, err
    assert len(err.strip().splitlines()) <= 3, err
    assert "Traceback" not in err
