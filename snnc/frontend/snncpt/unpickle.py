"""A torch-free reader of ``torch.save`` zip archives, for snnc's own modules only.

``read_archive(path)`` unpickles ``<root>/data.pkl`` with a restricted ``pickle.Unpickler``:
``find_class`` knows a short allow-list of globals and maps each one to plain data, so no code
from the file (and no torch) is ever imported or run:

- ``Sequential``, ``Flatten`` and the ``snnc.nn`` module classes become
  ``ModuleRecord`` (class name + the pickled ``__dict__``);
- ``collections.OrderedDict`` and ``builtins.set`` are themselves;
- ``torch.*Storage`` names a dtype; ``torch._utils._rebuild_tensor_v2`` and
  ``_rebuild_parameter`` rebuild a numpy array from the archive's ``data/N`` storage with the
  recorded dtype, shape, stride, offset and byte order.

Any other global, a legacy (non-zip) pickle or a tensor with hooks raises ``NotSnncModel``:
the caller then uses the torch loader, exactly as before this reader existed.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SEQUENTIAL = "torch.nn.modules.container.Sequential"
FLATTEN = "torch.nn.modules.flatten.Flatten"
MODULE_CLASSES = frozenset({
    SEQUENTIAL, FLATTEN,
    "snnc.nn.quant.QuantLinear", "snnc.nn.quant.BinaryLinear",
    "snnc.nn.quant.QuantConv2d", "snnc.nn.quant.BinaryConv2d",
    "snnc.nn.neurons.LIF", "snnc.nn.neurons.IF",
})
STORAGE_DTYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "LongStorage": "i8",
    "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?",
}


class NotSnncModel(Exception):
    """The file is not (provably) a plain Sequential of snnc.nn modules: use the torch loader."""


class ModuleRecord:
    """A pickled ``nn.Module``: its class (``module.Name``) and its ``__dict__``."""

    cls: str = ""

    def __init__(self, cls: str, state: dict[str, Any] | None = None) -> None:
        self.cls, self.state = cls, dict(state or {})


@dataclass(frozen=True)
class _StorageType:
    dtype: str


def _module_factory(name: str) -> type:
    class _Record(ModuleRecord):
        cls = name

        def __init__(self) -> None:  # NEWOBJ calls only __new__; BUILD then sets the state
            super().__init__(name)

        def __setstate__(self, state: Any) -> None:
            if not isinstance(state, dict):
                raise NotSnncModel(f"{name} with a non-dict state")
            self.state = state

    return _Record


def _rebuild_parameter(data: Any, requires_grad: Any, hooks: Any) -> np.ndarray:
    if hooks:
        raise NotSnncModel("a parameter with backward hooks")
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, storages: dict[str, np.ndarray], zf: zipfile.ZipFile,
                 root: str, order: str) -> None:
        super().__init__(io.BytesIO(data))
        self._storages, self._zf, self._root, self._order = storages, zf, root, order

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if full in MODULE_CLASSES:
            return _module_factory(full)
        if full == "collections.OrderedDict":
            return collections.OrderedDict
        if full in ("__builtin__.set", "builtins.set"):
            return set
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        if full == "torch._utils._rebuild_tensor_v2":
            return self._rebuild_tensor
        if full == "torch._utils._rebuild_parameter":
            return _rebuild_parameter
        raise NotSnncModel(f"global {full}")

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise NotSnncModel("an unknown persistent id")
        _, stype, key, _location, numel = pid
        key = str(key)
        if key not in self._storages:
            try:
                raw = _read_member(self._zf, f"{self._root}data/{key}")
            except KeyError:
                raise NotSnncModel(f"storage {key} missing") from None
            dt = np.dtype(stype.dtype).newbyteorder("<" if self._order == "little" else ">")
            arr = np.frombuffer(raw, dtype=dt, count=len(raw) // dt.itemsize)
            if arr.size < int(numel):
                raise NotSnncModel(f"storage {key} is truncated")
            self._storages[key] = arr[: int(numel)]
        return self._storages[key]

    @staticmethod
    def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, requires_grad: Any,
                        hooks: Any, metadata: Any = None) -> np.ndarray:
        if hooks or metadata:
            raise NotSnncModel("a tensor with hooks or metadata")
        if not isinstance(storage, np.ndarray):
            raise NotSnncModel("a tensor without a storage")
        size, stride, offset = tuple(int(s) for s in size), tuple(int(s) for s in stride), \
            int(offset)
        if len(size) != len(stride) or offset < 0 or any(s < 0 for s in stride + size):
            raise NotSnncModel("a tensor with an invalid layout")
        last = offset + sum((n - 1) * st for n, st in zip(size, stride, strict=True)) \
            if all(size) else offset - 1
        if last >= storage.size:
            raise NotSnncModel("a tensor outside its storage")
        if int(np.prod(size, dtype=np.float64)) > storage.size:  # stride-0 views: never copied
            raise NotSnncModel("a tensor larger than its storage")
        item = storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(storage[offset:] if all(size) else storage[:0],
                                               shape=size, strides=[s * item for s in stride])
        if storage.dtype.isnative:  # a read-only view: no second copy of a large tensor
            view = view.view()
            view.setflags(write=False)
            return view
        return np.array(view, dtype=storage.dtype.newbyteorder("="))


_PLAIN_MEMBERS = {"data.pkl", ".format_version", ".storage_alignment", "byteorder", "version",
                  ".data/serialization_id", ".data/version"}
_MAX_PICKLE_BYTES = 256 << 20  # the loading policy's limit on a member it scans


_CHUNK = 1 << 24


def _read_member(zf: zipfile.ZipFile, name: str) -> bytearray:
    """A member's bytes read into one buffer in 16 MB pieces (``ZipFile.read`` of a 256 MB
    tensor held its pieces and their join: twice the tensor); the CRC is still checked."""
    size = zf.getinfo(name).file_size
    buf = bytearray(size)
    view = memoryview(buf)
    with zf.open(name) as fh:
        done = 0
        while done < size:
            n = fh.readinto(view[done:done + _CHUNK])
            if not n:
                raise NotSnncModel(f"{name} is truncated")
            done += n
        if fh.read(1):
            raise NotSnncModel(f"{name} is longer than its directory entry")
    return buf


def _check_members(zf: zipfile.ZipFile, root: str) -> None:
    """Only what torch.save writes: a member the policy would scan and this reader would not
    read (another pickle, a nested archive) sends the file to the torch path and its policy."""
    for info in zf.infolist():
        rel = info.filename[len(root):] if info.filename.startswith(root) else None
        storage = rel is not None and rel.startswith("data/") and rel[5:].isdigit()
        if rel is None or not (storage or rel in _PLAIN_MEMBERS):
            raise NotSnncModel(f"member {info.filename}")
        if rel == "data.pkl" and info.file_size > _MAX_PICKLE_BYTES:
            raise NotSnncModel("a pickle larger than the policy scans")


def read_archive(path: Path) -> Any:
    """The object pickled in the ``torch.save`` zip archive ``path`` (see the module doc)."""
    try:
        with zipfile.ZipFile(path) as zf:
            pkls = [n for n in zf.namelist() if n.endswith("data.pkl") and n.count("/") <= 1]
            if len(pkls) != 1:
                raise NotSnncModel("not a torch.save archive")
            root = pkls[0][: -len("data.pkl")]
            names = set(zf.namelist())
            _check_members(zf, root)
            order = "little"
            if f"{root}byteorder" in names:
                order = zf.read(f"{root}byteorder").decode("ascii", "replace").strip()
            if order not in ("little", "big"):
                raise NotSnncModel(f"byte order {order!r}")
            return _Unpickler(zf.read(pkls[0]), {}, zf, root, order).load()
    except NotSnncModel:
        raise
    except Exception as exc:  # damaged zip or pickle: the torch loader reports it
        raise NotSnncModel(f"unreadable ({type(exc).__name__})") from None
