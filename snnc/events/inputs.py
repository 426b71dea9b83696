"""What ``--input`` of ``snnc simulate`` / ``snnc compile`` accepts, as one function.

``read_input(path, sample_shape, opts)`` returns time-major stimuli (T, B, *shape) and whether
the file held a batch:

- an event file (``.aedat4``, ``.raw``, a ``.dat``, or a ``.npy``/``.npz`` of structured
  (x, y, t, p) arrays): every recording is binned with ``opts.bins()`` (``--dt`` is required)
  and fitted to the model's input shape; several recordings (a multi-array ``.npz``) form a
  batch, padded with empty steps to the longest;
- a plain array with ``--encode NAME``: static data, (*shape) or (B, *shape), encoded over
  ``--steps`` steps (``encoders.py``);
- any other plain array: time last, (*shape, T) or (B, *shape, T), as before.

``event_options`` is the click decorator that adds the options to a command.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import FormatError, SnncError
from .binning import POLARITY_MODES, VALUE_MODES, BinSpec, bin_events, fit_frames
from .encoders import ENCODERS, encode

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str | float | None) -> float | None:
    """Seconds from ``"1ms"``, ``"250us"``, ``"0.001"`` (plain numbers are seconds)."""
    if text is None or isinstance(text, int | float):
        return None if text is None else float(text)
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(s|ms|us|µs|ns)?\s*", str(text))
    try:
        value = float(m.group(1)) if m else None
    except ValueError:
        value = None
    if value is None or not value > 0:
        raise SnncError(f"--dt {text!r}: expected a positive duration such as 1ms, 250us or "
                        "0.001 (seconds)")
    return value * UNITS[m.group(2) or "s"]


def parse_sensor_size(text: str | None) -> tuple[int, int, int] | None:
    if not text:
        return None
    parts = [p for p in re.split(r"[,x ]+", text.strip()) if p]
    try:
        v = [int(p) for p in parts]
    except ValueError:
        v = []
    if len(v) not in (2, 3) or min(v) < 1:
        raise SnncError(f"--sensor-size {text!r}: expected W,H or W,H,P (positive integers)")
    return (v[0], v[1], v[2] if len(v) == 3 else 2)


@dataclass(frozen=True)
class InputOptions:
    """The command-line choices that turn an input file into stimuli."""

    dt_s: float | None = None
    steps: int | None = None
    polarity: str = "split"
    downsample: int = 1
    bin_mode: str = "binary"
    sensor_size: tuple[int, int, int] | None = None
    encode: str | None = None
    seed: int = 0
    threshold: float | None = None

    def bins(self, where: str) -> BinSpec:
        if self.dt_s is None:
            raise SnncError(f"{where}: an event stream needs --dt, the time one chip step "
                            "stands for (e.g. --dt 1ms)")
        return BinSpec(self.dt_s * 1e6, self.steps, self.polarity, self.downsample,
                       self.bin_mode)


def is_event_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".aedat4", ".raw", ".dat"):
        return True
    if suffix not in (".npy", ".npz") or not path.is_file():  # never open a FIFO or device
        return False
    try:
        data = np.load(path, allow_pickle=False, mmap_mode="r" if suffix == ".npy" else None)
    except Exception:
        return False
    if isinstance(data, np.ndarray):
        return data.dtype.names is not None
    with data:
        return any(data[k].dtype.names is not None for k in data.files if k != "sensor_size")


def needs_conversion(path: Path, opts: InputOptions) -> bool:
    return opts.encode is not None or is_event_file(path)


def _events(path: Path, shape: tuple[int, ...], opts: InputOptions) -> tuple[np.ndarray, bool]:
    from .formats import read_events

    streams = read_events(path, opts.sensor_size)
    spec = opts.bins(str(path))
    frames = [fit_frames(bin_events(s, spec), shape, str(path)) for s in streams]
    T = max(f.shape[0] for f in frames)
    out = np.zeros((T, len(frames), *shape), np.int64)
    for b, f in enumerate(frames):
        out[:f.shape[0], b] = f
    return out, len(frames) > 1


def _static(path: Path, shape: tuple[int, ...], opts: InputOptions) -> tuple[np.ndarray, bool]:
    from ..readers import read_array

    x = read_array(path, "the static input array")
    if not isinstance(x, np.ndarray):
        raise FormatError(f"{path}: --encode takes one .npy array of static data")
    batched = x.ndim == len(shape) + 1
    if tuple(x.shape[int(batched):]) != tuple(shape):
        raise FormatError(f"{path}: static input of shape {x.shape} does not match the model "
                          f"input {shape}: expected {shape} or (B, *{shape}) with --encode")
    if opts.steps is None:
        raise SnncError(f"--encode {opts.encode} needs --steps (how many steps to encode)")
    xs = x if batched else x[None]
    return encode(opts.encode or "", xs, opts.steps, opts.seed, opts.threshold), batched


def read_input(path: str | Path, sample_shape: tuple[int, ...],
               opts: InputOptions | None = None) -> tuple[np.ndarray, bool]:
    """Time-major stimuli (T, B, *shape) from ``path`` and whether it held a batch."""
    from ..io import to_time_major

    p, opts, shape = Path(path), opts or InputOptions(), tuple(sample_shape)
    from ..readers import regular_file

    regular_file(p, "the input")
    if is_event_file(p):
        if opts.encode:
            raise SnncError(f"{p}: --encode is for static arrays; event streams are binned")
        return _events(p, shape, opts)
    if opts.encode:
        return _static(p, shape, opts)
    from ..readers import read_array

    x = read_array(p, "the input array", mmap=True)  # read in chunks by snnc simulate
    if not isinstance(x, np.ndarray):
        raise FormatError(f"{p}: is an .npz archive of plain arrays; --input takes one .npy "
                          "array, time last ((*shape, T) or (B, *shape, T)), or an event file")
    return to_time_major(x, shape), x.ndim == len(shape) + 2


def event_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the event/encoder options; the command receives them as ``input_opts``-ready kwargs
    (``dt``, ``polarity``, ``downsample``, ``bin_mode``, ``sensor_size``, ``encode``, ``seed``,
    ``encode_threshold``); build the options with ``options_from(kwargs, steps)``."""
    opts = [
        click.option("--polarity", type=click.Choice(POLARITY_MODES), default="split",
                     show_default=True, help="Events: OFF/ON as two channels, merged, or one."),
        click.option("--downsample", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Events: spatial downsample factor (x // f, y // f)."),
        click.option("--bin-mode", type=click.Choice(VALUE_MODES), default="binary",
                     show_default=True, help="Events: 1 per pixel and step, or event counts."),
        click.option("--sensor-size", default=None, metavar="W,H[,P]",
                     help="Events: sensor size when the file does not state it."),
        click.option("--encode", type=click.Choice(ENCODERS), default=None,
                     help="Static input (*shape) or (B, *shape): encode it over --steps steps."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of the rate encoder."),
        click.option("--encode-threshold", type=float, default=None,
                     help="Threshold of the delta (default 0.1) or latency (default 0) encoder."),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def options_from(kw: dict[str, Any], steps: int | None, dt: Any) -> InputOptions:
    """Pop the ``event_options`` keyword arguments out of ``kw`` into an ``InputOptions``."""
    return InputOptions(dt_s=parse_duration(dt), steps=steps, polarity=kw.pop("polarity"),
                        downsample=kw.pop("downsample"), bin_mode=kw.pop("bin_mode"),
                        sensor_size=parse_sensor_size(kw.pop("sensor_size")),
                        encode=kw.pop("encode"), seed=kw.pop("seed"),
                        threshold=kw.pop("encode_threshold"))
