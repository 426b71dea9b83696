"""Loading without ceremony (issue 14), as a user works: a model.py with the user's class and a
factory, weights saved with ``torch.save`` (a state_dict, a checkpoint dict, a whole pickle),
an ``X.npy`` of rate-coded digits-like spikes beside them, and the CLI run from another
directory.

- the input shape is inferred from the first layer plus an example input (or the checkpoint);
  a conv model with no example is refused with what was tried;
- ``--model module:factory`` and ``--trust-pickle`` find the user's module in the current
  directory or beside the model file;
- ``compile``, ``inspect`` and ``simulate`` take the same loading options;
- compile says at the start what the input is taken to be (binary spikes found in X.npy, or
  the analog assumption when there is no example);
- ``simulate OUT`` gives as many steps as the input, equal spike for spike to the float
  PyTorch model on a three-layer network;
- ``simulate model.pt`` runs on every backend of this environment, or says what to do.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from cli_run import run  # noqa: E402
from torch import nn  # noqa: E402

import snnc.nn as snn  # noqa: E402

pytestmark = pytest.mark.torch

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "examples" / "models"

USER_MODULE = '''
"""The user's model.py: a small conv SNN written with snnc.nn, as its tutorial writes one."""
import torch
from torch import nn

import snnc.nn as snn


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.lif1 = snn.LIF(0.5)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4 * 8 * 8, 10)
        self.lif2 = snn.LIF(0.5)

    def forward(self, x):
        return self.lif2(self.fc(self.flat(self.lif1(self.conv(x)))))


def build():
    torch.manual_seed(0)
    net = DigitNet()
    with torch.no_grad():
        net.conv.weight.mul_(4)
        net.fc.weight.mul_(4)
    return net
