"""Binning against tonic's own ``ToFrame`` / ``Downsample``, the CLI against the Python
function, and each encoder against its written definition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.cli import main
from snnc.errors import SnncError
from snnc.events import EVENT_DTYPE, BinSpec, EventStream, bin_events, encoders, fit_frames


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _stream(n: int = 400, w: int = 12, h: int = 10, t_max: int = 9_000, seed: int = 0,
            t_first: int = 137) -> EventStream:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"] = rng.integers(0, w, n), rng.integers(0, h, n), rng.random(n) < .5
    ev["t"] = np.sort(rng.integers(t_first, t_max, n))
    return EventStream(ev, (w, h, 2), "test")


@pytest.mark.requires("tonic")
@pytest.mark.parametrize("dt", [500, 1000, 2500])
def test_counts_equal_tonic_to_frame(dt: int) -> None:
    import tonic.transforms as T

    s = _stream(seed=dt)
    ref = T.ToFrame(sensor_size=s.sensor_size, time_window=dt, include_incomplete=True)(
        s.events.copy())
    got = bin_events(s, BinSpec(dt_us=dt, mode="count"))
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    binary = bin_events(s, BinSpec(dt_us=dt))
    np.testing.assert_array_equal(binary, np.minimum(ref, 1))


@pytest.mark.requires("tonic")
def test_downsample_equals_tonic_downsample_then_to_frame() -> None:
    import tonic.transforms as T

    s = _stream(w=16, h=12, seed=4)
    small = T.Downsample(spatial_factor=0.5)(s.events.copy())
    ref = T.ToFrame(sensor_size=(8, 6, 2), time_window=1000, include_incomplete=True)(small)
    got = bin_events(s, BinSpec(dt_us=1000, mode="count", downsample=2))
    np.testing.assert_array_equal(got, ref)


def test_polarity_modes_and_fixed_steps() -> None:
    s = _stream(seed=9)
    split = bin_events(s, BinSpec(dt_us=1000, mode="count"))
    merge = bin_events(s, BinSpec(dt_us=1000, mode="count", polarity="merge"))
    on = bin_events(s, BinSpec(dt_us=1000, mode="count", polarity="on"))
    np.testing.assert_array_equal(merge[:, 0], split.sum(1))
    np.testing.assert_array_equal(on[:, 0], split[:, 1])
    assert split.sum() == len(s.events)
    few = bin_events(s, BinSpec(dt_us=1000, mode="count", steps=3))
    np.testing.assert_array_equal(few, split[:3])
    more = bin_events(s, BinSpec(dt_us=1000, mode="count", steps=20))
    assert more.shape[0] == 20
    assert more[len(split):].sum() == 0


def test_fit_frames_flattens_or_refuses() -> None:
    f = np.arange(2 * 2 * 3 * 4).reshape(2, 2, 3, 4)
    np.testing.assert_array_equal(fit_frames(f, (24,)), f.reshape(2, 24))
    with pytest.raises(SnncError, match="--downsample"):
        fit_frames(f, (10,))


def test_simulate_bins_like_the_python_function(tmp_path: Path) -> None:
    s = _stream(w=8, h=8, seed=2)
    np.save(tmp_path / "ev.npy", s.events)
    out = tmp_path / "r.npz"
    assert _cli(["simulate", "examples/models/qsnn4.pt", "--backend", "reference", "-i",
                 str(tmp_path / "ev.npy"), "--dt", "1ms", "--polarity", "merge", "--probe",
                 "input", "-o", str(out), "-q"]) == 0
    want = bin_events(s, BinSpec(dt_us=1000, polarity="merge")).reshape(-1, 64)
    with np.load(out) as r:
        np.testing.assert_array_equal(r["input"], want.T)  # time last, no batch axis


def test_rate_is_the_seeded_bernoulli_definition() -> None:
    x = np.linspace(-0.2, 1.2, 15)
    got = encoders.rate(x, 2000, seed=11)
    u = np.random.default_rng(11).random((2000, 15))
    np.testing.assert_array_equal(got, (u < np.clip(x, 0, 1)).astype(np.uint8))
    np.testing.assert_array_equal(got, encoders.rate(x, 2000, seed=11))
    # P(spike) = x: within 4 standard errors at 2000 steps
    p = np.clip(x, 0, 1)
    assert np.all(np.abs(got.mean(0) - p) <= 4 * np.sqrt(p * (1 - p) / 2000) + 1e-12)


def test_latency_is_time_to_first_spike() -> None:
    x = np.array([1.0, 0.5, 0.25, 0.0, 0.9])
    got = encoders.latency(x, 9)
    assert got.sum(0).tolist() == [1, 1, 1, 0, 1]
    assert [int(np.argmax(got[:, i])) for i in (0, 1, 2, 4)] == [0, 4, 6, 1]


def test_delta_and_direct() -> None:
    seq = np.array([[0.0], [0.3], [0.35], [0.1], [0.1]])
    np.testing.assert_array_equal(encoders.delta(seq, 0.2)[:, 0], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(encoders.delta(seq, 0.2, off=True)[:, 0], [0, 1, 0, -1, 0])
    static = encoders.delta(np.array([0.5, 0.05]), 0.1, steps=4)
    np.testing.assert_array_equal(static, [[1, 0], [0, 0], [0, 0], [0, 0]])
    d = encoders.direct(np.array([0.25, 0.75]), 3)
    np.testing.assert_array_equal(d, [[0.25, 0.75]] * 3)


def test_encode_on_the_command_line(tmp_path: Path) -> None:
    x = np.random.default_rng(1).random((3, 64))
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "r.npz"
    assert _cli(["simulate", "examples/models/qsnn4.pt", "--backend", "reference", "-i",
                 str(tmp_path / "x.npy"), "--encode", "rate", "--seed", "5", "--steps", "6",
                 "--probe", "input", "-o", str(out), "-q"]) == 0
    with np.load(out) as r:
        np.testing.assert_array_equal(np.moveaxis(r["input"], -1, 0), encoders.rate(x, 6, 5))


def test_dt_accepts_units() -> None:
    from snnc.events.inputs import parse_duration

    assert parse_duration("1ms") == pytest.approx(1e-3)
    assert parse_duration("250us") == pytest.approx(2.5e-4)
    assert parse_duration("1e-4") == pytest.approx(1e-4)
    for bad in ("-1ms", "fast", "0"):
        with pytest.raises(SnncError, match="--dt"):
            parse_duration(bad)


@pytest.mark.torch
def test_compile_measures_an_event_recording(tmp_path: Path) -> None:
    import json

    s = _stream(w=8, h=8, seed=6)
    np.save(tmp_path / "ev.npy", s.events)
    out = tmp_path / "out"
    assert _cli(["compile", "examples/models/qsnn4.pt", "-o", str(out), "-i",
                 str(tmp_path / "ev.npy"), "--dt", "1ms", "--polarity", "merge", "-q"]) == 0
    doc = json.loads((out / "report.json").read_text())
    assert doc["input"]["kind"] == "user"
    assert _cli(["compile", "examples/models/qsnn4.pt", "-o", str(tmp_path / "o2"), "-i",
                 str(tmp_path / "ev.npy"), "--dt", "1ms", "-q"]) == 2  # (2, 8, 8) vs (64,)
    assert not (tmp_path / "o2").exists()
