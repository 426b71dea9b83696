"""Small shared file helpers: atomic writes and time-axis conventions of user-facing arrays.

Files users exchange with snnc (``X.npy`` inputs, ``R.npz`` results) keep time on the LAST axis,
as Lava and netx do: (*shape, T) for one sample or (B, *shape, T) for a batch. Python APIs
(simulators, front ends) use time-major arrays (T, B, *shape). ``to_time_major`` and
``to_time_last`` are the only conversions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormatError


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; ``FormatError`` naming the file and ``what`` it should be."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 (the Lava environment)
        import tomli as tomllib
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise FormatError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(f"{path}: {what} is not valid TOML: {exc}") from None


def to_time_major(x: np.ndarray, sample_shape: tuple[int, ...]) -> np.ndarray:
    """(*shape, T) or (B, *shape, T) -> (T, B, *shape)."""
    x = np.asarray(x)
    n = len(sample_shape)
    if x.ndim == n + 1:
        x = x[None]
    if x.ndim != n + 2 or tuple(x.shape[1:-1]) != tuple(sample_shape):
        raise FormatError(f"input of shape {x.shape} does not match the model input "
                          f"{sample_shape}: expected (*shape, T) = {(*sample_shape, 'T')} "
                          f"or (B, *shape, T)")
    return np.moveaxis(x, -1, 0)


def to_time_last(x: np.ndarray) -> np.ndarray:
    """(T, B, *shape) -> (B, *shape, T)."""
    return np.moveaxis(np.asarray(x), 0, -1)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only on success."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory; it replaces ``path`` only when the block succeeds."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        yield tmp
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
