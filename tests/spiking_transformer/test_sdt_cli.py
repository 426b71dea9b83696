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


def _compile(tmp_path, capsys, factory, shape=(4, 4), calibrate=True):
    """Save ``factory()``'s state_dict, compile it with ``--model`` for Loihi 2 on a spike file
    of ``shape``: (exit status, stderr, output folder)."""
    weights = tmp_path / f"{factory.__name__}.pth"
    torch.save(factory().state_dict(), weights)
    x = _spikes_file(tmp_path, shape=shape)
    out = tmp_path / "out"
    cal = ["--calibration", str(x)] if calibrate else []
    code, _, err = run(["compile", str(weights), "-o", str(out), "--model",
                        f"spiking_transformer.sdt_random:{factory.__name__}", "--input-shape",
                        ",".join(map(str, shape)), "--input", str(x), *cal, "--chip", "loihi2"],
                       capsys)
    return code, err, out


def _refused(code, err, out):
    """Exit status 2, one paragraph without a traceback, nothing written."""
    assert code == 2
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_state_dict_compiles_for_loihi2_with_block_costs(tmp_path, capsys):
    code, err, out = _compile(tmp_path, capsys, build_sdt, shape=(4, 16))
    assert code == 0, err
    doc = json.loads((out / "report.json").read_text())
    blocks = {b["block"]: b for b in doc["analytic"]["blocks"]}
    assert {"embed", "blocks.0", "head"} <= set(blocks)
    assert blocks["blocks.0"]["chip_energy"] > 0
    assert blocks["blocks.0"]["analytic_ac"] > 0
    assert any(r.get("kind") == "attention-sum" for r in doc["analytic"]["layers"])


def test_integer_attention_compiles_for_loihi2(tmp_path, capsys):
    """QSD/BESTformer's Q(KᵀV) of spike matrices (integer KᵀV) lowers to ANDs."""
    code, err, out = _compile(tmp_path, capsys, build_integer_attention)
    assert code == 0, err
    doc = json.loads((out / "report.json").read_text())
    assert doc["analytic"]["blocks"]


def test_product_of_currents_is_refused_with_exit_2(tmp_path, capsys):
    code, err, out = _compile(tmp_path, capsys, build_current_product)
    _refused(code, err, out)
    assert "(mul)" in err
    assert "product of currents" in err


def test_softmax_attention_is_refused_with_exit_2_naming_op_and_line(tmp_path, capsys):
    code, err, out = _compile(tmp_path, capsys, build_softmax_attention, calibrate=False)
    _refused(code, err, out)
    assert "softmax" in err
    assert "sdt_random.py:" in err  # the model line
    assert "spike-driven self-attention" in err
