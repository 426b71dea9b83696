"""``snnc sweep -o DIR`` follows snnc/outdir.py's rules: a user's non-empty directory is refused
(exit 2, nothing deleted), with ``--force`` too; an earlier sweep is resumed in place and what it
adds is recorded in its manifest (so another snnc command may replace it later); another snnc
output is replaced once the sweep has finished; a directory holding an input is never
replaced."""

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
def test_a_users_directory_is_refused_even_with_force(tmp_path: Path, capsys) -> None:
    grid, out = tmp_path / "g.toml", tmp_path / "mine"
    grid.write_text(GRID)
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("keep me")
    before = _tree(out)
    for extra in ((), ("--force",)):
        assert _sweep(grid, out, *extra) == 2
        err = capsys.readouterr().err
        assert "snnc did not write (notes.txt, sub/)" in err
        assert "--force does not change this" in err
        assert _tree(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["g.toml", "mine"]


@pytest.mark.torch
def test_a_sweep_resumed_in_place_keeps_its_manifest_whole(tmp_path: Path, capsys) -> None:
    from snnc.manifest import foreign

    grid, out = tmp_path / "g.toml", tmp_path / "sw"
    grid.write_text(GRID)
    assert _sweep(grid, out) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([MARKER, "points", "results.json", "sweep.html", "sweep.json"])
    marker = json.loads((out / MARKER).read_text())
    assert marker["snnc"] == "sweep"
    assert foreign(out) == []  # everything the sweep wrote is in the manifest
    (key,) = [p.name for p in (out / "points").iterdir()]
    assert marker["manifest"][f"points/{key}/build"] == {"type": "output"}
    # the finished sweep is resumed in place: nothing to run
    assert _sweep(grid, out) == 0
    assert json.loads((out / "results.json").read_text())["points"][0]["summary"]
    assert foreign(out) == []
    # a user's plot dropped into it is named, and kept, by the next command replacing it
    (out / "points" / key / "plot.png").write_bytes(b"png")
    assert foreign(out) == [f"points/{key}/plot.png"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["compile", str(MODEL), "-o", str(out), "-q"])
    assert exc.value.code == 2
    assert f"points/{key}/plot.png" in capsys.readouterr().err
    assert (out / "points" / key / "plot.png").read_bytes() == b"png"
    (out / "points" / key / "plot.png").unlink()
    main(["compile", str(MODEL), "-o", str(out), "-q"])  # now replaced: only snnc's files
    assert (out / "program.h5").is_file()
    assert not (out / "points").exists()


def test_a_directory_holding_an_input_is_never_replaced(tmp_path: Path, capsys) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(GRID)
    before = _tree(tmp_path)
    assert _sweep(grid, tmp_path, "--force") == 2
    err = capsys.readouterr().err
    assert "never replaces this directory" in err
    assert "Traceback" not in err
    assert _tree(tmp_path) == before
