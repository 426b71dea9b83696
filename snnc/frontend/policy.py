"""The loading policy: nothing in a model file that can execute code runs without --trust-pickle.

``check_loadable(path, trust_pickle)`` is the one decision every reader goes through
(``snnc.api.load`` calls it for every file; the torch front end calls it again before
``torch.load``, ``torch.jit.load`` or ``torch.export.load``). It reads the file without
unpickling anything:

- HDF5 files (``.snnc``, ``.nir``, ``.net``) hold no code: accepted (their readers validate them);
- a pickle (``torch.save`` zip archive, legacy non-zip checkpoint): every pickle opcode is walked
  with ``pickletools``; each global it would import must be in torch's ``weights_only`` allow-list
  or be an allow-listed ``nn.Module`` class (torch.nn, snnc.nn, snnTorch, SpikingJelly, Norse);
- a ``torch.export`` archive (``.pt2``): its pickled weights, constants and sample inputs are
  nested ``torch.save`` archives, scanned the same way, because ``torch.export.load`` unpickles
  them with ``weights_only=False``; custom (TorchScript) and opaque (plain pickle) constants are
  refused outright;
- a TorchScript archive: its pickles may name only TorchScript classes (``__torch__.*``) and
  tensor rebuild functions, and its code may not define ``__setstate__`` (code run at load).

Anything else, or a pickle the scanner cannot follow, is refused. With ``trust_pickle`` the
check is skipped (and a warning logged by the caller).
"""

from __future__ import annotations

import _compat_pickle
import io
import pickletools
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import FormatError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
               "BINSTRING", "STRING"}
_MAX_NESTING = 3
_MAX_MEMBER_BYTES = 256 << 20


class _Refused(Exception):
    """A pickle the scanner cannot follow or that is not one."""


def pickle_globals(data: bytes, count: int = 1) -> set[str]:
    """The ``module.name`` globals the first ``count`` pickles in ``data`` import (not run)."""
    found: set[str] = set()
    stream = io.BytesIO(data)
    for _ in range(count):
        if stream.tell() >= len(data):
            break
        found |= _one_pickle(stream)
    return found


_MARK = object()
_ANY = object()
_GETS = ("GET", "BINGET", "LONG_BINGET")
_PUTS = ("PUT", "BINPUT", "LONG_BINPUT")


def _one_pickle(stream: io.BytesIO) -> set[str]:
    """Walk one pickle on a symbolic stack (strings tracked, all else opaque); collect globals.

    The stack follows pickletools' stack effects, so names hidden with POP, DUP or the memo are
    still seen; a STACK_GLOBAL whose operands are not known strings is refused.
    """
    found: set[str] = set()
    stack: list[object] = []
    memo: dict[int, object] = {}
    try:
        for op, arg, _pos in pickletools.genops(stream):
            name = op.name
            if name in ("GLOBAL", "INST"):
                found.add(_py3_name(*str(arg).split(" ", 1)))
            if name in ("EXT1", "EXT2", "EXT4"):
                raise _Refused("pickle extension-registry opcodes")
            if name == "STACK_GLOBAL":
                attr, mod = _pop(stack), _pop(stack)
                if not (isinstance(mod, str) and isinstance(attr, str)):
                    raise _Refused("a STACK_GLOBAL whose names the scanner cannot follow")
                found.add(_py3_name(mod, attr))
                stack.append(_ANY)
            elif name in _STRING_OPS:
                stack.append(str(arg))
            elif name in _GETS:
                if int(arg) not in memo:
                    raise _Refused("a memo read before it was written")
                stack.append(memo[int(arg)])
            elif name in _PUTS or name == "MEMOIZE":
                if not stack:
                    raise _Refused("a memo write with an empty stack")
                memo[len(memo) if name == "MEMOIZE" else int(arg)] = stack[-1]
            elif name == "DUP":
                stack.append(stack[-1] if stack else _ANY)
            else:
                _effect(stack, op)
    except _Refused:
        raise
    except Exception as exc:  # genops: ValueError on garbage, EOF on truncation
        raise _Refused(f"not a readable pickle ({type(exc).__name__}: {exc})") from None
    return found


def _py3_name(module: str, name: str = "") -> str:
    """``module.name`` as Python 3 imports it (pickle maps Python 2 names, e.g. __builtin__)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{module}.{name}"


def _pop(stack: list[object]) -> object:
    if not stack or stack[-1] is _MARK:
        raise _Refused("a pickle whose stack the scanner cannot follow")
    return stack.pop()


def _effect(stack: list[object], op: pickletools.OpcodeInfo) -> None:
    before = op.stack_before
    if pickletools.markobject in before:
        while stack and stack[-1] is not _MARK:
            stack.pop()
        if not stack:
            raise _Refused("a pickle whose marks the scanner cannot follow")
        stack.pop()
        for _ in range(before.index(pickletools.markobject)):
            _pop(stack)
    else:
        for _ in before:
            _pop(stack)
    for item in op.stack_after:
        stack.append(_MARK if item is pickletools.markobject else _ANY)


def file_kind(path: Path) -> str:
    """'hdf5', 'torchscript', 'export', 'torch-zip', 'pickle' or 'unknown' (from the bytes)."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == HDF5_SIGNATURE:
        return "hdf5"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise FormatError(f"{path}: a damaged zip archive ({exc})") from None
        if any(n.endswith("/archive_format") or n == "archive_format" for n in names):
            return "export"
        if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            return "torchscript"
        return "torch-zip"
    if head[:1] == b"\x80" or head[:1] in (b"(", b"c", b"}", b"]"):
        return "pickle"
    return "unknown"


