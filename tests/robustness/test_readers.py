"""Validated, bounded readers: every bad file is one ``error:`` paragraph and exit 2.

Written from the bug classes of issue 12: a corrupt HDF5 file on which the HDF5 library loops
forever (found by the fuzzer, kept in data/), FIFOs and /dev/zero as input, chip TOML values
that are lists, NaN, inf or 2^63, non-UTF-8 or incomplete report.json, structured/object/empty/
0-d/NaN input arrays, bad learning data, out-of-range CLI numbers, NaN weights.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

from snnc.errors import FormatError

DATA = Path(__file__).with_name("data")
REPO = Path(__file__).resolve().parents[2]
SIM = ["-q"]



def _one_error(code, err):
    assert code == 2, err
    assert err.startswith("error: "), err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    pytest.importorskip("torch")
    from snnc.api import compile as compile_model

    out = tmp_path_factory.mktemp("c") / "out"
    compile_model(REPO / "examples" / "models" / "qsnn4.pt", out_dir=out)
    return out


def test_hdf5_that_makes_the_library_spin_is_refused_in_bounded_time(tmp_path, monkeypatch):
    """h5py never returns on this file (found by the fuzzer); the forked probe times out."""
    from snnc.backends.loihi.program_io import load_program

    monkeypatch.setenv("SNNC_HDF5_TIMEOUT", "2")
    t0 = time.monotonic()
    with pytest.raises(FormatError, match="did not finish in 2 s"):
        load_program(DATA / "hang_program.h5")
    assert time.monotonic() - t0 < 30


def test_probe_is_skipped_only_for_files_the_output_marker_vouches_for(tmp_path, monkeypatch,
                                                                       compiled):
    """A compile output's marker records the SHA-256 of its HDF5 files: loading its own
    program.h5 needs no forked probe; a file whose digest differs (here the hanging file under
    a marker naming program.h5 with another file's digest) is still probed and refused."""
    import hashlib
    import shutil

    from snnc import readers
    from snnc.backends.loihi.program_io import load_program

    marker = json.loads((compiled / ".snnc-output").read_text())
    digest = hashlib.sha256((compiled / "program.h5").read_bytes()).hexdigest()
    assert marker["sha256"]["program.h5"] == digest
    assert set(marker["sha256"]) >= {"program.h5", "graph.float.snnc", "graph.lowered.snnc"}

    def no_fork():
        raise AssertionError("probed a file the marker vouches for")

    with monkeypatch.context() as m:
        m.setattr(readers.os, "fork", no_fork)
        assert load_program(compiled).n_cores >= 1
    forged = tmp_path / "out"
    forged.mkdir()
    shutil.copy(DATA / "hang_program.h5", forged / "program.h5")
    (forged / ".snnc-output").write_text(json.dumps({"snnc": "compile",
                                                     "sha256": {"program.h5": digest}}))
    assert not readers.written_by_snnc(forged / "program.h5")
    monkeypatch.setenv("SNNC_HDF5_TIMEOUT", "2")
    with pytest.raises(FormatError, match="did not finish in 2 s"):
        load_program(forged)


@pytest.mark.parametrize("what", ["fifo", "devzero"])
def test_fifo_and_dev_zero_are_not_read(tmp_path, capsys, what, compiled):
    p = tmp_path / "x.npy"
    if what == "fifo":
        os.mkfifo(p)
    else:
        p.symlink_to("/dev/zero")
    code, _, err = run(["simulate", str(compiled), "-i", str(p), "-o",
                        str(tmp_path / "r.npz"), *SIM], capsys)
    _one_error(code, err)
    assert "not a regular file" in err


@pytest.mark.parametrize(("line", "field"), [
    ("[mesh]\ntiles_x = [1, 2]", "mesh.tiles_x"),
    ("[mesh]\ntiles_x = 9223372036854775807", "mesh.tiles_x"),
    ("[mesh]\nmax_chips = inf", "mesh.max_chips"),
    ("[core]\nneurons = nan", "core.neurons"),
    ("[costs.energy_pj]\nsyn_op_dense = nan", "costs.energy_pj.syn_op_dense"),
    ("[costs.time_ns]\nspike_out = [1]", "costs.time_ns.spike_out"),
    ("[costs.energy_pj]\nspike_out = -inf", "costs.energy_pj.spike_out"),
])
def test_chip_toml_values_are_validated(tmp_path, line, field):
    from snnc.backends.loihi.chips import load_chip

    p = tmp_path / "c.toml"
    p.write_text(f'base = "loihi1"\nname = "t"\n{line}\n')
    with pytest.raises(FormatError, match=field.replace(".", r"\.")):
        load_chip(p)


@pytest.mark.parametrize("kind", ["structured", "object", "empty", "0-d", "nan", "complex",
                                  "not-npy", "npz"])
def test_bad_input_arrays(tmp_path, capsys, compiled, kind):
    p = tmp_path / "x.npy"
    good = np.zeros((64, 8))
    if kind == "structured":
        np.save(p, np.zeros(3, dtype=[("a", "i4")]))
    elif kind == "object":
        np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "0-d":
        np.save(p, np.array(1.0))
    elif kind == "nan":
        np.save(p, good + np.nan)
    elif kind == "complex":
        np.save(p, good.astype(complex))
    elif kind == "not-npy":
        p.write_text("hello")
    else:
        with p.open("wb") as fh:
            np.savez(fh, a=good)
    code, _, err = run(["simulate", str(compiled), "-i", str(p), "-o", str(tmp_path / "r.npz"),
                        *SIM], capsys)
    _one_error(code, err)
    assert not (tmp_path / "r.npz").exists()


@pytest.mark.parametrize(("kind", "match"), [
    ("npy", "single array"), ("scalar-label", "field 'y': is a 0-d scalar"),
    ("label-99", "label 99"), ("T0", "field 'x': is empty"), ("no-y", "missing 'y'"),
])
def test_bad_learning_data(tmp_path, capsys, compiled, kind, match):
    x = np.zeros((10, 64, 8))
    p = tmp_path / "d.npz"
    if kind == "npy":
        p = tmp_path / "d.npy"
        np.save(p, x)
    else:
        arrays = {"x": x, "y": np.arange(10) % 10}
        if kind == "scalar-label":
            arrays["y"] = np.array(3)
        elif kind == "label-99":
            arrays["y"] = np.full(10, 99)
        elif kind == "T0":
            arrays["x"] = x[..., :0]
        else:
            del arrays["y"]
        np.savez(p, **arrays)
    code, _, err = run(["learn", str(compiled), "--data", str(p), "-o", str(tmp_path / "l")],
                       capsys)
    _one_error(code, err)
    assert match in err
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"{}", b'{"version": 1}', b"[1, 2]",
                                     b'{"version": 0, "schema": "x"}', b"{" * 100000])
