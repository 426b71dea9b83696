"""``snnc simulate`` on dataset-sized inputs: samples in chunks, steps in windows, results
written out as they come.

The event simulator's run is a stream of pieces (``simulate_pieces``: the outputs, probes and
counters of a window of steps). Here each chunk of samples runs window after window, and each
window is written at once into memory-mapped temporary ``.npy`` part files (time last), whose
pages are then released, so memory holds one window whatever the numbers of samples and steps.
R.npz (and a counters ``.npz``) is assembled from the parts at the end, atomically. The input
is read window by window with positioned reads (``snnc.stepfile.TimeLastFile``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import SnncError
from ..io import atomic_path, to_time_last

CHUNK_BYTES = 64 << 20  # input bytes (as int64) of one streamed chunk of samples


def sample_bytes(x: np.ndarray, steps: int | None) -> int:
    """Bytes (as int64) of one sample's input over the whole run."""
    return max(int(steps or len(x)), len(x)) * int(np.prod(x.shape[2:])) * 8


def chunk_samples_for(x: np.ndarray, steps: int | None, asked: int | None) -> int:
    """Samples per chunk: ``asked``, else as many as keep one chunk's input near CHUNK_BYTES."""
    if asked is not None:
        return asked
    return max(1, CHUNK_BYTES // max(sample_bytes(x, steps), 1))


def _single(outputs: dict[str, np.ndarray]) -> np.ndarray:
    if len(outputs) != 1:
        raise SnncError(f"the program has outputs {sorted(outputs)}; snnc simulate writes one")
    return next(iter(outputs.values()))


def simulate_streamed(program: Any, x: np.ndarray, steps: int | None, lat: int,
                       probes: tuple[str, ...], chunk: int, reset_interval: int, out: Path,
                       quiet: bool, batched: bool, chunk_steps: int | None = None,
                       counters_path: Path | None = None) -> None:
    """The samples of ``x`` (T, B, *shape; a memory-mapped file's view) ``chunk`` at a time,
    and each chunk's steps window after window (``simulate_pieces``): every window reads its
    own steps of the input (``stepfile.TimeLastFile``) and its results are written at once
    into one memory-mapped temporary .npy per result array (time last), whose pages are then
    released; R.npz is assembled from those files. Memory holds one window, whatever the
    numbers of samples and steps. Samples are independent and windows continue the state, so
    the results equal one whole run's. ``counters_path`` (an .npz; one chunk of samples): the
    counters are streamed the same way, equal to ``Counters.save``'s file of the whole run."""
    import zipfile

    from ..simulators.event import simulate_pieces

    n, total = x.shape[1], x.shape[0] if steps is None else steps
    from ..stepfile import TimeLastFile

    src = TimeLastFile.of(x, batched)  # read by positioned reads, window by window
    parts: dict[str, tuple[Path, Any]] = {}
    cparts: dict[str, tuple[Path, Any]] = {}
    cmeta: dict[str, Any] = {}
    syn = spikes = 0.0
    windows = 0
    tmp_dir = out.parent if str(out.parent) else Path(".")
    try:
        for b0 in range(0, n, chunk):
            xc: Any = x[:, b0:b0 + chunk] if src is None else src.samples(b0, b0 + chunk)
            for piece in simulate_pieces(program, xc, total, probes, chunk_steps=chunk_steps,
                                         reset_interval=reset_interval,
                                         progress=not quiet and chunk >= n):
                arrays = {"output": (_single(piece.outputs), lat),
                          **{k: (v, 0) for k, v in piece.probes.items()}}
                for name, (val, skip) in arrays.items():
                    lo = max(skip - piece.t0, 0)
                    if lo >= piece.T:
                        continue
                    last = to_time_last(val[lo:])  # (b, *shape, T_window)
                    if name not in parts:
                        shape = (n, *last.shape[1:-1], total - skip)
                        parts[name] = _open_part(tmp_dir, out, shape if batched else shape[1:])
                    mm = parts[name][1] if batched else parts[name][1][None]
                    t = piece.t0 + lo - skip
                    mm[b0:b0 + last.shape[0], ..., t:t + last.shape[-1]] = last
                if counters_path is not None:
                    _counter_parts(piece, total, cparts, cmeta, tmp_dir, counters_path)
                for _, mm in (*parts.values(), *cparts.values()):
                    mm.flush()
                    _release(mm)
                _release(x)
                tot = piece.counters.totals()
                syn += (tot["syn_ops_dense"] + tot["syn_ops_sparse"] + tot["syn_ops_conv"]) \
                    * xc.shape[1]
                spikes += tot["spikes_out"] * xc.shape[1]
                windows += 1
        for _, mm in (*parts.values(), *cparts.values()):
            mm.flush()
        with atomic_path(out) as tmp, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, (path, _) in parts.items():
                _copy_member(zf, path, name)
        if counters_path is not None:
            _write_counters(counters_path, cparts, cmeta)
    finally:
        for path, _ in (*parts.values(), *cparts.values()):
            path.unlink(missing_ok=True)
    if not quiet:
        click.echo(f"loihi-sim: {total - lat} steps x {n} sample(s) in chunks of {chunk} "
                   f"({windows} windows) -> {out} ({syn / n:.0f} synaptic ops, "
                   f"{spikes / n:.0f} spikes per sample)")


def _mmap_of(x: Any) -> Any:
    import mmap

    base: Any = x
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "_mmap", None) or getattr(base, "base", None)
    return base


