"""The learning engine against Lava's own golden vector (shared/reference/loihi.md §5.3).

The expected numbers were produced by running lava-nc 0.10.0's LearningDense (bit-approximate)
with a Loihi2FLearningRule; snnc's engine is an independent implementation.
"""

import numpy as np
import pytest

import snnc.simulators.reference  # noqa: F401  (registers kernels)
from snnc.ir import LoihiLIF
from snnc.ir.learning_rule import RuleError, parse_rule
from snnc.simulators.kernels import KERNELS
from snnc.simulators.learning.engine import LearningRule, PlasticDense

GOLDEN_W = [100, 100, 100, 96, 96, 99, 99, 93, 93, 90, 90, 90]
GOLDEN_X1 = [0, 16, 16, 13, 13, 27, 27, 23, 23, 33, 33, 26]
GOLDEN_Y1 = [0, 0, 0, 14, 14, 12, 12, 25, 25, 37, 37, 29]


def _run_golden():
    rule = LearningRule(dw="2^-2*x0*y1 - 2^-2*y0*x1", x1_impulse=16, x1_tau=10, y1_impulse=16,
                        y1_tau=10, t_epoch=2, rng_seed=1)
    syn = PlasticDense(weights=np.array([[100]]), rule=rule)
    lif = LoihiLIF(shape=(1,), du=4095, dv=0, vth=0)
    kern = KERNELS["loihi.lif"]
    state = kern.init(lif, 1)
    trace = {"w": [], "x1": [], "y1": [], "post": []}
    for t in range(12):
        pre = np.array([1 if t + 1 in (2, 6, 9) else 0])
        spikes, state = kern.step(lif, syn.a_buf[None], state, t)
        if spikes[0, 0]:
            trace["post"].append(t + 1)
        syn.spike_phase(pre, spikes[0], t)
        if syn.is_learning_step(t):
            syn.learning_phase(t)
        trace["w"].append(int(syn.weights[0, 0]))
        trace["x1"].append(int(syn.x[0, 0]))
        trace["y1"].append(int(syn.y[0, 0]))
    return trace


def test_golden_vector_matches_lava():
    trace = _run_golden()
    assert trace["post"] == [3, 7, 10]
    assert trace["w"] == GOLDEN_W
    assert trace["x1"] == GOLDEN_X1
    assert trace["y1"] == GOLDEN_Y1


def test_rule_parsing_normalises_scale():
    rule = parse_rule("16*2^-3*x0*y1 - y0*x1")
    first, second = rule.products
    assert (first.dependency, first.mantissa, first.exp) == ("x0", 4, -1)
    assert (second.dependency, second.mantissa, second.exp) == ("y0", -1, 0)
    assert first.stored_exp == 6


@pytest.mark.parametrize("bad", ["x1*y1", "2^-9*x0", "x0*q", "9*x0*y1*3"])
def test_rule_errors(bad):
    with pytest.raises(RuleError):
        parse_rule(bad)
