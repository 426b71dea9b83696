"""Loading ``model.pt`` / ``.pth`` / ``.pt2`` without running untrusted code.

Accepted files:

- a whole pickled module (``torch.save(model)``): loaded with ``weights_only=True`` and an
  allow-list of ``nn.Module`` classes from torch.nn, snnc.nn, snnTorch, SpikingJelly and Norse.
  The pickle is scanned first (no code runs); any other global is refused with a ``FormatError``
  naming it and the ``--trust-pickle`` opt-in, which loads with ``weights_only=False``;
- a ``state_dict`` (also under a ``"state_dict"``/``"model_state_dict"``/``"model"`` key) plus
  ``--model package.module:factory``, a callable returning the module to load it into;
- a ``torch.export`` program (``.pt2``): its graph is traced like a module; the input shape comes
  from the program's example inputs;
- a TorchScript file whose module is a ``Sequential`` of supported layers (rebuilt as modules).

The per-sample input shape comes from the file where it can (``.pt2``; a module attribute
``snnc_input_shape``), otherwise from ``input_shape`` (``--input-shape``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import FormatError, UnsupportedOpError
from ...io import parse_input_shape
from ...ir import Graph
from .script import rebuild_script_module
from .tracer import trace

log = logging.getLogger(__name__)

ALLOWED_PREFIXES = ("torch.nn.", "snnc.nn.", "snntorch.", "spikingjelly.", "norse.")
STATE_KEYS = ("state_dict", "model_state_dict", "model", "net")


def load_torch(path: str | Path, *, input_shape: Any = None, model: str | None = None,
               trust_pickle: bool = False, example_input: Any = (), **_: Any) -> Graph:
    """Read a PyTorch model file and trace it into an IR graph (see the module docstring).

    ``example_input``: paths of example inputs (``--calibration``, ``--input``) that the input
    shape may be inferred from when neither ``input_shape`` nor the file gives it
    (``shapes.infer_input_shape``); the graph's ``load_notes`` metadata says how it was."""
    path = Path(path)
    obj, file_shape, checkpoint = _load_model(path, model=model, trust_pickle=trust_pickle)
    shape = parse_input_shape(input_shape) if input_shape is not None else file_shape
    notes: list[str] = []
    if shape is None:
        from .shapes import infer_input_shape

        examples = [example_input] if isinstance(example_input, str | Path) else example_input
        shape, how = infer_input_shape(path, obj, checkpoint, tuple(examples or ()))
        if shape is None:
            raise FormatError(f"{path}: the input shape could not be inferred (tried: {how}); "
                              "pass --input-shape with the per-sample shape, without batch or "
                              "time axes, e.g. --input-shape 64 or --input-shape 2,34,34")
        notes.append(f"{path.name}: {how}")
        log.info("%s: %s", path, how)
    try:
        graph = trace(obj, shape)
    except UnsupportedOpError as exc:
        if not notes or "--input-shape" not in str(exc):
            raise
        raise UnsupportedOpError(f"{exc} ({notes[0]}; pass --input-shape if that is not the "
                                 "sample's shape)") from None
    graph = graph.with_metadata(file=path.name)
    return graph.with_metadata(load_notes=notes) if notes else graph


def load_model(path: Path, *, model: str | None = None,
               trust_pickle: bool = False) -> tuple[nn.Module, tuple[int, ...] | None]:
    """The module stored in ``path`` and the input shape the file records (or None)."""
    module, shape, _ = _load_model(path, model=model, trust_pickle=trust_pickle)
    return module, shape


def _load_model(path: Path, *, model: str | None = None, trust_pickle: bool = False
                ) -> tuple[nn.Module, tuple[int, ...] | None, Any]:
    """The module, the input shape the file records (or None) and the raw checkpoint object."""
    from ...readers import regular_file
    from ..policy import check_loadable

    regular_file(path, "a PyTorch model file")
    kind = check_loadable(path, trust_pickle)
    if kind == "export" or path.suffix.lower() == ".pt2":
        if kind != "export":
            raise FormatError(f"{path}: not a torch.export archive (torch.export.save writes "
                              ".pt2 files)")
        return (*_load_export(path), None)
    if kind == "torchscript":
        return rebuild_script_module(path), None, None
    if kind not in ("torch-zip", "pickle"):
        raise FormatError(f"{path}: not a PyTorch file (torch.save, torch.jit.save or "
                          "torch.export.save writes them)")
    obj = _load_pickle(path, trust_pickle)
    if isinstance(obj, nn.Module):
        return obj, _attr_shape(obj), None
    if isinstance(obj, Mapping):
        module = _from_state_dict(path, obj, model)
        return module, _attr_shape(module), obj
    raise FormatError(f"{path}: holds a {type(obj).__name__}, not a module or a state_dict")


def _attr_shape(module: nn.Module) -> tuple[int, ...] | None:
    shape = getattr(module, "snnc_input_shape", None)
    return None if shape is None else parse_input_shape(shape)


