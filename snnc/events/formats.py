"""Readers of event-camera files into ``EventStream``s, chosen by suffix and header.

- ``.npy`` / ``.npz``: tonic's structured arrays (x, y, t, p). An ``.npz`` holds one recording
  per structured array (in key order); an optional ``sensor_size`` array gives (W, H[, P]).
- ``.aedat4``: iniVation AEDAT 4 through the ``aedat`` package (the first event stream; the
  sensor size comes from the file's stream description).
- ``.raw``: Prophesee EVT 2.0 / EVT 3.0 (the ``% evt 2.0`` / ``% evt 3.0`` header line), and
  ``.dat`` starting with a ``%`` header: Prophesee DAT; EVT 2.0 and DAT through
  ``expelliarmus``, EVT 3.0 through snnc's own decoder (``evt3.py``). The sensor
  size comes from a ``% geometry WxH`` or ``% Width`` / ``% Height`` header line when present.
- any other ``.dat``: a SpikeCV spike-camera stream (``spikecv.py``).

Every reader raises ``FormatError`` naming the file on anything it cannot read.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from ..errors import FormatError, SnncError
from .stream import EVENT_DTYPE, EventStream, as_events, infer_sensor_size

EVENT_SUFFIXES = (".npy", ".npz", ".aedat4", ".raw", ".dat")
Size = tuple[int, int, int] | None


def _size(given: Size, found: Size, events: np.ndarray) -> tuple[int, int, int]:
    return given or found or infer_sensor_size(events)


def _as_size(arr: np.ndarray, where: str) -> tuple[int, int, int]:
    v = [int(x) for x in np.asarray(arr).reshape(-1)]
    if len(v) not in (2, 3) or min(v) < 1:
        raise FormatError(f"{where}: 'sensor_size' must be (W, H) or (W, H, P), got {v}")
    return (v[0], v[1], v[2] if len(v) == 3 else 2)


def is_event_array(arr: np.ndarray) -> bool:
    return arr.dtype.names is not None and {"x", "t", "p"} <= set(arr.dtype.names)


def read_numpy(path: Path, sensor_size: Size = None) -> list[EventStream]:
    """Structured event arrays from ``.npy`` / ``.npz`` (never unpickles)."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"{path}: cannot read the event array ({exc})") from None
    if isinstance(data, np.ndarray):
        arrays, found = [data], None
    else:
        with data:
            found = _as_size(data["sensor_size"], str(path)) if "sensor_size" in data else None
            arrays = [data[k] for k in data.files if k != "sensor_size"]
    streams = []
    for arr in arrays:
        if not is_event_array(arr):
            raise FormatError(f"{path}: holds an array of dtype {arr.dtype}, not events with "
                              "fields x, y, t, p")
        ev = as_events(arr, str(path))
        streams.append(EventStream(ev, _size(sensor_size, found, ev), str(path)))
    if not streams:
        raise FormatError(f"{path}: no event array inside")
    return streams


def read_aedat4(path: Path, sensor_size: Size = None) -> EventStream:
    """The first event stream of an AEDAT 4 file (``aedat.Decoder``)."""
    try:
        import aedat
    except ImportError:
        raise SnncError("reading .aedat4 needs the 'aedat' package: pip install aedat") from None
    try:
        dec = aedat.Decoder(str(path))
        streams = {k: v for k, v in dec.id_to_stream().items() if v.get("type") == "events"}
        if not streams:
            raise FormatError(f"{path}: the AEDAT4 file has no event stream")
        sid = min(streams)
        parts = [pkt["events"] for pkt in dec if pkt["stream_id"] == sid and "events" in pkt]
    except FormatError:
        raise
    except Exception as exc:  # the Rust decoder raises plain exceptions with its message
        raise FormatError(f"{path}: not a readable AEDAT4 file ({exc})") from None
    raw = np.concatenate(parts) if parts else np.zeros(0, [("t", "<u8"), ("x", "<u2"),
                                                           ("y", "<u2"), ("p", "?")])
    if raw.dtype.names and "on" in raw.dtype.names:  # older aedat releases name polarity "on"
        raw = raw.astype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("p", "?")])
    ev = as_events(raw, str(path))
    s = streams[sid]
    found = (int(s["width"]), int(s["height"]), 2) if s.get("width") else None
    return EventStream(ev, _size(sensor_size, found, ev), str(path))


