"""User-style models (zoo.py), trained for seconds on digits, saved the usual ways, and run as a
user would: ``snnc compile ... --target loihi-sim`` then ``snnc simulate OUT``. The result must
agree with the framework's own forward on >= 99 % of the test digits.

Training is cached per session (one model per family): two epochs on the training split, so
accuracy is modest, which does not matter: agreement is what is checked.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

pytestmark = pytest.mark.requires("snntorch", "spikingjelly", "sklearn")

HERE = Path(__file__).parent
N_TRAIN = 1400


def _load(name: str, file: str) -> Any:
    import importlib.util
    import sys

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / file)
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = mod
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return sys.modules[name]


def _zoo() -> Any:
    return _load("zoo_models", "zoo.py")


def _digits() -> Any:
    return _load("zoo_digits", "digits.py")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Any:
    zoo, dg = _zoo(), _digits()
    cache: dict[str, tuple[Path, np.ndarray]] = {}

    def get(name: str) -> tuple[Path, np.ndarray]:
        if name in cache:
            return cache[name]
        m = zoo.MODELS[name]
        xs, ys, xt, _ = dg.digits(m.conv)
        torch.manual_seed(0)
        net = m.build()
        opt = torch.optim.Adam(net.parameters(), lr=m.lr)
        x_all, y_all = torch.from_numpy(xs[:, :N_TRAIN]), torch.from_numpy(ys[:N_TRAIN]).long()
        for _ in range(m.cli_epochs):
            for i in range(0, N_TRAIN, 50):
                loss = dg.rate_loss(m.run(net, x_all[:, i:i + 50]), y_all[i:i + 50])
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            ref = m.run(net, torch.from_numpy(xt)).numpy()
        d = tmp_path_factory.mktemp(name)
        try:  # whole-module pickle, as SpikingJelly users save
            torch.save(net, d / "model.pt")
        except (AttributeError, TypeError, pickle.PicklingError):  # snnTorch's surrogates,
            # Norse's parameter tuples do not pickle: a state_dict
            torch.save(net.state_dict(), d / "model.pt")
            shutil.copy(HERE / "zoo.py", d / "user_models.py")  # the user's model.py
        np.save(d / "X.npy", np.moveaxis(xt, 0, -1))  # (N, *shape, T): time last
        cache[name] = (d, ref)
        return cache[name]

    return get


def cli(*args: str) -> Any:
    from snnc.cli import cli as main

    return CliRunner().invoke(main, list(args))


# The issue asks for >= 99 %. Measured (2 epochs on 1400 digits, one thread): snnTorch MLP
# 99.7 %, conv 99.7 % (98.9 % before off-grid scales kept the threshold whole, see DESIGN.md),
# SpikingJelly LIF 99.4-99.7 %, SEW ADD 99.4 %, SEW OR 99.2 % (96.9 % before), hand-written
# LIF 4-bit 99.7 % / binary 99.2 %, hand-written IF binary 100 % (spike-exact), Norse LIF 99.4 %.
# SpikingJelly IF after 2 epochs fires 1-3 output spikes per sample (50 of 360 samples are exact
# ties), so one spike flipped by 8-bit weights changes the class: 98.9 %. Trained 4 epochs it
# gave 99.2 % (d259ea2), but on the tree of 2026-12-04 98.9 % again (also without issue 14's
# last changes: the near-ties move with the tree); trained 5 epochs: 99.7 % (CLI and TorchScript).
# Norse Lift(LIFBoxCell) after 2 epochs: 98.9 % (near-ties); trained 4 epochs it passes.
# On an AMD EPYC machine (2026-12-04; torch's training floats differ by CPU, so the near-ties
# move): SpikingJelly IF 98.6 % after 5 and 7 epochs, 100 % after 10; SEW ADD 98.3 % after 2
# epochs, passing after 4. Those two now train 10 and 4 epochs.
MIN_AGREEMENT: dict[str, float] = {}

CASES = {
    "snntorch_mlp": ["--model", "user_models:snntorch_mlp"],  # range(x.shape[0]) loop inside
    "snntorch_conv": ["--model", "user_models:snntorch_conv"],
    "spikingjelly_lif_conv": [],
    "spikingjelly_if_conv": [],
    "spikingjelly_sew_add": ["--trust-pickle"],  # a user's block class: whole pickle
    "spikingjelly_sew_or": ["--trust-pickle"],
    "norse_lif": ["--model", "user_models:norse_lif"],
    "norse_lift_box": ["--model", "user_models:norse_lift_box"],  # Lift(LIFBoxCell)
    "hand_lif_4bit": ["--trust-pickle"],  # plain-PyTorch neurons, fake-quantized weights
    "hand_lif_binary": ["--trust-pickle"],
    "hand_if_4bit": ["--trust-pickle"],
    "hand_if_binary": ["--trust-pickle"],
}


#: models whose parameters are all representable (binary weights ±alpha, integer-grid
#: thresholds): the quantizer reports them exact, and the chip must equal the float model
EXACT = {"hand_if_binary", "hand_if_4bit"}


def _quantizer_exact(out: Path) -> bool:
    doc = json.loads((out / "compile.json").read_text())
    return any(r.get("exact") is True for r in doc["reports"] if isinstance(r, dict))


def _compile_and_agree(d: Path, ref: np.ndarray, name: str, chip: list[str], tag: str) -> None:
    """``snnc compile MODEL --target loihi-sim -o OUT [chip]`` then ``snnc simulate OUT``:
    the chip's class agrees with the framework's on >= 99 % of the test digits; where the
    quantizer says every parameter is representable, the chip equals the float model."""
    dg = _digits()
    out = d / f"out-{tag}"
    # the README's command; the input shape and the calibration come from X.npy beside the model
    res = cli("compile", str(d / "model.pt"), "--target", "loihi-sim", "-o", str(out), *chip,
              *CASES[name])
    assert res.exit_code == 0, res.output
    assert "detected from" in res.output
    assert "X.npy" in res.output
    res = cli("simulate", str(out), "--input", str(d / "X.npy"), "-o", str(d / f"r-{tag}.npz"),
              "-q")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "compile.json").read_text())
    assert summary["artifacts"]["chip"] == (chip[1] if chip else "loihi2")
    if name.startswith("snntorch") and not chip:  # snnTorch's default subtract reset, native
        from snnc.ir.serialize import read_graph

        lowered = read_graph(out / "graph.lowered.snnc")
        assert any(getattr(n, "reset", None) == "subtract" for n in lowered.nodes.values())
    got = np.load(d / f"r-{tag}.npz")["output"]  # (N, 10, T)
    assert got.shape == (ref.shape[1], 10, ref.shape[0])  # as many steps as the input
    pred = dg.predict(np.moveaxis(got, -1, 0))
    want = dg.predict(ref)
    assert np.mean(ref) > 0.01  # the framework's output is not silent
    agree = float(np.mean(pred == want))
    assert agree >= MIN_AGREEMENT.get(name, 0.99), f"{name} ({tag}): {agree:.1%} agreement"
    # where every parameter is representable (the quantizer's own 'exact' verdict), the chip
    # equals the float model (snnc's reference on the loaded graph) spike for spike
    exact = _quantizer_exact(out)
    assert exact or name not in EXACT, f"{name} ({tag}) is no longer lowered exactly"
    if exact:
        m = _zoo().MODELS[name]
        res = cli("simulate", str(d / "model.pt"), "-b", "reference", "--input", str(d / "X.npy"),
                  "-o", str(d / f"f-{tag}.npz"), "-q", "--input-shape",
                  "1,8,8" if m.conv else "64", *CASES[name])
        assert res.exit_code == 0, res.output
        assert np.array_equal(np.load(d / f"f-{tag}.npz")["output"], got), \
            f"{name} ({tag}): not spike-exact"


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiles_and_agrees_with_the_framework(trained: Any, name: str) -> None:
    """The README's command, no --chip: Loihi 2 takes every model of the zoo (subtract reset
    and '>=' included)."""
    d, ref = trained(name)
    _compile_and_agree(d, ref, name, [], "default")


@pytest.mark.parametrize("name", sorted(n for n in CASES if _zoo().MODELS[n].chip == "loihi1"))
def test_loihi1_models_compile_and_agree_on_loihi1(trained: Any, name: str) -> None:
    """The models Loihi 1 can run (hard reset, '>') keep running there with --chip loihi1."""
    d, ref = trained(name)
    _compile_and_agree(d, ref, name, ["--chip", "loihi1"], "loihi1")


def test_snntorch_default_reset_on_loihi1_says_chip_loihi2(trained: Any, capsys: Any) -> None:
    from snnc.cli import main

    d, _ = trained("snntorch_conv")
    with pytest.raises(SystemExit) as exc:
        main(["compile", str(d / "model.pt"), "-o", str(d / "out1"), "--input-shape", "1,8,8",
              "--chip", "loihi1", "--calibration", str(d / "X.npy"), "-q",
              *CASES["snntorch_conv"]])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "subtract" in err
    assert "--chip loihi2" in err
    assert "layer '2'" in err  # the first Leaky (nn.Sequential index 2) is named
    assert "Traceback" not in err
    assert not (d / "out1").exists()


def test_snntorch_export_to_nir_file_compiles_and_agrees(trained: Any, tmp_path: Path) -> None:
    """snnTorch's own exporter (``snntorch.export_to_nir`` + ``nir.write``), as its NIR tutorial
    saves a model; snnc compiles the file with the exporter's dt (1e-4) and says what NIR's
    reset means."""
    pytest.importorskip("nir")
    import nir
    from snntorch.export_nir import export_to_nir

    d, ref = trained("snntorch_nir_mlp")
    zoo, dg = _zoo(), _digits()
    net = zoo.snntorch_nir_mlp()
    net.load_state_dict(torch.load(d / "model.pt"))
    zoo.reset_snntorch(net)
    nir.write(tmp_path / "model.nir", export_to_nir(net, torch.zeros(1, 64), ignore_dims=[0]))
    out = tmp_path / "out"
    res = cli("compile", str(tmp_path / "model.nir"), "-o", str(out), "--target", "loihi-sim",
              "--dt", "1e-4", "--calibration", str(d / "X.npy"), "-q")
    assert res.exit_code == 0, res.output
    res = cli("simulate", str(out), "--input", str(d / "X.npy"), "-o", str(tmp_path / "r.npz"),
              "-q")
    assert res.exit_code == 0, res.output
    got = np.load(tmp_path / "r.npz")["output"]
    chip = dg.predict(np.moveaxis(got, -1, 0))
    assert np.mean(ref) > 0.01
    agree = float(np.mean(chip == dg.predict(ref)))
    assert agree >= 0.99, f"snnTorch NIR export: {agree:.1%} agreement"


@pytest.mark.parametrize("name", ["spikingjelly_lif_conv", "spikingjelly_if_conv"])
def test_spikingjelly_torchscript_file_compiles_and_agrees(trained: Any, tmp_path: Path,
                                                          name: str) -> None:
    """``torch.jit.trace`` of SpikingJelly's multi-step net, saved with ``torch.jit.save``: its
    neurons are SpikingJelly's registered TorchScript ops, which snnc registers before loading."""
    from spikingjelly.activation_based import functional

    d, ref = trained(name)
    dg = _digits()
    net = torch.load(d / "model.pt", weights_only=False).eval()
    functional.reset_net(net)
    with torch.no_grad():
        ts = torch.jit.trace(net, torch.zeros(4, 2, 1, 8, 8), check_trace=False)
    torch.jit.save(ts, tmp_path / "model.pt")
    out = tmp_path / "out"
    res = cli("compile", str(tmp_path / "model.pt"), "-o", str(out), "--target", "loihi-sim",
              "--chip", "loihi2", "--input-shape", "1,8,8", "--calibration", str(d / "X.npy"),
              "-q")
    assert res.exit_code == 0, res.output
    res = cli("simulate", str(out), "--input", str(d / "X.npy"), "-o", str(tmp_path / "r.npz"),
              "-q")
    assert res.exit_code == 0, res.output
    got = np.load(tmp_path / "r.npz")["output"]
    chip = dg.predict(np.moveaxis(got, -1, 0))
    agree = float(np.mean(chip == dg.predict(ref)))
    assert agree >= MIN_AGREEMENT.get(name, 0.99), f"{name} TorchScript: {agree:.1%} agreement"
