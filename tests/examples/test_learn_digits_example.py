"""The on-chip learning example reaches the accuracy the README states (issue: >= 80 %)."""

import pytest

from tests.examples.quick import load_example


@pytest.mark.torch
@pytest.mark.requires("sklearn")
def test_readout_learned_on_chip_reaches_80_percent():
    accuracy = load_example("learn_digits_onchip").main(["--quiet"])
    assert accuracy >= 0.80