def _release(x: np.ndarray) -> None:
    """Let the kernel drop the pages of a memory-mapped input that were read so far (they count
    in the process's resident memory until it needs them elsewhere); they are re-read on use."""
    import mmap

    base = _mmap_of(x)
    if base is not None and hasattr(mmap, "MADV_DONTNEED"):
        base.madvise(mmap.MADV_DONTNEED)


def _counter_parts(piece: Any, total: int, cparts: dict[str, tuple[Path, Any]],
                   cmeta: dict[str, Any], tmp_dir: Path, dest: Path) -> None:
    """Write a window's counters: per-step arrays into part files at their steps, the rest
    (scalars, core lists) kept from the first window."""
    from ..simulators.event.counters import _saved

    for f in _saved():
        val = getattr(piece.counters, f.name)
        if not isinstance(val, np.ndarray):
            cmeta.setdefault(f.name, val)
            continue
        if f.name not in cparts:
            cparts[f.name] = _open_part(tmp_dir, dest, (total, *val.shape[1:]), val.dtype)
        cparts[f.name][1][piece.t0:piece.t0 + piece.T] = val


def _write_counters(dest: Path, cparts: dict[str, tuple[Path, Any]],
                    cmeta: dict[str, Any]) -> None:
    """The counters .npz (``Counters.save``'s members and order) from the parts."""
    import io
    import zipfile

    from ..simulators.event.counters import _saved

    with atomic_path(dest) as tmp, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for f in _saved():
            if f.name in cparts:
                _copy_member(zf, cparts[f.name][0], f.name)
            else:
                buf = io.BytesIO()
                np.save(buf, np.asarray(cmeta[f.name]))
                zf.writestr(f"{f.name}.npy", buf.getvalue())


def _open_part(tmp_dir: Path, out: Path, shape: tuple[int, ...], dtype: Any = np.int64
               ) -> tuple[Path, Any]:
    """A temporary .npy file of ``shape`` beside ``out``, memory-mapped for writing."""
    import tempfile

    from numpy.lib.format import open_memmap

    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name[:200]}.", suffix=".part.npy",
                                    dir=tmp_dir)
        os.close(fd)
        return Path(name), open_memmap(name, mode="w+", dtype=dtype, shape=shape)
    except OSError as exc:
        raise SnncError(f"{out}: cannot write here ({exc.strerror or exc})") from None


def _copy_member(zf: Any, path: Path, name: str) -> None:
    """The .npy file ``path`` into the archive as ``name.npy``, a megabyte at a time."""
    import shutil

    with path.open("rb") as src, zf.open(f"{name}.npy", "w", force_zip64=True) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


