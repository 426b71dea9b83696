"""A NIR model with analog (direct-encoded) input, compiled with no calibration data.

Before the analog input scale was a power of two (3088b64), such a model failed at the end
of the pipeline, in lower-loihi, with "weight scale ... is not a power of two": the synthetic
calibration's maximum gave an input scale of 255 / max, which the first layer's weight scale
could not cancel exactly. Now compile says up front that it assumes analog input in [0, 1),
compiles for Loihi 2 (graded payloads) and the program equals the float model spike for spike
on inputs of the 2**-k grid; Loihi 1 (binary spikes only) refuses with a message naming the
assumption and both ways out.
"""

from __future__ import annotations

import numpy as np
import pytest
from cli_run import run

pytestmark = pytest.mark.requires("nir")


def _write(path) -> None:
    import nir

    rng = np.random.default_rng(0)

    def lif(n: int) -> nir.LIF:  # dt / tau = 1/2: decay 0.5, exact on the chip
        return nir.LIF(tau=np.full(n, 2e-3), r=np.full(n, 2.0), v_leak=np.zeros(n),
                       v_threshold=np.ones(n), v_reset=np.zeros(n))

    w1 = rng.integers(-6, 6, (12, 16)) / 8.0
    w2 = rng.integers(-5, 7, (4, 12)) / 8.0
    nodes = {"input": nir.Input(input_type={"input": np.array([16])}),
             "fc1": nir.Linear(weight=w1), "lif1": lif(12),
             "fc2": nir.Linear(weight=w2), "lif2": lif(4),
             "output": nir.Output(output_type={"output": np.array([4])})}
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
             ("lif2", "output")]
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges))


def test_analog_nir_without_calibration_compiles_and_is_exact(tmp_path, capsys) -> None:
    _write(tmp_path / "m.nir")
    code, _, err = run(["compile", str(tmp_path / "m.nir"), "--dt", "1e-3", "--chip", "loihi2",
                        "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert "assuming analog (direct-encoded) input in [0, 1)" in err.splitlines()[1]
    x = np.random.default_rng(1).integers(0, 16, (6, 16, 20)) / 16.0  # (B, 16, T), grid 1/16
    np.save(tmp_path / "x.npy", x)
    code, _, err = run(["simulate", str(tmp_path / "o"), "-i", str(tmp_path / "x.npy"),
                        "-o", str(tmp_path / "chip.npz")], capsys)
    assert code == 0, err
    code, _, err = run(["simulate", str(tmp_path / "m.nir"), "--dt", "1e-3", "-b", "reference",
                        "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "ref.npz")], capsys)
    assert code == 0, err
    chip, ref = (np.load(tmp_path / f)["output"] for f in ("chip.npz", "ref.npz"))
    assert chip.shape == ref.shape == (6, 4, 20)
    assert 0.05 < ref.mean() < 0.95  # neither silent nor saturated: the comparison can fail
    assert np.array_equal(chip, ref)
    from snnc import api  # the Python API encodes the input the same way

    res = api.simulate(tmp_path / "o", np.moveaxis(x, -1, 0), steps=22)
    assert np.array_equal(np.moveaxis(res.output[2:], 0, -1), chip)


def test_analog_nir_without_calibration_on_loihi1_names_the_assumption(tmp_path,
                                                                       capsys) -> None:
    _write(tmp_path / "m.nir")
    code, _, err = run(["compile", str(tmp_path / "m.nir"), "--dt", "1e-3", "--chip", "loihi1",
                        "-o", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "binary spikes only" in err
    assert "--chip loihi2" in err
    assert "assumed analog" in err
    assert "--calibration" in err
    assert not (tmp_path / "o").exists()


def test_input_of_another_kind_than_compiled_for_is_refused(tmp_path, capsys) -> None:
    """A program calibrated on spikes is not given analog values or counts (the chip would
    binarise them: a different model), and says how to compile for them."""
    _write(tmp_path / "m.nir")
    x = (np.random.default_rng(2).random((4, 16, 12)) < 0.3).astype(np.float64)
    np.save(tmp_path / "spikes.npy", x)
    code, _, err = run(["compile", str(tmp_path / "m.nir"), "--dt", "1e-3", "--calibration",
                        str(tmp_path / "spikes.npy"), "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    for name, bad in (("analog", x * 0.5), ("counts", x * 2)):
        np.save(tmp_path / f"{name}.npy", bad)
        code, _, err = run(["simulate", str(tmp_path / "o"), "-i", str(tmp_path / f"{name}.npy"),
                            "-o", str(tmp_path / f"{name}.npz")], capsys)
        assert code == 2
        assert "compiled for binary spike input" in err
        assert "--calibration" in err
        assert not (tmp_path / f"{name}.npz").exists()
    code, _, err = run(["simulate", str(tmp_path / "o"), "-i", str(tmp_path / "spikes.npy"),
                        "-o", str(tmp_path / "ok.npz")], capsys)
    assert code == 0, err
