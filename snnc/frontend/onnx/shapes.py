"""Constant folding for the shape arithmetic exporters write (``x.view(x.size(0), -1)`` becomes
Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and for constants in general. ``Shape`` of an
input-dependent tensor gives ``[BATCH, *shape]``; everything else needs constant inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .build import BATCH, Builder, Port

SHAPE_OPS = ("Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "ConstantOfShape", "Slice",
             "Range")

_ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32, 7: np.int64,
                9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}


def _axes(ins: list[Any], a: dict[str, Any]) -> list[int]:
    if len(ins) > 1 and ins[1] is not None:
        return [int(v) for v in np.asarray(ins[1]).reshape(-1)]
    return [int(v) for v in a.get("axes", [])]


def _constant(a: dict[str, Any]) -> np.ndarray:
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in a:
            return np.asarray(a[key])
    raise ValueError("Constant without a numeric value")


def _slice(ins: list[Any]) -> np.ndarray:
    data = ins[0]
    starts, ends = (np.asarray(v).reshape(-1) for v in ins[1:3])
    axes = (np.asarray(ins[3]).reshape(-1) if len(ins) > 3 and ins[3] is not None
            else np.arange(len(starts)))
    steps = (np.asarray(ins[4]).reshape(-1) if len(ins) > 4 and ins[4] is not None
             else np.ones(len(starts), dtype=np.int64))
    sl = [slice(None)] * data.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps, strict=True):
        big = np.iinfo(np.int64).max // 2
        sl[int(ax)] = slice(int(np.clip(s, -big, big)), int(np.clip(e, -big, big)), int(st))
    return data[tuple(sl)]


def _eval(op: str, ins: list[Any], a: dict[str, Any]) -> np.ndarray:
    if op == "Constant":
        return _constant(a)
    if op == "Gather":
        return np.take(ins[0], np.asarray(ins[1]).astype(np.int64), axis=int(a.get("axis", 0)))
    if op == "Unsqueeze":
        return np.expand_dims(ins[0], tuple(_axes(ins, a)))
    if op == "Squeeze":
        axes = _axes(ins, a)
        return np.squeeze(ins[0], axis=tuple(axes) if axes else None)
    if op == "Concat":
        return np.concatenate([np.atleast_1d(v) for v in ins], axis=int(a["axis"]))
    if op == "Cast":
        return np.asarray(ins[0]).astype(_ONNX_DTYPES[int(a["to"])])
    if op == "ConstantOfShape":
        fill = np.asarray(a.get("value", np.zeros(1, np.float32))).reshape(-1)
        return np.full(tuple(int(v) for v in ins[0]), fill[0], dtype=fill.dtype)
    if op == "Slice":
        return _slice(ins)
    if op == "Range":
        return np.arange(ins[0], ins[1], ins[2])
    if op == "Reshape":
        return np.reshape(ins[0], tuple(int(v) for v in ins[1]))
    if op == "Flatten":
        ax = int(a.get("axis", 1))
        return np.reshape(ins[0], (int(np.prod(ins[0].shape[:ax])), -1))
    fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
    if op == "Div" and all(np.asarray(v).dtype.kind in "iu" for v in ins):
        return np.asarray(ins[0] // ins[1])
    return np.asarray(fn(ins[0], ins[1]))


def fold_constant(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> np.ndarray:
    """The value of node ``n`` computed from constant inputs."""
    if n.op_type == "Shape":
        x = ins[0]
        full = ([BATCH, *x.shape] if isinstance(x, Port) else list(np.shape(x)))
        start, end = int(a.get("start", 0)), a.get("end")
        return np.asarray(full[start:None if end is None else int(end)], dtype=np.int64)
    if any(isinstance(v, Port) for v in ins):
        b.fail("shape arithmetic on an input-dependent tensor", "constant shapes")
    if any(isinstance(v, np.ndarray) and BATCH in v and n.op_type in ("Add", "Sub", "Mul", "Div")
           for v in ins):
        b.fail("arithmetic on the batch size", "shapes that keep the batch axis as it is")
    try:
        return _eval(n.op_type, ins, a)
    except Exception as exc:
        b.fail(f"cannot evaluate this constant ({type(exc).__name__}: {exc})")
        raise
