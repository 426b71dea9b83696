"""ANN activation ops (relu, clip, shift, floor, qcfs) and the QCFS chain recogniser."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.errors import IRError
from snnc.ir.serialize import read_graph, write_graph
from snnc.ir.staircase import fuse_staircases
from snnc.simulators.reference import simulate


def _chain(*nodes: ir.Node, n: int = 6) -> ir.Graph:
    named = [("in", ir.Input(shape=(n,)))] + [(f"a{i}", v) for i, v in enumerate(nodes)]
    return ir.Graph.chain(*named, ("out", ir.Output(shape=(n,))))


def _run(g: ir.Graph, x: np.ndarray) -> np.ndarray:
    return simulate(g, x[None]).outputs["out"][0]


def test_kernels_follow_their_equations():
    x = np.linspace(-3, 5, 33)[None, :]
    sh = (33,)
    assert np.array_equal(_run(_chain(ir.ReLU(shape=sh), n=33), x), np.maximum(x, 0))
    assert np.array_equal(_run(_chain(ir.Clip(shape=sh, lo=0.0, hi=2.0), n=33), x),
                          np.clip(x, 0, 2))
    assert np.array_equal(_run(_chain(ir.Shift(shape=sh, offset=0.5), ir.Floor(shape=sh), n=33),
                               x), np.floor(x + 0.5))
    q = ir.QCFS(shape=sh, threshold=2.0, levels=4, offset=0.5, step=0.5)
    # the paper's form: floor(clamp(x / theta, 0, 1) * L + 0.5) / L * theta
    expect = np.floor(np.clip(x / 2.0, 0, 1) * 4 + 0.5) / 4 * 2.0
    assert np.array_equal(_run(_chain(q, n=33), x), expect)


def test_verification_and_round_trip(tmp_path):
    with pytest.raises(IRError, match="lo must not exceed hi"):
        ir.Clip(shape=(2,), lo=1.0, hi=0.0)
    with pytest.raises(IRError, match="positive"):
        ir.QCFS(shape=(2,), threshold=0.0, levels=4, step=0.5)
    with pytest.raises(IRError, match="levels"):
        ir.QCFS(shape=(2,), threshold=1.0, levels=0, step=0.5)
    g = _chain(ir.Shift(shape=(6,), offset=np.arange(6) / 4), ir.ReLU(shape=(6,)),
               ir.Clip(shape=(6,), lo=0.0), ir.Floor(shape=(6,)),
               ir.QCFS(shape=(6,), threshold=np.full(6, 1.5), levels=8, step=0.25))
    write_graph(g, tmp_path / "g.snnc")
    assert read_graph(tmp_path / "g.snnc") == g
    assert ir.parse_graph(ir.print_graph(g)) == g


def _paper_qcfs(theta: float, levels: int, n: int = 6) -> list[ir.Node]:
    s = (n,)
    return [ir.Scale(shape=s, scale=1 / theta), ir.Clip(shape=s, lo=0.0, hi=1.0),
            ir.Scale(shape=s, scale=float(levels)), ir.Shift(shape=s, offset=0.5),
            ir.Floor(shape=s), ir.Scale(shape=s, scale=1 / levels), ir.Scale(shape=s, scale=theta)]


@pytest.mark.parametrize(("theta", "levels"), [(2.0, 4), (0.75, 8), (3.0, 2)])
def test_paper_chain_fuses_into_one_exact_qcfs(theta, levels):
    g = _chain(*_paper_qcfs(theta, levels))
    fused = fuse_staircases(g)
    ops = [v.op for v in fused.nodes.values()]
    assert ops.count("qcfs") == 1
    assert "floor" not in ops
    q = next(v for v in fused.nodes.values() if v.op == "qcfs")
    assert q.levels == levels
    assert float(q.threshold) == pytest.approx(theta)
    assert float(q.step) == pytest.approx(theta / levels)
    assert float(q.offset) == 0.5
    x = np.random.default_rng(1).uniform(-1, theta * 1.5, (50, 6))
    np.testing.assert_allclose(_run(fused, x), _run(g, x), atol=1e-12)


def test_clip_after_floor_and_relu_variants_fuse():
    s = (6,)
    # clamp applied to the integer level: floor(x * L / theta + 0.5).clamp(0, L) * theta / L
    g = _chain(ir.Scale(shape=s, scale=4 / 2.0), ir.Shift(shape=s, offset=0.5),
               ir.Floor(shape=s), ir.Clip(shape=s, lo=0.0, hi=4.0), ir.Scale(shape=s, scale=0.5))
    fused = fuse_staircases(g)
    assert [v.op for v in fused.nodes.values()].count("qcfs") == 1
    x = np.random.default_rng(2).uniform(-2, 4, (40, 6))
    np.testing.assert_allclose(_run(fused, x), _run(g, x), atol=1e-12)


@pytest.mark.parametrize(("extra", "op"), [("offset_after", "shift"),
                                           ("clip_between_steps", "clip")])
def test_ops_that_break_the_staircase_stay_outside_it(extra, op):
    s = (6,)
    nodes = _paper_qcfs(2.0, 4)
    # a shift after the staircase, or a clip at 0.7, which is not on its 0.5 grid
    nodes.append(ir.Shift(shape=s, offset=0.1) if extra == "offset_after"
                 else ir.Clip(shape=s, lo=0.0, hi=0.7))
    g = _chain(*nodes)
    fused = fuse_staircases(g)
    assert [v.op for v in fused.nodes.values()] == ["input", op, "output", "qcfs"]
    x = np.random.default_rng(3).uniform(-1, 3, (40, 6))
    np.testing.assert_allclose(_run(fused, x), _run(g, x), atol=1e-12)


def test_unbounded_floor_is_not_a_staircase():
    s = (6,)
    g = _chain(ir.Scale(shape=s, scale=2.0), ir.Shift(shape=s, offset=0.5), ir.Floor(shape=s))
    assert fuse_staircases(g) == g
