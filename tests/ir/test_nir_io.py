"""NIR exchange: files written by the nir package itself, the Euler mapping checked numerically
against a direct integration of NIR's ODEs, dt handling, snnc extensions and refusals."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

from snnc import ir
from snnc.errors import FormatError, UnsupportedOpError

pytestmark = pytest.mark.requires("nir")


@pytest.fixture(scope="module")
def nirpkg():
    import nir as pkg

    return pkg


def _read(path, **kw):
    from snnc.ir.nir_io import read_nir

    return read_nir(path, **kw)


def _cuba_net(nirpkg):
    """Input(3) -> Affine(3->2) -> CubaLIF(2) -> Output, built with nir's own classes."""
    w = np.array([[0.5, -0.25, 1.0], [0.75, 0.5, -0.5]])
    cuba = nirpkg.CubaLIF(
        tau_syn=np.array([0.25, 0.5]), tau_mem=np.array([0.125, 0.5]), r=np.array([2.0, 1.0]),
        v_leak=np.array([0.0, 0.25]), v_threshold=np.array([1.0, 0.75]),
        v_reset=np.array([0.0, -0.125]), w_in=np.array([1.5, 1.0]))
    nodes = {"x": nirpkg.Input(input_type=np.array([3])),
             "fc": nirpkg.Affine(weight=w, bias=np.array([0.125, 0.0])),
             "cu": cuba, "y": nirpkg.Output(output_type=np.array([2]))}
    return nirpkg.NIRGraph(nodes=nodes, edges=[("x", "fc"), ("fc", "cu"), ("cu", "y")]), cuba, w


def _euler_cubalif(cuba, w, b, x, dt):
    """NIR's CubaLIF ODEs by forward Euler, written from nir's docstring (current first)."""
    i = np.zeros(2)
    v = np.zeros(2)
    spikes, volts = [], []
    for xt in x:
        i = i + dt / cuba.tau_syn * (-i + cuba.w_in * (w @ xt + b))
        v = v + dt / cuba.tau_mem * (cuba.v_leak - v + cuba.r * i)
        s = v > cuba.v_threshold
        v = np.where(s, cuba.v_reset, v)
        spikes.append(s.astype(float))
        volts.append(v.copy())
    return np.array(spikes), np.array(volts)


def test_file_written_by_nir_reads_with_euler_parameters(tmp_path, nirpkg):
    graph, cuba, _ = _cuba_net(nirpkg)
    nirpkg.write(tmp_path / "net.nir", graph)
    dt = 0.0625
    g = _read(tmp_path / "net.nir", dt=dt)
    assert list(g.nodes) == ["x", "fc", "cu", "y"]
    assert g.dt == dt
    cu = g.nodes["cu"]
    assert cu.op == "cubalif"
    assert cu.shape == (2,)
    np.testing.assert_array_equal(cu.decay_i, 1 - dt / cuba.tau_syn)
    np.testing.assert_array_equal(cu.gain_i, dt * cuba.w_in / cuba.tau_syn)
    np.testing.assert_array_equal(cu.decay_v, 1 - dt / cuba.tau_mem)
    np.testing.assert_array_equal(cu.gain, dt * cuba.r / cuba.tau_mem)
    np.testing.assert_array_equal(cu.bias, dt * cuba.v_leak / cuba.tau_mem)
    np.testing.assert_array_equal(cu.v_reset, cuba.v_reset)
    assert (cu.reset, cu.comparator) == ("hard", ">")


def test_imported_cubalif_simulates_like_euler_integration(tmp_path, nirpkg):
    from snnc.simulators.reference import simulate

    graph, cuba, w = _cuba_net(nirpkg)
    nirpkg.write(tmp_path / "net.nir", graph)
    dt = 0.0625
    g = _read(tmp_path / "net.nir", dt=dt)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(40, 3)).astype(float)
    res = simulate(g, x[:, None, :], probes=["cu.v"])
    want_s, want_v = _euler_cubalif(cuba, w, np.array([0.125, 0.0]), x, dt)
    assert want_s.sum() > 3  # the test exercises spikes and resets
    np.testing.assert_array_equal(res.output[:, 0], want_s)
    np.testing.assert_allclose(res.probes["cu.v"][:, 0], want_v, rtol=0, atol=1e-12)


