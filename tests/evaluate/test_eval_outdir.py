"""``snnc eval -o DIR`` follows snnc/outdir.py's rules: a user's non-empty directory is refused
(exit 2, nothing deleted or written), with ``--force`` too; an earlier eval output is replaced
if it holds only what snnc wrote; a compile output gets the two files added (and listed in its
manifest, so compiling into it again replaces it); a directory holding an input is never
replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from snnc.cli import main
from snnc.outdir import MARKER

pytestmark = pytest.mark.torch
REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "examples" / "models" / "digits_test.npz"


def _eval(prog: Path, dest: Path, *extra: str, data: Path = DIGITS) -> int:
    try:
        main(["eval", str(prog), "--data", str(data), "--x-key", "spikes", "--limit", "6",
              "-q", "-o", str(dest), *extra])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_a_users_directory_is_refused_even_with_force(qsnn4_dir: Path, tmp_path: Path,
                                                       capsys) -> None:
    dest = tmp_path / "mine"
    (dest / "sub").mkdir(parents=True)
    (dest / "notes.txt").write_text("keep me")
    (dest / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = _tree(dest)
    for extra in ((), ("--force",)):
        assert _eval(qsnn4_dir, dest, *extra) == 2
        err = capsys.readouterr().err
        assert "snnc did not write (notes.txt, sub/)" in err
        assert "--force does not change this" in err
        assert "Traceback" not in err
        assert _tree(dest) == before
        assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no temp folder beside it


def test_an_earlier_eval_output_is_replaced_only_as_snnc_wrote_it(qsnn4_dir: Path,
                                                                  tmp_path: Path,
                                                                  capsys) -> None:
    dest = tmp_path / "ev"
    assert _eval(qsnn4_dir, dest) == 0
    assert sorted(p.name for p in dest.iterdir()) == [MARKER, "eval.html", "eval.json"]
    assert json.loads((dest / "eval.json").read_text())["counts"]
    marker = json.loads((dest / MARKER).read_text())
    assert marker["snnc"] == "eval"
    assert sorted(marker["manifest"]) == ["eval.html", "eval.json"]
    assert _eval(qsnn4_dir, dest) == 0  # replaced as it is
    # a file of it the user rewrote is no longer snnc's: refused, kept
    (dest / "eval.json").write_text("{}")
    assert _eval(qsnn4_dir, dest) == 2
    assert "eval.json (changed since snnc wrote it)" in capsys.readouterr().err
    assert (dest / "eval.json").read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["ev"]


def test_a_compile_output_gets_the_two_files_added(qsnn4_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "copy"
    shutil.copytree(qsnn4_dir, other)
    before = _tree(other)
    assert _eval(qsnn4_dir, other) == 0
    after = _tree(other)
    assert {k: after[k] for k in before if k != MARKER} == {
        k: v for k, v in before.items() if k != MARKER}  # nothing of the compile output changed
    assert set(after) - set(before) == {"eval.json", "eval.html"}
    manifest = json.loads((other / MARKER).read_text())["manifest"]
    assert {"eval.json", "eval.html", "program.h5"} <= set(manifest)
    assert manifest["eval.json"]["size"] == (other / "eval.json").stat().st_size


def test_compile_replaces_a_compile_output_eval_added_to(qsnn4_dir: Path, tmp_path: Path,
                                                         capsys) -> None:
    other = tmp_path / "copy"
    shutil.copytree(qsnn4_dir, other)
    assert _eval(qsnn4_dir, other) == 0
    try:
        main(["compile", str(REPO / "examples" / "models" / "qsnn4.pt"), "-o", str(other), "-q"])
    except SystemExit as exc:
        raise AssertionError(capsys.readouterr().err) from exc
    assert not (other / "eval.json").exists()  # replaced whole: the new output has no eval yet
    assert (other / "program.h5").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["copy"]


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
