"""``snnc simulate MODEL --backend lava`` on an uncompiled model, in the Lava environment.

The Lava environment has no torch. A ``.pt`` file that needs torch to load (here a plain
``torch.nn`` pickle) is refused with what to do (compile it where torch is, then simulate the
output). A model file it can read, the float graph ``graph.float.snnc`` that compile writes, or
a ``torch.save``d Sequential of ``snnc.nn`` layers such as the shipped ``qsnn4.pt`` (read by
snnc's torch-free reader), is compiled on the fly for the lava target, run in Lava, and equals
loihi-sim on the program compiled on the fly from the same file (output spikes, aligned to the
input's steps, identical).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "examples" / "models"

pytestmark = pytest.mark.lava


def main_python() -> Path:
    """The main environment's Python (``$SNNC_MAIN_PYTHON`` or .venv), as a user with both
    environments has it; the test is skipped without it."""
    python = Path(os.environ.get("SNNC_MAIN_PYTHON") or REPO / ".venv" / "bin" / "python")
    if not python.exists():
        pytest.skip(f"no main-environment Python at {python} to run PyTorch")
    return python


def in_main_env(*args: str) -> None:
    cmd = [str(main_python()), *args]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"


def compile_model(model: Path, out: Path) -> None:
    """``snnc compile`` in the main environment."""
    in_main_env("-m", "snnc", "compile", str(model), "-o", str(out), "-q")


def _simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = run(["simulate", *args], capsys)
    return code, out + err


def test_pt_file_that_needs_torch_says_what_to_do(tmp_path: Path, capsys) -> None:
    model = tmp_path / "plain.pt"
    in_main_env("-c", "import sys, torch; torch.save(torch.nn.Sequential(torch.nn.Linear(64, 10)),"
                      " sys.argv[1])", str(model))
    code, out = _simulate(capsys, str(model), "-i", str(MODELS / "X.npy"),
                          "-b", "lava", "-o", str(tmp_path / "r.npz"), "-q")
    assert code == 2
    assert "snnc compile MODEL -o OUT" in out
    assert not (tmp_path / "r.npz").exists()


def assert_lava_equals_loihi_sim(model: Path, tmp_path: Path, capsys) -> None:
    """``snnc simulate MODEL`` on three digits with ``-b lava`` and ``-b loihi-sim``: the same
    output spikes, as many steps as the input, and not silent."""
    x_path = tmp_path / "X.npy"
    x = np.load(MODELS / "X.npy")[:3]
    np.save(x_path, x)
    res = {}
    for backend in ("lava", "loihi-sim"):
        dest = tmp_path / f"{backend}.npz"
        code, text = _simulate(capsys, str(model), "-i", str(x_path),
                               "-b", backend, "-o", str(dest), "-q")
        assert code == 0, text
        res[backend] = np.load(dest)["output"]
    assert res["lava"].shape == (3, 10, x.shape[-1])  # as many steps as the input
    assert res["lava"].any(), "no output spikes: a vacuous comparison"
    np.testing.assert_array_equal(res["lava"], res["loihi-sim"])


def test_snnc_nn_pt_file_runs_in_lava_as_in_loihi_sim(tmp_path: Path, capsys) -> None:
    assert_lava_equals_loihi_sim(MODELS / "qsnn4.pt", tmp_path, capsys)  # torch-free reader


def test_uncompiled_float_graph_runs_in_lava_as_in_loihi_sim(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    compile_model(MODELS / "qsnn4.pt", out)  # in the main environment
    assert_lava_equals_loihi_sim(out / "graph.float.snnc", tmp_path, capsys)
