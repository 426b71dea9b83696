"""netx writer: round trips, layout against the shipped files, semantics on random graphs."""

from __future__ import annotations

import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.netx import write_netx
from snnc.errors import UnsupportedOpError
from snnc.frontend.netx import read_netx
from snnc.ir import LIF, Flatten, Graph, Input, LoihiConv, LoihiDense, LoihiLIF, Node, Output
from snnc.simulators.reference import simulate

ASSETS = [
    ("tiny.net", {"reset_interval": 17}),
    ("mnist.net", {}),
    ("gts/ntidigits/ntidigits.net", {"num_layers": 5}),
]
# what netx reads of a layer (hdf5.py); other fields (theta, tauRho, ...) are slayer's own
NETX_KEYS = ("type", "shape", "weight", "bias", "delay", "stride", "padding", "dilation", "groups")
NEURON_KEYS = ("type", "iDecay", "vDecay", "vThMant", "messageBits")


def netdict(assets: Path) -> type:
    """lava-dl's NetDict (how netx reads a .net file) from the fetched wheel."""
    wheel = assets.parent / "lava_dl-0.6.0-py3-none-any.whl"
    if not wheel.is_file():
        pytest.skip(f"lava-dl wheel not in {wheel.parent}")
    mod = types.ModuleType("lavadl_netx_utils")
    code = zipfile.ZipFile(wheel).read("lava/lib/dl/netx/utils.py").decode()
    exec(compile(code, "lava/lib/dl/netx/utils.py", "exec"), mod.__dict__)
    return mod.NetDict


@pytest.mark.parametrize(("name", "opts"), ASSETS)
def test_asset_round_trip_is_identical(lavadl_assets, tmp_path, name, opts):
    g = read_netx(lavadl_assets / name, **opts)
    again = read_netx(write_netx(g, tmp_path / "x.net"), **opts)
    assert again == g


@pytest.mark.parametrize(("name", "opts"), ASSETS)
def test_layout_matches_shipped_file_as_netx_reads_it(lavadl_assets, tmp_path, name, opts):
    net_dict = netdict(lavadl_assets)
    ours = net_dict(str(write_netx(read_netx(lavadl_assets / name, **opts), tmp_path / "x.net")))
    theirs = net_dict(str(lavadl_assets / name))
    assert len(ours["layer"]) == opts.get("num_layers", len(theirs["layer"]))
    for i in range(len(ours["layer"])):
        a, b = theirs["layer"][i], ours["layer"][i]
        keys_a, keys_b = set(a.keys()), set(b.keys())
        assert keys_a & set(NETX_KEYS) == keys_b & set(NETX_KEYS)
        for key in sorted(keys_a & set(NETX_KEYS)):
            if key == "shape" and a["type"] == "dense":
                assert np.prod(a[key]) == np.prod(b[key])  # netx uses the product
            else:
                assert np.array_equal(a[key], b[key]), (i, key)
                assert np.asarray(a[key]).dtype.kind == np.asarray(b[key]).dtype.kind, (i, key)
        assert ("neuron" in keys_a) == ("neuron" in keys_b)
        if "neuron" in keys_a:
            _same_neuron(a["neuron"], b["neuron"])
    assert ours.f["simulation/Ts"][()] == theirs.f["simulation/Ts"][()]
    assert ours.f["simulation/tSample"][()] == theirs.f["simulation/tSample"][()]


def _same_neuron(a, b) -> None:
    keys = set(a.keys()) | set(b.keys())
    for key in (k for k in NEURON_KEYS if k in keys):
        if key == "type":  # netx maps CUBA and LOIHI to the same LIF
            assert {a[key], b[key]} <= {"CUBA", "LOIHI"}
        else:
            assert a[key] == b[key]
            assert np.asarray(b[key]).dtype == np.int64


def test_tinynet_ground_truth_through_exported_file(lavadl_assets, tmp_path):
    path = write_netx(read_netx(lavadl_assets / "tiny.net"), tmp_path / "tiny.net")
    g = read_netx(path, reset_interval=17)
    bias = np.load(lavadl_assets / "gts/tinynet/input_bias.npy").transpose(2, 1, 0)
    out = simulate(g, np.broadcast_to(bias, (20, 1, *bias.shape))).output[:, 0]
    want = np.moveaxis(np.load(lavadl_assets / "gts/tinynet/output.npy")[0], -1, 0)
    assert np.array_equal(out[2:17], want[1:16])


# ---- random graphs -----------------------------------------------------------------------------


def _lif(rng: np.random.Generator, shape: tuple[int, ...], bias: bool) -> LoihiLIF:
    mant = rng.integers(-6, 7, size=shape) if bias else 0
    exp = int(rng.choice([6, 7])) if bias else 6
    return LoihiLIF(
        shape=shape,
        du=int(rng.choice([4095, 1023, 0, -1])),
        dv=int(rng.choice([0, 128, 4096])),
        vth=int(rng.integers(0, 60)),
        bias_mant=mant,
        bias_exp=exp,
    )


def _dense(rng: np.random.Generator, n_out: int, n_in: int) -> LoihiDense:
    exp = int(rng.integers(-2, 2))
    w = rng.integers(-60, 61, size=(n_out, n_in)) << max(0, -exp)
    delays = [
        None,
        rng.integers(0, 6, size=(n_out, n_in)),
        rng.integers(0, 6, size=(n_out, 1)) * np.ones((1, n_in), int),
    ][rng.integers(3)]
    return LoihiDense(weight=w, weight_exp=exp, delays=delays)


