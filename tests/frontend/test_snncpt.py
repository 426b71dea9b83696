"""The torch-free reader of snnc.nn Sequentials builds the torch.fx front end's IR, bit for bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from frontend.snncpt_util import (  # noqa: E402
    fast_graph,
    graph_diff,
    random_conv_model,
    random_model,
    torch_graph,
)
from torch import nn  # noqa: E402

import snnc.nn as snn  # noqa: E402
from snnc.errors import FormatError  # noqa: E402

pytestmark = pytest.mark.torch
ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "examples" / "models"


@pytest.mark.parametrize("name", ["qsnn4", "bsnn"])
def test_shipped_models_identical(name: str) -> None:
    path = MODELS / f"{name}.pt"
    fast = fast_graph(path)
    assert fast is not None, "the shipped example must take the fast path"
    assert graph_diff(fast, torch_graph(path)) == []


def test_diff_sees_one_changed_weight() -> None:
    path = MODELS / "qsnn4.pt"
    fast, ref = fast_graph(path), torch_graph(path)
    import dataclasses

    from snnc.ir import Linear

    w = fast.nodes["0"].weight
    mant = np.array(w.mant)
    mant.flat[0] += 1 if mant.flat[0] < 7 else -1
    nodes = {**fast.nodes, "0": Linear(weight=dataclasses.replace(w, mant=mant))}
    assert graph_diff(dataclasses.replace(fast, nodes=nodes), ref) != []
    assert graph_diff(fast.with_metadata(file="other.pt"), ref) != []


@pytest.mark.parametrize("seed", range(24))
def test_random_sequentials_identical(seed: int, tmp_path: Path) -> None:
    model, _shape = random_model(np.random.default_rng(seed))
    path = tmp_path / "m.pt"
    torch.save(model, path)
    fast = fast_graph(path)
    binary_no_pow2 = any(isinstance(m, snn.BinaryLinear) and not m.pow2 for m in model.modules())
    if fast is None:
        assert binary_no_pow2, "only binary layers without pow2 may fall back"
        return
    assert graph_diff(fast, torch_graph(path)) == []


@pytest.mark.parametrize("seed", range(10))
def test_random_conv_sequentials_identical(seed: int, tmp_path: Path) -> None:
    model, _shape = random_conv_model(np.random.default_rng(seed))
    torch.save(model, tmp_path / "c.pt")
    fast = fast_graph(tmp_path / "c.pt")
    assert fast is not None
    assert graph_diff(fast, torch_graph(tmp_path / "c.pt")) == []


def test_strided_weights_and_double_falls_back(tmp_path: Path) -> None:
    torch.manual_seed(3)
    a = snn.QuantLinear(6, 5, bias=True, bits=3)
    a.weight = nn.Parameter(torch.randn(6, 5).t())  # non-contiguous: stride (1, 5)
    b = snn.QuantLinear(5, 4, bits=5, per_channel=False)
    model = nn.Sequential(a, snn.LIF(beta=0.5), b, snn.IF(threshold=torch.ones(4)))
    model.snnc_input_shape = (6,)
    torch.save(model, tmp_path / "s.pt")
    fast = fast_graph(tmp_path / "s.pt")
    assert fast is not None
    assert graph_diff(fast, torch_graph(tmp_path / "s.pt")) == []
    model.double()  # the torch trace fails on a float32 input: the fast path leaves it to it
    torch.save(model, tmp_path / "d.pt")
    assert fast_graph(tmp_path / "d.pt") is None


def test_a_tensor_larger_than_its_storage_is_not_expanded(tmp_path: Path) -> None:
    lin = snn.QuantLinear(2, 2)
    lin.weight = nn.Parameter(torch.ones(1).expand(100_000, 100_000))  # 4e10 bytes as a copy
    model = nn.Sequential(lin, snn.IF())
    model.snnc_input_shape = (100_000,)
    torch.save(model, tmp_path / "big.pt")
    assert (tmp_path / "big.pt").stat().st_size < 1 << 20
    assert fast_graph(tmp_path / "big.pt") is None


def test_input_shape_option(tmp_path: Path) -> None:
    model = nn.Sequential(snn.QuantLinear(8, 3), snn.IF())
    torch.save(model, tmp_path / "n.pt")  # no snnc_input_shape
    assert fast_graph(tmp_path / "n.pt") is None
    fast = fast_graph(tmp_path / "n.pt", input_shape="8")
    assert fast is not None
    assert graph_diff(fast, torch_graph(tmp_path / "n.pt", input_shape="8")) == []


class Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc, self.n = snn.QuantLinear(4, 3), snn.IF()

    def forward(self, x):
        return self.n(self.fc(x))


def _hooked_model() -> nn.Module:
    m = nn.Sequential(snn.QuantLinear(4, 3), snn.IF())
    m[0].register_forward_hook(_double)
    return m


def _double(mod, inp, out):
    return out * 2


@pytest.mark.parametrize("make", [_hooked_model, lambda: nn.Sequential(
    nn.Linear(4, 3), snn.IF()), lambda: snn.QuantLinear(4, 3)])
def test_anything_else_falls_back(make, tmp_path: Path) -> None:
    model = make()
    model.snnc_input_shape = (4,)
    torch.save(model, tmp_path / "f.pt")
    assert fast_graph(tmp_path / "f.pt") is None


def test_policy_unchanged_for_classes_outside_the_allow_list(tmp_path: Path) -> None:
    model = Custom()
    model.snnc_input_shape = (4,)
    torch.save(model, tmp_path / "c.pt")
    assert fast_graph(tmp_path / "c.pt") is None
    from snnc import api

    with pytest.raises(FormatError, match="--trust-pickle"):
        api.load(tmp_path / "c.pt")


def _cli(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "snnc", *args], check=True, cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)


@pytest.mark.parametrize("name", ["qsnn4", "bsnn"])
def test_compile_outputs_identical(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("SNNC_TORCH_LOADER", None)
    model = str(MODELS / f"{name}.pt")
    _cli(["compile", model, "--target", "loihi-sim", "-o", str(tmp_path / "fast"), "-q"], env)
    _cli(["compile", model, "--target", "loihi-sim", "-o", str(tmp_path / "torch"), "-q"],
         {**env, "SNNC_TORCH_LOADER": "1"})
    for f in ("program.h5", "report.json", "graph.float.snnc", "graph.lowered.snnc"):
        assert (tmp_path / "fast" / f).read_bytes() == (tmp_path / "torch" / f).read_bytes(), f
    assert json.loads((tmp_path / "fast" / "report.json").read_text())


def test_compiling_the_example_does_not_import_torch(tmp_path: Path) -> None:
    code = ("import sys, pathlib; from snnc import api; api.compile(sys.argv[1], "
            "out_dir=sys.argv[2]); assert (pathlib.Path(sys.argv[2]) / 'program.h5').is_file(); "
            "print('torch' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("SNNC_TORCH_LOADER", None)
    model = str(MODELS / "qsnn4.pt")
    out = subprocess.run([sys.executable, "-c", code, model, str(tmp_path / "a")], check=True,
                         env=env, capture_output=True, text=True, timeout=300).stdout
    assert out.strip().splitlines()[-1] == "False"
    env["SNNC_TORCH_LOADER"] = "1"
    out = subprocess.run([sys.executable, "-c", code, model, str(tmp_path / "b")], check=True,
                         env=env, capture_output=True, text=True, timeout=300).stdout
    assert out.strip().splitlines()[-1] == "True"


def test_an_extra_member_sends_the_file_to_the_policy(tmp_path: Path) -> None:
    import pickle
    import zipfile

    src = MODELS / "qsnn4.pt"
    dst = tmp_path / "extra.pt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("qsnn4/extra.pkl", pickle.dumps(Custom))  # a global outside the list
    assert fast_graph(dst) is None
    from snnc import api

    with pytest.raises(FormatError, match="--trust-pickle"):
        api.load(dst)
