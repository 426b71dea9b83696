"""SpikeCV spike-camera streams (``.dat``): bit-packed binary frames, one per camera tick.

Format (SpikeCV's ``RawToSpike`` / ``SpikeToRaw``): the file is a sequence of frames of
H*W/8 bytes each. Inside a frame, pixel i (row-major over the stored image) is bit i % 8 (least
significant bit first) of byte i // 8. The camera stores its image upside down, so the stored
rows are flipped back (``np.flipud``) on reading. The frame size is not in the file: it comes
from the dataset's ``config.yaml`` (``spike_h``, ``spike_w``) next to the file or in a parent
folder, or from ``--sensor-size W,H``. A tick lasts 1/rate seconds (40 kHz, the cameras' usual
rate, unless given); spike k of a pixel becomes an ON event at t = round(k * 1e6 / rate) us.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import FormatError
from .stream import EVENT_DTYPE, EventStream

DEFAULT_RATE_HZ = 40_000.0


def find_config(path: Path) -> Path | None:
    """``config.yaml`` in the file's folder or up to two folders above it."""
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        cfg = folder / "config.yaml"
        if cfg.is_file():
            return cfg
    return None


def frame_size(cfg: Path) -> tuple[int, int]:
    """(width, height) from a SpikeCV ``config.yaml`` (``spike_w`` / ``spike_h`` keys)."""
    text = cfg.read_text(errors="replace")
    got = {}
    for key in ("spike_w", "spike_h"):
        m = re.search(rf"^\s*{key}\s*:\s*(\d+)\s*(#.*)?$", text, re.M)
        if not m:
            raise FormatError(f"{cfg}: no '{key}: <int>' entry; SpikeCV configs give the frame "
                              "size as spike_w and spike_h")
        got[key] = int(m.group(1))
    return got["spike_w"], got["spike_h"]


def unpack_frames(raw: np.ndarray, width: int, height: int) -> np.ndarray:
    """(n_frames, H, W) bool spike frames from the bytes of a SpikeCV stream."""
    per = width * height // 8
    frames = np.unpackbits(raw.reshape(-1, per), axis=1, bitorder="little")
    return frames.reshape(-1, height, width)[:, ::-1, :].astype(bool)


def read_spikecv(path: Path, sensor_size: tuple[int, int, int] | None = None,
                 rate_hz: float | None = None) -> EventStream:
    if sensor_size is not None:
        width, height = sensor_size[0], sensor_size[1]
    else:
        cfg = find_config(path)
        if cfg is None:
            raise FormatError(f"{path}: a SpikeCV .dat stream does not store its frame size; "
                              "put the dataset's config.yaml (spike_w, spike_h) next to it or "
                              "pass --sensor-size W,H")
        width, height = frame_size(cfg)
    if (width * height) % 8:
        raise FormatError(f"{path}: frame {width}x{height} is not a whole number of bytes")
    raw = np.fromfile(path, np.uint8)
    per = width * height // 8
    if raw.size == 0 or raw.size % per:
        raise FormatError(f"{path}: {raw.size} bytes is not a whole number of {width}x{height} "
                          f"frames ({per} bytes each); check spike_w / spike_h")
    frames = unpack_frames(raw, width, height)
    k, y, x = np.nonzero(frames)
    rate = float(rate_hz or DEFAULT_RATE_HZ)
    ev = np.empty(len(k), EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"] = x, y, True
    ev["t"] = np.rint(k * (1e6 / rate)).astype(np.int64)
    return EventStream(ev, (width, height, 1), str(path))
