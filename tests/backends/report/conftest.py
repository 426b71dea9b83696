"""Compile output directories with reports, shared by the report tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc import api, ir


def float_mlp() -> ir.Graph:
    """8 -> 12 LIF -> 4 LIF, dyadic weights; fires at moderate rates on inputs in [0, 1)."""
    rng = np.random.default_rng(7)
    w1 = rng.integers(-4, 9, (12, 8)) / 8.0
    w2 = rng.integers(-4, 9, (4, 12)) / 8.0
    lif = {"decay_v": np.array(0.5), "threshold": np.array(1.0)}
    return ir.Graph.chain(
        ("x", ir.Input(shape=(8,))), ("fc1", ir.Affine(weight=w1, bias=np.zeros(12))),
        ("lif1", ir.LIF(shape=(12,), **lif)), ("fc2", ir.Affine(weight=w2, bias=np.zeros(4))),
        ("lif2", ir.LIF(shape=(4,), **lif)), ("y", ir.Output(shape=(4,))))


def _compile(out: Path, calibration: object, chip: str = "loihi1") -> Path:
    api.compile(float_mlp(), target="loihi-sim", calibration=calibration, steps=12, out_dir=out,
                chip=chip)
    return out


@pytest.fixture(scope="session")
def measured_dir(tmp_path_factory) -> Path:
    """Loihi 1, compiled with a calibration file of spikes (B, 8, T): a measured report."""
    root = tmp_path_factory.mktemp("report")
    x = (np.random.default_rng(3).random((3, 8, 12)) < 0.4).astype(np.float64)
    np.save(root / "calib.npy", x)
    return _compile(root / "measured", root / "calib.npy")


@pytest.fixture(scope="session")
def graded_dir(tmp_path_factory) -> Path:
    """Loihi 2 (graded spikes), analog calibration input: a measured report, ESTIMATE model."""
    root = tmp_path_factory.mktemp("report")
    x = (np.random.default_rng(4).random((2, 8, 10)) * 8).round() / 8
    np.save(root / "calib.npy", x)
    return _compile(root / "graded", root / "calib.npy", chip="loihi2")


@pytest.fixture(scope="session")
def worst_dir(tmp_path_factory) -> Path:
    """Loihi 1, calibrated on arrays the compile result does not keep: a worst-case report."""
    x = (np.random.default_rng(5).random((12, 2, 8)) < 0.4).astype(np.float64)  # time-major
    return _compile(tmp_path_factory.mktemp("report") / "worst", x)  # type: ignore[arg-type]
