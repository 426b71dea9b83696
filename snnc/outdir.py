"""Output directories that cannot destroy anything (``snnc compile -o``, ``snnc learn -o``,
``snnc convert -o``, ``snnc eval -o``, ``snnc sweep -o``).

Rules (README "Outputs", docs/DESIGN.md "Safe outputs"): snnc never deletes or overwrites a
file it did not write, and ``--force`` does not change that.

- ``-o DIR`` is written when DIR does not exist, is empty, or is an earlier snnc output every
  entry of which snnc wrote: the manifest in its marker ``.snnc-output`` lists them
  (``snnc/manifest.py``; outputs of older versions are judged by the names snnc writes). A
  directory holding anything else (a user's notes.txt dropped into an output, a foreign
  directory) is refused, naming up to 3 of those paths. ``/``, the home directory, the current
  directory or one of its parents, and a directory that holds an input of the run are never
  replaced.
- The new output is built completely in ``.DIR.snnc-tmp-XXXXXXXX`` beside DIR; its manifest is
  the list of what it holds. Just before the swap DIR is checked again (a long run: a user may
  have added a file meanwhile). Then it is swapped in: on Linux with
  ``renameat2(RENAME_EXCHANGE)`` (DIR is always the old or the new output), else rename DIR ->
  ``.DIR.snnc-old-XXXXXXXX``, rename new -> DIR. Of the old output only the entries of its
  manifest are deleted (``manifest.remove_own``); anything that appeared in it at the last
  instant is kept in ``.DIR.snnc-kept-XXXXXXXX`` and named on stderr. A failed run deletes
  its temp folder (snnc made it, empty), so it leaves no new output. A new output inside an
  snnc output (``PROGRAM/learned``) is recorded in that output's manifest.
- A run killed midway leaves at most those two snnc-named folders; the next run with the same
  ``-o`` removes them (a complete output in one of them only by its manifest; and puts a backup
  back first if DIR itself went missing).
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
from .manifest import MARKER, OLD_TAG, TMP_TAG, foreign, record, remove_own, scan

KEPT_TAG = ".snnc-kept-"
_NAME_MAX = 255
_TAG_ROOM = 1 + len(KEPT_TAG) + 8  # ".", the longest tag, 8 hex digits


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


def check_output_dir(path: str | os.PathLike[str],
                     inputs: Iterable[str | os.PathLike[str]] = (), what: str = "output",
                     replace: bool = True) -> Path:
    """Raise ``OutputError`` unless ``path`` may be written as an output directory.

    ``replace=False``: the directory is added to in place (a sweep resumed), not replaced, so
    only the name, the path and the protected directories are checked."""
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
    if replace:
        refuse_foreign(dest, what)
    return dest


def refuse_foreign(dest: Path, what: str = "output") -> None:
    """``OutputError`` naming up to 3 paths in ``dest`` that snnc did not write, if any."""
    try:
        bad = foreign(dest, limit=4)
    except OSError as exc:
        raise OutputError(f"-o {dest}: cannot read what the directory holds "
                          f"({exc.strerror or exc}); snnc replaces only a directory it can "
                          "check holds nothing but its own files") from None
    if not bad:
        return
    names = ", ".join(bad[:3]) + (" and more" if len(bad) > 3 else "")
    raise OutputError(f"-o {dest}: the directory holds files snnc did not write ({names}); "
                      "snnc never deletes or overwrites files it did not write, and --force "
                      "does not change this. Move them elsewhere, or name a new or empty "
                      f"directory (or an earlier snnc output) for the {what}.")


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
    """Remove the snnc-named temp/backup folders a killed run left beside ``dest``: a partial
    build (no marker yet; snnc made it, empty) whole, a complete output only by its manifest."""
    parent = dest.parent
    if not parent.is_dir():
        return
    olds = _named(parent, dest.name, OLD_TAG)
    if not dest.exists() and olds:  # killed between the two renames: put the old one back
        with contextlib.suppress(OSError):
            os.rename(olds[0], dest)
    for p in _named(parent, dest.name, TMP_TAG) + olds:
        if p.is_dir() and not p.is_symlink() and p.exists():
            if (p / MARKER).is_file():
                _discard(p, dest)
            else:
                shutil.rmtree(p, ignore_errors=True)


def _named(parent: Path, name: str, tag: str) -> list[Path]:
    """``.NAME<tag><8 hex digits>`` beside ``name`` (exactly the names snnc gives them)."""
    want = f".{name}{tag}"
    return sorted(p for p in parent.glob(f"{_glob_escape(want)}*")
                  if p.name.startswith(want) and len(p.name) == len(want) + 8
                  and all(c in "0123456789abcdef" for c in p.name[len(want):]))


def _discard(old: Path, dest: Path) -> None:
    """Delete an old output's own entries; keep (and name) anything else found in it."""
    if remove_own(old):
        return
    kept = dest.with_name(f".{dest.name}{KEPT_TAG}{secrets.token_hex(4)}")
    os.rename(old, kept)
    import sys

    print(f"snnc: files that are not snnc's appeared in {dest} while it was being replaced; "
          f"they are kept in {kept}", file=sys.stderr)


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


def _swap_in(tmp: Path, dest: Path, what: str) -> None:
    if not dest.exists():
        os.rename(tmp, dest)
        return
    refuse_foreign(dest, what)  # again: a user may have added a file since the first check
    if _exchange(tmp, dest):  # tmp now holds the old output
        _discard(tmp, dest)
        return
    old = dest.with_name(f".{dest.name}{OLD_TAG}{secrets.token_hex(4)}")
    os.rename(dest, old)
    os.rename(tmp, dest)
    _discard(old, dest)


@contextlib.contextmanager
def output_dir(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = (),
               kind: str = "compile", what: str = "output") -> Iterator[Path]:
    """Yield a fresh temp directory; on success it becomes ``path`` (see the module docstring)."""
    dest = check_output_dir(path, inputs, what)
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
        doc = marker(tmp, kind)
        doc["manifest"] = scan(tmp)
        (tmp / MARKER).write_text(json.dumps(doc) + "\n")
        _swap_in(tmp, dest, what)
        record(dest.parent, [dest.name])  # an output inside an output (PROGRAM/learned)
    except OSError as exc:
        raise OutputError(f"-o {dest}: cannot write the output ({exc.strerror or exc})") from None
    finally:
        if tmp.exists() and not (tmp / MARKER).is_file():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            _discard(tmp, dest)
