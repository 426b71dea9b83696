"""Small shared file helpers: atomic writes and time-axis conventions of user-facing arrays.

Files users exchange with snnc (``X.npy`` inputs, ``R.npz`` results) keep time on the LAST axis,
as Lava and netx do: (*shape, T) for one sample or (B, *shape, T) for a batch. Python APIs
(simulators, front ends) use time-major arrays (T, B, *shape). ``to_time_major`` and
``to_time_last`` are the only conversions.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
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
    from .readers import read_bytes

    data = read_bytes(path, what, limit=16 << 20)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: {what} is not UTF-8 text (byte {exc.start})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise FormatError(f"{path}: {what} is not valid TOML: {exc}") from None


def parse_input_shape(value: Any) -> tuple[int, ...]:
    """A per-sample input shape from ``--input-shape`` (``"64"``, ``"2,34,34"``, ``"2x34x34"``)
    or a sequence of ints, within bounds; ``FormatError`` otherwise."""
    if isinstance(value, str):
        value = [v for v in value.replace("x", ",").split(",") if v.strip()]
    if isinstance(value, int):
        value = [value]
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise FormatError(f"input shape {value!r} is not a list of integers") from None
    if not shape or len(shape) > 8 or any(d < 1 or d > 1 << 20 for d in shape) \
            or math.prod(shape) > 1 << 26:
        raise FormatError(f"input shape {value!r}: expected 1 to 8 positive sizes of at most "
                          f"{1 << 20} each and {1 << 26} values in all, e.g. 64 or 2,34,34")
    return shape


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
    """Yield a temporary path next to ``path``; rename it over ``path`` only on success.

    The file gets the user's umask (``mkstemp`` alone gives 0600). Paths that cannot be written
    (a directory, a parent that is a file, a name too long) raise ``FormatError``.
    """
    from .outdir import umask

    dest = Path(path)
    if dest.is_dir():
        raise FormatError(f"{dest}: is a directory; name a file to write")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name[:200]}.", suffix=".tmp",
                                   dir=dest.parent)
    except OSError as exc:
        raise FormatError(f"{dest}: cannot write here ({exc.strerror or exc})") from None
    os.fchmod(fd, 0o666 & ~umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except OSError as exc:
        raise FormatError(f"{dest}: cannot write the file ({exc.strerror or exc})") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def check_output_file(path: str | os.PathLike[str], ours: Callable[[Path], bool]) -> Path:
    """Refuse to overwrite an existing file that ``ours`` does not recognise as snnc's own
    (``--force`` does not change this: snnc never overwrites a file it did not write)."""
    dest = Path(path)
    if dest.is_dir():
        raise FormatError(f"{dest}: is a directory; name a file to write")
    if (dest.exists() or dest.is_symlink()) and not _safe_ours(ours, dest):
        raise FormatError(f"{dest}: the file exists and was not written by snnc; snnc never "
                          "overwrites files it did not write, and --force does not change "
                          "this. Name another file, or move this one elsewhere.")
    return dest


def _safe_ours(ours: Callable[[Path], bool], dest: Path) -> bool:
    try:
        return dest.is_file() and not dest.is_symlink() and bool(ours(dest))
    except Exception:  # a file we cannot even parse is not ours
        return False


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str],
               inputs: Iterable[str | os.PathLike[str]] = ()) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``path`` on success (``snnc.outdir``)."""
    from .outdir import output_dir

    with output_dir(path, inputs=inputs) as tmp:
        yield tmp