def allowed_class(name: str) -> type | None:
    """The class named ``module.Name`` if it is an allow-listed ``nn.Module`` subclass."""
    modname, _, attr = name.rpartition(".")
    if not modname.startswith(ALLOWED_PREFIXES) and modname + "." not in ALLOWED_PREFIXES:
        return None
    try:
        obj = getattr(importlib.import_module(modname), attr)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) and issubclass(obj, nn.Module) else None


def _load_pickle(path: Path, trust_pickle: bool) -> Any:
    if trust_pickle:
        log.warning("%s: loading with --trust-pickle: the file may run arbitrary code", path)
        with _search_path((Path.cwd(), path.parent)):  # the user's model.py, as --model finds it
            return _torch_load(path, weights_only=False)
    # check_loadable (snnc.frontend.policy) has refused every other global; torch's own
    # weights_only unpickler then enforces the same allow-list while loading.
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception as exc:
        raise FormatError(f"{path}: not a PyTorch checkpoint ({exc})") from None
    classes = [allowed_class(n) for n in names]
    if any(c is None for c in classes):
        raise FormatError(f"{path}: the pickle needs classes outside snnc's allow-list; pass "
                          "--trust-pickle if you trust the file")
    with torch.serialization.safe_globals(classes):
        return _torch_load(path, weights_only=True)


def _torch_load(path: Path, weights_only: bool) -> Any:
    try:
        return torch.load(str(path), map_location="cpu", weights_only=weights_only)
    except (AttributeError, ModuleNotFoundError) as exc:
        if not weights_only and "__main__" in str(exc):
            raise FormatError(
                f"{path}: the pickle names a class of the script that saved it ({exc}); "
                "`python train.py` saves its classes as __main__.X, which no other program can "
                "import. Move the class into a module (e.g. model.py, next to the file or in "
                "the current directory) and save again, or save the state_dict and pass "
                "--model model:factory") from None
        if not weights_only:
            raise FormatError(f"{path}: the pickle's classes cannot be imported ({exc}); "
                              "snnc looked in the installed packages, the current directory "
                              "and the model file's directory") from None
        raise FormatError(f"{path}: cannot be loaded as a PyTorch file: {exc}") from None
    except Exception as exc:
        raise FormatError(f"{path}: cannot be loaded as a PyTorch file: {exc}") from None


def _from_state_dict(path: Path, obj: Mapping[str, Any], model: str | None) -> nn.Module:
    state = obj
    for key in STATE_KEYS:
        if isinstance(obj.get(key), Mapping):
            state = obj[key]
            break
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FormatError(f"{path}: a dict that is not a state_dict (values must be tensors)")
    if model is None:
        raise FormatError(f"{path}: holds a state_dict; name the code that builds the module "
                          "with --model package.module:factory")
    module = build_factory(model, search=(Path.cwd(), path.parent))
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise FormatError(f"{path}: does not fit the module built by {model}: {exc}") from None
    return module


def _import(modname: str, search: tuple[Path, ...]) -> Any:
    """Import ``modname``; if it is not importable as is, look in ``search`` (the current
    directory, then the model file's), as a user expects of a ``model.py`` next to the file."""
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name != modname.split(".")[0] or not search:
            raise
    with _search_path(search):
        return importlib.import_module(modname)


@contextlib.contextmanager
def _search_path(search: tuple[Path, ...]) -> Iterator[None]:
    """``sys.path`` with ``search`` in front, restored afterwards (imported modules stay)."""
    saved = list(sys.path)
    sys.path[:0] = [str(d.resolve()) for d in search]
    try:
        yield
    finally:
        sys.path[:] = saved


def build_factory(spec: str, search: tuple[Path, ...] = ()) -> nn.Module:
    """Call ``package.module:factory`` and return the module it builds; ``module`` is also
    looked for in the ``search`` directories."""
    modname, _, attr = spec.rpartition(":")
    if not modname or not attr:
        raise FormatError(f"--model {spec!r}: expected package.module:factory or file.py:factory")
    if modname.endswith(".py"):  # a file path, as users often write it: dir/model.py:Net
        file = Path(modname).expanduser()
        if not file.is_file():
            raise FormatError(f"--model {spec!r}: {file} is not a file")
        modname, search = file.stem, (file.resolve().parent,)
    try:
        factory = getattr(_import(modname, search), attr)
    except (ImportError, AttributeError) as exc:
        where = " (looked in the current directory and the model file's)" if search else ""
        raise FormatError(f"--model {spec!r}: {exc}{where}") from None
    module = factory()
    if not isinstance(module, nn.Module):
        raise FormatError(f"--model {spec!r} returned a {type(module).__name__}, not a module")
    return module


def _load_export(path: Path) -> tuple[nn.Module, tuple[int, ...] | None]:
    import snnc.nn  # noqa: F401  (registers the snnc::lif_step op that exported neurons use)

    try:
        ep = torch.export.load(str(path))
    except Exception as exc:
        raise FormatError(f"{path}: not a torch.export program: {exc}") from None
    args = ep.example_inputs[0] if ep.example_inputs else ()
    shape = tuple(args[0].shape[1:]) if args and isinstance(args[0], torch.Tensor) else None
    return ep.module(), shape
