"""A converted SNN (max-norm, v0 = 0) compiles for Loihi 2 (subtract reset, graded input) and
its lowered graph agrees with the float SNN; OPI / QCFS's v0 = theta/2 lowers to v_init on
Loihi 2 and is refused on Loihi 1."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from snnc.api import compile as compile_model  # noqa: E402
from snnc.convert import convert  # noqa: E402
from snnc.errors import SnncError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402

pytestmark = [pytest.mark.torch]


def _ann():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 24), nn.ReLU(),
                      nn.Linear(24, 4)).eval()
    return trace(m, (16,))


def test_max_norm_snn_compiles_for_loihi2():
    x = np.random.default_rng(0).random((64, 16))
    snn = convert(_ann(), x).snn
    calib = np.broadcast_to(x[:16], (16, 16, 16)).copy()  # (T, B, 16), direct encoding
    res = compile_model(snn, target="loihi-sim", chip="loihi2", calibration=calib)
    assert res.program is not None
    fid = res.fidelity
    assert fid["classification_agreement"] >= 0.9
    assert min(row["spike_agreement"] for row in fid["layers"]) >= 0.9


def test_opi_v0_lowers_to_v_init_on_loihi2_and_is_refused_on_loihi1():
    x = np.random.default_rng(0).random((64, 16))
    snn = convert(_ann(), x, opi=True).snn
    calib = np.broadcast_to(x[:8], (8, 8, 16)).copy()
    res = compile_model(snn, target="loihi-sim", chip="loihi2", calibration=calib)
    lifs = {n: v for n, v in res.program.graph.nodes.items() if v.op == "loihi.lif"
            and v.reset == "subtract"}
    assert len(lifs) == 2
    for node in lifs.values():  # v0 = theta / 2, both rounded to the integer v grid
        assert abs(int(node.v_init) - (int(node.vth) << 6) / 2) <= 64
    assert min(row["spike_agreement"] for row in res.fidelity["layers"]) >= 0.9
    with pytest.raises(SnncError, match="v_init"):
        compile_model(snn, target="loihi-sim", chip="loihi1", calibration=calib)
