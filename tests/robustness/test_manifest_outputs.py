"""snnc never deletes or overwrites a file it did not write, ``--force`` or not: the manifest in
``.snnc-output`` (``snnc/manifest.py``) says what snnc wrote into an output directory, as a user
meets it through the CLI (user files dropped into outputs, older outputs, result files, writers
that add to an output) and at the edges of ``snnc/outdir.py`` (a file appearing mid-run)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

from snnc import manifest, outdir
from snnc.errors import SnncError

REPO = Path(__file__).resolve().parents[2]
QSNN = REPO / "examples" / "models" / "qsnn4.pt"


def tree(root: Path) -> dict[str, bytes | str]:
    """relative path -> bytes (files), link target (symlinks) or "dir" of everything in root."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = (f"-> {os.readlink(p)}" if p.is_symlink() else
                    p.read_bytes() if p.is_file() else "dir")
    return out


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """One compile output of the example model (copied by the tests that change it)."""
    out = tmp_path_factory.mktemp("compiled") / "out"
    from snnc import api

    api.compile(QSNN, out_dir=out)
    return out


@pytest.fixture
def out(tmp_path, compiled) -> Path:
    import shutil

    dest = tmp_path / "out"
    shutil.copytree(compiled, dest, symlinks=True)
    return dest


def compile_into(dest: Path, capsys, *extra: str) -> tuple[int, str]:
    code, _, err = run(["compile", str(QSNN), "-o", str(dest), "-q", *extra], capsys)
    return code, err


@pytest.mark.parametrize("extra", [(), ("--force",)])
@pytest.mark.parametrize("what", ["file", "folder", "symlink", "rewritten"])
def test_a_users_file_in_a_compile_output_stops_the_next_compile(out, capsys, extra, what):
    if what == "file":
        (out / "notes.txt").write_text("my notes\n")
        named = "notes.txt"
    elif what == "folder":
        (out / "plots" / "deep").mkdir(parents=True)
        (out / "plots" / "deep" / "a.png").write_bytes(b"\x89PNG")
        named = "plots/"
    elif what == "symlink":
        (out / "data").symlink_to(REPO / "examples")
        named = "data"
    else:  # a file snnc wrote that the user has rewritten is not snnc's any more
        (out / "report.json").write_text('{"my": "edits"}')
        named = "report.json (changed since snnc wrote it)"
    before = tree(out)
    code, err = compile_into(out, capsys, *extra)
    assert code == 2, err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert named in err
    assert "snnc never deletes or overwrites files it did not write" in err
    assert "--force does not change this" in err
    assert len(err.strip().splitlines()) == 1  # one paragraph
    assert tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no temp folder


def test_up_to_three_foreign_paths_are_named(out, capsys):
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (out / name).write_text(name)
    code, err = compile_into(out, capsys)
    assert code == 2
    assert "(a.txt, b.txt, c.txt and more)" in err
    assert "d.txt" not in err


def test_an_untouched_compile_output_is_replaced(out, capsys):
    first = json.loads((out / outdir.MARKER).read_text())["manifest"]
    assert {"compile.json", "program.h5", "report.html"} <= set(first)
    assert all(e["type"] == "file" and e["size"] > 0 for e in first.values())
    code, err = compile_into(out, capsys, "--steps", "6")
    assert code == 0, err
    assert json.loads((out / "fidelity.json").read_text())["steps"] == 6
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]


@pytest.mark.parametrize("legacy", ["marker-without-manifest", "only-compile-json"])
def test_an_older_snnc_output_is_judged_by_snnc_file_names(out, capsys, legacy):
    if legacy == "marker-without-manifest":
        (out / outdir.MARKER).write_text('{"snnc": "compile"}\n')
    else:
        (out / outdir.MARKER).unlink()
    (out / "eval.json").write_text("{}")  # an older snnc eval added it: an snnc name
    assert manifest.foreign(out) == []
    (out / "notes.txt").write_text("mine")
    (out / "learned").mkdir()  # learn's folder name, but no snnc output in it
    (out / "learned" / "x.txt").write_text("mine")
    before = tree(out)
    code, err = compile_into(out, capsys, "--force")
    assert code == 2, err
    assert "learned/x.txt" in err
    assert "notes.txt" in err
    assert tree(out) == before
    (out / "notes.txt").unlink()
    (out / "learned" / "x.txt").unlink()
    (out / "learned").rmdir()
    code, err = compile_into(out, capsys)
    assert code == 0, err
    assert not (out / "eval.json").exists()
    assert "manifest" in json.loads((out / outdir.MARKER).read_text())


