"""``snnc inspect``: table, --text, --dt, directories, and one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

from snnc import ir
from snnc.ir.serialize import write_graph
from snnc.ir.text import parse_graph


def _graph():
    q = ir.QTensor(mant=[[1, -2, 0], [0, 1, -1]], scale=0.5, bits=3)
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc", ir.Affine(weight=q, bias=[0.0, 1.5])),
        ("lif", ir.LIF(shape=(2,), decay_v=[0.5, 0.75], reset="subtract", comparator=">=")),
        ("dense", ir.LoihiDense(weight=[[3, 0]])),
        ("ll", ir.LoihiLIF(shape=(1,), du=100, dv=200, vth=10)),
        ("out", ir.Output(shape=(1,))), dt=0.001)



def test_table_shows_layers_parameters_bits_and_sparsity(tmp_path, capsys):
    path = write_graph(_graph(), tmp_path / "g.snnc")
    code, out, err = run(["inspect", str(path)], capsys)
    assert code == 0, err
    for text in ("6 nodes, 5 edges, dt=0.001", "affine", "(3,) -> (2,)", "int3", "33.3%",
                 "decay=0.5..0.75", "reset-sub", ">=", "du=100 dv=200 vth=10", "int8", "50.0%",
                 "fc -> lif", "dense -> ll"):
        assert text in out, text


def test_text_option_prints_parseable_ir(tmp_path, capsys):
    path = write_graph(_graph(), tmp_path / "g.snnc")
    code, out, _ = run(["inspect", "--text", str(path)], capsys)
    assert code == 0
    assert parse_graph(out) == _graph()


@pytest.mark.requires("nir")
def test_nir_file_shows_nir_parameters_without_dt_and_compile_needs_it(tmp_path, capsys):
    """A NIR file from another tool: inspect shows its continuous-time parameters as NIR
    states them (no --dt needed) and notes NIR's reset-to-v_reset; compile asks for --dt."""
    import nir

    g = nir.NIRGraph.from_list(nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
                               nir.LIF(tau=np.full(2, 0.004), r=np.ones(2), v_leak=np.zeros(2),
                                       v_threshold=np.full(2, 1.5)))
    nir.write(tmp_path / "m.nir", g)
    code, out, err = run(["inspect", str(tmp_path / "m.nir")], capsys)
    assert code == 0, err
    assert "LIF" in out
    assert "tau=0.004" in out
    assert "v_threshold=1.5" in out
    assert "compile needs --dt" in out
    assert "v_reset" in err
    assert "subtract reset" in err
    code, _, err = run(["compile", str(tmp_path / "m.nir"), "-o", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "--dt" in err
    assert not (tmp_path / "o").exists()
    code, out, err = run(["inspect", "--dt", "0.001", str(tmp_path / "m.nir")], capsys)
    assert code == 0
    assert "decay=0.75" in out  # 1 - dt / tau
    assert "note:" in err
    assert "v_reset" in err


def test_directory_shows_graphs_and_has_a_viewer_hook(tmp_path, capsys, monkeypatch):
    from snnc.commands import inspect as cmd

    write_graph(_graph(), tmp_path / "graph.lowered.snnc")
    code, out, _ = run(["inspect", str(tmp_path)], capsys)
    assert code == 0
    assert "graph.lowered.snnc" in out
    seen = []
    monkeypatch.setattr(cmd, "DIRECTORY_VIEWS", [lambda p, console: seen.append(p) or True])
    assert run(["inspect", str(tmp_path)], capsys)[0] == 0
    assert seen == [tmp_path]


@pytest.mark.parametrize(("name", "content", "match"), [
    ("bad.snnc", b"garbage" * 30, "not a readable HDF5 file (no HDF5 signature)"),
    ("bad.nir", b"garbage" * 30, "no HDF5 signature); expected a NIR file"),
    ("empty.snnc", b"", "not a readable HDF5 file"),
    ("model.xyz", b"", "unknown file type '.xyz'"),
    ("missing.snnc", None, "no such file"),
    ("truncated.snnc", "truncate", "truncated file"),
])
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, name, content, match):
    path = tmp_path / name
    if content == "truncate":
        data = write_graph(_graph(), path).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif content is not None:
        path.write_bytes(content)
    code, out, err = run(["inspect", str(path)], capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert match in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert out == ""


def test_empty_directory_is_an_error(tmp_path, capsys):
    code, _, err = run(["inspect", str(tmp_path)], capsys)
    assert code == 2
    assert "directory" in err


def test_subprocess_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.snnc"
    bad.write_bytes(b"\x00" * 100)
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "snnc", "inspect", str(bad)], cwd=repo,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
