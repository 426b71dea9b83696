"""Labelled datasets for ``snnc eval`` / ``snnc sweep``: ``.npz`` files with ``x`` and ``y``.

``x`` is (N, *shape, T) with time last, as every array snnc exchanges, or static data
(N, *shape) together with an encoder (``--encode``, ``snnc.events.encoders``) and ``--steps``;
``y`` is (N,) integer class labels. ``--x-key`` / ``--y-key`` pick other arrays. The samples
are kept sample-major, (N, T, *shape), so shards are slices.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FormatError, SnncError


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray  # (N, T, *shape)
    y: np.ndarray  # (N,) int64
    source: str

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, limit: int | None) -> Dataset:
        if limit is None or limit >= len(self):
            return self
        return Dataset(self.x[:limit], self.y[:limit], f"{self.source} (first {limit})")


def _arrays(path: Path, x_key: str, y_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise FormatError(f"{path}: expected an .npz with arrays '{x_key}' and '{y_key}'")
            missing = [k for k in (x_key, y_key) if k not in data.files]
            if missing:
                raise FormatError(f"{path}: no array {missing[0]!r}; it has "
                                  f"{', '.join(data.files)} (choose with --x-key / --y-key)")
            return data[x_key], data[y_key]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as exc:
        raise FormatError(f"{path}: not a readable .npz dataset ({exc})") from None


def load_dataset(path: str | Path, sample_shape: tuple[int, ...], x_key: str = "x",
                 y_key: str = "y", encode: str | None = None, steps: int | None = None,
                 seed: int = 0, threshold: float | None = None) -> Dataset:
    """Read and check a dataset against the model's per-sample input shape."""
    from ..events.encoders import encode as encode_fn

    p = Path(path)
    x, y = _arrays(p, x_key, y_key)
    shape = tuple(sample_shape)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise FormatError(f"{p}: '{y_key}' must be (N,) integer labels, got {y.dtype} {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise FormatError(f"{p}: {x.shape[0]} samples in '{x_key}' but {y.shape[0]} labels")
    if encode is not None:
        if tuple(x.shape[1:]) != shape:
            raise FormatError(f"{p}: static '{x_key}' {x.shape} does not match the model input "
                              f"(N, *{shape}) for --encode")
        if steps is None:
            raise SnncError(f"--encode {encode} needs --steps")
        xs = np.moveaxis(encode_fn(encode, x, steps, seed, threshold), 0, 1)
    else:
        if x.ndim != len(shape) + 2 or tuple(x.shape[1:-1]) != shape:
            hint = " (static data: add --encode and --steps)" if tuple(x.shape[1:]) == shape else ""
            raise FormatError(f"{p}: '{x_key}' has shape {x.shape}; the model needs "
                              f"(N, *{shape}, T), time last{hint}")
        xs = np.moveaxis(x, -1, 1)
    if len(y) == 0:
        raise FormatError(f"{p}: the dataset is empty")
    return Dataset(np.ascontiguousarray(xs), y.astype(np.int64), str(p))
