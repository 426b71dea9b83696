"""Differential against SpikingJelly's own ``ann2snn.Converter`` on the same ANN (float64):
the same thresholds for 'max', '99.9%' and a fraction of the max, over several calibration
batches (its momentum rule), and the same spikes; SpikingJelly's converted model (VoltageScaler,
IFNode) loads into snnc and spikes identically too."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("spikingjelly")
from spikingjelly.activation_based import ann2snn, functional, neuron  # noqa: E402
from torch import nn  # noqa: E402

from snnc.api import load  # noqa: E402
from snnc.convert import convert  # noqa: E402
from snnc.errors import SnncError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.requires("spikingjelly")]
T = 16


def make_ann() -> nn.Module:
    torch.manual_seed(0)
    ann = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(64, 16), nn.ReLU(),
                        nn.Linear(16, 10)).double().eval()
    ann[1].running_mean.uniform_(-0.5, 0.5)
    ann[1].running_var.uniform_(0.5, 2.0)
    return ann


def sj_convert(ann: nn.Module, x: torch.Tensor, mode, batch: int) -> nn.Module:
    data = torch.utils.data.TensorDataset(x, torch.zeros(len(x)))
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=False)
    return ann2snn.Converter(ann2snn.RateCodingRecipe(dataloader=loader, mode=mode)).convert(ann)


def sj_spikes(model: nn.Module, x: torch.Tensor) -> list[np.ndarray]:
    """SpikingJelly's own forward over T steps: every IFNode's spikes, (T, B, *shape)."""
    rec: dict[int, list[np.ndarray]] = {}
    ifs = [m for m in model.modules() if isinstance(m, neuron.IFNode)]
    hooks = [m.register_forward_hook(lambda mod, i, o, k=k: rec.setdefault(k, []).append(
        o.detach().numpy().copy())) for k, m in enumerate(ifs)]
    functional.reset_net(model)
    with torch.no_grad():
        for _ in range(T):
            model(x)
    for h in hooks:
        h.remove()
    return [np.stack(rec[k]) for k in range(len(ifs))]


def snnc_spikes(graph, names: list[str], x: torch.Tensor) -> list[np.ndarray]:
    xs = np.broadcast_to(x.numpy(), (T, *x.shape))
    res = simulate(graph, xs, T, [f"{n}.s" for n in names])
    return [res.probes[f"{n}.s"] for n in names]


@pytest.mark.parametrize("mode", ["max", "99.9%", 0.8])
def test_same_thresholds_and_spikes_as_spikingjelly(mode):
    ann = make_ann()
    gen = torch.Generator().manual_seed(1)
    x_cal = torch.rand(48, 1, 8, 8, generator=gen, dtype=torch.float64)
    x_test = torch.rand(20, 1, 8, 8, generator=gen, dtype=torch.float64)
    sj = sj_convert(ann, x_cal, mode, batch=16)  # three batches: the momentum rule matters
    sj_theta = [float(m.scaler1.scale) for n, m in sj.named_children() if n.startswith("spik")]
    conv = convert(trace(ann, (1, 8, 8)), x_cal.numpy(), mode=mode, batch_size=16)
    ours = [float(lay.threshold) for lay in conv.layers]
    assert len(ours) == 2
    # SpikingJelly keeps its scales in float32 buffers (torch.tensor(scale)); snnc in float64
    np.testing.assert_allclose(ours, sj_theta, rtol=1e-7)
    single = convert(trace(ann, (1, 8, 8)), x_cal.numpy(), mode=mode)  # one batch: no momentum
    assert [float(lay.threshold) for lay in single.layers] != pytest.approx(ours, rel=1e-6)
    expected = sj_spikes(sj, x_test)
    got = snnc_spikes(conv.snn, [lay.name for lay in conv.layers], x_test)
    for e, g in zip(expected, got, strict=True):
        assert e.sum() > 0
        assert np.array_equal(e, g)
    loaded = trace(sj, (1, 8, 8))  # SpikingJelly's converted model itself, in snnc
    if_nodes = [n for n, v in loaded.nodes.items() if v.op == "if"]
    assert [loaded.nodes[n].reset for n in if_nodes] == ["subtract", "subtract"]
    for e, g in zip(expected, snnc_spikes(loaded, if_nodes, x_test), strict=True):
        assert np.array_equal(e, g)


def test_spikingjelly_converted_file_needs_trust_pickle(tmp_path):
    ann = make_ann()
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    sj = sj_convert(ann, x, "max", batch=16)
    path = tmp_path / "sj_snn.pt"
    torch.save(sj, path)
    with pytest.raises(SnncError, match="trust-pickle"):
        load(path, input_shape="1,8,8")
    g = load(path, input_shape="1,8,8", trust_pickle=True)
    assert [v.op for v in g.nodes.values()].count("if") == 2
    out = simulate(g, np.broadcast_to(x.numpy(), (T, *x.shape))).outputs["output"]
    functional.reset_net(sj)
    with torch.no_grad():
        ref = np.stack([sj(x).numpy() for _ in range(T)])
    np.testing.assert_allclose(out, ref, atol=1e-12)
