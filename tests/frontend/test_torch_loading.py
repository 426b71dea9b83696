"""Loading model files: allow-listed pickles, refused malicious pickles, state_dict + factory,
TorchScript, and located errors for unsupported modules."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import snnc.nn as snn  # noqa: E402
from snnc import api  # noqa: E402
from snnc.errors import FormatError, UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import load_torch, trace  # noqa: E402

pytestmark = pytest.mark.torch


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), snn.QuantLinear(16, 8, bits=4), snn.LIF(0.5),
                         nn.Dropout(0.1), nn.Linear(8, 3), snn.IF())


def build_small() -> nn.Module:
    """Factory used as --model frontend.test_torch_loading:build_small."""
    return small_model()


class Payload:
    """Writes a file when unpickled (a stand-in for any code a pickle might run)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


class Carrier(nn.Module):
    """A module that smuggles the payload as an attribute."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.extra = Payload(target)


def test_whole_module_pickle_loads_without_trust(tmp_path):
    model = small_model()
    model.snnc_input_shape = (4, 4)
    path = tmp_path / "model.pt"
    torch.save(model, path)
    graph = api.load(path)
    assert graph == trace(model, (4, 4)).with_metadata(file="model.pt")
    assert [n.op for n in graph.nodes.values()] == ["input", "flatten", "linear", "lif", "affine",
                                                    "if", "output"]


@pytest.mark.parametrize("wrap", [lambda t: {"x": Payload(t)}, lambda t: Carrier(t)])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, wrap):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save(wrap(str(target)), path)
    with pytest.raises(FormatError, match=r"system.*--trust-pickle"):
        load_torch(path, input_shape=(4,))
    assert not target.exists()


def test_trust_pickle_loads_a_foreign_class(tmp_path):
    path = tmp_path / "numpy_attr.pt"
    model = nn.Sequential(nn.Linear(4, 4), snn.IF())
    model.note = np.float64(1.5)  # numpy scalars are not on the allow-list
    torch.save(model, path)
    with pytest.raises(FormatError, match="numpy"):
        load_torch(path, input_shape=(4,))
    graph = load_torch(path, input_shape=(4,), trust_pickle=True)
    assert graph.nodes["1"].op == "if"


def test_state_dict_with_factory(tmp_path):
    model = small_model()
    path = tmp_path / "weights.pth"
    torch.save({"model_state_dict": model.state_dict()}, path)
    with pytest.raises(FormatError, match="--model"):
        load_torch(path, input_shape=(4, 4))
    graph = load_torch(path, input_shape="4,4", model="frontend.test_torch_loading:build_small")
    assert graph.nodes["1"].weight == trace(model, (4, 4)).nodes["1"].weight


def test_missing_input_shape_is_explained(tmp_path):
    """A conv first layer says its channels but not height and width: with no example input
    the error says what was tried and asks for --input-shape. A Linear first layer says it."""
    path = tmp_path / "m.pt"
    torch.save(nn.Sequential(nn.Conv2d(2, 4, 3), snn.IF()), path)
    with pytest.raises(FormatError, match="--input-shape") as exc:
        load_torch(path)
    assert "in_channels=2" in str(exc.value)
    assert "example input" in str(exc.value)
    torch.save(nn.Sequential(nn.Linear(4, 2), snn.IF()), path)
    graph = load_torch(path)
    assert graph.nodes["input"].out_shape == (4,)
    assert "in_features=4" in graph.metadata["load_notes"][0]


def test_torchscript_sequential(tmp_path):
    model = nn.Sequential(nn.Linear(6, 5), snn.LIF(0.5, reset="subtract"), nn.Linear(5, 2),
                          snn.IF()).eval()
    path = tmp_path / "scripted.pt"
    torch.jit.trace(model, torch.zeros(1, 6), check_trace=False).save(str(path))
    graph = load_torch(path, input_shape=(6,))
    assert graph == trace(model, (6,)).with_metadata(file="scripted.pt")


def test_unsupported_module_error_names_path_class_line_and_alternatives():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = nn.GELU()

        def forward(self, x):
            return self.act(self.fc(x))  # the line the error points at

    with pytest.raises(UnsupportedOpError) as err:
        trace(Net(), (4,))
    msg = str(err.value)
    assert "act [torch.nn.modules.activation.GELU]" in msg
    assert "test_torch_loading.py" in msg
    assert "self.act(self.fc(x))" in msg
    assert "torch.Linear" in msg


def test_unsupported_function_error():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return torch.sigmoid(self.fc(x))

    with pytest.raises(UnsupportedOpError,
                       match=r"sigmoid.*unsupported operation sigmoid.*flatten"):
        trace(Net(), (4,))


def test_torch_export_program(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), snn.LIF(0.5, reset="subtract"),
                          nn.AvgPool2d(2), nn.Flatten(), snn.QuantLinear(16, 3),
                          snn.IF(comparator=">=")).eval()
    path = tmp_path / "model.pt2"
    torch.export.save(torch.export.export(model, (torch.zeros(2, 2, 6, 6),), strict=False), path)
    graph = load_torch(path)  # the input shape comes from the program
    direct = trace(model, (2, 6, 6))
    assert list(graph.nodes) == list(direct.nodes)
    assert all(graph.nodes[k] == direct.nodes[k] for k in direct.nodes)
    assert graph.metadata["source"] == "snnc.nn"


def test_torch_export_of_decomposed_neurons_is_refused(tmp_path):
    snntorch = pytest.importorskip("snntorch")
    model = nn.Sequential(nn.Linear(4, 4), snntorch.Leaky(beta=0.5, init_hidden=True)).eval()
    path = tmp_path / "leaky.pt2"
    torch.export.save(torch.export.export(model, (torch.zeros(2, 4),), strict=False), path)
    with pytest.raises(UnsupportedOpError, match=r"^1 \[snntorch.*Leaky\].*torch.export "
                                                 r"decomposed.*torch.save"):
        load_torch(path)
