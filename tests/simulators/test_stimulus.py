"""Probe names and stimuli are read the same way by every simulator."""

import numpy as np
import pytest

from snnc.errors import SnncError
from snnc.ir import LIF, Graph, Input, Output
from snnc.simulators.reference import simulate
from snnc.simulators.stimulus import parse_probes


def _graph():
    return Graph.chain(("x", Input(shape=(2,))), ("n", LIF(shape=(2,), threshold=0.5)),
                       ("y", Output(shape=(2,))))


def test_probe_names():
    assert parse_probes(_graph(), ["n.v", "n", "n.s"]) == [("n.v", "n", "v"), ("n", "n", "s"),
                                                           ("n.s", "n", "s")]
    with pytest.raises(SnncError, match="no node named 'm'; nodes: x, n, y"):
        parse_probes(_graph(), ["m.v"])


def test_bare_node_probe_is_its_output():
    x = np.ones((3, 1, 2))
    res = simulate(_graph(), x, probes=["n"])
    np.testing.assert_array_equal(res.probes["n"], res.output)
