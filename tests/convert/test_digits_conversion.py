"""Conversion methods do what the papers promise, on CNNs trained here on scikit-learn digits
(examples/convert_digits.py): a QCFS ANN (L = 4) converts with its accuracy kept at T = L; a
plain ReLU ANN converted by max-norm drops at low T, and OPI, SRP and COS each recover it at
T <= 8. Also ``snnc convert`` end to end on an ONNX file, and its refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from snnc.convert import convert  # noqa: E402
from snnc.convert.table import accuracy_table  # noqa: E402
from snnc.errors import SnncError, UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from tests.examples.quick import load_example  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.torch, pytest.mark.requires("sklearn")]


@pytest.fixture(scope="module")
def ex():
    return load_example("convert_digits")


@pytest.fixture(scope="module")
def data(ex):
    return ex.digits()


@pytest.fixture(scope="module")
def qcfs_model(ex):
    return ex.train("qcfs", levels=4)


@pytest.fixture(scope="module")
def relu_model(ex):
    return ex.train("relu")


def test_qcfs_at_t_equal_l_keeps_the_ann_accuracy(qcfs_model, data):
    _, _, xte, yte = data
    ann = trace(qcfs_model, (1, 8, 8))
    assert [v.op for v in ann.nodes.values()].count("qcfs") == 2
    conv = convert(ann, None)  # QCFS needs no calibration data: thresholds come from the model
    assert all(lay.op == "qcfs" for lay in conv.layers)
    tab = accuracy_table(conv.ann, conv.snn, xte, yte, steps=(1, 4))
    with torch.no_grad():
        torch_acc = float((qcfs_model(torch.tensor(xte)).argmax(1).numpy() == yte).mean())
    assert tab["ann_accuracy"] == pytest.approx(torch_acc, abs=1 / 360)
    assert tab["ann_accuracy"] > 0.9
    at_l = tab["rows"][1]["accuracy"]["plain"]
    assert abs(at_l - tab["ann_accuracy"]) <= 0.01
    assert tab["rows"][0]["accuracy"]["plain"] < at_l  # T = 1 is not enough


def test_relu_max_norm_drops_at_low_t_and_opi_srp_cos_recover(relu_model, data):
    xtr, _, xte, yte = data
    ann = trace(relu_model, (1, 8, 8))
    steps = (4, 8, 32)
    plain = convert(ann, xtr[:500], mode="max")
    base = accuracy_table(plain.ann, plain.snn, xte, yte, steps, ("plain", "srp", "cos"), tau=4)
    opi = convert(ann, xtr[:500], mode="max", opi=True)
    with_opi = accuracy_table(opi.ann, opi.snn, xte, yte, steps, ("plain",))
    ann_acc = base["ann_accuracy"]
    assert ann_acc > 0.9
    acc = {m: [r["accuracy"][m] for r in base["rows"]] for m in ("plain", "srp", "cos")}
    acc["opi"] = [r["accuracy"]["plain"] for r in with_opi["rows"]]
    assert acc["plain"][0] < ann_acc - 0.3  # the usual low-T collapse at T = 4
    assert acc["plain"][2] > ann_acc - 0.05  # ... which long runs recover
    for m in ("opi", "srp", "cos"):
        assert acc[m][0] > acc["plain"][0] + 0.3, (m, acc)  # T = 4
        assert acc[m][1] >= acc["plain"][1] + 0.1, (m, acc)  # T = 8
    e = [r["energy_45nm_j"] for r in base["rows"]]
    assert e[0] < e[1] < e[2]  # energy grows with T


def test_maxpool_refused_unless_spike_pooling_is_asked_for(ex):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                            torch.nn.Flatten(), torch.nn.Linear(36, 3)).eval()
    ann = trace(m, (1, 8, 8))
    x = np.random.default_rng(0).random((8, 1, 8, 8))
    with pytest.raises(UnsupportedOpError, match="average pooling"):
        convert(ann, x)
    snn = convert(ann, x, maxpool="spike").snn
    assert "maxpool2d" in [v.op for v in snn.nodes.values()]
    with pytest.raises(SnncError, match="calibration data"):
        convert(ann, None)
    with pytest.raises(SnncError, match="threshold mode"):
        convert(ann, x, mode="median", maxpool="spike")
    with pytest.raises(SnncError, match="already has neurons"):
        convert(snn, x)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "snnc", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def _onnx_and_data(model, data, tmp_path, n):
    """``model`` exported to ONNX (batch axis dynamic) and the first ``n`` test digits as
    ``test.npz``: (the .onnx path, the test-digit arrays)."""
    pytest.importorskip("onnx")
    _, _, xte, yte = data
    path = tmp_path / "qcfs.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, 8, 8),), path, input_names=["x"],
                      dynamo=False, dynamic_axes={"x": {0: "batch"}})
    np.savez(tmp_path / "test.npz", x=xte[:n], y=yte[:n])
    return path, xte, yte


def test_snnc_convert_on_an_onnx_export(qcfs_model, data, tmp_path):
    path, xte, yte = _onnx_and_data(qcfs_model, data, tmp_path, 120)
    out = tmp_path / "out"
    res = _cli("convert", str(path), "--data", str(tmp_path / "test.npz"), "-o", str(out),
               "--method", "plain,srp,cos", "--steps", "1,4,8", "--tau", "4")
    assert res.returncode == 0, res.stderr
    doc = json.loads((out / "conversion.json").read_text())
    rows = doc["accuracy_vs_timesteps"]["rows"]
    assert [r["T"] for r in rows] == [1, 4, 8]
    ann_acc = doc["accuracy_vs_timesteps"]["ann_accuracy"]
    assert abs(rows[1]["accuracy"]["plain"] - ann_acc) <= 0.02
    assert [lay["op"] for lay in doc["conversion"]["layers"]] == ["qcfs", "qcfs"]
    assert {"ann.snnc", "snn.snnc", "conversion.json", "conversion.html"} <= {
        p.name for p in out.iterdir()}
    assert "Accuracy vs time steps" in (out / "conversion.html").read_text()
    assert "ANN accuracy" in res.stdout
    # bad data: wrong shape -> exit 2, nothing written
    np.savez(tmp_path / "bad.npz", x=xte[:4, 0], y=yte[:4])
    res = _cli("convert", str(path), "--data", str(tmp_path / "bad.npz"), "-o",
               str(tmp_path / "out2"))
    assert res.returncode == 2
    assert "x has shape" in res.stderr
    assert not (tmp_path / "out2").exists()
    # never replaces a directory it did not write
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    res = _cli("convert", str(path), "-o", str(tmp_path / "mine"))
    assert res.returncode == 2
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_snnc_convert_on_a_saved_torch_module(relu_model, data, tmp_path):
    """torch.save(model) of a torch.nn-only ANN loads without --trust-pickle."""
    xtr, _, xte, yte = data
    path = tmp_path / "relu.pt"
    torch.save(relu_model, path)
    np.savez(tmp_path / "test.npz", x=xte[:100], y=yte[:100])
    np.save(tmp_path / "calib.npy", xtr[:200])
    out = tmp_path / "out"
    res = _cli("convert", str(path), "--input-shape", "1,8,8", "--data",
               str(tmp_path / "test.npz"), "--calibration", str(tmp_path / "calib.npy"),
               "--mode", "99.9%", "--opi", "--steps", "2,8", "-o", str(out))
    assert res.returncode == 0, res.stderr
    doc = json.loads((out / "conversion.json").read_text())
    assert doc["conversion"]["mode"] == "99.9%"
    assert [lay["v_init"] for lay in doc["conversion"]["layers"]] == [0.5, 0.5]
    rows = doc["accuracy_vs_timesteps"]["rows"]
    assert rows[1]["accuracy"]["plain"] > 0.85
    # a second run may replace the directory it wrote itself
    assert _cli("convert", str(path), "--input-shape", "1,8,8", "--calibration",
                str(tmp_path / "calib.npy"), "-o", str(out)).returncode == 0
    assert "accuracy_vs_timesteps" not in json.loads((out / "conversion.json").read_text())


def test_compile_report_has_accuracy_and_chip_energy_versus_t(qcfs_model, data, tmp_path):
    """``snnc compile OUT/snn.snnc --chip loihi2 --data D.npz``: the report (JSON, terminal,
    HTML) gains the ANN accuracy and the SNN's accuracy in float and on loihi-sim at each T,
    with the chip model's energy per inference at each T."""
    path, _, _ = _onnx_and_data(qcfs_model, data, tmp_path, 160)
    conv = tmp_path / "conv"
    assert _cli("convert", str(path), "--data", str(tmp_path / "test.npz"), "--method",
                "plain,srp,cos", "--tau", "4", "-o", str(conv)).returncode == 0
    out = tmp_path / "out"
    res = _cli("compile", str(conv / "snn.snnc"), "--chip", "loihi2", "--data",
               str(tmp_path / "test.npz"), "--method", "plain,srp,cos", "--tau", "4",
               "-o", str(out), "-q")
    assert res.returncode == 0, res.stderr
    rep = json.loads((out / "report.json").read_text())
    sec = rep["conversion"]
    table = json.loads((conv / "conversion.json").read_text())["accuracy_vs_timesteps"]
    assert [r["T"] for r in sec["rows"]] == [1, 2, 4, 8, 16, 32]
    assert sec["samples"] == 160
    assert sec["ann_accuracy"] == table["ann_accuracy"]  # ann.snnc found next to snn.snnc
    assert sec["methods"] == ["plain", "srp", "cos"]
    for mine, theirs in zip(sec["rows"], table["rows"], strict=True):  # same float SNN runs
        assert mine["snn_accuracy"] == theirs["accuracy"]["plain"]
        for m in ("srp", "cos"):
            assert mine["methods"][m]["snn_accuracy"] == theirs["accuracy"][m]
            # the chip's two-phase run (fixed point) stays within 2 points of the float one
            assert abs(mine["methods"][m]["chip_accuracy"] - theirs["accuracy"][m]) <= 0.02
    chip = {r["T"]: r["chip_accuracy"] for r in sec["rows"]}
    assert abs(chip[4] - sec["ann_accuracy"]) <= 0.02  # QCFS at T = L, on the chip
    assert chip[1] < chip[4]
    energy = [r["energy"] for r in sec["rows"]]
    assert np.all(np.diff(energy) > 0)
    # the main figure was measured on the same 32 samples for 16 steps: the same counters
    assert rep["input"]["timesteps"] == 16 + 3
    assert sec["rows"][4]["energy"] == pytest.approx(rep["energy"]["total"], rel=1e-9)
    assert "accuracy vs time steps" in res.stdout
    assert "Accuracy vs time steps" in (out / "report.html").read_text()
    shown = _cli("report", str(out))
    assert shown.returncode == 0
    assert "SNN chip" in shown.stdout
    assert "cos chip" in shown.stdout
    from snnc.backends.report.schema import validate
    from snnc.errors import FormatError

    del rep["conversion"]["rows"]  # the optional section is checked when present
    with pytest.raises(FormatError, match="conversion lacks 'rows'"):
        validate(rep)
    # --data on a model that is not a converted SNN: exit 2, nothing written
    res = _cli("compile", str(conv / "ann.snnc"), "--data", str(tmp_path / "test.npz"),
               "-o", str(tmp_path / "out2"))
    assert res.returncode == 2
    assert not (tmp_path / "out2").exists()
    res = _cli("compile", str(conv / "snn.snnc"), "--data", str(path), "-o",
               str(tmp_path / "out3"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out3").exists()
    for bad, why in ((("--target", "nir"), "does not map onto"),
                     (("--method", "srp,foo"), "choose from plain, srp, cos")):
        res = _cli("compile", str(conv / "snn.snnc"), *bad, "--data",
                   str(tmp_path / "test.npz"), "-o", str(tmp_path / "out4"))
        assert res.returncode == 2
        assert why in res.stderr
        assert not (tmp_path / "out4").exists()