'''


def spikes(n: int, shape: tuple[int, ...], t: int, seed: int = 0, p: float = 0.3) -> np.ndarray:
    """Rate-coded input as users save it: (N, *shape, T), time last, 0/1."""
    return (np.random.default_rng(seed).random((n, *shape, t)) < p).astype(np.float32)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``proj/`` with model.py (``user_net``), and a different, empty working directory."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "user_net.py").write_text(USER_MODULE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    saved = list(sys.path)
    sys.path.insert(0, str(proj))
    mod = importlib.import_module("user_net")
    sys.path[:] = saved  # the CLI must find it by itself, not through the test's sys.path
    yield proj, mod
    sys.modules.pop("user_net", None)
    sys.path[:] = saved


def _forget(name: str = "user_net") -> None:
    sys.modules.pop(name, None)


def test_state_dict_from_another_cwd_infers_the_shape_from_x_npy_beside_it(project, capsys):
    proj, mod = project
    torch.save(mod.build().state_dict(), proj / "model.pt")
    np.save(proj / "X.npy", spikes(6, (1, 8, 8), 12))
    _forget()
    code, _, err = run(["compile", str(proj / "model.pt"), "--model", "user_net:build",
                        "-o", "out"], capsys)
    assert code == 0, err
    assert "input shape (1, 8, 8) inferred from the first layer 'conv'" in err
    assert "in_channels=1" in err
    assert "X.npy" in err
    # the assumption line comes first, before any pass runs, and it found the binary spikes
    lines = err.splitlines()
    assumption = next(i for i, line in enumerate(lines) if "input taken to be" in line)
    first_pass = next(i for i, line in enumerate(lines) if "canonicalize" in line)
    assert assumption < first_pass
    assert "binary (rate-coded) spikes" in lines[assumption]
    code, _, err = run(["simulate", "out", "-i", str(proj / "X.npy"), "-o", "r.npz", "-q"],
                       capsys)
    assert code == 0, err
    assert np.load("r.npz")["output"].shape == (6, 10, 12)


def test_factory_module_in_the_current_directory(project, capsys, monkeypatch):
    proj, mod = project
    weights = proj.parent / "weights"
    weights.mkdir()
    torch.save({"model_state_dict": mod.build().state_dict()}, weights / "ckpt.pth")
    _forget()
    monkeypatch.chdir(proj)  # model.py here, the weights elsewhere
    code, out, err = run(["inspect", str(weights / "ckpt.pth"), "--model", "user_net:build",
                          "--input-shape", "1,8,8"], capsys)
    assert code == 0, err
    assert "conv2d" in out
    assert "(1,8,8)" in out
    _forget()
    code, _, err = run(["inspect", str(weights / "ckpt.pth"), "--model", "nowhere:build",
                        "--input-shape", "1,8,8"], capsys)
    assert code == 2
    assert "looked in the current directory and the model file's" in err


def test_factory_given_as_a_file_path(project, capsys):
    """``--model path/to/user_net.py:build``, as users often write it, from another directory
    (the fixture's working directory)."""
    proj, mod = project
    torch.save(mod.build().state_dict(), proj / "w.pt")
    _forget()
    code, out, err = run(["inspect", str(proj / "w.pt"), "--model",
                          f"{proj / 'user_net.py'}:build", "--input-shape", "1,8,8"], capsys)
    assert code == 0, err
    assert "conv2d" in out
    _forget()
    code, _, err = run(["inspect", str(proj / "w.pt"), "--model", "missing.py:build",
                        "--input-shape", "1,8,8"], capsys)
    assert code == 2
    assert "missing.py is not a file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("entry", ["input_shape", "example_input"])
def test_shape_saved_inside_the_checkpoint(project, capsys, entry):
    proj, mod = project
    extra = {"input_shape": [1, 8, 8]} if entry == "input_shape" else {
        "example_input": torch.zeros(12, 5, 1, 8, 8)}  # as forward takes it: (T, B, C, H, W)
    torch.save({"state_dict": mod.build().state_dict(), **extra}, proj / "ckpt.pt")
    _forget()
    code, out, err = run(["inspect", str(proj / "ckpt.pt"), "--model", "user_net:build"],
                         capsys)
    assert code == 0, err
    assert f"checkpoint's {entry!r} entry" in err
    assert "(1,8,8) -> (4,8,8)" in out


def test_conv_without_any_example_says_what_was_tried(project, capsys):
    proj, mod = project
    torch.save(mod.build().state_dict(), proj / "model.pt")
    _forget()
    code, _, err = run(["compile", str(proj / "model.pt"), "--model", "user_net:build",
                        "-o", "out"], capsys)
    assert code == 2
    assert "could not be inferred" in err
    assert "in_channels=1" in err
    assert "X.npy" in err
    assert "--input-shape" in err
    assert "Traceback" not in err
    assert not Path("out").exists()
    # a calibration input of the wrong shape is reported as tried, not used
    np.save("bad.npy", spikes(2, (3, 5, 5), 4))
    code, _, err = run(["compile", str(proj / "model.pt"), "--model", "user_net:build",
                        "--calibration", "bad.npy", "-o", "out"], capsys)
    assert code == 2
    assert "bad.npy (shape (2, 3, 5, 5, 4) does not fit" in err


def test_whole_pickle_of_a_user_class_needs_trust_and_is_found_beside_the_file(project,
                                                                               capsys):
    proj, mod = project
    torch.save(mod.build(), proj / "model.pt")  # torch.save(model): pickles user_net.DigitNet
    x = spikes(3, (1, 8, 8), 10)
    np.save(proj / "X.npy", x)
    _forget()
    model = str(proj / "model.pt")
    code, _, err = run(["compile", model, "-o", "out"], capsys)
    assert code == 2
    assert "--trust-pickle" in err
    for argv in (["compile", model, "-o", "out", "-q"], ["inspect", model],
                 ["simulate", model, "-i", str(proj / "X.npy"), "-o", "r.npz", "-q"]):
        _forget()
        code, _, err = run([*argv, "--trust-pickle"], capsys)
        assert code == 0, f"{argv}: {err}"
    assert np.load("r.npz")["output"].shape == (3, 10, 10)


def test_class_pickled_from_a_script_says_how_to_save_it(tmp_path, capsys, monkeypatch):
    main = sys.modules["__main__"]

    class ScriptNet(nn.Sequential):
        pass

    ScriptNet.__module__, ScriptNet.__qualname__ = "__main__", "ScriptNet"
    monkeypatch.setattr(main, "ScriptNet", ScriptNet, raising=False)
    torch.save(ScriptNet(nn.Linear(4, 2), snn.IF()), tmp_path / "m.pt")
    monkeypatch.delattr(main, "ScriptNet")
    code, _, err = run(["inspect", str(tmp_path / "m.pt"), "--trust-pickle"], capsys)
    assert code == 2
    assert "__main__" in err
    assert "model.py" in err
    assert "--model" in err


# ---- every loading option on every command --------------------------------------------------

LOADING = ("--input-shape", "--model", "--trust-pickle", "--dt", "--netx-layers",
           "--reset-offset", "--input-message-bits", "--input-bias", "--reset-interval")


def test_the_three_commands_declare_the_same_loading_options():
    from snnc.commands import compile as c
    from snnc.commands import inspect as i
    from snnc.commands import simulate as s

    def options(cmd: Any) -> dict[str, Any]:
        return {o: p for p in cmd.params for o in p.opts if o in LOADING}

    ref = options(c.command)
    assert sorted(ref) == sorted(LOADING)
    for cmd in (i.command, s.command):
        got = options(cmd)
        assert sorted(got) == sorted(LOADING)
        for name in ("--input-shape", "--model", "--trust-pickle"):
            assert got[name].help == ref[name].help  # one definition, not three copies


def _conv_pickle(path: Path) -> None:
    """An allow-listed whole pickle (torch.nn + snnc.nn), which does not record its shape."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), snn.LIF(0.5), nn.Flatten(),
                        nn.Linear(256, 10), snn.LIF(0.5))
    with torch.no_grad():
        for m in net:
            if hasattr(m, "weight"):
                m.weight.mul_(4)
    torch.save(net, path)


def _argv(command: str, model: Path, tmp: Path, *extra: str) -> list[str]:
    tail = {"compile": ["-o", str(tmp / "out"), "--chip", "loihi2", "--force"],
            "inspect": [],
            "simulate": ["-i", str(tmp / "x" / "X.npy"), "-o", str(tmp / "r.npz"), "--force"]}
    return [command, str(model), *tail[command], *extra]


@pytest.mark.parametrize("command", ["compile", "inspect", "simulate"])
def test_input_shape_on_each_command(tmp_path, capsys, command):
    _conv_pickle(tmp_path / "m.pt")
    (tmp_path / "x").mkdir()
    np.save(tmp_path / "x" / "X.npy", spikes(2, (1, 8, 8), 6))
    code, _, err = run(_argv(command, tmp_path / "m.pt", tmp_path, "--input-shape", "1,8,8"),
                       capsys)
    assert code == 0, err
    assert "note: m.pt: input shape" not in err  # given, not inferred
    if command != "simulate":  # simulate's --input is itself an example to infer it from
        code, _, err = run(_argv(command, tmp_path / "m.pt", tmp_path), capsys)
        assert code == 2
        assert "--input-shape" in err
    code, _, err = run(_argv(command, tmp_path / "m.pt", tmp_path, "--input-shape", "1,9,9"),
                       capsys)
    assert code == 2
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["compile", "inspect", "simulate"])
def test_model_factory_on_each_command(project, capsys, command):
    proj, mod = project
    torch.save(mod.build().state_dict(), proj / "model.pt")
    (proj / "x").mkdir()
    np.save(proj / "x" / "X.npy", spikes(2, (1, 8, 8), 6))
    _forget()
    code, _, err = run(_argv(command, proj / "model.pt", proj, "--input-shape", "1,8,8"),
                       capsys)
    assert code == 2
    assert "--model" in err
    _forget()
    code, _, err = run(_argv(command, proj / "model.pt", proj, "--input-shape", "1,8,8",
                             "--model", "user_net:build"), capsys)
    assert code == 0, err


def _nir_file(path: Path) -> None:
    import nir

    rng = np.random.default_rng(0)
    w1 = np.round(rng.normal(0, 1, (8, 6)) * 8) / 8
    w2 = np.round(rng.normal(0, 1, (3, 8)) * 8) / 8
    g = nir.NIRGraph.from_list(
        nir.Affine(weight=w1, bias=np.zeros(8)),
        nir.LIF(tau=np.full(8, 2e-3), r=np.ones(8), v_leak=np.zeros(8),
                v_threshold=np.ones(8)),
        nir.Affine(weight=w2, bias=np.zeros(3)),
        nir.LIF(tau=np.full(3, 4e-3), r=np.ones(3), v_leak=np.zeros(3),
                v_threshold=np.ones(3)))
    nir.write(path, g)


@pytest.mark.requires("nir")
@pytest.mark.parametrize("command", ["compile", "inspect", "simulate"])
def test_dt_on_each_command(tmp_path, capsys, command):
    _nir_file(tmp_path / "m.nir")
    (tmp_path / "x").mkdir()
    np.save(tmp_path / "x" / "X.npy", spikes(2, (6,), 8, p=0.5))
    calib = ["--calibration", str(tmp_path / "x" / "X.npy")] if command == "compile" else []
    code, out, err = run(_argv(command, tmp_path / "m.nir", tmp_path, *calib), capsys)
    if command == "inspect":
        assert code == 0
        assert "tau=0.002" in out  # NIR's own parameters, no dt needed
    else:
        assert code == 2
        assert "--dt" in err
    code, out, err = run(_argv(command, tmp_path / "m.nir", tmp_path, "--dt", "1ms", *calib),
                         capsys)
    assert code == 0, err
    assert "note: m.nir: NIR's LIF neurons reset the membrane to v_reset" in err
    if command == "inspect":
        assert "decay=0.5" in out  # 1 - dt / tau at dt = 1 ms


def test_model_file_options_are_refused_for_a_compiled_program(tmp_path, capsys):
    code, _, err = run(["compile", str(MODELS / "qsnn4.pt"), "-o", str(tmp_path / "o"), "-q"],
                       capsys)
    assert code == 0, err
    for command in (["simulate", str(tmp_path / "o"), "-i", str(MODELS / "X.npy"), "-o",
                     str(tmp_path / "r.npz")], ["inspect", str(tmp_path / "o")]):
        code, _, err = run([*command, "--input-shape", "64"], capsys)
        assert code == 2
        assert "compiled program" in err


# ---- the input assumption -----------------------------------------------------------------


def test_binary_example_beside_the_model_lets_it_compile_for_loihi1(tmp_path, capsys):
    """Loihi 1 takes only spikes: with the rate-coded X.npy beside the model, compile detects
    binary input; without any example it says up front that it assumes analog input, and the
    failure at mapping says the same."""
    _conv_pickle(tmp_path / "m.pt")
    code, _, err = run(["compile", str(tmp_path / "m.pt"), "--input-shape", "1,8,8",
                        "--chip", "loihi1", "-o", str(tmp_path / "o1")], capsys)
    lines = err.splitlines()
    assert lines[0].startswith("note: no calibration input")
    assert "analog" in lines[0]
    assert code == 2
    assert "assumed analog" in err
    np.save(tmp_path / "X.npy", spikes(4, (1, 8, 8), 8))
    code, _, err = run(["compile", str(tmp_path / "m.pt"), "--chip", "loihi1",
                        "-o", str(tmp_path / "o2")], capsys)
    assert code == 0, err
    assert "binary (rate-coded) spikes" in err
    assert "X.npy" in err
    fid = (tmp_path / "o2" / "fidelity.json").read_text()
    assert "X.npy" in fid  # calibrated on it


def test_analog_assumption_compiles_on_the_default_loihi2(tmp_path, capsys):
    """Without --chip (Loihi 2, graded spikes) the assumed analog input is sent as graded
    payloads: the same model that Loihi 1 refuses compiles, after the same up-front note."""
    _conv_pickle(tmp_path / "m.pt")
    code, _, err = run(["compile", str(tmp_path / "m.pt"), "--input-shape", "1,8,8",
                        "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert err.splitlines()[0].startswith("note: no calibration input")
    assert json.loads((tmp_path / "o" / "compile.json").read_text())["artifacts"]["chip"] \
        == "loihi2"


# ---- simulate OUT: aligned steps, equal to the float model ------------------------------------


def _three_layers() -> nn.Module:
    """Three 4-bit layers, decays and thresholds on the chip's grids: representable."""
    torch.manual_seed(3)
    net = nn.Sequential(snn.QuantLinear(16, 24, bits=4), snn.LIF(0.5, threshold=1.0),
                        snn.QuantLinear(24, 16, bits=4), snn.LIF(0.75, threshold=1.0),
                        snn.QuantLinear(16, 6, bits=4), snn.LIF(0.5, threshold=1.0))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randint(-7, 8, m.weight.shape) / 4.0)
    return net.eval()


def _torch_forward(net: nn.Module, x_time_last: np.ndarray) -> np.ndarray:
    for m in net.modules():
        if isinstance(m, snn.LIF):
            m.reset_state()
    x = torch.from_numpy(np.moveaxis(x_time_last, -1, 0)).float()
    with torch.no_grad():
        out = torch.stack([net(xt) for xt in x])
    return np.moveaxis(out.numpy(), 0, -1)  # (B, n, T)


def test_simulate_out_has_the_input_steps_and_equals_the_float_model(tmp_path, capsys):
    net = _three_layers()
    torch.save(net, tmp_path / "m.pt")
    x = spikes(8, (16,), 20, seed=5, p=0.4)
    np.save(tmp_path / "X.npy", x)
    code, _, err = run(["compile", str(tmp_path / "m.pt"), "-o", str(tmp_path / "o"), "-q"],
                       capsys)
    assert code == 0, err
    code, _, err = run(["simulate", str(tmp_path / "o"), "-i", str(tmp_path / "X.npy"),
                        "-o", str(tmp_path / "r.npz")], capsys)
    assert code == 0, err
    assert "pipeline latency is 3 step(s)" in err
    got = np.load(tmp_path / "r.npz")["output"]
    want = _torch_forward(net, x)
    assert got.shape == want.shape == (8, 6, 20)
    assert 0.05 < want.mean() < 0.95  # neither silent nor saturated: the check can fail
    assert np.array_equal(got, want)
    # --no-align keeps the chip's timing: the same spikes, 3 steps late, the tail cut
    code, _, err = run(["simulate", str(tmp_path / "o"), "-i", str(tmp_path / "X.npy"),
                        "-o", str(tmp_path / "r2.npz"), "--no-align", "-q"], capsys)
    raw = np.load(tmp_path / "r2.npz")["output"]
    assert raw.shape == (8, 6, 20)
    assert np.array_equal(raw[..., 3:], want[..., :-3])
    assert not raw[..., :3].any()


# ---- simulate model.pt (uncompiled) on every backend --------------------------------------------


def test_simulate_uncompiled_qsnn4_on_every_backend(tmp_path, capsys):
    from snnc.registry import default_registry

    x = MODELS / "X.npy"
    outs = {}
    for backend in default_registry().simulator_names():
        dest = tmp_path / f"{backend}.npz"
        code, _, err = run(["simulate", str(MODELS / "qsnn4.pt"), "-i", str(x), "-b", backend,
                            "-o", str(dest), "-q"], capsys)
        if backend == "lava" and importlib.util.find_spec("lava.magma") is None:
            assert code == 2
            assert "Python 3.10" in err
            assert "Traceback" not in err
            continue  # runs in the Lava environment: tests/lava/test_simulate_model_lava.py
        assert code == 0, f"{backend}: {err}"
        outs[backend] = np.load(dest)["output"]
    steps = np.load(x).shape[-1]
    assert {k: v.shape for k, v in outs.items()} == {k: (16, 10, steps) for k in outs}
    # the compiled path: compile, then simulate OUT, equals simulate model.pt on loihi-sim
    code, _, err = run(["compile", str(MODELS / "qsnn4.pt"), "-o", str(tmp_path / "o"), "-q"],
                       capsys)
    assert code == 0, err
    code, _, err = run(["simulate", str(tmp_path / "o"), "-i", str(x), "-o",
                        str(tmp_path / "c.npz"), "-q"], capsys)
    assert code == 0, err
    assert np.array_equal(np.load(tmp_path / "c.npz")["output"], outs["loihi-sim"])
    assert outs["reference"].any()
    if "brian2" in outs:
        assert np.array_equal(outs["brian2"], outs["reference"])  # both run the float graph


# ---- snnTorch's own NIR export ------------------------------------------------------------------


@pytest.mark.requires("snntorch", "nir", "nirtorch")
def test_snntorch_export_to_nir_with_default_reset_is_noted(tmp_path, capsys):
    """snnTorch's default Leaky (subtract reset) exported with export_to_nir: inspect shows the
    NIR parameters without --dt, and both inspect and compile say that NIR resets to v_reset."""
    import nir
    import snntorch
    from snntorch.export_nir import export_to_nir

    def leaky(n: int, beta: float, **kw: Any) -> nn.Module:  # the exporter needs per-neuron
        return snntorch.Leaky(beta=torch.full((n,), beta), threshold=torch.ones(n),
                              init_hidden=True, **kw)

    net = nn.Sequential(nn.Linear(16, 12), leaky(12, 0.5), nn.Linear(12, 5),
                        leaky(5, 0.75, output=True))
    nir.write(tmp_path / "net.nir", export_to_nir(net, torch.zeros(1, 16), ignore_dims=[0]))
    np.save(tmp_path / "x.npy", spikes(2, (16,), 8, p=0.5))
    code, out, err = run(["inspect", str(tmp_path / "net.nir")], capsys)
    assert code == 0, err
    assert "LIF" in out
    assert "v_threshold=1" in out
    assert "subtract reset" in err
    assert "export_to_nir" in err
    code, _, err = run(["compile", str(tmp_path / "net.nir"), "--dt", "1e-4", "--calibration",
                        str(tmp_path / "x.npy"), "-o", str(tmp_path / "o")], capsys)
    assert code == 0, err
    assert "note: net.nir: NIR's LIF neurons reset the membrane to v_reset" in err
