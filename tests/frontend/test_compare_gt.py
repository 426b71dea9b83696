"""``snnc simulate --compare-gt``: per layer, the steps of a recording each fidelity reproduces.

On lava-dl's Loihi 2 recording of PilotNet LIF the counts are checked two ways: equal to the
table pinned in test_silicon_fidelity.py, and for the ``--fidelity`` run equal to what
benchmarks/silicon_pilotnet_lif.py's own comparison (a separate reading of the files) finds on
the saved R.npz. Small graphs check the snnc naming, axis order and the refusals.
"""

from __future__ import annotations

import json

import numpy as np

from snnc import ir
from snnc.ir.serialize import write_graph
from snnc.simulators import recording, reference
from tests.cli_run import run
from tests.frontend.test_silicon_fidelity import FIXED_PT, SILICON, _bench


def _table(doc, mode):
    out: dict[str, dict[str, int]] = {}
    for row in doc["layers"]:
        out.setdefault(row["layer"], {})[row["var"]] = row["equal"][mode]
    return {k: tuple(v.get(x) for x in "suv") for k, v in out.items()}


def test_pilotnet_lif_compare_gt_both_modes(tmp_path, capsys, lavadl_assets):
    d = lavadl_assets / "gts/pilotnet_lif"
    bench = _bench()
    out, js = tmp_path / "r.npz", tmp_path / "cmp.json"
    probes = [a for n in bench.LAYERS for v in "suv" for a in ("-p", f"{n}.{v}")]
    code, stdout, err = run(["simulate", str(d / "network.net"), "--input-bias",
                             str(d / "image.npy"), "--reset-interval", "16", "--steps", "24",
                             "-b", "reference", "--fidelity", "silicon", "-o", str(out),
                             "--compare-gt", str(d), "--compare-json", str(js), *probes], capsys)
    assert code == 0, err
    doc = json.loads(js.read_text())
    assert doc["modes"] == ["fixed_pt", "silicon"]
    assert doc["backend"] == "reference"
    assert _table(doc, "fixed_pt") == FIXED_PT
    assert _table(doc, "silicon") == SILICON
    independent = bench.matches(d, dict(np.load(out)))  # the -o run is the silicon one
    assert _table(doc, "silicon") == {k: tuple(v[x] for x in "suv")
                                      for k, v in independent.items()}
    fc3 = {r["var"]: r for r in doc["layers"] if r["layer"] == "layer10"}
    assert fc3["u"]["first_mismatch"] == {"fixed_pt": 8, "silicon": 8}
    assert fc3["u"]["file"] == "fc-3-u.npy"
    assert fc3["u"]["steps"] == 24
    # the terminal table: one row per layer, equal/compared per mode and variable
    row = next(ln for ln in stdout.splitlines() if ln.strip().startswith("layer1 "))
    assert row.split()[1:] == ["conv-0", "17/24", "18/24", "0/24", "24/24", "24/24", "24/24"]


def test_fc3_recording_is_lavas_run_with_resets_one_step_earlier(tmp_path, capsys,
                                                                 lavadl_assets):
    """fc-3's recording (25 float steps) equals fixed_pt with netx reset_offset 15 at every
    recorded step (s, u, v), while that run departs from layers 0-9's recordings
    (docs/loihi-sim.md: no single run reproduces both)."""
    d = lavadl_assets / "gts/pilotnet_lif"
    js = tmp_path / "cmp.json"
    code, _, err = run(["simulate", str(d / "network.net"), "--input-bias", str(d / "image.npy"),
                        "--reset-interval", "16", "--reset-offset", "15", "--steps", "25", "-q",
                        "-b", "reference", "-o", str(tmp_path / "r.npz"), "--compare-gt", str(d),
                        "--compare-json", str(js)], capsys)
    assert code == 0, err
    doc = json.loads(js.read_text())
    fc3 = {r["var"]: r for r in doc["layers"] if r["layer"] == "layer10"}
    assert {v: (r["equal"]["fixed_pt"], r["steps"]) for v, r in fc3.items()} == {
        "s": (25, 25), "u": (25, 25), "v": (25, 25)}
    assert (fc3["u"]["equal"]["silicon"], fc3["v"]["equal"]["silicon"]) == (21, 11)
    fc2_u = next(r for r in doc["layers"] if r["layer"] == "layer9" and r["var"] == "u")
    assert fc2_u["equal"]["fixed_pt"] < 24


