"""``snnc sweep -o DIR`` follows snnc/outdir.py's rules: a user's non-empty directory is refused
(exit 2, nothing deleted), ``--force`` replaces it only once the sweep has finished, an earlier
sweep is resumed in place, and a directory holding an input is never replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snnc.cli import main
from snnc.outdir import MARKER

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "examples" / "models" / "qsnn4.pt"
DIGITS = REPO / "examples" / "models" / "digits_test.npz"
GRID = '[grid]\nbits = [4]\nchip = ["loihi1"]\n\n[data]\nx_key = "spikes"\nlimit = 5\n'


def _sweep(grid: Path, out: Path, *extra: str) -> int:
    try:
        main(["sweep", str(MODEL), "--grid", str(grid), "--data", str(DIGITS), "-o", str(out),
              "-q", *extra])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.torch
def test_force_replaces_a_users_directory_once_the_sweep_finished(tmp_path: Path,
                                                                  capsys) -> None:
    grid, out = tmp_path / "g.toml", tmp_path / "mine"
    grid.write_text(GRID)
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("keep me")
    before = _tree(out)
    assert _sweep(grid, out) == 2
    err = capsys.readouterr().err
    assert "not an snnc sweep directory" in err
    assert "--force" in err
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.toml", "mine"]

    assert _sweep(grid, out, "--force") == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([MARKER, "points", "results.json", "sweep.html", "sweep.json"])
    assert json.loads((out / MARKER).read_text()) == {"snnc": "sweep"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.toml", "mine"]
    capsys.readouterr()
    # the finished sweep is resumed in place: nothing to run, no --force needed
    assert _sweep(grid, out) == 0
    assert json.loads((out / "results.json").read_text())["points"][0]["summary"]


def test_a_directory_holding_an_input_is_never_replaced(tmp_path: Path, capsys) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(GRID)
    before = _tree(tmp_path)
    assert _sweep(grid, tmp_path, "--force") == 2
    err = capsys.readouterr().err
    assert "never replaces this directory" in err
    assert "Traceback" not in err
    assert _tree(tmp_path) == before