def test_conv_pool_flatten_delay_from_nir(tmp_path, nirpkg):
    conv = nirpkg.Conv2d(input_shape=(6, 6), weight=np.ones((2, 1, 3, 3)), stride=1, padding=1,
                         dilation=1, groups=1, bias=np.zeros(2))
    nodes = {
        "in": nirpkg.Input(input_type=np.array([1, 6, 6])), "conv": conv,
        "pool": nirpkg.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                 padding=np.array([0, 0])),
        "flat": nirpkg.Flatten(input_type={"input": np.array([2, 3, 3])}, start_dim=0),
        "delay": nirpkg.Delay(delay=np.full(18, 0.375)),
        "if": nirpkg.IF(r=np.full(18, 4.0), v_threshold=np.ones(18)),
        "out": nirpkg.Output(output_type=np.array([18])),
    }
    names = list(nodes)
    graph = nirpkg.NIRGraph(nodes=nodes, edges=list(itertools.pairwise(names)), type_check=False)
    nirpkg.write(tmp_path / "conv.nir", graph)
    g = _read(tmp_path / "conv.nir", dt=0.125)
    assert g.nodes["conv"].in_shape == (1, 6, 6)
    assert g.nodes["conv"].padding == (1, 1)
    assert g.nodes["pool"].out_shape == (2, 3, 3)  # pools carry no shape in NIR: inferred
    assert g.nodes["flat"].out_shape == (18,)
    assert int(g.nodes["delay"].delay) == 3  # 0.375 / 0.125 steps
    assert float(g.nodes["if"].gain) == 0.5  # dt * r


def test_same_padding_and_batch_counting_flatten(tmp_path, nirpkg, caplog):
    nodes = {
        "in": nirpkg.Input(input_type=np.array([2, 4, 4])),
        "conv": nirpkg.Conv2d(input_shape=(4, 4), weight=np.ones((2, 2, 3, 3)), stride=1,
                              padding="same", dilation=1, groups=1, bias=np.zeros(2)),
        "flat": nirpkg.Flatten(input_type={"input": np.array([2, 4, 4])}, start_dim=1),
        "fc": nirpkg.Linear(weight=np.ones((3, 32))),
        "out": nirpkg.Output(output_type=np.array([3])),
    }
    names = list(nodes)
    graph = nirpkg.NIRGraph(nodes=nodes, edges=list(itertools.pairwise(names)), type_check=False)
    nirpkg.write(tmp_path / "q.nir", graph)
    with caplog.at_level(logging.WARNING):
        g = _read(tmp_path / "q.nir")  # no neurons or delays: no dt needed
    assert g.nodes["conv"].padding == (1, 1)
    assert g.nodes["flat"].start_dim == 0
    assert g.nodes["flat"].out_shape == (32,)
    assert "batch dimension" in caplog.text
    assert g.dt is None


def test_nested_nir_graph_becomes_subgraph(tmp_path, nirpkg):
    inner = nirpkg.NIRGraph(
        nodes={"i": nirpkg.Input(input_type=np.array([2])),
               "lif": nirpkg.LIF(tau=np.full(2, 0.5), r=np.ones(2), v_leak=np.zeros(2),
                                 v_threshold=np.ones(2)),
               "o": nirpkg.Output(output_type=np.array([2]))},
        edges=[("i", "lif"), ("lif", "o")])
    outer = nirpkg.NIRGraph(
        nodes={"x": nirpkg.Input(input_type=np.array([2])), "sub": inner,
               "y": nirpkg.Output(output_type=np.array([2]))},
        edges=[("x", "sub"), ("sub", "y")])
    nirpkg.write(tmp_path / "n.nir", outer)
    g = _read(tmp_path / "n.nir", dt=0.25)
    sub = g.nodes["sub"]
    assert sub.op == "graph"
    assert sub.graph.nodes["lif"].op == "lif"
    assert float(sub.graph.nodes["lif"].decay_v) == 0.5  # 1 - 0.25 / 0.5


def test_dt_required_for_neurons(tmp_path, nirpkg):
    graph, _, _ = _cuba_net(nirpkg)
    nirpkg.write(tmp_path / "net.nir", graph)
    with pytest.raises(FormatError, match="--dt"):
        _read(tmp_path / "net.nir")


def _lif_graph(dt=0.5, **lif):
    return ir.Graph.chain(("in", ir.Input(shape=(2,))),
                          ("lif", ir.LIF(shape=(2,), decay_v=0.75, **lif)),
                          ("out", ir.Output(shape=(2,))), dt=dt)


def test_snnc_dt_is_recorded_and_extensions_survive(tmp_path):
    from snnc.ir.nir_io import write_nir

    g = _lif_graph(reset="subtract", comparator=">=", v_init=0.25, graded=True)
    write_nir(g, tmp_path / "g.nir")
    assert _read(tmp_path / "g.nir") == g  # dt from the file, extensions from snnc.* metadata


def test_other_dt_rediscretises_but_keeps_flags(tmp_path, caplog):
    from snnc.ir.nir_io import write_nir

    write_nir(_lif_graph(reset="subtract"), tmp_path / "g.nir")
    with caplog.at_level(logging.WARNING):
        g = _read(tmp_path / "g.nir", dt=0.25)
    lif = g.nodes["lif"]
    assert g.dt == 0.25
    assert float(lif.decay_v) == 1 - 0.25 / 2.0
    assert lif.reset == "subtract"
    assert "re-discretising" in caplog.text


