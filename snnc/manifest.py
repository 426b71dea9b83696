"""What snnc wrote into an output directory: the manifest in its marker ``.snnc-output``.

snnc never deletes or overwrites a file it did not write (README "Outputs", docs/DESIGN.md
"Safe outputs"). The marker of every output records each relative path snnc wrote there::

    {"snnc": "compile", "sha256": {...},
     "manifest": {"compile.json": {"type": "file", "size": 812, "mtime_ns": ...},
                  "learned": {"type": "output"}, "points": {"type": "dir"}, ...}}

``file`` entries must still have their size (a file a user rewrote is not snnc's any more; the
mtime is recorded but not compared, since ``cp -r`` without ``-p`` changes it), ``dir`` entries
are walked, ``output`` entries are nested snnc outputs judged by their own marker. Writers that
add to an existing output (``snnc eval`` into a compile directory, a sweep resumed in place,
``snnc report`` redrawing ``report.html``, ``snnc learn`` into ``PROGRAM/learned``) call
``record``, which rewrites the marker atomically. Outputs of older snnc versions (a marker
without ``manifest``, or only a ``compile.json``) are judged by the file names snnc's writers
produce (``LEGACY_FILES`` and the sweep layout). ``foreign`` lists what is not snnc's;
``remove_own`` deletes only what is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

MARKER = ".snnc-output"
TMP_TAG = ".snnc-tmp-"
OLD_TAG = ".snnc-old-"
_MAX_MARKER_BYTES = 64 << 20

#: every file name snnc's directory writers produce (outputs of older versions, no manifest):
LEGACY_FILES = frozenset({
    # snnc compile (stages/result.py; the backends' program.h5, model.net, model.nir)
    "compile.json", "fidelity.json", "graph.float.snnc", "graph.lowered.snnc", "graph.snnc",
    "program.h5", "model.net", "model.nir", "report.json", "report.html",
    # snnc eval (commands/eval.py), also added to a compile output
    "eval.json", "eval.html",
    # snnc learn (commands/learn.py)
    "graph.learned.snnc", "learning_report.json",
    # snnc convert (commands/convert.py)
    "ann.snnc", "snn.snnc", "conversion.json", "conversion.html",
    # snnc sweep (sweep/run.py, commands/sweep.py)
    "sweep.json", "results.json", "sweep.html",
})
_LEFTOVER_DIR = re.compile(r"\..+(\.snnc-tmp-|\.snnc-old-)[0-9a-f]{8}")
_LEFTOVER_FILE = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")  # io.atomic_path's mkstemp names
_BUILD = re.compile(r"build(-[0-9]+)?")

Want = Callable[[str], "dict[str, Any] | None"]


def read_marker(root: Path) -> dict[str, Any] | None:
    """The marker document of ``root`` (None: no marker, or not a JSON object)."""
    m = root / MARKER
    try:
        if not m.is_file() or m.is_symlink() or m.stat().st_size > _MAX_MARKER_BYTES:
            return None
        doc = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


def describe(p: Path) -> dict[str, Any]:
    """The manifest entry of a path snnc has just written."""
    st = p.lstat()
    if p.is_dir() and not p.is_symlink():
        return {"type": "output" if (p / MARKER).is_file() else "dir"}
    return {"type": "file", "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def scan(root: Path) -> dict[str, dict[str, Any]]:
    """The manifest of a directory snnc has just built (everything in it is snnc's); nested
    snnc outputs are one ``output`` entry each."""
    found: dict[str, dict[str, Any]] = {}

    def walk(d: Path, rel: str) -> None:
        for p in sorted(d.iterdir()):
            r = rel + p.name
            if not rel and p.name == MARKER:
                continue
            found[r] = describe(p)
            if found[r]["type"] == "dir":
                walk(p, r + "/")

    walk(root, "")
    return found


def record(root: Path, rels: Iterable[str]) -> None:
    """Add paths snnc just wrote into the snnc output ``root`` (relative to it; their parent
    folders too) to its manifest, atomically. Nothing happens for a directory without a manifest
    (no marker: not an output; an older version's marker: judged by names)."""
    from .io import atomic_path

    doc = read_marker(root)
    man = None if doc is None else doc.get("manifest")
    if not isinstance(man, dict):
        return
    for rel in rels:
        parts = Path(rel).parts
        for i in range(1, len(parts) + 1):
            r = "/".join(parts[:i])
            p = root / r
            if p.exists() and (i == len(parts) or r not in man):
                man[r] = describe(p)
    with atomic_path(root / MARKER) as tmp:
        tmp.write_text(json.dumps(doc) + "\n")


def _rules(root: Path) -> Want:
    """What ``root`` may hold: its manifest; the names of older versions; else nothing."""
    doc = read_marker(root)
    man = None if doc is None else doc.get("manifest")
    if isinstance(man, dict):
        return lambda rel: man.get(rel) if isinstance(man.get(rel), dict) else None
    from .outdir import is_snnc_output

    if doc is None and not is_snnc_output(root):
        return lambda rel: None
    sweep = (root / "sweep.json").is_file()

    def legacy(rel: str) -> dict[str, Any] | None:
        parts = rel.split("/")
        if len(parts) == 1:
            if rel in LEGACY_FILES:
                return {"type": "file"}
            if rel == "learned":
                return {"type": "output"}
            return {"type": "dir"} if sweep and rel == "points" else None
        if not sweep or parts[0] != "points" or len(parts) > 3:
            return None
        if len(parts) == 2:
            return {"type": "dir"}
        if parts[2] == "point.json":
            return {"type": "file"}
        return {"type": "output"} if _BUILD.fullmatch(parts[2]) else None

    return legacy


def _leftover(e: os.DirEntry[str]) -> bool:
    """A temp folder or file of a killed snnc run (snnc-named)."""
    if e.is_dir(follow_symlinks=False):
        return bool(_LEFTOVER_DIR.fullmatch(e.name))
    m = _LEFTOVER_FILE.fullmatch(e.name)
    return bool(m) and e.is_file(follow_symlinks=False) and \
        m.group(1) in LEGACY_FILES | {"point.json", MARKER}


def _walk(root: Path, prefix: str = "") -> Iterator[tuple[str, str, Path]]:
    """(relative path, status, path) for everything under ``root``, children before their
    folder; status: ``own``, ``leftover``, ``foreign`` or ``changed`` (a file snnc wrote that
    has another size or type now). Foreign and changed folders are not entered."""
    want = _rules(root)

    def walk(d: Path, rel: str) -> Iterator[tuple[str, str, Path]]:
        with os.scandir(d) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            r, p = rel + e.name, Path(e.path)
            is_dir = e.is_dir(follow_symlinks=False)
            if not rel and e.name == MARKER and e.is_file(follow_symlinks=False):
                continue  # yielded last, by the caller's order
            if _leftover(e):
                yield prefix + r, "leftover", p
                continue
            w = want(r)
            kind = None if w is None else w.get("type")
            if kind is None:
                yield prefix + r + ("/" if is_dir else ""), "foreign", p
            elif (kind in ("dir", "output") and not is_dir) or (kind == "file" and (
                    not e.is_file(follow_symlinks=False)
                    or ("size" in w and e.stat(follow_symlinks=False).st_size != w["size"]))):
                yield prefix + r, "changed", p
            elif kind == "dir":
                yield from walk(p, r + "/")
                yield prefix + r, "own", p
            elif kind == "output":
                yield from _walk(p, prefix + r + "/")
            else:
                yield prefix + r, "own", p

    yield from walk(root, "")
    if (root / MARKER).is_file() and not (root / MARKER).is_symlink():
        yield prefix + MARKER, "own", root / MARKER
    yield prefix.rstrip("/"), "own-root", root


def foreign(root: Path, limit: int = 4) -> list[str]:
    """Up to ``limit`` paths under ``root`` that snnc did not write (or that changed since),
    relative to it; empty when snnc may replace ``root`` (an empty folder too)."""
    bad = []
    for rel, status, _ in _walk(root):
        if status == "changed":
            bad.append(f"{rel} (changed since snnc wrote it)")
        elif status == "foreign":
            bad.append(rel)
        if len(bad) >= limit:
            break
    return bad


def remove_own(root: Path) -> bool:
    """Delete what snnc wrote under ``root`` (and leftovers of killed runs), nothing else; True
    if ``root`` is gone (nothing foreign was left in it)."""
    for _, status, p in list(_walk(root)):
        if status in ("foreign", "changed"):
            continue
        if status == "leftover" and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_dir() and not p.is_symlink():
            with contextlib.suppress(OSError):
                p.rmdir()  # a folder is removed once it is empty, never with what it holds
        else:
            p.unlink(missing_ok=True)
    return not root.exists()
