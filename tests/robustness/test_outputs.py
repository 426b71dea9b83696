"""Outputs that cannot destroy anything: ``-o`` rules, crash-safe replacement, umask, kill test.

The CLI runs in-process (``snnc.cli.main``) except in the kill test, which SIGKILLs real
``snnc compile`` processes at random (seeded) moments.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_run import run

from snnc import outdir
from snnc.ir.serialize import read_graph, write_graph

REPO = Path(__file__).resolve().parents[2]
QSNN = REPO / "examples" / "models" / "qsnn4.pt"
FILES = {".snnc-output", "compile.json", "fidelity.json", "graph.float.snnc",
         "graph.lowered.snnc", "program.h5", "report.html", "report.json"}



def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """relative path -> (mode, sha256) of every file and directory under ``root``."""
    out = {}
    for p in sorted(root.rglob("*")):
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(root))] = (p.stat().st_mode, digest)
    return out


@pytest.fixture(scope="session")
def qsnn_graph(tmp_path_factory) -> Path:
    """The example qsnn4 model as a float .snnc graph (compiles in about a second)."""
    from snnc.api import compile as compile_model

    root = tmp_path_factory.mktemp("qsnn")
    compile_model(QSNN, out_dir=root / "out")
    return write_graph(read_graph(root / "out" / "graph.float.snnc"), root / "qsnn4.snnc")


@pytest.fixture
def model(tmp_path, qsnn_graph) -> Path:
    dest = tmp_path / "models" / "qsnn4.snnc"
    dest.parent.mkdir()
    dest.write_bytes(qsnn_graph.read_bytes())
    calibration = QSNN.with_name("qsnn4.input.npy")  # found as MODEL.input.npy
    (dest.parent / calibration.name).write_bytes(calibration.read_bytes())
    return dest


@pytest.fixture
def user_dir(tmp_path) -> Path:
    d = tmp_path / "project"
    (d / "data").mkdir(parents=True)
    (d / "notes.txt").write_text("my notes\n")
    (d / "data" / "x.bin").write_bytes(os.urandom(64))
    return d


@pytest.mark.parametrize("extra", [[], ["--force"]])
def test_o_on_a_directory_of_unrelated_files_changes_nothing(model, user_dir, capsys, extra):
    before = snapshot(user_dir)
    code, _, err = run(["compile", str(model), "-o", str(user_dir), "--target", "nir", *extra],
                       capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert "data/" in err  # the foreign paths, named
    assert "notes.txt" in err
    assert "--force does not change this" in err
    assert snapshot(user_dir) == before
    assert sorted(p.name for p in user_dir.parent.iterdir()) == ["models", "project"]


def test_o_dot_changes_nothing_even_with_force(model, user_dir, capsys, monkeypatch):
    monkeypatch.chdir(user_dir)
    before = snapshot(user_dir)
    for extra in ([], ["--force"]):
        code, _, err = run(["compile", str(model), "-o", ".", "--target", "nir", *extra], capsys)
        assert code == 2, err
        assert err.startswith("error: ")
        assert snapshot(user_dir) == before
    assert "current directory" in err


@pytest.mark.parametrize("which", ["home", "root", "parent-of-input", "parent-of-cwd"])
def test_force_never_replaces_protected_directories(tmp_path, model, capsys, monkeypatch, which):
    home = tmp_path / "home"
    (home / "sub").mkdir(parents=True)
    (home / "keep.txt").write_text("x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "sub")
    target = {"home": "~", "root": "/", "parent-of-input": str(model.parent.parent),
              "parent-of-cwd": str(home)}[which]
    target = str(home) if target == "~" else target
    before = snapshot(home)
    code, _, err = run(["compile", str(model), "-o", target, "--target", "nir", "--force"],
                       capsys)
    assert code == 2, err
    assert "not even with --force" in err
    assert snapshot(home) == before
    assert model.is_file()


def test_force_does_not_replace_a_plain_directory(model, user_dir, capsys):
    """--force used to replace a foreign directory (deleting the user's files); now it is a
    hidden option that changes nothing."""
    before = snapshot(user_dir)
    code, _, err = run(["compile", str(model), "-o", str(user_dir), "--force", "-q"], capsys)
    assert code == 2, err
    assert "snnc never deletes or overwrites files it did not write" in err
    assert snapshot(user_dir) == before
    assert not outdir.is_snnc_output(user_dir)


@pytest.mark.parametrize("case", ["is-a-file", "too-long", "parent-is-file"])
def test_bad_o_paths_exit_2(tmp_path, model, capsys, case):
    f = tmp_path / "afile"
    f.write_text("keep")
    out = {"is-a-file": f, "too-long": tmp_path / ("n" * 300),
           "parent-is-file": f / "out"}[case]
    code, _, err = run(["compile", str(model), "-o", str(out), "--target", "nir"], capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert f.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "models"]


def test_rerun_replaces_an_earlier_output_and_leaves_no_temp(model, tmp_path, capsys):
    out = tmp_path / "out"
    for steps in ("4", "6"):
        code, _, err = run(["compile", str(model), "-o", str(out), "--steps", steps, "-q"],
                           capsys)
        assert code == 0, err
        assert json.loads((out / "fidelity.json").read_text())["steps"] == int(steps)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failed_run_leaves_no_new_output_and_the_old_one_intact(model, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["compile", str(model), "-o", str(out), "-q"], capsys)[0] == 0
    before = snapshot(out)
    code, _, err = run(["compile", str(model), "-o", str(out), "--chip", "nochip"], capsys)
    assert code == 2, err
    assert snapshot(out) == before
    new = tmp_path / "new"
    assert run(["compile", str(model), "-o", str(new), "--chip", "nochip"], capsys)[0] == 2
    assert not new.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_leftovers_of_a_killed_run_are_removed_by_the_next(model, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["compile", str(model), "-o", str(out), "-q"], capsys)[0] == 0
    dead = [tmp_path / f".out{outdir.TMP_TAG}dead0001", tmp_path / f".out{outdir.OLD_TAG}00000002"]
    for d in dead:
        d.mkdir()
        (d / "graph.float.snnc").write_text("partial")
    # not snnc's names (only 8 hex digits are), nor an output of another -o
    unrelated = [tmp_path / n for n in (".out.mine", f".out{outdir.TMP_TAG}mystuff1",
                                        f".out{outdir.TMP_TAG}dead00012",
                                        f".outx{outdir.TMP_TAG}dead0001")]
    for d in unrelated:
        d.mkdir()
        (d / "keep.txt").write_text("mine")
    assert run(["compile", str(model), "-o", str(out), "-q"], capsys)[0] == 0
    assert not any(d.exists() for d in dead)
    assert all((d / "keep.txt").read_text() == "mine" for d in unrelated)


def test_killed_between_renames_puts_the_old_output_back(model, tmp_path, capsys):
    """Without renameat2 the swap is two renames; a kill between them is repaired."""
    out = tmp_path / "out"
    assert run(["compile", str(model), "-o", str(out), "-q"], capsys)[0] == 0
    before = snapshot(out)
    backup = tmp_path / f".out{outdir.OLD_TAG}abcd1234"
    os.rename(out, backup)
    outdir.clean_leftovers(out)
    assert snapshot(out) == before


def test_replacement_without_renameat2(model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    for steps in ("4", "6"):
        assert run(["compile", str(model), "-o", str(out), "--steps", steps, "-q"],
                   capsys)[0] == 0
    assert json.loads((out / "fidelity.json").read_text())["steps"] == 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_files_honour_the_umask(model, tmp_path, capsys, mask):
    old = os.umask(mask)
    try:
        out = tmp_path / "out"
        assert run(["compile", str(model), "-o", str(out), "-q"], capsys)[0] == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask
    for p in out.iterdir():
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask, p.name


def test_simulate_does_not_overwrite_a_foreign_file(tmp_path, capsys, qsnn_graph):
    import numpy as np

    g = write_graph(read_graph(qsnn_graph), tmp_path / "g.snnc")
    x = tmp_path / "x.npy"
    np.save(x, np.load(QSNN.with_name("qsnn4.input.npy"))[0])
    mine = tmp_path / "r.npz"
    mine.write_text("not a result")
    argv = ["simulate", str(g), "-i", str(x), "-o", str(mine), "-b", "reference", "-q"]
    for extra in ([], ["--force"]):  # --force does not change it
        code, _, err = run([*argv, *extra], capsys)
        assert code == 2, err
        assert "--force does not change this" in err
        assert mine.read_text() == "not a result"
    mine.unlink()
    assert run(argv, capsys)[0] == 0
    assert run([*argv, "--force"], capsys)[0] == 0  # its own result is replaced
    assert run(argv, capsys)[0] == 0


# ---- kill test ---------------------------------------------------------------------------------


def _state(out: Path) -> int:
    """The --steps of the complete output in ``out`` (fails if it is not complete)."""
    names = {p.name for p in out.iterdir()}
    assert names == FILES, names
    for name in ("graph.float.snnc", "graph.lowered.snnc"):
        read_graph(out / name)
    json.loads((out / "compile.json").read_text())
    json.loads((out / "report.json").read_text())
    return json.loads((out / "fidelity.json").read_text())["steps"]


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".snnc-" in p.name)


def test_sigkill_at_random_moments_leaves_old_or_new_complete(tmp_path, model):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "snnc", "compile", "-q"]
    out = tmp_path / "out"
    t0 = time.monotonic()
    subprocess.run([*cmd, str(model), "-o", str(out), "--steps", "4"], env=env, check=True,
                   capture_output=True, timeout=300)
    duration = time.monotonic() - t0  # kill moments span the whole run, however loaded the CPU
    rng = random.Random(1234)
    seen = set()
    for attempt in range(20):
        old = _state(out)
        new = 6 if old == 4 else 4
        proc = subprocess.Popen([*cmd, str(model), "-o", str(out), "--steps", str(new)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 1.3) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        state = _state(out)
        assert state in (old, new), (attempt, state)
        seen.add(state == new)
        assert len(_leftovers(tmp_path)) <= 1, _leftovers(tmp_path)
    assert seen == {True, False}, "every kill landed on the same side: the test proved nothing"
    subprocess.run([*cmd, str(model), "-o", str(out), "--steps", "5"], env=env, check=True,
                   capture_output=True, timeout=300)
    assert _state(out) == 5
    assert _leftovers(tmp_path) == []
