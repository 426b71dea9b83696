"""netx reader: field mapping on synthetic files, netx's own arithmetic, lava-dl ground truth.

Ground truth (lava-dl 0.6.0 wheel, shared/reference/loihi.md §4.3-4.4): tinynet compared the way
lava-dl's ``test_tinynet`` does (17 steps per sample, staggered resets, ``out[2:17] ==
gt[1:16]``), the dense block (no offset), ntidigits (whole output, j <-> j+1), mnist (structure).
"""

from __future__ import annotations

import contextlib
import io
import types
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from snnc.api import load
from snnc.backends.netx import format as nf
from snnc.errors import FormatError, SnncError, UnsupportedOpError
from snnc.frontend.netx import read_netx, set_input_bias
from snnc.ir import Graph, Input, LoihiDense, LoihiLIF, Output
from snnc.simulators.kernels_loihi import effective_dense_weights
from snnc.simulators.reference import simulate

LOIHI = {"type": "LOIHI", "iDecay": 1024, "vDecay": 128, "vThMant": 80, "refDelay": 1}


def write_net(path: Path, layers: list[dict], sim: dict | None = None) -> Path:
    """A .net file laid out as slayer writes them (independent of snnc's writer)."""
    with h5py.File(path, "w") as f:
        group = f.create_group("layer")
        for i, layer in enumerate(layers):
            _fill(group.create_group(str(i)), layer)
        if sim:
            _fill(f.create_group("simulation"), sim)
    return path


def _fill(group: h5py.Group, content: dict) -> None:
    for key, value in content.items():
        if isinstance(value, dict):
            _fill(group.create_group(key), value)
        elif key == "type" and group.name.endswith("neuron"):
            group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        elif key == "type":
            group.create_dataset(key, data=np.array([value.encode()], "S10"))
        else:
            group.create_dataset(key, data=value)


def netx_utils(assets: Path) -> types.ModuleType:
    """lava-dl's own netx/utils.py (optimize_weight_bits, NetDict) from the fetched wheel."""
    wheel = assets.parent / "lava_dl-0.6.0-py3-none-any.whl"
    if not wheel.is_file():
        pytest.skip(f"lava-dl wheel not in {wheel.parent}")
    mod = types.ModuleType("lavadl_netx_utils")
    code = zipfile.ZipFile(wheel).read("lava/lib/dl/netx/utils.py").decode()
    exec(compile(code, "lava/lib/dl/netx/utils.py", "exec"), mod.__dict__)
    return mod


def dense_net(tmp_path: Path, w: np.ndarray, **extra) -> Path:
    layers = [
        {"type": "input", "shape": np.array([w.shape[1]])},
        {"type": "dense", "shape": np.array([w.shape[0]]), "weight": w.astype(np.float32), **extra},
    ]
    return write_net(tmp_path / "d.net", layers, {"Ts": np.int64(1), "tSample": np.int64(8)})


# ---- field mapping -----------------------------------------------------------------------------


def test_dense_fields_and_names(tmp_path):
    w = np.array([[-20, 18, 0], [4, -6, 2]])
    path = dense_net(tmp_path, w, bias=np.array([3.0, -2.0], np.float32), neuron=LOIHI)
    g = read_netx(path)
    assert list(g.nodes) == ["input", "layer1_syn", "layer1", "output"]
    syn, lif = g.nodes["layer1_syn"], g.nodes["layer1"]
    # netx: scale = min(127/18, 128/20) -> 2 + 1 = 3 shift bits; weights even -> n = 1 - 1 = 0
    assert (syn.weight_exp, syn.num_weight_bits) == (-3, 5)
    assert np.array_equal(syn.weight, w << 3)
    assert (int(lif.du), int(lif.dv), int(lif.vth), int(lif.bias_exp)) == (1023, 128, 80, 6)
    assert lif.bias_mant.tolist() == [3, -2]
    meta = g.metadata["netx"]
    assert (meta["input"], meta["Ts"], meta["tSample"], meta["input_layer"]) == (
        "synapse",
        1,
        8,
        None,
    )


