"""Spike-driven transformers as users save and compile them: a state_dict with
``--model module:factory``, ``snnc compile --chip loihi2`` with an input file; the report has the
per-block table; an integer-valued attention (Q(KᵀV)) fails with exit status 2 naming the op."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("spikingjelly")
from cli_run import run  # noqa: E402
from spiking_transformer.sdt_random import (  # noqa: E402
    build_current_product,
    build_integer_attention,
    build_sdt,
    build_softmax_attention,
)

pytestmark = [pytest.mark.torch, pytest.mark.requires("spikingjelly")]


def _spikes_file(tmp_path, shape=(4, 16), t=6, b=4):
    x = (np.random.default_rng(0).random((b, *shape, t)) < 0.5).astype(np.float32)
    path = tmp_path / "X.npy"
    np.save(path, x)  # (batch, features..., time): time last, as snnc's input files are
    return path


def test_state_dict_compiles_for_loihi2_with_block_costs(tmp_path, capsys):
    weights = tmp_path / "sdt.pth"
    torch.save(build_sdt().state_dict(), weights)
    x = _spikes_file(tmp_path)
    out = tmp_path / "out"
    code, _, err = run(["compile", str(weights), "-o", str(out), "--model",
                             "spiking_transformer.sdt_random:build_sdt", "--input-shape", "4,16",
                             "--input", str(x), "--calibration", str(x), "--chip", "loihi2"],
                            capsys)
    assert code == 0, err
    doc = json.loads((out / "report.json").read_text())
    blocks = {b["block"]: b for b in doc["analytic"]["blocks"]}
    assert {"embed", "blocks.0", "head"} <= set(blocks)
    assert blocks["blocks.0"]["chip_energy"] > 0
    assert blocks["blocks.0"]["analytic_ac"] > 0
    assert any(r.get("kind") == "attention-sum" for r in doc["analytic"]["layers"])


def test_integer_attention_compiles_for_loihi2(tmp_path, capsys):
    """QSD/BESTformer's Q(KᵀV) of spike matrices (integer KᵀV) lowers to ANDs."""
    weights = tmp_path / "qsd.pth"
    torch.save(build_integer_attention().state_dict(), weights)
    x = _spikes_file(tmp_path, shape=(4, 4))
    out = tmp_path / "out"
    code, _, err = run(["compile", str(weights), "-o", str(out), "--model",
                        "spiking_transformer.sdt_random:build_integer_attention",
                        "--input-shape", "4,4", "--input", str(x), "--calibration",
                        str(x), "--chip", "loihi2"], capsys)
    assert code == 0, err
    doc = json.loads((out / "report.json").read_text())
    assert doc["analytic"]["blocks"]


def test_product_of_currents_is_refused_with_exit_2(tmp_path, capsys):
    weights = tmp_path / "cur.pth"
    torch.save(build_current_product().state_dict(), weights)
    x = _spikes_file(tmp_path, shape=(4, 4))
    out = tmp_path / "out"
    code, _, err = run(["compile", str(weights), "-o", str(out), "--model",
                        "spiking_transformer.sdt_random:build_current_product",
                        "--input-shape", "4,4", "--input", str(x), "--calibration",
                        str(x), "--chip", "loihi2"], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "(mul)" in err
    assert "product of currents" in err
    assert not out.exists() or not any(out.iterdir())


def test_softmax_attention_is_refused_with_exit_2_naming_op_and_line(tmp_path, capsys):
    weights = tmp_path / "sm.pth"
    torch.save(build_softmax_attention().state_dict(), weights)
    x = _spikes_file(tmp_path, shape=(4, 4))
    out = tmp_path / "out"
    code, _, err = run(["compile", str(weights), "-o", str(out), "--model",
                        "spiking_transformer.sdt_random:build_softmax_attention",
                        "--input-shape", "4,4", "--input", str(x), "--chip", "loihi2"], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "softmax" in err
    assert "sdt_random.py:" in err  # the model line
    assert "spike-driven self-attention" in err
    assert not out.exists() or not any(out.iterdir())
