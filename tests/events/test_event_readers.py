"""Event readers: files written by tonic's dtype and numpy, by expelliarmus's own writer, and
AEDAT4 / SpikeCV files built byte by byte from their format descriptions; malformed files exit 2
with a message and write nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from event_files import aedat4_file, evt3_words, spikecv_bytes

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
@pytest.mark.parametrize(("enc", "suffix", "t_max"), [
    ("evt2", ".raw", 5_000_000), ("dat", ".dat", 5_000_000),
    # expelliarmus 1.1.12's EVT3 writer emits no EVT_TIME_HIGH words, so its files are only
    # spec-conformant while every time stays below 4096 us
    ("evt3", ".raw", 4_096)])
def test_prophesee_files_from_expelliarmus_writer(tmp_path: Path, enc: str, suffix: str,
                                                  t_max: int) -> None:
    from expelliarmus import Wizard

    ev = _random(500, 640, 480, t_max, seed=3)
    raw = np.zeros(len(ev), [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "u1")])
    for f in "txyp":
        raw[f] = ev[f]
    path = tmp_path / f"rec{suffix}"
    Wizard(encoding=enc).save(path, raw)
    (s,) = read_events(path, sensor_size=(640, 480, 2))
    _same(s.events, ev)


def _evt3(path: Path, words: list[int]) -> Path:
    path.write_bytes(b"% evt 3.0\n% geometry 1280x720\n% end\n"
                     + np.asarray(words, "<u2").tobytes())
    return path


def test_evt3_built_from_the_spec(tmp_path: Path) -> None:
    ev = _random(400, 1280, 720, 40_000_000, seed=8)  # 40 s: the 24-bit time wraps twice
    ev["t"][-3:] = [2**24 - 1, 2**24, 2**25 + 7]
    ev = ev[np.argsort(ev["t"], kind="stable")]
    (s,) = read_events(_evt3(tmp_path / "a.raw", evt3_words(ev)))
    assert s.sensor_size == (1280, 720, 2)
    _same(s.events, ev)


def test_evt3_vector_events(tmp_path: Path) -> None:
    words = [0x8000 | 3, 0x6000 | 17, 0x0000 | 40,  # t = 3 * 4096 + 17, y = 40
             0x3000 | (1 << 11) | 100,  # VECT_BASE_X: x = 100, ON
             0x4000 | 0b101000000001,  # VECT_12: x = 100, 109, 111; base -> 112
             0x5000 | 0b10000001,  # VECT_8: x = 112, 119; base -> 120
             0x6000 | 18, 0x3000 | 7, 0x5000 | 0b10,  # t + 1, OFF vector: x = 8
             0x2000 | 5]  # a single OFF event at x = 5
    (s,) = read_events(_evt3(tmp_path / "v.raw", words))
    assert s.events["x"].tolist() == [100, 109, 111, 112, 119, 8, 5]
    assert s.events["y"].tolist() == [40] * 7
    assert s.events["t"].tolist() == [3 * 4096 + 17] * 5 + [3 * 4096 + 18] * 2
    assert s.events["p"].tolist() == [True] * 5 + [False] * 2


def test_evt3_truncated_word_is_refused(tmp_path: Path) -> None:
    path = _evt3(tmp_path / "t.raw", [0x8000, 0x6001, 0x0002, 0x2003])
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(FormatError, match="not whole 16-bit words"):
        read_events(path)


@pytest.mark.requires("expelliarmus")
def test_evt2_built_from_the_spec(tmp_path: Path) -> None:
    ev = _random(300, 640, 480, 9_000_000, seed=12)
    words, high = [], None
    for e in ev:  # EVT 2.0: 32-bit words; CD_OFF 0x0 / CD_ON 0x1, EVT_TIME_HIGH 0x8
        t = int(e["t"])
        if high != t >> 6:
            high = t >> 6
            words.append((0x8 << 28) | high)
        words.append((int(e["p"]) << 28) | ((t & 63) << 22) | (int(e["x"]) << 11) | int(e["y"]))
    path = tmp_path / "b.raw"
    path.write_bytes(b"% evt 2.0\n% end\n" + np.asarray(words, "<u4").tobytes())
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
    ("junk.npz", b"PK\x03\x04 not a zip", "not a readable"),
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