def _members(zf: zipfile.ZipFile, depth: int) -> Iterator[tuple[str, bytes]]:
    for info in zf.infolist():
        if info.is_dir():
            continue
        if info.file_size > _MAX_MEMBER_BYTES and not _is_storage(info.filename):
            raise _Refused(f"member {info.filename} is larger than {_MAX_MEMBER_BYTES} bytes")
        if _is_storage(info.filename):
            continue
        yield info.filename, zf.read(info)


def _is_storage(name: str) -> bool:
    """Raw tensor bytes of a torch archive (``<root>/data/<n>``), never unpickled."""
    parts = name.split("/")
    return len(parts) >= 2 and parts[-2] == "data" and parts[-1].isdigit()


def zip_globals(data: bytes | Path, depth: int = 0) -> tuple[set[str], list[str]]:
    """Globals of every pickle in a zip archive (nested archives too) and refused members."""
    if depth > _MAX_NESTING:
        raise _Refused("zip archives nested too deeply")
    found: set[str] = set()
    refused: list[str] = []
    src = data if isinstance(data, Path) else io.BytesIO(data)
    with zipfile.ZipFile(src) as zf:
        raw = _raw_payloads(zf)
        for name, blob in _members(zf, depth):
            base = name.rsplit("/", 1)[-1]
            if name in raw:
                continue
            if "/constants/" in name and base.startswith(("custom_obj", "opaque_obj")):
                refused.append(f"{name} (a pickled object constant)")
            elif blob[:4] == b"PK\x03\x04":
                sub, sub_refused = zip_globals(blob, depth + 1)
                found |= sub
                refused += [f"{name}:{r}" for r in sub_refused]
            elif name.endswith(".pkl") or _pickled_member(name, blob):
                found |= pickle_globals(blob)
            elif "/code/" in name and b"__setstate__" in blob:
                refused.append(f"{name} (defines __setstate__, which runs at load)")
    return found, refused


def _raw_payloads(zf: zipfile.ZipFile) -> set[str]:
    """Members a ``.pt2`` payload config declares as raw tensor bytes (``use_pickle: false``)."""
    import json

    raw: set[str] = set()
    for name in zf.namelist():
        if not name.endswith(("model_weights_config.json", "model_constants_config.json")):
            continue
        try:
            config = json.loads(zf.read(name)).get("config", {})
        except (ValueError, AttributeError):
            raise _Refused(f"{name} is not a valid payload config") from None
        folder = name.rsplit("/", 1)[0]
        for meta in config.values() if isinstance(config, dict) else ():
            if isinstance(meta, dict) and meta.get("use_pickle") is False and \
                    str(meta.get("path_name", "")).startswith(("tensor_", "weight_")):
                raw.add(f"{folder}/{meta['path_name']}")
    return raw


def _pickled_member(name: str, blob: bytes) -> bool:
    """Members torch unpickles outside ``*.pkl``: sample inputs, pickled weights, legacy files."""
    if name.endswith((".json", "/archive_format", "/archive_version", "/byteorder", "/version",
                      "/serialization_id", "/.format_version", "/.storage_alignment")):
        return False
    if "/data/weights/" in name or "/data/constants/" in name:
        return blob[:1] == b"\x80"
    return "/sample_inputs/" in name or blob[:1] == b"\x80"


def _explain(path: Path, what: str) -> FormatError:
    return FormatError(
        f"{path}: {what}. Loading it could run arbitrary code, so snnc refuses it. If you trust "
        "the file, pass --trust-pickle; otherwise save a state_dict and load it with --model "
        "package.module:factory.")


def check_loadable(path: str | Path, trust_pickle: bool = False,
                   allowed: Callable[[str], bool] | None = None) -> str:
    """Refuse ``path`` if loading it could run code (see the module docstring); return its kind."""
    p = Path(path)
    kind = file_kind(p)
    if trust_pickle or kind in ("hdf5", "unknown"):
        return kind
    ok = allowed or default_allowed(kind)
    try:
        if kind == "pickle":
            found, refused = pickle_globals(p.read_bytes(), count=5), []
        else:
            found, refused = zip_globals(p)
    except _Refused as exc:
        raise _explain(p, f"the file holds a pickle snnc cannot check: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise FormatError(f"{p}: a damaged zip archive ({exc})") from None
    bad = sorted(g for g in found if not ok(g))
    if refused:
        raise _explain(p, f"the archive holds {', '.join(refused[:3])}")
    if bad:
        raise _explain(p, f"the pickle needs {', '.join(bad[:6])}, which is not a tensor, a "
                          "plain container or an allow-listed module class (torch.nn, snnc.nn, "
                          "snnTorch, SpikingJelly, Norse)")
    return kind


def default_allowed(kind: str) -> Callable[[str], bool]:
    """torch's weights_only globals, plus allow-listed module classes or TorchScript classes."""
    from .torch.loading import allowed_class

    try:
        from torch._weights_only_unpickler import _get_allowed_globals

        safe = set(_get_allowed_globals())
    except (ImportError, AttributeError):  # pragma: no cover - a torch without the private API
        safe = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                "torch._utils._rebuild_parameter", "torch.FloatStorage", "torch.Size"}
    if kind == "torchscript":
        return lambda g: g in safe or g.startswith("__torch__.") or g.startswith("torch.jit.")
    return lambda g: g in safe or allowed_class(g) is not None