def test_edited_nir_parameters_invalidate_snnc_metadata(tmp_path, nirpkg):
    from snnc.ir.nir_io import to_nir

    graph = to_nir(_lif_graph(reset="subtract"))
    graph.nodes["lif"].tau = graph.nodes["lif"].tau * 2  # another tool changes the node
    nirpkg.write(tmp_path / "g.nir", graph)
    lif = _read(tmp_path / "g.nir").nodes["lif"]
    assert lif.reset == "hard"
    assert float(lif.decay_v) == 1 - 0.5 / 4.0


def test_write_needs_dt_and_matching_dt(tmp_path):
    from snnc.ir.nir_io import write_nir

    with pytest.raises(FormatError, match="time step"):
        write_nir(_lif_graph(dt=None), tmp_path / "a.nir")
    with pytest.raises(FormatError, match=r"dt=0.5"):
        write_nir(_lif_graph(dt=0.5), tmp_path / "b.nir", dt=0.25)
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.parametrize("node", [
    ir.Or(shape=(2,)),
    ir.MaxPool2d(input_shape=(1, 2, 2), kernel_size=(2, 2), stride=(2, 2)),
    ir.LoihiLIF(shape=(2,), du=1, dv=1, vth=10),
    ir.Reshape(input_shape=(4,), output_shape=(2, 2)),
    ir.CubaLIF(shape=(2,), decay_v=1.0, decay_i=0.5),
])
def test_ops_without_nir_primitive_are_refused_by_name(node):
    from snnc.ir.nir_io import to_nir

    g = ir.Graph.build({"in": ir.Input(shape=node.in_shape), "bad": node}, [("in", "bad")], 1.0)
    with pytest.raises(UnsupportedOpError, match="node 'bad'"):
        to_nir(g)


def test_node_names_nir_cannot_hold(tmp_path):
    from snnc.ir.nir_io import write_nir

    g = ir.Graph.chain(("in", ir.Input(shape=(2,))), ("a/b", ir.Scale(shape=(2,), scale=2.0)),
                       dt=1.0)
    with pytest.raises(FormatError, match="'a/b' contains '/'"):
        write_nir(g, tmp_path / "g.nir")


def test_leak_free_lif_is_written_as_nir_if(tmp_path, nirpkg):
    from snnc.ir.nir_io import write_nir

    g = ir.Graph.chain(("in", ir.Input(shape=(2,))), ("n", ir.LIF(shape=(2,), gain=0.5)),
                       ("out", ir.Output(shape=(2,))), dt=0.25)
    write_nir(g, tmp_path / "g.nir")
    assert type(nirpkg.read(tmp_path / "g.nir").nodes["n"]).__name__ == "IF"
    assert _read(tmp_path / "g.nir") == g


def test_batchnorm_and_add_are_exact_nir_equivalents(nirpkg):
    from snnc.ir.nir_io import to_nir

    bn = ir.BatchNorm(shape=(2, 3, 3), mean=[0.5, 0.0], var=[1.0, 3.0], weight=[2.0, 1.0],
                      bias=[0.0, 0.5])
    g = ir.Graph.chain(("in", ir.Input(shape=(2, 3, 3))), ("bn", bn),
                       ("add", ir.Add(shape=(2, 3, 3))), ("out", ir.Output(shape=(2, 3, 3))),
                       dt=1.0)
    ng = to_nir(g)
    conv, scale = ng.nodes["bn"], ng.nodes["add"]
    a, b = bn.channel_affine()
    assert type(conv).__name__ == "Conv2d"
    assert conv.groups == 2
    np.testing.assert_array_equal(conv.weight.reshape(2), a)
    np.testing.assert_array_equal(conv.bias, b)
    assert type(scale).__name__ == "Scale"
    assert np.all(scale.scale == 1)


def test_missing_nir_package_gives_install_hint(monkeypatch):
    import builtins

    from snnc.errors import SnncError
    from snnc.ir import nir_io

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "nir":
            raise ImportError("no nir")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(SnncError, match=r"pip install 'snnc\[nir\]'"):
        nir_io.import_nir()


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, b"\x89HDF\r\n\x1a\n" + b"\0" * 50])
def test_garbage_nir_files(tmp_path, content):
    path = tmp_path / "bad.nir"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=r"bad.nir"):
        _read(path, dt=1.0)


def test_truncated_and_misnamed_nir_files(tmp_path):
    from snnc.ir.nir_io import write_nir
    from snnc.ir.serialize import write_graph

    path = write_nir(_lif_graph(), tmp_path / "g.nir")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"g.nir"):
        _read(path)
    snnc_file = write_graph(_lif_graph(), tmp_path / "s.snnc")
    misnamed = snnc_file.rename(tmp_path / "s.nir")
    with pytest.raises(FormatError, match=r".snnc suffix"):
        _read(misnamed)
    with pytest.raises(FormatError, match="no such file"):
        _read(tmp_path / "missing.nir")
