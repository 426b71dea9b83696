"""Output directories that cannot destroy anything (``snnc compile -o``, ``snnc learn -o``,
``snnc convert -o``, ``snnc eval -o``, ``snnc sweep -o``).

Rules (README "Outputs", docs/DESIGN.md "Safe outputs"):

- ``-o DIR`` is written when DIR does not exist, is empty, or is an earlier snnc output: it holds
  the marker file ``.snnc-output`` (or, for outputs of older snnc versions, a ``compile.json``
  with snnc's keys). Any other non-empty directory is refused; ``--force`` replaces it, but never
  ``/``, the home directory, the current directory or one of its parents, nor a directory that
  holds an input of the run (those are refused even with ``--force``).
- The new output is built completely in ``.DIR.snnc-tmp-XXXX`` beside DIR. Then it is swapped in:
  on Linux with ``renameat2(RENAME_EXCHANGE)`` (DIR is always the old or the new output), else
  rename DIR -> ``.DIR.snnc-old-XXXX``, rename new -> DIR; then the old one is deleted. A failed
  run deletes its temp folder, so it leaves no new output.
- A run killed midway leaves at most those two snnc-named folders; the next run with the same
  ``-o`` removes them (and puts a backup back first if DIR itself went missing).
- Directories get the user's umask (``mkdtemp`` alone would give 0700).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import SnncError

MARKER = ".snnc-output"
TMP_TAG = ".snnc-tmp-"
OLD_TAG = ".snnc-old-"
_NAME_MAX = 255
_TAG_ROOM = 1 + len(TMP_TAG) + 8  # ".", tag, 8 hex digits


class OutputError(SnncError):
    """An output path snnc refuses to write (exists and is not its own, is a file, ...)."""


def umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    old = os.umask(0o022)
    os.umask(old)
    return old


def is_snnc_output(path: Path) -> bool:
    """True if ``path`` is a directory snnc wrote (marker file, or an older ``compile.json``)."""
    if (path / MARKER).is_file():
        return True
    cj = path / "compile.json"
    if not cj.is_file() or cj.stat().st_size > 1 << 24:
        return False
    try:
        doc = json.loads(cj.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and {"target", "pipeline", "passes"} <= set(doc)


def output_kind(path: Path) -> str | None:
    """What wrote the snnc output ``path`` (its marker's ``"snnc"``: compile, eval, sweep, ...;
    ``compile`` for an older output with only ``compile.json``); None if snnc did not."""
    if not is_snnc_output(path):
        return None
    try:
        doc = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "compile"
    return str(doc.get("snnc", "compile")) if isinstance(doc, dict) else "compile"


def _protected(dest: Path, inputs: Iterable[Path]) -> str | None:
    """Why ``dest`` may never be replaced, or None."""
    real = dest.resolve()
    home = Path.home().resolve()
    cwd = Path.cwd().resolve()
    if real == Path(real.anchor):
        return "it is the root directory"
    if real == home:
        return "it is your home directory"
    if real == cwd or real in cwd.parents:
        return "it is the current directory or one of its parents"
    for p in inputs:
        rp = Path(p).resolve()
        if real == rp or real in rp.parents:
            return f"it holds the input {p}"
    return None


def check_output_dir(path: str | os.PathLike[str], force: bool = False,
                     inputs: Iterable[str | os.PathLike[str]] = (), what: str = "output",
                     not_ours: str | None = None) -> Path:
    """Raise ``OutputError`` unless ``path`` may be written as an output directory.

    ``not_ours``: the refusal for a non-empty directory snnc did not write, without ``--force``
    (a command's own wording; ``{dest}`` is filled in), instead of the generic one."""
    dest = Path(path)
    paths = [Path(p) for p in inputs]
    if len(dest.name.encode()) + _TAG_ROOM > _NAME_MAX:
        raise OutputError(f"-o {dest}: the name is too long ({len(dest.name.encode())} bytes; "
                          f"at most {_NAME_MAX - _TAG_ROOM})")
    if not dest.name or dest.name in (".", ".."):
        dest = Path(os.path.abspath(dest))
    for parent in [dest, *dest.parents]:
        if parent.exists() or parent.is_symlink():
            if parent != dest and not parent.is_dir():
                raise OutputError(f"-o {dest}: {parent} is a file, not a directory")
            break
    if not dest.exists():
        return dest
    if not dest.is_dir():
        raise OutputError(f"-o {dest}: is a file; the {what} is a directory: name a new or "
                          "empty directory, or an earlier snnc output")
    why = _protected(dest, paths)
    if why is not None:
        raise OutputError(f"-o {dest}: snnc never replaces this directory ({why}), not even "
                          "with --force; name a new directory for the output")
    if not any(dest.iterdir()) or is_snnc_output(dest):
        return dest
    if not force:
        if not_ours is not None:
            raise OutputError(not_ours.format(dest=dest))
        raise OutputError(f"-o {dest}: the directory exists, is not empty and was not written "
                          "by snnc; snnc does not replace it. Name a new directory, or pass "
                          "--force to replace it and delete everything in it.")
    return dest


def marker(out: Path, kind: str) -> dict[str, object]:
    """The marker's content: what wrote the directory and the SHA-256 of each HDF5 file in it
    (``snnc.readers.open_hdf5`` skips its forked probe of a file whose digest matches: a file
    snnc wrote with h5py and nobody changed since cannot be one that hangs the library)."""
    from .readers import hdf5_digests

    doc: dict[str, object] = {"snnc": kind}
    digests = hdf5_digests(out)
    if digests:
        doc["sha256"] = digests
    return doc


def clean_leftovers(dest: Path) -> None:
    """Remove the snnc-named temp/backup folders a killed run left beside ``dest``."""
    parent = dest.parent
    if not parent.is_dir():
        return
    olds = sorted(parent.glob(f".{_glob_escape(dest.name)}{OLD_TAG}*"))
    if not dest.exists() and olds:  # killed between the two renames: put the old one back
        with contextlib.suppress(OSError):
            os.rename(olds[0], dest)
    for p in sorted(parent.glob(f".{_glob_escape(dest.name)}{TMP_TAG}*")) + olds:
        if p.is_dir() and not p.is_symlink() and p.exists():
            shutil.rmtree(p, ignore_errors=True)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _swap_in(tmp: Path, dest: Path) -> None:
    if not dest.exists():
        os.rename(tmp, dest)
        return
    if _exchange(tmp, dest):  # tmp now holds the old output
        shutil.rmtree(tmp)
        return
    old = dest.with_name(f".{dest.name}{OLD_TAG}{secrets.token_hex(4)}")
    os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old)


@contextlib.contextmanager
def output_dir(path: str | os.PathLike[str], force: bool = False,
               inputs: Iterable[str | os.PathLike[str]] = (), kind: str = "compile",
               ) -> Iterator[Path]:
    """Yield a fresh temp directory; on success it becomes ``path`` (see the module docstring)."""
    dest = check_output_dir(path, force, inputs)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(dest)
        tmp = dest.with_name(f".{dest.name}{TMP_TAG}{secrets.token_hex(4)}")
        tmp.mkdir(mode=0o777)
    except OSError as exc:
        raise OutputError(f"-o {dest}: cannot create the output directory "
                          f"({exc.strerror or exc})") from None
    try:
        yield tmp
        (tmp / MARKER).write_text(json.dumps(marker(tmp, kind)) + "\n")
        _swap_in(tmp, dest)
    except OSError as exc:
        raise OutputError(f"-o {dest}: cannot write the output ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