def test_dense_current_equals_stored_weights(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.integers(-40, 41, size=(5, 7)) * 2
    g = read_netx(dense_net(tmp_path, w, neuron=LOIHI))
    syn = g.nodes["layer1_syn"]
    s = rng.integers(0, 2, size=(9, 7))
    acc = s @ effective_dense_weights(syn.weight, syn.num_weight_bits).T
    assert np.array_equal(acc >> -syn.weight_exp, s @ w.T)  # netx's search is lossless here


def test_dense_without_neuron_never_spikes_and_integrates(tmp_path):
    w = np.full((2, 3), 254)
    g = read_netx(dense_net(tmp_path, w))
    lif = g.nodes["layer1"]
    assert (int(lif.du), int(lif.dv), int(lif.vth)) == (-1, 4096, 2**17)
    x = np.ones((40, 1, 3))
    r = simulate(g, x, probes=["layer1.u"])
    assert not r.output.any()
    u = r.probes["layer1.u"][:, 0, 0]
    assert np.array_equal(u, 762 * 64 * np.arange(40))  # u never decays (du = -1)


def test_delays_axonal_per_input_and_clamped(tmp_path):
    w = np.full((3, 2), 10)
    g = read_netx(dense_net(tmp_path, w, delay=np.array([0, 5, 70], np.float32), neuron=LOIHI))
    assert g.nodes["layer1_syn"].delays.tolist() == [[0, 0], [5, 5], [62, 62]]
    g = read_netx(dense_net(tmp_path, w, delay=np.array([1, 4], np.float32), neuron=LOIHI))
    assert g.nodes["layer1_syn"].delays.tolist() == [[1, 4]] * 3
    g = read_netx(dense_net(tmp_path, w, delay=np.float32(3), neuron=LOIHI))
    assert g.nodes["layer1_syn"].delays.ndim == 0
    assert int(g.nodes["layer1_syn"].delays) == 3


def test_delay_shifts_arrival(tmp_path):
    w = np.array([[64], [64]])
    neuron = {**LOIHI, "iDecay": 4096, "vDecay": 4096, "vThMant": 0}  # v = u = this step's input
    g = read_netx(dense_net(tmp_path, w, delay=np.array([0, 3], np.float32), neuron=neuron))
    x = np.zeros((8, 1, 1))
    x[0] = 1
    out = simulate(g, x).output[:, 0]
    assert np.flatnonzero(out[:, 0]).tolist() == [1]  # delay d arrives d + 1 steps later
    assert np.flatnonzero(out[:, 1]).tolist() == [4]


def conv_layers(c_in: int = 2) -> list[dict]:
    rng = np.random.default_rng(2)
    w = rng.integers(-8, 9, size=(4, c_in // 2, 3, 2, 1)).astype(np.float32)
    return [
        {"type": "input", "shape": np.array([c_in, 7, 6]), "neuron": LOIHI},
        {
            "type": "conv",
            "shape": np.array([4, 7, 2]),
            "weight": w,
            "stride": np.array([1, 2]),
            "padding": np.array([1, 0]),
            "dilation": np.array([1, 2]),
            "groups": np.int64(2),
            "bias": np.array([1, -2, 0, 5], np.float32),
            "neuron": LOIHI,
        },
    ]


def test_conv_fields(tmp_path):
    g = read_netx(write_net(tmp_path / "c.net", conv_layers()))
    syn, lif = g.nodes["layer1_syn"], g.nodes["layer1"]
    assert syn.weight.shape == (4, 1, 3, 2)
    assert (syn.stride, syn.padding, syn.dilation, syn.groups) == ((1, 2), (1, 0), (1, 2), 2)
    assert syn.out_shape == lif.shape == (4, 7, 2)
    assert lif.bias_mant.shape == (4, 1, 1)
    assert lif.bias_mant.ravel().tolist() == [1, -2, 0, 5]
    assert g.metadata["netx"]["input"] == "bias"


@pytest.mark.lava
def test_conv_matches_lava_conv_of_netx_layout(tmp_path):
    """netx's flip + (C_out, W, H, C_in) layout through Lava's own conv == snnc's loihi.conv."""
    from lava.proc.conv import utils

    utils.TORCH_IS_AVAILABLE = False  # lava-dl's tests use the exact integer path
    path = write_net(tmp_path / "c.net", conv_layers())
    g = read_netx(path)
    with h5py.File(path) as f:
        w = f["layer/1/weight"][()].astype(int)
    lava_w = w[:, :, ::-1, ::-1].reshape(w.shape[:4]).transpose(0, 3, 2, 1)
    syn = g.nodes["layer1_syn"]
    s = np.random.default_rng(3).integers(0, 2, size=(2, 7, 6))
    want = utils.conv(s.transpose(2, 1, 0), lava_w, lava_w.shape[1:3], (2, 1), (0, 1), (2, 1), 2)
    sub = Graph.chain(
        ("input", Input(shape=s.shape)), ("syn", syn), ("output", Output(shape=syn.out_shape))
    )
    got = simulate(sub, np.stack([s, 0 * s])[:, None]).output[1, 0]
    assert np.array_equal(got.transpose(2, 1, 0), want)


def test_flatten_after_conv_and_absorbed_after_plain_input(tmp_path):
    layers = [
        *conv_layers(),
        {"type": "flatten", "shape": np.array([56, 1, 1])},
        {
            "type": "dense",
            "shape": np.array([3]),
            "weight": np.ones((3, 56), np.float32),
            "neuron": LOIHI,
        },
    ]
    g = read_netx(write_net(tmp_path / "f.net", layers))
    assert g.nodes["layer2"].op == "flatten"
    assert g.predecessors("layer3_syn") == ["layer2"]
    plain = [
        {"type": "input", "shape": np.array([1, 1, 4])},
        {"type": "flatten", "shape": np.array([4, 1, 1])},
        layers[-1],
    ]
    plain[-1] = {**plain[-1], "weight": np.ones((3, 4), np.float32)}
    g = read_netx(write_net(tmp_path / "p.net", plain))
    assert g.nodes["input"].shape == (4,)
    assert g.metadata["netx"]["input_shape"] == [1, 1, 4]
    assert list(g.nodes) == ["input", "layer2_syn", "layer2", "output"]


def test_reset_offsets_are_staggered_like_netx(tmp_path):
    layers = [
        *conv_layers(),
        {"type": "flatten", "shape": np.array([56, 1, 1])},
        {
            "type": "dense",
            "shape": np.array([3]),
            "weight": np.ones((3, 56), np.float32),
            "neuron": LOIHI,
        },
    ]
    g = read_netx(write_net(tmp_path / "f.net", layers), reset_interval=9, reset_offset=2)
    got = [
        (n, g.nodes[n].reset_interval, g.nodes[n].reset_offset)
        for n in g.nodes
        if g.nodes[n].op == "loihi.lif"
    ]
    assert got == [("layer0", 9, 3), ("layer1", 9, 4), ("layer3", 9, 5)]


@pytest.mark.parametrize(("i_decay", "same"), [(4096, True), (1024, False)])
def test_held_stimulus_equals_bias_drive_only_without_current_memory(tmp_path, i_decay, same):
    """netx drives the input neuron through bias_mant; a held a_in is the same iff du = 4095."""
    layers = conv_layers()
    layers[0]["neuron"] = {**LOIHI, "iDecay": i_decay}
    g = read_netx(write_net(tmp_path / "c.net", layers))
    bias = np.arange(84).reshape(2, 7, 6) % 50
    biased = set_input_bias(g, bias)
    assert np.array_equal(biased.nodes["layer0"].bias_mant, bias)
    zeros = np.zeros((12, 1, 2, 7, 6))
    probes = ["layer0.s", "layer0.v", "layer1.s"]
    by_bias = simulate(biased, zeros, probes=probes).probes
    held = simulate(g, np.broadcast_to(bias, zeros.shape), probes=probes).probes
    assert by_bias["layer0.s"].any()
    assert all(np.array_equal(by_bias[p], held[p]) for p in probes) == same
    with pytest.raises(SnncError, match="shape"):
        set_input_bias(g, bias[:1])


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pool", "concat", "convT", "unpool", "dense_comp"])
def test_unsupported_block_names_index_and_type(tmp_path, kind):
    layers = [
        {"type": "input", "shape": np.array([4])},
        {
            "type": "dense",
            "shape": np.array([4]),
            "weight": np.eye(4, dtype=np.float32) * 2,
            "neuron": LOIHI,
        },
        {"type": kind, "shape": np.array([4])},
    ]
    path = write_net(tmp_path / "u.net", layers)
    with pytest.raises(UnsupportedOpError, match=rf"layer 2 \({kind}\).*num_layers=2"):
        read_netx(path)
    assert list(read_netx(path, num_layers=2).nodes) == ["input", "layer1_syn", "layer1", "output"]


@pytest.mark.parametrize("neuron", ["RF_IZ", "RF_PHASE"])
def test_unsupported_neurons(tmp_path, neuron):
    path = dense_net(tmp_path, np.eye(3) * 2, neuron={**LOIHI, "type": neuron})
    with pytest.raises(UnsupportedOpError, match=f"layer 1.*'{neuron}' neurons"):
        read_netx(path)


def test_missing_flatten_and_bad_files(tmp_path):
    layers = [
        *conv_layers(),
        {
            "type": "dense",
            "shape": np.array([3]),
            "weight": np.ones((3, 56), np.float32),
            "neuron": LOIHI,
        },
    ]
    with pytest.raises(FormatError, match=r"layer 2 .*flatten layer is missing"):
        read_netx(write_net(tmp_path / "m.net", layers))
    (tmp_path / "x.net").write_text("not hdf5")
    with pytest.raises(FormatError, match="not a readable HDF5 file"):
        read_netx(tmp_path / "x.net")
    odd = np.array([[201, -3], [5, 7]])  # netx: 9 weight bits, which Loihi cannot hold
    with pytest.raises(UnsupportedOpError, match="9 bits"):
        read_netx(dense_net(tmp_path, odd, neuron=LOIHI))


def test_api_load_dispatches_net(tmp_path):
    path = dense_net(tmp_path, np.eye(3) * 2, neuron=LOIHI)
    assert load(path, num_layers=2) == read_netx(path)


# ---- netx's weight arithmetic ------------------------------------------------------------------


def test_weight_search_edge_cases():
    w, exp, bits = nf.dense_from_file(np.array([[0, -2]]), "t")
    # netx calls this mixed (max 0): 7 shift bits, 1 weight bit; Lava then sees it as inhibitory,
    # clips -256 to -255 and truncates 7 bits: the effective weight is -128 (-1 per spike, not -2)
    assert (w.tolist(), bits, exp) == ([[0, -128]], 1, -7)
    assert nf.dense_from_file(np.zeros((2, 2)), "t")[1:] == (0, 8)
    with pytest.raises(FormatError, match="single-sign"):
        nf.optimize_weight_bits(np.array([[0, 300]]), "t")


def test_weight_search_matches_lavadl(lavadl_assets):
    utils = netx_utils(lavadl_assets)
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(400):
        lo = int(rng.integers(-300, 10))
        step = int(2 ** rng.integers(0, 5))
        w = rng.integers(lo, int(rng.integers(lo + 1, 300)), size=(4, 5)) // step * step
        if (w.max() > 255 and w.min() >= 0) or (w.min() < -256 and w.max() < 0) or not w.any():
            continue  # netx shifts by a negative amount or divides by zero there
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            ref = utils.optimize_weight_bits(w.astype(np.float32))
        mine = nf.optimize_weight_bits(w, "t")
        assert np.array_equal(mine[0], ref[0]), w
        assert mine[1:] == ref[1:3], w
        checked += 1
    assert checked > 300


def test_lava_effective_weights_agree_with_reference():
    rng = np.random.default_rng(5)
    for _ in range(300):
        lo, hi = [(-300, 300), (0, 300), (-300, 0)][rng.integers(3)]
        w = rng.integers(lo, hi + 1, size=(3, 4))
        bits = int(rng.integers(1, 9))
        assert np.array_equal(nf.lava_effective_weights(w, bits), effective_dense_weights(w, bits))


# ---- lava-dl ground truth ----------------------------------------------------------------------


def tinynet_run(assets: Path, graph: Graph) -> tuple[np.ndarray, dict]:
    bias = np.load(assets / "gts/tinynet/input_bias.npy").transpose(2, 1, 0)  # (W,H,C)->(C,H,W)
    steps = 17 + 3  # lava-dl: steps_per_sample + len(net)
    stim = np.broadcast_to(bias, (steps, 1, *bias.shape))  # constant a_in == bias (du = 4095)
    r = simulate(graph, stim, probes=["layer0.s", "layer1.s"])
    return r.output[:, 0], r.probes


def gt(assets: Path, name: str) -> np.ndarray:
    """lava-dl ground truth (1, C, H, W, T) -> time-major (T, C, H, W)."""
    return np.moveaxis(np.load(assets / f"gts/tinynet/{name}.npy")[0], -1, 0)


def test_tinynet_ground_truth(lavadl_assets):
    g = read_netx(lavadl_assets / "tiny.net", reset_interval=17)
    out, probes = tinynet_run(lavadl_assets, g)
    assert gt(lavadl_assets, "output")[1:16].sum() > 50
    assert np.array_equal(out[2:17], gt(lavadl_assets, "output")[1:16])  # lava-dl test_tinynet
    # layer k at index j equals the reference at j + 1 - k (loihi.md §4.4)
    assert np.array_equal(probes["layer0.s"][:15, 0], gt(lavadl_assets, "input")[1:16])
    assert np.array_equal(probes["layer1.s"][1:16, 0], gt(lavadl_assets, "layer1")[1:16])
    # netx's own drive (bias_mant = image, zero stimulus) gives the same spikes
    biased = set_input_bias(g, np.load(lavadl_assets / "gts/tinynet/input_bias.npy").T)
    assert np.array_equal(simulate(biased, np.zeros((20, 1, 3, 16, 16))).output[:, 0], out)


def test_tinynet_needs_the_staggered_resets(lavadl_assets):
    out, _ = tinynet_run(lavadl_assets, read_netx(lavadl_assets / "tiny.net"))
    assert not np.array_equal(out[2:17], gt(lavadl_assets, "output")[1:16])


def test_tinynet_fields(lavadl_assets):
    g = read_netx(lavadl_assets / "tiny.net")
    kernel = g.nodes["layer1_syn"].weight  # netx's Lava layout is flip + (C_out, W, H, C_in)
    lava = np.load(lavadl_assets / "gts/tinynet/layer1_kernel.npy")
    assert np.array_equal(kernel[:, :, ::-1, ::-1].transpose(0, 3, 2, 1), lava)
    bias = np.load(lavadl_assets / "gts/tinynet/layer1_bias.npy")
    assert np.array_equal(g.nodes["layer1"].bias_mant.ravel(), bias)
    assert g.metadata["netx"]["input_transform"] == {"weight": 36, "bias": 34}
    assert (g.metadata["netx"]["Ts"], g.metadata["netx"]["tSample"]) == (1, 64)


def test_dense_block_ground_truth(lavadl_assets):
    d = lavadl_assets / "gts/dense"
    lif = LoihiLIF(shape=(256,), du=4095, dv=415, vth=6, bias_exp=6)
    g = Graph.chain(
        ("input", Input(shape=(200,))),
        ("syn", LoihiDense(weight=np.load(d / "weight.npy"))),
        ("lif", lif),
        ("output", Output(shape=(256,))),
    )
    r = simulate(g, np.load(d / "in.npy").T[:, None], probes=["lif.u"])
    assert np.array_equal(r.output[:, 0].T, np.load(d / "out.npy"))  # no offset
    assert np.array_equal(r.probes["lif.u"][:, 0].T, np.load(d / "current.npy") * 64)


def test_mnist_structure(lavadl_assets):
    g = read_netx(lavadl_assets / "mnist.net")
    ops = [(n, node.op) for n, node in g.nodes.items()]
    assert ops == [
        ("input", "input"),
        ("layer0", "loihi.lif"),
        ("layer1_syn", "loihi.dense"),
        ("layer1", "loihi.lif"),
        ("layer2_syn", "loihi.dense"),
        ("layer2", "loihi.lif"),
        ("layer3_syn", "loihi.dense"),
        ("layer3", "loihi.lif"),
        ("output", "output"),
    ]
    assert g.nodes["input"].shape == (784,)
    assert g.nodes["output"].shape == (10,)
    assert int(g.nodes["layer0"].dv) == 123
    assert int(g.nodes["layer3"].vth) == 2**17


@pytest.mark.parametrize("steps", [700, pytest.param(3000, marks=pytest.mark.slow)])
def test_ntidigits_delay_dense_ground_truth(lavadl_assets, steps):
    """The whole output (3000 steps, 22,572 spikes; 700 steps hold 21,025 of them)."""
    d = lavadl_assets / "gts/ntidigits"
    g = read_netx(d / "ntidigits.net", num_layers=5)
    assert g.nodes["layer2_syn"].delays.max() == 62
    out = simulate(g, np.load(d / "input.npy").T[:steps, None]).output[:, 0].T
    want = np.load(d / "output.npy")[:, :steps]
    assert want.sum() > 21000
    assert np.array_equal(out[:, :-1], want[:, 1:])  # sink j == gt j + 1
