"""The .snnc HDF5 graph file: layout, embedding, determinism and every kind of bad file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from snnc import ir
from snnc.errors import FormatError
from snnc.ir.serialize import read_graph, read_graph_group, write_graph, write_graph_group


def _graph():
    sub = ir.Graph.chain(("i", ir.Input(shape=(2,))), ("n", ir.LIF(shape=(2,), decay_v=0.5)),
                         ("o", ir.Output(shape=(2,))))
    q = ir.QTensor(mant=[[1, -2, 3], [0, 1, -1]], scale=[[0.5], [0.25]], bits=3)
    return ir.Graph.chain(
        ("in", ir.Input(shape=(3,))), ("fc", ir.Affine(weight=q, bias=[0.0, 1.5])),
        ("sub", ir.Subgraph(graph=sub)),
        ("cb", ir.Linear(weight=ir.CodebookTensor(codebook=[1, -1], indices=[[0, 1]],
                                                  alpha=[0.5]))),
        ("out", ir.Output(shape=(1,))), dt=0.001).with_metadata(source="x.pt", n=3)


def test_layout_and_round_trip(tmp_path):
    g = _graph()
    path = write_graph(g, tmp_path / "g.snnc")
    with h5py.File(path) as f:
        assert f.attrs["format"] == "snnc-graph"
        assert f.attrs["version"] == 1
        node = f["nodes/1"]
        assert node.attrs["name"] == "fc"
        assert node.attrs["op"] == "affine"
        assert node["weight"].attrs["kind"] == "qtensor"
        assert node["weight/mant"].dtype.kind == "i"  # stored narrow (int8 here)
        assert node["weight/mant"].dtype.itemsize == 1
    back = read_graph(path)
    assert back == g
    assert back.nodes["fc"].weight.mant.dtype == np.int8  # QTensor keeps mantissas narrow


def test_zero_d_arrays_and_none_fields_keep_their_form(tmp_path):
    dense = ir.LoihiDense(weight=[[3, -4]], delays=None)
    conv = ir.Conv1d(input_shape=(1, 4), weight=np.ones((1, 1, 2)), bias=0.5)
    g = ir.Graph.build({"a": ir.Input(shape=(2,)), "d": dense, "b": ir.Input(shape=(1, 4)),
                        "c": conv}, [("a", "d"), ("b", "c")])
    back = read_graph(write_graph(g, tmp_path / "g.snnc"))
    assert back.nodes["d"].delays is None
    assert back.nodes["c"].bias.shape == ()
    assert back.nodes["d"].weight.dtype.kind == "i"
    assert back.dt is None
    assert back == g


def test_output_is_deterministic(tmp_path):
    a = write_graph(_graph(), tmp_path / "a.snnc").read_bytes()
    b = write_graph(_graph(), tmp_path / "b.snnc").read_bytes()
    assert a == b


def test_embedded_in_a_bigger_file(tmp_path):
    g = _graph()
    with h5py.File(tmp_path / "program.h5", "w") as f:
        f.create_dataset("other", data=np.arange(3))
        write_graph_group(f.create_group("program/graph"), g)
    with h5py.File(tmp_path / "program.h5") as f:
        assert read_graph_group(f["program/graph"], "program.h5:/program/graph") == g


def _broken(tmp_path, edit):
    path = write_graph(_graph(), tmp_path / "g.snnc")
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


@pytest.mark.parametrize(("edit", "match"), [
    (lambda f: f.attrs.__setitem__("format", "other"), "not an snnc graph file"),
    (lambda f: f.attrs.__setitem__("version", 99), "version 99"),
    (lambda f: f["nodes/1"].attrs.__setitem__("op", "warp"), "node 'fc': unknown op 'warp'"),
    (lambda f: f["nodes/1"].__delitem__("bias"), "node 'fc': field 'bias' of op 'affine' is "
                                                 "missing"),
    (lambda f: f["nodes/1"].create_dataset("colour", data=1.0), "node 'fc': op 'affine' has no "
                                                                "field 'colour'"),
    (lambda f: f["nodes"].__delitem__("4"), "node #4"),
    (lambda f: (f.__delitem__("edges"), f.create_dataset(
        "edges", data=np.array([["in", "nowhere"]], dtype=object), dtype=h5py.string_dtype())),
     "does not verify.*nowhere"),
    (lambda f: (f["nodes/1"].__delitem__("bias"), f["nodes/1"].create_dataset(
        "bias", data=np.zeros(5))), "node 'fc'.*bias must have shape"),
    (lambda f: f["nodes/2/graph/nodes/1"].attrs.__setitem__("op", "warp"),
     "node 'sub': field 'graph': node 'n': unknown op"),
])
def test_bad_contents_name_file_node_and_field(tmp_path, edit, match):
    path = _broken(tmp_path, edit)
    with pytest.raises(FormatError, match=match) as info:
        read_graph(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not hdf5 at all" * 20, b"\x89HDF\r\n\x1a\n"])
def test_garbage_files(tmp_path, content):
    path = tmp_path / "bad.snnc"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=r"bad.snnc: not a readable HDF5 file"):
        read_graph(path)


def test_truncated_file(tmp_path):
    path = write_graph(_graph(), tmp_path / "g.snnc")
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) - 100):
        path.write_bytes(data[:cut])
        with pytest.raises(FormatError, match=r"g.snnc"):
            read_graph(path)


def test_missing_file_directory_and_nir_file(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_graph(tmp_path / "nope.snnc")
    with pytest.raises(FormatError, match="is a directory"):
        read_graph(tmp_path)
    with h5py.File(tmp_path / "m.snnc", "w") as f:  # the layout of a NIR file
        f.create_dataset("version", data="1.0")
        f.create_group("node")
    with pytest.raises(FormatError, match="NIR file"):
        read_graph(tmp_path / "m.snnc")


def test_failed_write_leaves_nothing(tmp_path):
    g = _graph().with_metadata(bad=object())
    with pytest.raises(FormatError, match="JSON"):
        write_graph(g, tmp_path / "g.snnc")
    assert list(tmp_path.iterdir()) == []