def prophesee_header(path: Path) -> list[str]:
    """The ``%`` header lines at the start of a Prophesee file (empty if there are none)."""
    return _header(path)[0]


def _header(path: Path) -> tuple[list[str], int]:
    """(header lines, byte offset where the data start)."""
    lines, offset = [], 0
    with path.open("rb") as fh:
        while True:
            line = fh.readline(4096)
            if not line.startswith(b"%"):
                break
            offset += len(line)
            lines.append(line.decode("latin-1").strip())
            if line.strip() == b"% end":
                break
    return lines, offset


def _prophesee_size(header: list[str]) -> Size:
    text = "\n".join(header)
    m = re.search(r"^%\s*geometry\s+(\d+)\s*x\s*(\d+)", text, re.M | re.I)
    if m:
        return (int(m.group(1)), int(m.group(2)), 2)
    w = re.search(r"^%\s*width\s+(\d+)", text, re.M | re.I)
    h = re.search(r"^%\s*height\s+(\d+)", text, re.M | re.I)
    return (int(w.group(1)), int(h.group(1)), 2) if w and h else None


def _encoding(path: Path, header: list[str]) -> str:
    if path.suffix.lower() == ".dat":
        return "dat"
    text = "\n".join(header).lower()
    if re.search(r"^%\s*(evt\s*3\.0|format\s+evt3)", text, re.M):
        return "evt3"
    if re.search(r"^%\s*(evt\s*2\.0|format\s+evt2)", text, re.M):
        return "evt2"
    raise FormatError(f"{path}: a Prophesee .raw file needs a header line '% evt 2.0' or "
                      "'% evt 3.0' (EVT 2.0 and 3.0 are supported); none found")


def read_prophesee(path: Path, sensor_size: Size = None) -> EventStream:
    """Prophesee EVT 2.0 (``.raw``) or DAT (``.dat``) through ``expelliarmus``; EVT 3.0 with
    snnc's own decoder (``evt3.py`` says why)."""
    header, offset = _header(path)
    if not header:
        raise FormatError(f"{path}: no Prophesee header at the start of the file (lines such "
                          "as '% evt 2.0' / '% evt 3.0' or a DAT '%' header)")
    enc = _encoding(path, header)
    if enc == "evt3":
        from .evt3 import read_evt3

        ev = as_events(read_evt3(path, offset), str(path))
        return EventStream(ev, _size(sensor_size, _prophesee_size(header), ev), str(path))
    try:
        from expelliarmus import Wizard
    except ImportError:
        raise SnncError("reading Prophesee files needs the 'expelliarmus' package: "
                        "pip install expelliarmus") from None
    try:
        raw = Wizard(encoding=enc).read(path)
    except Exception as exc:
        raise FormatError(f"{path}: not a readable {enc.upper()} file ({exc})") from None
    ev = as_events(raw, str(path))
    return EventStream(ev, _size(sensor_size, _prophesee_size(header), ev), str(path))


def read_events(path: str | Path, sensor_size: Size = None,
                spikecv_rate_hz: float | None = None) -> list[EventStream]:
    """Every recording in ``path`` (one for all formats but a multi-array ``.npz``)."""
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix in (".npy", ".npz"):
        return read_numpy(p, sensor_size)
    if suffix == ".aedat4":
        return [read_aedat4(p, sensor_size)]
    if suffix == ".raw" or (suffix == ".dat" and prophesee_header(p)):
        return [read_prophesee(p, sensor_size)]
    if suffix == ".dat":
        from .spikecv import read_spikecv

        return [read_spikecv(p, sensor_size, spikecv_rate_hz)]
    raise FormatError(f"{p}: unknown event file type {suffix!r}; snnc reads "
                      f"{', '.join(EVENT_SUFFIXES)}")


__all__ = ["EVENT_DTYPE", "EVENT_SUFFIXES", "read_events"]
