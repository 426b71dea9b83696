"""Binning address events into chip time steps: the one definition training and deployment share.

``bin_events(stream, spec)`` returns frames (T, C, H', W') of integers:

- time: step k holds the events with ``t0 + k*dt <= t < t0 + (k+1)*dt`` (``dt`` in
  microseconds; ``t0`` = ``spec.t_start`` or the first event's time, as tonic's ``ToFrame``
  slices); T = ``spec.steps`` (later events dropped, missing steps empty) or just enough steps
  for the last event;
- polarity: ``split`` gives channel 0 = OFF and 1 = ON (tonic's order) for a two-polarity
  sensor, one channel for a one-polarity sensor; ``merge`` one channel with both; ``on`` /
  ``off`` one channel with only that polarity;
- space: ``downsample`` f maps pixel (x, y) to (x // f, y // f), so H' = ceil(H / f);
- value: ``count`` = number of events in the bin; ``binary`` = 1 if there was any (what a
  Loihi 1 input port sends: one spike per axon and step).

``fit_frames`` reshapes frames to a model's per-sample input shape: (C, H, W) as is, or any
shape with the same number of elements in row-major (C, H, W) order (a flattening model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SnncError
from .stream import EventStream

POLARITY_MODES = ("split", "merge", "on", "off")
VALUE_MODES = ("binary", "count")


@dataclass(frozen=True)
class BinSpec:
    """How events become frames (see the module docstring); ``dt_us`` in microseconds."""

    dt_us: float
    steps: int | None = None
    polarity: str = "split"
    downsample: int = 1
    mode: str = "binary"
    t_start: int | None = None

    def __post_init__(self) -> None:
        if not self.dt_us > 0:
            raise SnncError(f"the bin width dt must be positive, got {self.dt_us} us")
        if self.steps is not None and self.steps < 1:
            raise SnncError(f"steps must be at least 1, got {self.steps}")
        if self.polarity not in POLARITY_MODES:
            raise SnncError(f"polarity must be one of {', '.join(POLARITY_MODES)}")
        if self.mode not in VALUE_MODES:
            raise SnncError(f"bin value mode must be one of {', '.join(VALUE_MODES)}")
        if self.downsample < 1:
            raise SnncError(f"downsample must be a positive integer, got {self.downsample}")

    def channels(self, sensor_polarities: int) -> int:
        return 2 if self.polarity == "split" and sensor_polarities == 2 else 1

    def frame_shape(self, sensor_size: tuple[int, int, int]) -> tuple[int, int, int]:
        w, h, p = sensor_size
        f = self.downsample
        return (self.channels(p), -(-h // f), -(-w // f))


def bin_events(stream: EventStream, spec: BinSpec) -> np.ndarray:
    """Frames (T, C, H', W') int64 of ``stream`` under ``spec``."""
    ev = stream.events
    t0 = spec.t_start if spec.t_start is not None else (int(ev["t"][0]) if len(ev) else 0)
    rel = ev["t"] - t0
    keep = rel >= 0
    k = np.floor(rel[keep] / spec.dt_us).astype(np.int64)
    ev = ev[keep]
    T = spec.steps if spec.steps is not None else (int(k.max()) + 1 if len(k) else 1)
    C, H, W = spec.frame_shape(stream.sensor_size)
    p = ev["p"]
    if spec.polarity == "on":
        sel = p
    elif spec.polarity == "off":
        sel = ~p
    else:
        sel = np.ones(len(ev), bool)
    sel &= k < T
    ch = p.astype(np.int64) if C == 2 else np.zeros(len(ev), np.int64)
    f = spec.downsample
    frames = np.zeros((T, C, H, W), np.int64)
    np.add.at(frames, (k[sel], ch[sel], ev["y"][sel] // f, ev["x"][sel] // f), 1)
    return np.minimum(frames, 1) if spec.mode == "binary" else frames


def fit_frames(frames: np.ndarray, sample_shape: tuple[int, ...], where: str = "") -> np.ndarray:
    """(T, C, H, W) -> (T, *sample_shape), refusing shapes that do not hold the same pixels."""
    T = frames.shape[0]
    have = tuple(frames.shape[1:])
    if have == tuple(sample_shape):
        return frames
    if int(np.prod(have)) == int(np.prod(sample_shape)):
        return frames.reshape(T, *sample_shape)
    raise SnncError(f"{where}: binned events give frames of {have} (channels, height, width), "
                    f"but the model takes {tuple(sample_shape)}; change --polarity, "
                    "--downsample or --sensor-size so the two match")
