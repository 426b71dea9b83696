"""Node base class: frozen, self-verifying dataclasses with structural equality and a registry.

Every op is a frozen dataclass that registers itself under a stable name (``@register("lif")``).
Field kinds are declared with the helpers below (``shape()``, ``farray()``, ``iarray()``,
``weight()``, ``chip_weight()``); ``Node.__post_init__`` normalises them (tuples of ints, frozen
float64 / int64 arrays, chip weights in the narrowest signed integer type that holds them,
quantized tensors) and then calls the class's ``_verify`` hook, which raises ``IRError``.
Serialization (text form, HDF5) is derived from the fields, so an op needs no code for it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import IRError
from .qtensor import CodebookTensor, QTensor, is_qweight
from .traits import Trait

_REGISTRY: dict[str, type[Node]] = {}

Shape = tuple[int, ...]


def register(name: str):
    """Class decorator: register an op class under a stable name."""

    def deco(cls: type[Node]) -> type[Node]:
        if name in _REGISTRY:
            raise IRError(f"op name {name!r} registered twice")
        cls.op = name
        cls.__repr__ = Node.__repr__  # type: ignore[method-assign]
        _REGISTRY[name] = cls
        return cls

    return deco


def op_class(name: str) -> type[Node]:
    """The node class registered under ``name``; ``IRError`` if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise IRError(f"unknown op {name!r}; known ops: {', '.join(sorted(_REGISTRY))}") from None


def registered_ops() -> dict[str, type[Node]]:
    return dict(sorted(_REGISTRY.items()))


# ---- field kinds -------------------------------------------------------------------------------


def shape(**kw: Any) -> Any:
    """A tuple of non-negative ints."""
    return field(metadata={"kind": "shape"}, **kw)


def farray(default: Any = dataclasses.MISSING) -> Any:
    """A float64 array (scalars become 0-d arrays), frozen."""
    if default is dataclasses.MISSING:
        return field(metadata={"kind": "float"})
    return field(default_factory=lambda: np.asarray(default, dtype=np.float64),
                 metadata={"kind": "float"})


def iarray(default: Any = dataclasses.MISSING) -> Any:
    """An int64 array (scalars become 0-d arrays), frozen."""
    if default is dataclasses.MISSING:
        return field(metadata={"kind": "int"})
    return field(default_factory=lambda: np.asarray(default, dtype=np.int64),
                 metadata={"kind": "int"})


def chip_weight() -> Any:
    """A chip synapse's integer weights, frozen, in the narrowest signed type that holds them
    (int8 for most 8-bit weights, int16 for Lava's [-256, 255] range): a 64 M-synapse layer is
    64 MB, not 512 MB as int64. Arithmetic on them must widen first (``np.asarray(w,
    np.int64)``, ``ir.weights.effective_dense_weights``): an int8 ``-w`` or product wraps."""
    return field(metadata={"kind": "narrow_int"})


def weight(optional: bool = False) -> Any:
    """A weight tensor: a float64 array, or a ``QTensor`` / ``CodebookTensor``."""
    if optional:
        return field(default=None, metadata={"kind": "weight"})
    return field(metadata={"kind": "weight"})


def optional_farray() -> Any:
    """A float64 array or None."""
    return field(default=None, metadata={"kind": "float?"})


def optional_iarray() -> Any:
    """An int64 array or None."""
    return field(default=None, metadata={"kind": "int?"})