def _net():
    return ir.Graph.chain(
        ("x", ir.Input(shape=(2, 3))), ("f", ir.Flatten(input_shape=(2, 3))),
        ("d", ir.LoihiDense(weight=np.arange(24).reshape(4, 6) % 5 * 30)),
        ("n", ir.LoihiLIF(shape=(4,), du=2048, dv=512, vth=40)), ("y", ir.Output(shape=(4,))))


def test_snnc_names_partial_match_and_first_mismatch(tmp_path):
    g = _net()
    x = np.ones((6, 1, 2, 3), np.int64)
    res = reference.simulate(g, x, probes=("n.u", "n.v", "n.s"))
    v = np.moveaxis(res.probes["n.v"][:, 0], 0, -1).copy()  # (4, T), snnc's layout
    v[2, 4] += 1  # one neuron differs at step 4
    np.save(tmp_path / "n.v.npy", v)
    np.save(tmp_path / "n.s.npy", np.moveaxis(res.probes["n.s"][:, 0] != 0, 0, -1)[..., :3])
    rec = recording.read_recording(tmp_path, g)
    assert [r.probe for r in rec] == ["n.s", "n.v"]  # n.u not recorded
    rows = {r["var"]: r for r in recording.compare(rec, res.probes)}
    assert (rows["v"]["equal"], rows["v"]["steps"], rows["v"]["first_mismatch"]) == (5, 6, 4)
    assert (rows["s"]["equal"], rows["s"]["steps"], rows["s"]["first_mismatch"]) == (3, 3, None)


def test_reversed_axes_are_read_in_snnc_order(tmp_path):
    g = ir.Graph.chain(("x", ir.Input(shape=(2, 3, 4))),
                       ("n", ir.LoihiLIF(shape=(2, 3, 4), du=0, dv=0, vth=5)),
                       ("y", ir.Output(shape=(2, 3, 4))))
    data = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    np.save(tmp_path / "n.u.npy", data.transpose(2, 1, 0, 3))  # netx's (W, H, C, T)
    (rec,) = recording.read_recording(tmp_path, g)
    np.testing.assert_array_equal(rec.data, np.moveaxis(data, -1, 0))


def test_refusals(tmp_path, capsys):
    g = _net()
    model = tmp_path / "m.snnc"
    write_graph(g, model)
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 3, 5), np.int64))
    empty = tmp_path / "gt"
    empty.mkdir()
    base = ["simulate", str(model), "-i", str(x), "-b", "reference", "-o", str(tmp_path / "r.npz")]
    code, _, err = run([*base, "--compare-gt", str(empty)], capsys)
    assert code == 2
    assert "no recorded layer" in err
    assert "Traceback" not in err
    np.save(empty / "n.u.npy", np.zeros((3, 5)))
    code, _, err = run([*base, "--compare-gt", str(empty)], capsys)
    assert code == 2
    assert "fits neither" in err
    code, _, err = run([*base, "--compare-json", str(tmp_path / "c.json")], capsys)
    assert code == 2
    assert "--compare-json needs --compare-gt" in err
    assert not (tmp_path / "r.npz").exists()
    assert not (tmp_path / "c.json").exists()


def test_lavadl_names_only_for_lif_networks(lavadl_assets):
    from snnc.frontend.netx import read_netx

    lif = read_netx(lavadl_assets / "gts/pilotnet_lif/network.net")
    assert recording.lavadl_stems(lif)["layer10"] == "fc-3"
    assert recording.lavadl_stems(lif)["layer1"] == "conv-0"
    sdnn = read_netx(lavadl_assets / "gts/pilotnet_sdnn/network.net")
    assert recording.lavadl_stems(sdnn) == {}  # its input.npy is the image, not layer0
