"""report.json written by ``snnc compile``, read back, and shown by ``snnc report``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from snnc.backends.report import load_report
from snnc.backends.report.schema import VERSION, dumps, validate
from snnc.cli import main
from snnc.errors import FormatError


def test_compile_writes_a_measured_report(measured_dir) -> None:
    doc = load_report(measured_dir)
    assert doc["version"] == VERSION
    assert doc["target"] == "loihi-sim"
    assert doc["input"]["kind"] == "calibration"
    assert doc["input"]["samples"] == 3
    e = doc["energy"]
    assert e["total"] == pytest.approx(e["dynamic"] + e["static"])
    assert sum(e["by_kind"].values()) == pytest.approx(e["dynamic"])
    assert sum(e["by_layer"].values()) == pytest.approx(e["dynamic"])
    assert sum(e["by_core"]) == pytest.approx(e["cores_dynamic"])  # the cores' events only
    lines = {ln["line"]: ln for ln in e["lines"]}
    assert e["dynamic"] == pytest.approx(e["cores_dynamic"] + sum(
        ln["joules"] or 0.0 for ln in lines.values() if ln["kind"] == "dynamic"))
    assert e["static"] == pytest.approx(lines["chip_static"]["joules"]
                                        + lines["core_leakage"]["joules"])
    assert lines["management"]["joules"] > 0
    assert lines["board"]["joules"] is None
    lo, hi = e["total_range"]
    assert lo < e["total"] < hi
    assert [lay["name"] for lay in doc["layers"]] == ["lif1", "lif2"]
    assert {a["model"] for a in doc["alternative_energy"]} == {"loihi1-sanafe",
                                                              "loihi1-davies2018"}
    lat = doc["latency"]
    assert lat["throughput_per_s"] == pytest.approx(1 / lat["per_inference"])
    assert set(doc["activity"]["raster"]) == {"lif1", "lif2"}
    nb = doc["neurobench"]["synaptic_operations"]
    assert nb["Effective_MACs"] == 0
    assert nb["Effective_ACs"] > 0
    fid = doc["fidelity"]
    assert [r["layer"] for r in fid["layers"]] == ["lif1", "lif2"]
    assert all(0 <= r["spike_agreement"] <= 1 for r in fid["layers"])


def test_chip_synaptic_ops_match_neurobench_on_spiking_layers(measured_dir) -> None:
    """The chip's synaptic ops are NeuroBench's ACs when the float and fixed-point spikes agree
    (spike input, weights exact on the grid)."""
    doc = load_report(measured_dir)
    fid = {r["layer"]: r["spike_agreement"] for r in doc["fidelity"]["layers"]}
    chip = {lay["name"]: lay["syn_ops"] for lay in doc["layers"]}
    nb = {r["layer"]: r["Effective_ACs"] for r in doc["neurobench"]["by_layer"]}
    assert fid == {"lif1": 1.0, "lif2": 1.0}  # the premise (exact weights, spike input)
    assert chip["lif1"] == pytest.approx(nb["fc1"])
    assert chip["lif2"] == pytest.approx(nb["fc2"])


def test_graded_input_on_loihi2_is_an_estimate(graded_dir) -> None:
    doc = load_report(graded_dir)
    assert doc["chip"]["name"] == "loihi2"
    assert doc["input"]["kind"] == "calibration"
    model = doc["energy"]["model"]
    assert model["estimate"]
    assert model["name"] == "loihi2-estimate"
    assert any(n.startswith("ESTIMATE") for n in doc["notes"])
    e = doc["energy"]
    assert e["static"] > 0  # lava-dl's measured Loihi 2 idle power
    assert e["total"] == pytest.approx(e["dynamic"] + e["static"])
    lo, hi = e["total_range"]  # factors on the central value, from lava-dl's PilotNet LIF run
    assert lo == pytest.approx(0.7204 * e["dynamic"] + e["static_range"][0])
    assert hi == pytest.approx(1.0016 * e["dynamic"] + e["static_range"][1])
    assert doc["neurobench"]["synaptic_operations"]["Effective_MACs"] > 0  # analog first layer
    assert doc["analytic"]["layers"][0]["charged_as"] == "MAC"


def test_worst_case_is_labelled_and_bounds_the_measured_run(measured_dir, worst_dir) -> None:
    worst, meas = load_report(worst_dir), load_report(measured_dir)
    assert worst["input"]["kind"] == "worst-case"
    assert any("WORST CASE" in n for n in worst["notes"])
    assert worst["neurobench"]["synaptic_operations"] is None
    per_step = [d["energy"]["dynamic"] / d["input"]["timesteps"] for d in (worst, meas)]
    assert per_step[0] > per_step[1]
    assert worst["activity"]["per_inference"]["spikes_out"] == 16 * worst["input"]["timesteps"]


def test_schema_refuses_bad_documents(measured_dir, tmp_path) -> None:
    doc = load_report(measured_dir)
    bad = json.loads(json.dumps(doc))
    del bad["energy"]["dynamic"]
    with pytest.raises(FormatError, match="energy lacks 'dynamic'"):
        validate(bad)
    newer = dict(doc, version=VERSION + 1)
    (tmp_path / "report.json").write_text(json.dumps(newer))
    with pytest.raises(FormatError, match="upgrade snnc"):
        load_report(tmp_path)
    doc["energy"]["static"] = float("nan")
    assert json.loads(dumps(doc))["energy"]["static"] is None


def test_report_command(measured_dir, worst_dir, capsys) -> None:
    (measured_dir / "report.html").unlink()
    main(["report", str(measured_dir)])
    out = capsys.readouterr().out
    assert "energy / inference" in out
    assert "loihi1-sanafe" in out
    assert "NeuroBench" in out
    assert (measured_dir / "report.html").is_file()
    main(["report", str(measured_dir / "report.json"), "--json"])
    assert json.loads(capsys.readouterr().out) == load_report(measured_dir)
    main(["report", str(measured_dir), "--compare", str(worst_dir), "--no-html"])
    out = capsys.readouterr().out
    assert "B / A" in out
    assert "worst" in out.lower()


def test_report_command_errors(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path)])
    assert exc.value.code == 2
    assert "no report here" in capsys.readouterr().err


def test_compare_rows_give_ratios(measured_dir, worst_dir) -> None:
    from snnc.backends.report.compare import compare_rows

    rows = {r[0]: r for r in compare_rows(load_report(measured_dir), load_report(worst_dir))}
    a, b = load_report(measured_dir), load_report(worst_dir)
    want = b["energy"]["total"] / a["energy"]["total"]
    assert rows["energy / inference"][3] == f"×{want:.3g}"
    assert "energy of lif1" in rows
    assert np.isfinite(want)


def test_summary_line_states_model_and_input(measured_dir, worst_dir) -> None:
    from snnc.backends.report.terminal import summary_line

    line = summary_line(load_report(measured_dir))
    assert line.startswith("report: ")
    assert "[loihi1-sanafe; calibration input]" in line
    assert "WORST CASE" in summary_line(load_report(worst_dir))
