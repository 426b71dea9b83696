"""The shipped 4-bit digits model compiled once per session, and its test set."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "examples" / "models" / "digits_test.npz"


@pytest.fixture(scope="session")
def qsnn4_dir(tmp_path_factory) -> Path:
    from snnc import api

    out = tmp_path_factory.mktemp("eval") / "qsnn4"
    api.compile(REPO / "examples" / "models" / "qsnn4.pt", target="loihi-sim", out_dir=out)
    return out