def random_graph(seed: int) -> Graph:
    """input [-> lif] -> conv -> lif -> flatten -> dense -> lif -> dense -> lif -> output."""
    rng = np.random.default_rng(seed)
    nodes: list[tuple[str, Node]] = [("input", Input(shape=(2, 6, 5)))]
    if rng.integers(2):
        nodes.append(("layer0", _lif(rng, (2, 6, 5), bias=False)))
    conv = LoihiConv(
        input_shape=(2, 6, 5),
        weight=rng.integers(-10, 11, size=(4, 2 // 2, 3, 2)),
        stride=(1, 2),
        padding=(1, 0),
        groups=2,
    )
    nodes += [
        ("layer1_syn", conv),
        ("layer1", _lif(rng, conv.out_shape, True)),
        ("layer2", Flatten(input_shape=conv.out_shape)),
        ("layer3_syn", _dense(rng, 7, int(np.prod(conv.out_shape)))),
        ("layer3", _lif(rng, (7,), True)),
        ("layer4_syn", _dense(rng, 5, 7)),
        ("layer4", _lif(rng, (5,), True)),
        ("output", Output(shape=(5,))),
    ]
    return Graph.chain(*nodes)


@pytest.mark.parametrize("seed", range(12))
def test_random_graph_keeps_its_spikes_and_state(tmp_path, seed):
    g = random_graph(seed)
    back = read_netx(write_netx(g, tmp_path / "r.net"))
    rng = np.random.default_rng(100 + seed)
    x = rng.integers(0, 2, size=(25, 2, 2, 6, 5))
    if "layer0" in g.nodes:
        x = x * rng.integers(0, 30, size=x.shape)
    probes = [f"{n}.{v}" for n in g.nodes if g.nodes[n].op == "loihi.lif" for v in "suv"]
    ra, rb = simulate(g, x, probes=probes), simulate(back, x, probes=probes)
    assert ra.output.any()
    assert np.array_equal(ra.output, rb.output)
    for p in probes:
        assert np.array_equal(ra.probes[p], rb.probes[p]), p
    assert read_netx(write_netx(back, tmp_path / "s.net")) == back  # normal form is a fixed point


# ---- what the writer refuses -------------------------------------------------------------------


def _chain(*named: tuple[str, Node]) -> Graph:
    return Graph.chain(
        ("input", Input(shape=named[0][1].in_shape)),
        *named,
        ("output", Output(shape=named[-1][1].out_shape)),
    )


def _dense_graph(syn: LoihiDense, **lif) -> Graph:
    return _chain(("syn", syn), ("lif", LoihiLIF(shape=syn.out_shape, **{"bias_exp": 6, **lif})))


@pytest.mark.parametrize(
    ("graph", "match"),
    [
        (_dense_graph(LoihiDense(weight=[[2, -6]], weight_exp=-2)), "multiples of 2\\*\\*2"),
        (_dense_graph(LoihiDense(weight=[[2], [4]]), du=[1, 2]), "per-neuron du"),
        (
            _dense_graph(LoihiDense(weight=[[2, -6]]), bias_mant=5, bias_exp=0),
            "multiple of 2\\*\\*6",
        ),
        (
            _chain(
                (
                    "syn",
                    LoihiConv(input_shape=(1, 3, 3), weight=np.ones((1, 1, 2, 2)), weight_exp=1),
                ),
                ("lif", LoihiLIF(shape=(1, 2, 2))),
            ),
            "ignores weight_exp",
        ),
        (
            _chain(
                ("lif", LoihiLIF(shape=(3,), bias_mant=1)),
                ("syn", LoihiDense(weight=np.eye(3) * 2)),
                ("l2", LoihiLIF(shape=(3,))),
            ),
            "input neuron 'lif' has a bias",
        ),
        (_chain(("syn", LoihiDense(weight=np.eye(3) * 2))), "ends in a loihi.lif"),
        (_chain(("lif", LIF(shape=(3,)))), "loihi.dense, loihi.conv"),
    ],
)
def test_writer_refuses_what_netx_cannot_express(tmp_path, graph, match):
    path = tmp_path / "bad.net"
    with pytest.raises(UnsupportedOpError, match=match):
        write_netx(graph, path)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_writer_refuses_branches(tmp_path):
    lif = LoihiLIF(shape=(2,))
    g = Graph.build(
        {
            "input": Input(shape=(2,)),
            "a": LoihiDense(weight=np.eye(2) * 2),
            "b": LoihiDense(weight=np.eye(2) * 4),
            "lif": lif,
            "output": Output(shape=(2,)),
        },
        [("input", "a"), ("input", "b"), ("a", "lif"), ("b", "lif"), ("lif", "output")],
    )
    with pytest.raises(UnsupportedOpError, match="simple chain"):
        write_netx(g, tmp_path / "b.net")


def test_simulation_group(tmp_path):
    import h5py

    g = _dense_graph(LoihiDense(weight=[[2, -6]]))
    with h5py.File(write_netx(g, tmp_path / "a.net")) as f:
        assert f["simulation/Ts"][()] == 1
        assert "tSample" not in f["simulation"]
    with h5py.File(write_netx(g, tmp_path / "b.net", t_sample=40)) as f:
        assert f["simulation/tSample"][()] == 40
        assert f["simulation/tSample"].dtype == np.int64


def test_fractional_ts_survives(tmp_path):
    g = _dense_graph(LoihiDense(weight=[[2, -6]])).with_metadata(netx={"Ts": 0.5})
    assert read_netx(write_netx(g, tmp_path / "t.net")).metadata["netx"]["Ts"] == 0.5
