"""Bounded, validated opening of the files snnc reads (README "Robustness", docs/DESIGN.md).

Every reader goes through here before a library parses the bytes:

- ``regular_file``: the path must be a regular file (no FIFO, device, ``/dev/zero``, directory)
  no bigger than ``SNNC_MAX_INPUT_BYTES`` (default 8 GiB); ``FormatError`` otherwise.
- ``open_hdf5``: checks the HDF5 signature, then opens read-only without file locking. A corrupt
  HDF5 file can make the HDF5 library spin forever (ignoring Ctrl-C), so a small file is first
  walked completely in a forked child with a timeout (``SNNC_HDF5_TIMEOUT`` seconds, default 20);
  a child that does not finish is killed and the file refused. Files above 256 MiB skip the
  probe (fuzzing found the hangs in small, truncated or bit-flipped files).
- ``read_json``: UTF-8 JSON object of bounded size; ``read_array``: ``.npy``/``.npz`` without
  pickles, numeric dtypes only, at least 1-d, non-empty, finite.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FormatError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_HDF5_OFFSETS = (0, 512, 1024, 2048)
_PROBE_MAX_BYTES = 256 << 20
MAX_DATASET_BYTES = 4 << 30


def _limit() -> int:
    return int(os.environ.get("SNNC_MAX_INPUT_BYTES", 8 << 30))


def regular_file(path: str | os.PathLike[str], what: str, limit: int | None = None) -> Path:
    """``path`` if it is a readable regular file within the size limit, else ``FormatError``."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FormatError(f"{p}: no such file (expected {what})") from None
    except OSError as exc:
        raise FormatError(f"{p}: cannot read {what} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(f"{p}: is a directory, expected {what}")
    if not stat.S_ISREG(st.st_mode):
        raise FormatError(f"{p}: is not a regular file (a pipe, socket or device); "
                          f"expected {what}")
    cap = _limit() if limit is None else limit
    if st.st_size > cap:
        raise FormatError(f"{p}: {what} is {st.st_size} bytes, more than the limit of {cap} "
                          "(set SNNC_MAX_INPUT_BYTES to raise it)")
    return p


def read_bytes(path: str | os.PathLike[str], what: str, limit: int = 64 << 20) -> bytes:
    p = regular_file(path, what, limit)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise FormatError(f"{p}: cannot read {what} ({exc.strerror or exc})") from None


def read_json(path: str | os.PathLike[str], what: str, limit: int = 64 << 20) -> dict[str, Any]:
    """A JSON object from a UTF-8 file; ``FormatError`` naming the file and what it should be."""
    data = read_bytes(path, what, limit)
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: {what} is not UTF-8 text (byte {exc.start})") from None
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{path}: {what} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise FormatError(f"{path}: {what} must be a JSON object, not {type(doc).__name__}")
    return doc


# ---- HDF5 ------------------------------------------------------------------------------------


def _has_signature(p: Path) -> bool:
    with p.open("rb") as fh:
        for off in _HDF5_OFFSETS:
            fh.seek(off)
            if fh.read(8) == HDF5_SIGNATURE:
                return True
    return False


def _walk(f: Any) -> None:
    import h5py

    def visit(_name: str, obj: Any) -> None:
        dict(obj.attrs)
        if isinstance(obj, h5py.Dataset) and obj.size * obj.dtype.itemsize <= MAX_DATASET_BYTES:
            obj[()]

    dict(f.attrs)
    f.visititems(visit)


OUTPUT_MARKER = ".snnc-output"  # snnc.outdir.MARKER
_MARKER_MAX_BYTES = 1 << 16


def _sha256(p: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hdf5_digests(out: Path) -> dict[str, str]:
    """SHA-256 of the probe-sized HDF5 files directly in ``out`` (for its output marker)."""
    found = {}
    for p in sorted(out.iterdir()):
        if p.suffix in (".h5", ".hdf5", ".snnc") and p.is_file() \
                and p.stat().st_size <= _PROBE_MAX_BYTES and _has_signature(p):
            found[p.name] = _sha256(p)
    return found


def written_by_snnc(p: Path) -> bool:
    """Whether the output marker beside ``p`` records ``p``'s current SHA-256 (any doubt: no)."""
    m = p.parent / OUTPUT_MARKER
    try:
        if not m.is_file() or m.stat().st_size > _MARKER_MAX_BYTES:
            return False
        want = json.loads(m.read_text(encoding="utf-8")).get("sha256", {}).get(p.name)
        return isinstance(want, str) and want == _sha256(p)
    except (OSError, ValueError, AttributeError, UnicodeDecodeError):
        return False


def _probe(p: Path, what: str) -> None:
    """Walk the whole file in a forked child; refuse the file if the child hangs or crashes.

    Skipped for a file the output marker beside it vouches for (``written_by_snnc``)."""
    if not hasattr(os, "fork") or p.stat().st_size > _PROBE_MAX_BYTES or written_by_snnc(p):
        return
    import h5py

    timeout = float(os.environ.get("SNNC_HDF5_TIMEOUT", 20))
    pid = os.fork()
    if pid == 0:  # child: walk, report by exit status only
        code = 0
        try:
            with h5py.File(p, "r", locking=False) as f:
                _walk(f)
        except BaseException:
            code = 3
        os._exit(code)
    status = _wait(pid, timeout)
    if status is None:
        raise FormatError(f"{p}: reading {what} did not finish in {timeout:g} s: the HDF5 "
                          "structure is corrupt (the HDF5 library loops on it)")
    if os.WIFSIGNALED(status):
        raise FormatError(f"{p}: {what} is a corrupt HDF5 file (the HDF5 library crashed "
                          f"reading it, signal {os.WTERMSIG(status)})")


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit status, or None after killing it when it outlives ``timeout``.

    On Linux a pidfd wakes the parent the moment the child exits (a sleep-and-poll loop costs
    up to its last sleep, tens of milliseconds of every program load)."""
    import time

    if hasattr(os, "pidfd_open"):
        import select

        try:
            fd = os.pidfd_open(pid)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                ready, _, _ = select.select([fd], [], [], timeout)
            finally:
                os.close(fd)
            if not ready:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return None
            return os.waitpid(pid, 0)[1]
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


@contextlib.contextmanager
def open_hdf5(path: str | os.PathLike[str], what: str, probe: bool = True) -> Iterator[Any]:
    """An ``h5py.File`` opened read-only and lock-free after the checks above."""
    import h5py

    p = regular_file(path, what)
    if not _has_signature(p):
        raise FormatError(f"{p}: not a readable HDF5 file (no HDF5 signature); expected {what}")
    if probe:
        _probe(p, what)
    try:
        f = h5py.File(p, "r", locking=False)
    except (OSError, RuntimeError, ValueError) as exc:
        raise FormatError(f"{p}: not a readable HDF5 file ({exc}); expected {what}") from None
    with f:
        yield f


# ---- numpy -----------------------------------------------------------------------------------


def check_array(a: Any, where: str, finite: bool = True) -> np.ndarray:
    """A numeric, non-empty, at-least-1-d array (finite unless ``finite=False``)."""
    if not isinstance(a, np.ndarray):
        raise FormatError(f"{where}: not an array")
    if a.dtype.kind not in "biuf":
        raise FormatError(f"{where}: has dtype {a.dtype}; expected a numeric (bool, integer or "
                          "float) array, not a structured, object, string or complex one")
    if a.ndim == 0:
        raise FormatError(f"{where}: is a 0-d scalar; expected an array")
    if a.size == 0:
        raise FormatError(f"{where}: is empty (shape {a.shape})")
    if finite and a.dtype.kind == "f" and not _all_finite(a):
        raise FormatError(f"{where}: holds NaN or infinite values")
    return a


def _all_finite(a: np.ndarray, block_bytes: int = 64 << 20) -> bool:
    """``np.isfinite(a).all()`` over blocks of the first axis (a memory-mapped array is read a
    block at a time instead of into one temporary as large as itself)."""
    if a.ndim == 0 or a.nbytes <= block_bytes:
        return bool(np.all(np.isfinite(a)))
    step = max(1, block_bytes // max(1, a[0].nbytes))
    return all(bool(np.all(np.isfinite(a[i:i + step]))) for i in range(0, len(a), step))


def read_array(path: str | os.PathLike[str], what: str,
               names: tuple[str, ...] | None = None,
               mmap: bool = False) -> np.ndarray | dict[str, np.ndarray]:
    """A ``.npy`` array or the arrays of an ``.npz`` (``names`` required), validated.
    ``mmap``: a ``.npy`` array is memory-mapped read-only (pages are read when used)."""
    p = regular_file(path, what)
    try:
        data = np.load(p, allow_pickle=False, mmap_mode="r" if mmap else None)
        if not isinstance(data, np.lib.npyio.NpzFile):
            return check_array(data, f"{p}: {what}")
        with data:
            files = set(data.files)
            if names is not None and not set(names) <= files:
                missing = sorted(set(names) - files)
                raise FormatError(f"{p}: {what} needs arrays {', '.join(map(repr, names))}; "
                                  f"missing {', '.join(map(repr, missing))}")
            keys = names if names is not None else sorted(files)
            return {k: check_array(data[k], f"{p}: {what}, field {k!r}") for k in keys}
    except FormatError:
        raise
    except Exception as exc:  # numpy raises anything on a bad header (even tokenize errors)
        raise FormatError(f"{p}: {what} is not a readable .npy/.npz array file "
                          f"({type(exc).__name__}: {str(exc)[:200]})") from None