def test_bad_report_json(tmp_path, capsys, content):
    p = tmp_path / "report.json"
    p.write_bytes(content)
    code, _, err = run(["report", str(p), "--no-html"], capsys)
    _one_error(code, err)


@pytest.mark.parametrize("steps", ["0", "1000000000", "-3"])
def test_steps_are_bounded(tmp_path, capsys, compiled, steps):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((64, 8)))
    code, _, err = run(["simulate", str(compiled), "-i", str(x), "--steps", steps, "-o",
                        str(tmp_path / "r.npz")], capsys)
    assert code == 2
    assert "--steps" in err


@pytest.mark.parametrize("shape", ["0", "-4", "1,2,3,4,5,6,7,8,9", "99999999", "x"])
def test_input_shape_is_bounded(shape):
    """The one --input-shape parser that the torch and ONNX front ends call."""
    from snnc.io import parse_input_shape

    with pytest.raises(FormatError, match="input shape"):
        parse_input_shape(shape)


def test_nan_weights_are_named(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight[1, 2] = float("nan")
    model.snnc_input_shape = (4,)
    p = tmp_path / "nan.pt"
    torch.save(model, p)
    code, _, err = run(["compile", str(p), "-o", str(tmp_path / "out"), "-q"], capsys)
    _one_error(code, err)
    assert "NaN or infinite" in err
    assert "'weight'" in err
    assert "bits must be" not in err
    assert not (tmp_path / "out").exists()


def test_report_json_with_unknown_fields_types(tmp_path, capsys, compiled):
    doc = json.loads((compiled / "report.json").read_text())
    doc["energy"] = "lots"
    p = tmp_path / "report.json"
    p.write_text(json.dumps(doc))
    code, _, err = run(["report", str(p), "--no-html"], capsys)
    _one_error(code, err)