def _frozen(value: Any, dtype: Any) -> np.ndarray:
    if _shareable(value, dtype):
        return value
    arr = np.array(value, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def _shareable(value: Any, dtype: Any) -> bool:
    """An array already frozen in ``dtype`` that no writable array can change: kept as is
    (``replace`` re-normalises every field, and a 64 M-synapse copy per replace is not free).
    Views are shared only when their base is frozen too."""
    if not (isinstance(value, np.ndarray) and type(value) is np.ndarray
            and value.dtype == dtype and not value.flags.writeable):
        return False
    base = value.base
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return base is None


def narrowest_int(arr: np.ndarray) -> np.dtype:
    """The smallest signed integer type holding every value of the integer array ``arr``."""
    if arr.size == 0:
        return np.dtype(np.int8)
    lo, hi = int(arr.min()), int(arr.max())
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _to_shape(value: Any, name: str) -> Shape:
    try:
        out = tuple(int(v) for v in np.atleast_1d(np.asarray(value)).tolist())
    except (TypeError, ValueError):
        raise IRError(f"field {name!r} must be a shape (tuple of ints), got {value!r}") from None
    if any(v < 0 for v in out):
        raise IRError(f"field {name!r} has a negative dimension: {out}")
    return out


def _normalise(kind: str, value: Any, name: str) -> Any:
    if kind == "shape":
        return _to_shape(value, name)
    if kind.endswith("?") and value is None:
        return None
    if kind in ("float", "float?"):
        if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
            raise IRError(f"field {name!r} must be numeric, got dtype {value.dtype}")
        return _frozen(value, np.float64)
    if kind in ("int", "int?"):
        arr = np.asarray(value)
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise IRError(f"field {name!r} must hold integers, got non-integral values")
        return _frozen(arr, np.int64)
    if kind == "narrow_int":
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise IRError(f"field {name!r} must hold integers, got dtype {arr.dtype}")
        if arr.dtype.kind == "f":
            if not np.all(arr == np.round(arr)):
                raise IRError(f"field {name!r} must hold integers, got non-integral values")
            if arr.size and not (np.abs(arr).max() < 2**62):
                raise IRError(f"field {name!r} holds integers too large for int64")
            arr = arr.astype(np.int64)
        return _frozen(arr, narrowest_int(arr))
    if kind == "weight":
        if value is None or is_qweight(value):
            return value
        return _frozen(value, np.float64)
    return value


def as_float(w: Any) -> np.ndarray | None:
    """A weight field as a float64 array (quantized tensors dequantized)."""
    if w is None:
        return None
    if isinstance(w, QTensor | CodebookTensor):
        return w.dequant()
    return np.asarray(w, dtype=np.float64)


def values_equal(a: Any, b: Any) -> bool:
    """Structural equality for field values (arrays by dtype kind, shape and content)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        return a.dtype.kind == b.dtype.kind and a.shape == b.shape and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return bool(a == b)


def check_broadcast(value: np.ndarray, target: Shape, what: str) -> None:
    """Raise ``IRError`` unless ``value`` broadcasts to ``target`` without growing it."""
    try:
        out = np.broadcast_shapes(value.shape, target)
    except ValueError:
        out = None
    if out != tuple(target):
        raise IRError(f"{what} has shape {value.shape}, which does not broadcast to {target}")


class SameShape:
    """Mixin for ops whose input and output both have the shape of their ``shape`` field."""

    shape: Shape

    @property
    def in_shape(self) -> Shape:
        return self.shape

    @property
    def out_shape(self) -> Shape:
        return self.shape


class InputShaped:
    """Mixin for ops whose input shape is their ``input_shape`` field."""

    input_shape: Shape

    @property
    def in_shape(self) -> Shape:
        return self.input_shape


@dataclass(frozen=True, eq=False, kw_only=True)
class Node:
    """Base of every IR op. Subclasses add fields and override ``in_shape``/``out_shape``."""

    op: ClassVar[str] = ""
    #: True when the op keeps state from one time step to the next.
    stateful: ClassVar[bool] = False
    #: True when the op merges several incoming edges itself (otherwise incoming edges sum).
    multi_input: ClassVar[bool] = False
    #: what kind of op this is (``ir/traits.py``); passes query it, never op-name tuples.
    traits: ClassVar[frozenset[Trait]] = frozenset()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            kind = f.metadata.get("kind")
            if kind is not None:
                object.__setattr__(self, f.name, _normalise(kind, getattr(self, f.name), f.name))
        try:
            self._verify()
        except IRError as exc:
            raise IRError(f"{self.op}: {exc}") from None

    def _verify(self) -> None:
        """Check the fields; raise ``IRError``. Overridden by ops with constraints."""

    @property
    def in_shape(self) -> Shape:
        raise NotImplementedError

    @property
    def out_shape(self) -> Shape:
        raise NotImplementedError

    @property
    def latency(self) -> int:
        """Steps between an input and its first effect on the output (0 or 1).

        Ops with latency 1 emit, at step t, a value computed from inputs up to t-1; the executor
        reads their output before it feeds them, so they break cycles.
        """
        return 0

    def params(self) -> dict[str, Any]:
        """The fields as a dict, in declaration order."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Node:
        return dataclasses.replace(self, **changes)

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented if not isinstance(other, Node) else False
        return all(values_equal(getattr(self, f.name), getattr(other, f.name))
                   for f in dataclasses.fields(self))

    def __hash__(self) -> int:
        return hash((self.op, self.in_shape, self.out_shape))

    def __repr__(self) -> str:
        return f"<{self.op} {self.in_shape}->{self.out_shape}>"
