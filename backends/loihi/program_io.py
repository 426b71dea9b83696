"""Save and load a ``ChipProgram`` as ``program.h5`` (layout in ``program.py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ...errors import FormatError
from ...io import atomic_path
from .program import (
    FORMAT,
    VERSION,
    ChipProgram,
    CoreAlloc,
    LayerMap,
    Route,
    SynapseBlock,
    chip_from_json,
    table_columns,
)
from .routes import RouteTable

FILENAME = "program.h5"


def program_file(path: str | Path) -> Path:
    p = Path(path)
    return p if p.suffix in (".h5", ".hdf5") else p / FILENAME


def _write_table(group: h5py.Group, rows: Sequence[Any], kind: type) -> None:
    """One int64 matrix for the int columns, one string matrix for the str columns (filled
    column by column: no list of every column of 10^5 routes, no transposed copy)."""
    names = [f.name for f in fields(kind)]
    ints = [n for n in names if not _is_str(kind, n)]
    strs = [n for n in names if _is_str(kind, n)]
    group.attrs["int_columns"] = json.dumps(ints)
    group.attrs["str_columns"] = json.dumps(strs)
    if isinstance(rows, RouteTable):  # its columns are Route's fields, all ints
        imat = rows.int_matrix()
    else:
        imat = np.empty((len(rows), len(ints)), np.int64)
        for j, n in enumerate(ints):
            imat[:, j] = np.fromiter((getattr(r, n) for r in rows), np.int64, len(rows))
    group.create_dataset("ints", data=imat)
    del imat
    cols = table_columns(rows, kind) if strs else {}
    group.create_dataset("strs", data=np.array([cols[n] for n in strs], dtype=object).reshape(
        len(strs), len(rows)).T, dtype=h5py.string_dtype())


def _is_str(kind: type, name: str) -> bool:
    return next(f.type for f in fields(kind) if f.name == name) in ("str", str)


def _read_table(group: h5py.Group, kind: type, where: str) -> tuple[Any, ...]:
    from ...ir.serialize import READ_ERRORS, read_dataset

    try:
        ints, strs = json.loads(group.attrs["int_columns"]), json.loads(group.attrs["str_columns"])
        imat = read_dataset(group["ints"], f"{where}: {group.name}/ints")
        smat = read_dataset(group["strs"], f"{where}: {group.name}/strs")
        if not (isinstance(ints, list) and isinstance(strs, list) and imat.ndim == smat.ndim == 2
                and imat.shape == (imat.shape[0], len(ints))
                and smat.shape == (imat.shape[0], len(strs))):
            raise ValueError("column lists and matrices do not match")
    except READ_ERRORS as exc:
        raise FormatError(f"{where}: table {group.name} is damaged ({exc})") from None
    missing = {f.name for f in fields(kind)} - set(ints) - set(strs)
    if missing:
        raise FormatError(f"{where}: table {group.name} lacks columns {sorted(missing)}")
    rows = []
    for r in range(imat.shape[0]):
        vals: dict[str, Any] = {n: int(imat[r, i]) for i, n in enumerate(ints)}
        vals.update({n: _text(smat[r, i]) for i, n in enumerate(strs)})
        rows.append(kind(**{f.name: vals[f.name] for f in fields(kind)}))
    return tuple(rows)


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _rates(text: Any, where: str) -> tuple[tuple[str, float], ...]:
    """The ``rates`` attribute (JSON {name: rate}); absent: ()."""
    if text is None:
        return ()
    try:
        data = json.loads(str(text))
        return tuple(sorted((str(k), float(v)) for k, v in dict(data).items()))
    except (ValueError, TypeError) as exc:
        raise FormatError(f"{where}: attribute rates is not a JSON table of numbers ({exc})"
                          ) from None


def save_program(program: ChipProgram, path: str | Path) -> Path:
    """Write the program atomically; returns the file written."""
    from ...ir.serialize import write_graph_group
    from .heap import release

    dest = program_file(path)
    release()  # the heap's free pages of the stages before (report, measure) first
    with atomic_path(dest) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["version"] = VERSION
        f.attrs["chip"] = program.chip.to_json()
        f.attrs["chip_grid"] = program.chip_grid
        f.attrs["strategy"] = program.strategy
        if program.rates:
            f.attrs["rates"] = json.dumps(dict(program.rates))
        if program.fallback:
            f.attrs["fallback"] = program.fallback
        write_graph_group(f.create_group("graph"), program.graph)
        lg = f.create_group("layers")
        for i, (name, lm) in enumerate(program.layers.items()):
            g = lg.create_group(str(i))
            g.attrs["name"] = name
            g.attrs["order"] = lm.order
            g.attrs["shape"] = np.asarray(lm.shape, np.int64)
            g.create_dataset("cores", data=np.asarray(lm.cores, np.int64))
        _write_table(f.create_group("cores"), program.cores, CoreAlloc)
        _write_table(f.create_group("blocks"), program.blocks, SynapseBlock)
        _write_table(f.create_group("routes"), program.routes, Route)
    return dest


def load_program(path: str | Path) -> ChipProgram:
    """Read a program written by ``save_program`` (a directory or the .h5 file itself)."""
    from ...ir.serialize import read_graph_group

    src = program_file(path)
    if not src.exists():
        raise FormatError(f"{src}: no compiled program here (expected {FILENAME} from "
                          "`snnc compile --target loihi-sim`)")
    where = str(src)
    from ...ir.serialize import READ_ERRORS
    from ...readers import open_hdf5
    from .program_check import check_program

    at = "attributes"
    try:
        with open_hdf5(src, "a compiled chip program (program.h5)") as f:
            if f.attrs.get("format") != FORMAT:
                raise FormatError(f"{where}: not an snnc chip program (format attribute)")
            if int(f.attrs.get("version", 0)) > VERSION:
                raise FormatError(f"{where}: program version {f.attrs['version']} is newer "
                                  f"than this snnc reads ({VERSION}); upgrade snnc")
            chip = chip_from_json(str(f.attrs["chip"]), where)
            graph = read_graph_group(f["graph"], f"{where}:/graph")
            layers = {}
            for key in sorted(f["layers"], key=int):
                at = f"layers/{key}"
                g = f["layers"][key]
                name = str(g.attrs["name"])
                layers[name] = LayerMap(name, tuple(int(v) for v in g.attrs["shape"]),
                                        str(g.attrs["order"]),
                                        tuple(int(v) for v in g["cores"][()]))
            at = "tables"
            prog = ChipProgram(graph, chip, layers, _read_table(f["cores"], CoreAlloc, where),
                               _read_table(f["blocks"], SynapseBlock, where),
                               _read_table(f["routes"], Route, where), int(f.attrs["chip_grid"]),
                               str(f.attrs.get("strategy", "unknown")),
                               _rates(f.attrs.get("rates"), where),
                               str(f.attrs.get("fallback", "")))
    except READ_ERRORS as exc:
        raise FormatError(f"{where}: {at}: unreadable chip program ({exc})") from None
    return check_program(prog, where)
