"""``EventStream``: address events (x, y, t, p) as neuromorphic datasets store them.

The event array uses tonic's structured dtype: ``x int16, y int16, t int64 (microseconds),
p bool`` (True = ON / brighter). ``sensor_size`` is ``(width, height, polarities)`` as in tonic.
Readers for the file formats live in ``formats.py`` and ``spikecv.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FormatError

EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])


def as_events(arr: np.ndarray, where: str) -> np.ndarray:
    """Any structured array with fields x, y, t, p (any order, any integer/bool types) as a
    contiguous ``EVENT_DTYPE`` array sorted by time (stable: same-time events keep their order).
    """
    names = arr.dtype.names or ()
    missing = [f for f in "xytp" if f not in names]
    if missing:
        raise FormatError(f"{where}: an event array needs fields x, y, t, p; it has "
                          f"{', '.join(names) or 'no fields'} (missing {', '.join(missing)})")
    out = np.empty(arr.shape[0] if arr.ndim else 0, EVENT_DTYPE)
    for f in ("x", "y", "t"):
        col = np.asarray(arr[f])
        if col.dtype.kind not in "iub":
            raise FormatError(f"{where}: event field {f!r} has type {col.dtype}; integers needed")
        if col.size and (col.min() < 0 or (f != "t" and col.max() > np.iinfo(np.int16).max)):
            raise FormatError(f"{where}: event field {f!r} has values outside "
                              f"[0, {'2^63' if f == 't' else '32767'}]")
        out[f] = col
    out["p"] = np.asarray(arr["p"]) > 0
    order = np.argsort(out["t"], kind="stable")
    return out[order] if not np.all(order == np.arange(len(order))) else out


@dataclass(frozen=True)
class EventStream:
    """One recording: events sorted by time, and the sensor's (width, height, polarities)."""

    events: np.ndarray
    sensor_size: tuple[int, int, int]
    source: str = ""

    def __post_init__(self) -> None:
        if self.events.dtype != EVENT_DTYPE:
            raise FormatError(f"{self.source}: events must have dtype {EVENT_DTYPE}")
        w, h, p = self.sensor_size
        ev = self.events
        if len(ev) and (int(ev["x"].max()) >= w or int(ev["y"].max()) >= h):
            raise FormatError(f"{self.source}: events reach x={int(ev['x'].max())}, "
                              f"y={int(ev['y'].max())}, outside the sensor {w}x{h}; pass "
                              "--sensor-size W,H")
        if p not in (1, 2):
            raise FormatError(f"{self.source}: a sensor has 1 or 2 polarities, not {p}")

    @property
    def duration_us(self) -> int:
        t = self.events["t"]
        return int(t[-1] - t[0]) + 1 if len(t) else 0


def infer_sensor_size(events: np.ndarray) -> tuple[int, int, int]:
    """(max x + 1, max y + 1, 2): what tonic infers when no sensor size is given."""
    if not len(events):
        return (1, 1, 2)
    return (int(events["x"].max()) + 1, int(events["y"].max()) + 1, 2)
