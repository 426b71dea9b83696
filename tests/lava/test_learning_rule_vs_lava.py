"""snnc's learning-rule parser against Lava 0.10.0's (``ProductSeries`` of a learning rule).

Random rule strings from tests/learning_random.py (the grammar the Lava differential test
draws from) must give the same products: dependency, normalised scale mantissa, stored
exponent, and factors (variable, constant, sgn). Rules Lava refuses, snnc refuses too; three
spellings Lava reads in its own way snnc refuses with a message asking for the plain form.
A failure names the seed: rerun with ``SNNC_LEARN_SEED=<seed>``.
"""

from __future__ import annotations

import os
import secrets

import numpy as np
import pytest
from learning_random import SYN, TRACES_2F, random_sum

from snnc.ir.learning_rule import RuleError, parse_rule

pytestmark = pytest.mark.lava

SEED = int(os.environ.get("SNNC_LEARN_SEED") or secrets.randbelow(2**31))


def _lava_products(text: str) -> list[tuple]:
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule

    rule = Loihi2FLearningRule(dw=text)
    return [(p.dependency, p.s_mantissa, p.s_exp,
             tuple((f.state_var, f.const, f.is_sgn) for f in p.factors)) for p in rule.dw.products]


def _snnc_products(text: str) -> list[tuple]:
    return [(p.dependency, p.mantissa, p.stored_exp,
             tuple((f.var, f.const, f.sgn) for f in p.factors)) for p in parse_rule(text).products]


def test_rule_parser_agrees_with_lavas():
    """Dependency, scale (normalised mantissa, stored exponent) and factors of every product."""
    rng = np.random.default_rng(SEED)
    for _ in range(400):
        text = random_sum(rng, TRACES_2F + SYN, int(rng.integers(4)))
        assert _snnc_products(text) == _lava_products(text), f"{text!r} (seed {SEED})"


@pytest.mark.parametrize("text", ["x0*u1*y1", "2^-8*x0", "2^9*y0", "9*x0", "x1*y1",
                                  "x0*sgn(-w+3)", "x0*sgn(x1)"])
def test_rule_parser_refuses_what_lava_refuses(text):
    with pytest.raises(RuleError):
        parse_rule(text)
    with pytest.raises(ValueError):  # noqa: PT011 (Lava raises bare ValueErrors)
        _lava_products(text)


@pytest.mark.parametrize("text", ["x0*(64-y1)", "x0*(3)*y1", "y0*(x0)*x1"])
def test_rule_parser_refuses_lava_spellings_it_does_not_read(text):
    """Lava reads (C - v) as -(v - C), folds a bracketed literal into the scale and silently
    drops a bracketed bare dependency; snnc asks for the plain spelling instead."""
    _lava_products(text)
    with pytest.raises(RuleError):
        parse_rule(text)
