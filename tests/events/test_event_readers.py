"""Event readers: files written by tonic's dtype and numpy, by expelliarmus's own writer, and
AEDAT4 / SpikeCV files built byte by byte from their format descriptions; malformed files exit 2
with a message and write nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from event_files import aedat4_file, spikecv_bytes

from snnc.cli import main
from snnc.errors import FormatError
from snnc.events import EVENT_DTYPE, read_events


def _random(n: int, w: int, h: int, t_max: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, EVENT_DTYPE)
    ev["x"], ev["y"] = rng.integers(0, w, n), rng.integers(0, h, n)
    ev["t"], ev["p"] = np.sort(rng.integers(0, t_max, n)), rng.integers(0, 2, n)
    return ev


def _same(a: np.ndarray, b: np.ndarray) -> None:
    for f in "xytp":
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)


@pytest.mark.requires("tonic")
def test_tonic_npy_and_npz(tmp_path: Path) -> None:
    import tonic

    ev = _random(200, 34, 34, 10_000)
    arr = tonic.io.make_structured_array(ev["x"], ev["y"], ev["t"], ev["p"],
                                         dtype=tonic.io.events_struct)
    np.save(tmp_path / "a.npy", arr)
    (s,) = read_events(tmp_path / "a.npy")
    _same(s.events, ev)
    assert s.sensor_size == (int(ev["x"].max()) + 1, int(ev["y"].max()) + 1, 2)
    np.savez(tmp_path / "b.npz", arr[:50], arr[50:], sensor_size=np.array([34, 34, 2]))
    streams = read_events(tmp_path / "b.npz")
    assert [len(s.events) for s in streams] == [50, 150]
    assert all(s.sensor_size == (34, 34, 2) for s in streams)
    _same(streams[1].events, ev[50:])


def test_unsorted_events_are_sorted_stably(tmp_path: Path) -> None:
    ev = _random(50, 8, 8, 100)[::-1].copy()
    np.save(tmp_path / "u.npy", ev)
    (s,) = read_events(tmp_path / "u.npy", sensor_size=(8, 8, 2))
    assert np.all(np.diff(s.events["t"]) >= 0)
    _same(s.events, ev[np.argsort(ev["t"], kind="stable")])


@pytest.mark.requires("expelliarmus")
@pytest.mark.parametrize(("enc", "suffix"), [("evt2", ".raw"), ("evt3", ".raw"), ("dat", ".dat")])
def test_prophesee_files_from_expelliarmus_writer(tmp_path: Path, enc: str, suffix: str) -> None:
    from expelliarmus import Wizard

    # expelliarmus 1.1.12 round-trips EVT3 timestamps only below 2**16 us (it wraps them), so
    # the recording stays within 65 ms for every encoding
    ev = _random(500, 640, 480, 65_000, seed=3)
    raw = np.zeros(len(ev), [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "u1")])
    for f in "txyp":
        raw[f] = ev[f]
    path = tmp_path / f"rec{suffix}"
    Wizard(encoding=enc).save(path, raw)
    (s,) = read_events(path, sensor_size=(640, 480, 2))
    _same(s.events, ev)


@pytest.mark.requires("aedat")
def test_aedat4_built_from_the_spec(tmp_path: Path) -> None:
    ev = _random(300, 346, 260, 50_000, seed=5)
    packets = [tuple(ev[f][sl] for f in "txyp") for sl in (slice(0, 120), slice(120, 300))]
    path = tmp_path / "rec.aedat4"
    path.write_bytes(aedat4_file(packets, 346, 260))
    (s,) = read_events(path)
    assert s.sensor_size == (346, 260, 2)
    _same(s.events, ev)


def test_spikecv_stream_with_config(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    frames = (rng.random((5, 4, 16)) < 0.3).astype(np.uint8)  # 5 ticks of a 16x4 camera
    (tmp_path / "spike").mkdir()
    path = tmp_path / "spike" / "scene.dat"
    path.write_bytes(spikecv_bytes(frames))
    (tmp_path / "config.yaml").write_text("# SpikeCV dataset\nspike_h: 4\nspike_w: 16\n")
    (s,) = read_events(path)
    assert s.sensor_size == (16, 4, 1)
    k, y, x = np.nonzero(frames)
    order = np.lexsort((x, y, k))
    np.testing.assert_array_equal(s.events["t"], (k * 25)[order])  # 40 kHz: 25 us per tick
    np.testing.assert_array_equal(s.events["y"], y[order])
    np.testing.assert_array_equal(s.events["x"], x[order])
    assert s.events["p"].all()


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("bad.aedat4", b"#!AER-DAT3.1\r\nxxxx", "AEDAT4"),
    ("trunc.aedat4", None, "AEDAT4"),
    ("nohead.raw", b"\x01\x02\x03\x04" * 8, "% evt 2.0"),
    ("odd.raw", b"% evt 4.0\n% end\n\x00\x00", "% evt 2.0"),
    ("cam.dat", bytes(7), "config.yaml"),
    ("plain.npy", None, "fields x, y, t, p"),
    ("junk.npz", b"PK\x03\x04 not a zip", "cannot read"),
])
def test_malformed_event_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      name: str, content: bytes | None, needle: str) -> None:
    path = tmp_path / name
    if name == "trunc.aedat4":
        ev = _random(20, 32, 24, 1000)
        content = aedat4_file([tuple(ev[f] for f in "txyp")], 32, 24)[:-40]
    if name == "plain.npy":
        np.save(path, np.zeros(4, [("a", "<i4"), ("b", "<i4")]))
    else:
        path.write_bytes(content)
    out = tmp_path / "r.npz"
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "examples/models/qsnn4.pt", "--backend", "reference", "-i", str(path),
              "--dt", "1ms", "-o", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert needle in err
    assert "Traceback" not in err
    assert not out.exists()


def test_spikecv_wrong_frame_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.dat"
    path.write_bytes(bytes(10))
    (tmp_path / "config.yaml").write_text("spike_h: 4\nspike_w: 16\n")
    with pytest.raises(FormatError, match="whole number of 16x4 frames"):
        read_events(path)
