"""``snnc eval -o DIR`` follows snnc/outdir.py's rules: a user's non-empty directory is refused
(exit 2, nothing deleted or written), ``--force`` replaces it, an earlier eval output is
replaced, a compile output gets the two files added, and a directory holding an input is never
replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snnc.cli import main
from snnc.outdir import MARKER

pytestmark = pytest.mark.torch
DIGITS = Path(__file__).resolve().parents[2] / "examples" / "models" / "digits_test.npz"


def _eval(prog: Path, dest: Path, *extra: str, data: Path = DIGITS) -> int:
    try:
        main(["eval", str(prog), "--data", str(data), "--x-key", "spikes", "--limit", "6",
              "-q", "-o", str(dest), *extra])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_a_users_directory_is_refused_and_force_replaces_it(qsnn4_dir: Path, tmp_path: Path,
                                                            capsys) -> None:
    dest = tmp_path / "mine"
    (dest / "sub").mkdir(parents=True)
    (dest / "notes.txt").write_text("keep me")
    (dest / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = _tree(dest)
    assert _eval(qsnn4_dir, dest) == 2
    err = capsys.readouterr().err
    assert "not written by snnc eval" in err
    assert "--force" in err
    assert "Traceback" not in err
    assert _tree(dest) == before
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no temp folder left beside it

    assert _eval(qsnn4_dir, dest, "--force") == 0
    assert sorted(p.name for p in dest.iterdir()) == [MARKER, "eval.html", "eval.json"]
    assert json.loads((dest / "eval.json").read_text())["counts"]
    assert json.loads((dest / MARKER).read_text()) == {"snnc": "eval"}
    # an earlier eval output is replaced without --force
    (dest / "eval.json").write_text("{}")
    assert _eval(qsnn4_dir, dest) == 0
    assert json.loads((dest / "eval.json").read_text())["counts"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_a_compile_output_gets_the_two_files_added(qsnn4_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "copy"
    shutil.copytree(qsnn4_dir, other)
    before = _tree(other)
    assert _eval(qsnn4_dir, other) == 0
    after = _tree(other)
    assert {k: after[k] for k in before} == before  # nothing of the compile output changed
    assert set(after) - set(before) == {"eval.json", "eval.html"}


def test_a_directory_holding_an_input_is_never_replaced(qsnn4_dir: Path, tmp_path: Path,
                                                         capsys) -> None:
    dest = tmp_path / "data"
    dest.mkdir()
    data = dest / "digits.npz"
    shutil.copyfile(DIGITS, data)
    before = _tree(dest)
    assert _eval(qsnn4_dir, dest, "--force", data=data) == 2
    err = capsys.readouterr().err
    assert "never replaces this directory" in err
    assert "Traceback" not in err
    assert _tree(dest) == before
