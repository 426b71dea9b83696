"""Run the snnc CLI in-process in a test: ``run(argv, capsys) -> (exit status, stdout, stderr)``."""

from __future__ import annotations

from snnc.cli import main


def run(argv, capsys):
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
