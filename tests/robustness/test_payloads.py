"""The loading policy: a payload planted in any model format and location never runs.

Each payload is a real one: an object whose ``__reduce__`` calls ``open(SENTINEL, "w")``, so
unpickling it creates the sentinel file. For every format (``.pt`` zip, ``.pth`` legacy non-zip,
``.pt2`` torch.export, TorchScript) and location (top level, nested in a state dict, inside a
pickled module, in an exported program's sample inputs, constants and weights), ``inspect``,
``compile`` and ``simulate`` must exit 2 with a one-paragraph message naming --trust-pickle,
and the sentinel must not exist. Controls show the payloads are live: loading the same file with
``trust_pickle=True`` creates the sentinel.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.torch


class Payload:
    """Creates ``path`` when unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.offset = torch.ones(3)  # a plain tensor attribute: an exported constant

    def forward(self, x):
        return self.fc(x) + self.offset


def _rewrite(src: Path, dest: Path, edit) -> Path:
    """Copy a zip archive, letting ``edit(name, data) -> data`` change members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info, edit(info.filename, zin.read(info)))
    return dest


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _export(tmp: Path) -> Path:
    ep = torch.export.export(Tiny(), (torch.zeros(1, 4),))
    path = tmp / "clean.pt2"
    torch.export.save(ep, path)
    return path


def _pt2_payload(tmp: Path, sentinel: Path, where: str) -> Path:
    clean = _export(tmp)
    evil = _saved(Payload(sentinel))
    config = {"weights": "model_weights_config.json", "constants": "model_constants_config.json"}

    def edit(name: str, data: bytes) -> bytes:
        if where == "sample_inputs" and name.endswith("sample_inputs/model.pt"):
            return _saved(((Payload(sentinel),), {}))
        if where in config and name.endswith(f"data/{where}/{config[where]}"):
            doc = json.loads(data)
            first = next(iter(doc["config"].values()))
            first["use_pickle"] = True
            return json.dumps(doc).encode()
        if where == "constants" and name.endswith("data/constants/tensor_0"):
            return evil
        if where == "weights" and name.endswith("data/weights/weight_0"):
            return evil
        return data

    return _rewrite(clean, tmp / f"evil_{where}.pt2", edit)


def _make(kind: str, tmp: Path, sentinel: Path) -> Path:
    if kind == "pt-top":
        path = tmp / "top.pt"
        torch.save(Payload(sentinel), path)
    elif kind == "pt-state-dict":
        path = tmp / "sd.pt"
        sd = dict(Tiny().state_dict())
        torch.save({"state_dict": sd, "meta": {"note": [Payload(sentinel)]}}, path)
    elif kind == "pt-module-attr":
        model = nn.Sequential(nn.Linear(4, 3))
        model.extra = Payload(sentinel)
        path = tmp / "whole.pt"
        torch.save(model, path)
    elif kind == "pth-legacy":
        path = tmp / "legacy.pth"
        torch.save({"fc.weight": torch.zeros(3, 4), "x": Payload(sentinel)}, path,
                   _use_new_zipfile_serialization=False)
    elif kind.startswith("pt2-"):
        path = _pt2_payload(tmp, sentinel, kind[4:])
    else:
        raise AssertionError(kind)
    return path


KINDS = ["pt-top", "pt-state-dict", "pt-module-attr", "pth-legacy", "pt2-sample_inputs",
         "pt2-constants", "pt2-weights"]



@pytest.mark.parametrize("kind", KINDS)
def test_payload_is_live_with_trust_pickle(tmp_path, kind):
    """Control: the planted payload really runs when the user opts in."""
    from snnc.frontend.torch.loading import load_model

    sentinel = tmp_path / "PWNED"
    path = _make(kind, tmp_path, sentinel)
    assert not sentinel.exists()
    with contextlib.suppress(Exception):  # the payload is not a model; only whether it ran
        load_model(path, trust_pickle=True)
    assert sentinel.exists(), f"{kind}: the payload did not run even with trust (test is void)"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["inspect", "compile", "simulate"])
def test_payload_never_runs_without_trust(tmp_path, capsys, kind, command):
    sentinel = tmp_path / "PWNED"
    path = _make(kind, tmp_path, sentinel)
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((4, 8)))
    argv = {"inspect": ["inspect", str(path)],
            "compile": ["compile", str(path), "-o", str(tmp_path / "out"), "--input-shape", "4"],
            "simulate": ["simulate", str(path), "--input", str(x), "-o", str(tmp_path / "r.npz"),
                         "--backend", "reference"]}[command]
    code, out, err = run(argv, capsys)
    assert not sentinel.exists(), f"{kind}/{command}: the payload ran"
    assert code == 2, (code, out, err)
    assert err.startswith("error: "), err
    assert "--trust-pickle" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "r.npz").exists()


def test_torchscript_with_foreign_global_is_refused(tmp_path, capsys):
    """A TorchScript archive whose pickle names a Python global is refused before jit.load."""
    scripted = tmp_path / "s.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Linear(4, 3))), scripted)
    sentinel = tmp_path / "PWNED"
    evil = _saved(Payload(sentinel))
    with zipfile.ZipFile(io.BytesIO(evil)) as z:
        pkl = next(z.read(n) for n in z.namelist() if n.endswith("data.pkl"))
    bad = _rewrite(scripted, tmp_path / "evil_script.pt",
                   lambda n, d: pkl if n.endswith("/constants.pkl") else d)
    code, _, err = run(["inspect", str(bad)], capsys)
    assert code == 2
    assert "io.open" in err, err
    assert "--trust-pickle" in err
    assert not sentinel.exists()


@pytest.mark.parametrize("kind", ["state_dict", "module", "pt2", "torchscript"])
def test_clean_files_still_load(tmp_path, kind):
    """The policy does not refuse what people normally save."""
    from snnc.frontend.policy import check_loadable

    model = nn.Sequential(nn.Linear(4, 3))
    path = tmp_path / "m.pt"
    if kind == "state_dict":
        torch.save(model.state_dict(), path)
    elif kind == "module":
        torch.save(model, path)
    elif kind == "torchscript":
        torch.jit.save(torch.jit.script(model), path)
    else:
        path = _export(tmp_path)
    assert check_loadable(path) in ("torch-zip", "export", "torchscript")


def test_scanner_sees_names_hidden_on_the_stack():
    """os.system pushed, then decoy names pushed and popped: the scanner still sees os.system."""
    from snnc.frontend.policy import pickle_globals

    data = (b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x8c\x0bcollections\x8c\x0bOrderedDict"
            b"00\x93.")
    assert pickle_globals(data) == {"os.system"}
    memo = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x9400h\x00h\x01\x93."
    assert pickle_globals(memo) == {"os.system"}
