"""Reading an ONNX file safely: bounded size, tensors stored outside the file only inside the
model's own directory, and a per-sample input shape that is fully known.

ONNX files hold data, never code, so nothing here executes anything from the file. External
data (``location`` entries of large initializers) is resolved relative to the model's
directory; absolute paths, ``..`` and symlinks that leave it are refused, as are offsets and
lengths that run past the end of the data file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...errors import FormatError

#: protobuf cannot parse a message above 2 GiB; refuse before trying
MAX_BYTES = 2**31 - 1


def _limit() -> int:
    from ...readers import _limit as limit

    return limit()


def require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise FormatError("reading .onnx files needs the 'onnx' package: pip install "
                          "'snnc[onnx]'") from None
    return onnx


def read_model(path: Path) -> Any:
    """The ``ModelProto`` of ``path`` with its external tensors loaded; ``FormatError`` if the
    file is not a readable ONNX model."""
    from ...readers import regular_file

    onnx = require_onnx()
    regular_file(path, "an ONNX model", min(MAX_BYTES, _limit()))
    if path.stat().st_size == 0:
        raise FormatError(f"{path}: empty file, not an ONNX model")
    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError and friends
        raise FormatError(f"{path}: not a readable ONNX model ({type(exc).__name__}: "
                          f"{str(exc)[:200]}); the file may be truncated") from None
    if not model.graph.node and not model.graph.output:
        raise FormatError(f"{path}: the ONNX graph is empty (field 'graph.node'); the file may "
                          "be truncated or not an ONNX model")
    _load_external(path, model)
    return model


def _load_external(path: Path, model: Any) -> None:
    from onnx import external_data_helper as ext

    from ...readers import regular_file

    base = path.resolve().parent
    for tensor in ext._get_all_tensors(model):
        if not ext.uses_external_data(tensor):
            continue
        info = {e.key: e.value for e in tensor.external_data}
        where = f"{path}: initializer {tensor.name!r} (field 'external_data.location')"
        loc = info.get("location", "")
        if not loc or os.path.isabs(loc) or ".." in Path(loc).parts:
            raise FormatError(f"{where} is {loc!r}; external data must be a relative path "
                              "inside the model's directory")
        target = (base / loc).resolve()
        if base not in target.parents or not target.is_file():
            raise FormatError(f"{where}: {loc!r} is not a file inside {base}")
        regular_file(target, f"external data of {path.name}")
        offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
        size = target.stat().st_size
        if offset < 0 or offset > size or (length >= 0 and offset + length > size):
            raise FormatError(f"{where}: offset {offset} + length {length} runs past the end "
                              f"of {loc!r} ({size} bytes)")
        if length < 0:
            length = size - offset
        with open(target, "rb") as fh:
            fh.seek(offset)
            tensor.raw_data = fh.read(length)
        del tensor.external_data[:]
        tensor.data_location = 0  # DEFAULT


def dims(value_info: Any) -> list[int | str]:
    """Dimensions of a graph input: ints, or names / '?' for symbolic ones."""
    t = value_info.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return []
    out: list[int | str] = []
    for d in t.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            out.append(int(d.dim_value))
        else:
            out.append(d.dim_param or "?")
    return out


def sample_shape(path: Path, value_info: Any, given: tuple[int, ...] | None) -> tuple[int, ...]:
    """The per-sample shape (without batch) of graph input ``value_info``."""
    d = dims(value_info)
    if given is not None:
        given = tuple(int(v) for v in given)
        if d and len(d) - 1 != len(given):
            raise FormatError(f"{path}: --input-shape {given} has {len(given)} dims, the ONNX "
                              f"input {value_info.name!r} has {len(d) - 1} after the batch axis")
        return given
    if len(d) < 2:
        raise FormatError(f"{path}: input {value_info.name!r} has shape {d or 'unknown'}; snnc "
                          "needs (batch, *features). Give the per-sample shape with "
                          "--input-shape")
    rest = d[1:]
    if not all(isinstance(v, int) and v > 0 for v in rest):
        raise FormatError(f"{path}: input {value_info.name!r} has dynamic dimensions {d} "
                          "(field 'graph.input.type.shape'); snnc needs a fixed per-sample "
                          "shape. Export with fixed sizes or give --input-shape")
    return tuple(int(v) for v in rest)  # type: ignore[arg-type]