def test_simulate_never_overwrites_a_users_files_even_with_force(out, tmp_path, capsys):
    x = tmp_path / "x.npy"
    np.save(x, np.load(QSNN.with_name("qsnn4.input.npy"))[0])
    users = tmp_path / "r.npz"
    np.savez(users, weights=np.arange(3))  # a real .npz, not a result of snnc
    counters = tmp_path / "c.json"
    counters.write_text('{"mine": 1}')
    before = (users.read_bytes(), counters.read_bytes())
    base = ["simulate", str(out), "-i", str(x), "-q", "--force"]
    code, _, err = run([*base, "-o", str(users)], capsys)
    assert code == 2, err
    assert "--force does not change this" in err
    code, _, err = run([*base, "-o", str(tmp_path / "new.npz"), "--counters", str(counters)],
                       capsys)
    assert code == 2, err
    assert str(counters) in err
    assert (users.read_bytes(), counters.read_bytes()) == before
    assert not (tmp_path / "new.npz").exists()


def test_compare_json_never_overwrites_a_users_file(tmp_path):
    from snnc.commands.ground_truth import check_json

    mine = tmp_path / "cmp.json"
    mine.write_text('{"recording": "mine"}')
    with pytest.raises(SnncError, match="never overwrites"):
        check_json(mine)
    mine.write_text('{"recording": "gts", "modes": {}}')  # what snnc writes: replaceable
    check_json(mine)


def test_report_redraw_is_recorded_and_never_replaces_a_users_page(out, tmp_path, capsys):
    page = out / "report.html"
    page.write_text(page.read_text() + "\n")  # as an older snnc might have drawn it
    assert run(["report", str(out), "--brief"], capsys)[0] == 0
    entry = json.loads((out / outdir.MARKER).read_text())["manifest"]["report.html"]
    assert entry["size"] == page.stat().st_size
    assert manifest.foreign(out) == []
    # a report.json elsewhere, beside a user's own report.html
    other = tmp_path / "mine"
    other.mkdir()
    (other / "report.json").write_bytes((out / "report.json").read_bytes())
    (other / "report.html").write_text("<html>my page</html>")
    code, _, err = run(["report", str(other / "report.json"), "--brief"], capsys)
    assert code == 2, err
    assert "--no-html" in err
    assert (other / "report.html").read_text() == "<html>my page</html>"


def test_dump_ir_never_overwrites_a_users_file(tmp_path, capsys):
    dump = tmp_path / "ir"
    dump.mkdir()
    (dump / "00-input.txt").write_text("my notes")
    code, _, err = run(["compile", str(QSNN), "-o", str(tmp_path / "o"), "-q", "--dump-ir",
                        str(dump)], capsys)
    assert code == 2, err
    assert (dump / "00-input.txt").read_text() == "my notes"
    (dump / "00-input.txt").unlink()
    for _ in range(2):  # its own dumps are replaced
        code, _, err = run(["compile", str(QSNN), "-o", str(tmp_path / "o"), "-q",
                            "--dump-ir", str(dump)], capsys)
        assert code == 0, err


def test_force_is_hidden_but_accepted(capsys):
    for cmd in ("compile", "simulate", "eval", "sweep", "learn", "convert"):
        code, out, _ = run([cmd, "--help"], capsys)
        assert code == 0
        assert "--force" not in out, cmd


# ---- snnc/outdir.py and snnc/manifest.py at their edges ---------------------------------------


def test_an_output_inside_an_output_is_recorded_in_its_manifest(out):
    """``snnc learn`` writes PROGRAM/learned by default: the compile output stays replaceable."""
    with outdir.output_dir(out / "learned", kind="learn") as tmp:
        (tmp / "graph.learned.snnc").write_text("g")
    assert json.loads((out / outdir.MARKER).read_text())["manifest"]["learned"] == {
        "type": "output"}
    assert manifest.foreign(out) == []
    (out / "learned" / "mine.txt").write_text("x")
    assert manifest.foreign(out) == ["learned/mine.txt"]


def test_a_file_added_while_the_run_works_stops_the_swap(out, tmp_path):
    before = tree(out)
    with pytest.raises(outdir.OutputError, match=r"notes\.txt"), \
            outdir.output_dir(out) as tmp:  # noqa: PT012
        (tmp / "compile.json").write_text("{}")
        (out / "notes.txt").write_text("written during the run")
    assert tree(out) == {**before, "notes.txt": b"written during the run"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_discarding_an_old_output_keeps_what_is_not_snncs(out, tmp_path, capsys):
    """The instant between the last check and the swap: the old output loses only its own
    entries; anything else is kept in a .snnc-kept- folder and named."""
    (out / "plots").mkdir()
    (out / "plots" / "a.png").write_bytes(b"png")
    outdir._discard(out, tmp_path / "dest")
    (kept,) = [p for p in tmp_path.iterdir() if outdir.KEPT_TAG in p.name]
    assert tree(kept) == {"plots": "dir", "plots/a.png": b"png"}
    assert str(kept) in capsys.readouterr().err
    assert not out.exists()


def test_leftovers_of_a_killed_run_lose_only_snncs_files(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    old = tmp_path / f".out{outdir.OLD_TAG}0badcafe"  # a complete old output (marker)
    old.mkdir()
    (old / "compile.json").write_text("{}")
    (old / outdir.MARKER).write_text(json.dumps(
        {"snnc": "compile", "manifest": manifest.scan(old)}))
    (old / "notes.txt").write_text("mine")
    outdir.clean_leftovers(dest)
    assert not old.exists()
    (kept,) = [p for p in tmp_path.iterdir() if outdir.KEPT_TAG in p.name]
    assert tree(kept) == {"notes.txt": b"mine"}


def test_learn_into_a_compile_output_keeps_it_replaceable(tmp_path, capsys):
    """``snnc learn PROGRAM`` writes PROGRAM/learned; compiling into PROGRAM again replaces
    both (everything is snnc's), but not once the user put a file into learned/."""
    from snnc.ir import Graph, Input, LoihiDense, LoihiLIF, Output
    from snnc.ir.serialize import write_graph

    graph = Graph.chain(("pixels", Input(shape=(4,))),
                        ("syn", LoihiDense(weight=np.zeros((2, 4), np.int64))),
                        ("out_lif", LoihiLIF(shape=(2,), du=4095, dv=1024, vth=40)),
                        ("out", Output(shape=(2,))))
    prog = tmp_path / "prog"
    with outdir.output_dir(prog) as tmp:  # a compile output holding the lowered graph
        write_graph(graph, tmp / "graph.lowered.snnc")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20)
    x = np.stack([np.repeat(np.eye(2)[c].repeat(2)[:, None], 8, 1) for c in y])
    np.savez(tmp_path / "train.npz", x=x, y=y)
    code, _, err = run(["learn", str(prog), "--data", str(tmp_path / "train.npz")], capsys)
    assert code == 0, err
    assert (prog / "learned" / "learning_report.json").is_file()
    assert manifest.foreign(prog) == []
    (prog / "learned" / "mine.txt").write_text("x")
    code, err = compile_into(prog, capsys, "--force")
    assert code == 2, err
    assert "learned/mine.txt" in err
    (prog / "learned" / "mine.txt").unlink()
    code, err = compile_into(prog, capsys)
    assert code == 0, err
    assert not (prog / "learned").exists()


def test_only_snnc_named_leftovers_inside_an_output_count_as_snncs(out):
    (out / f".build{outdir.TMP_TAG}0123abcd").mkdir()  # a killed nested compile's temp folder
    (out / ".compile.json.k2j4_x9q.tmp").write_text("{")  # a killed atomic_path write
    assert manifest.foreign(out) == []
    (out / f".mine{outdir.TMP_TAG}notahex!").mkdir()
    (out / ".notes.txt.k2j4_x9q.tmp").write_text("mine")
    assert manifest.foreign(out) == [".mine.snnc-tmp-notahex!/", ".notes.txt.k2j4_x9q.tmp"]
