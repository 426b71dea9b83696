"""torch.fx tracing of one time step of a PyTorch SNN into an ``snnc.ir.Graph``.

1. ``torch.fx`` traces ``forward`` symbolically. Modules with a converter (layers, neurons) stay
   leaves; other modules of torch.nn, snnTorch, SpikingJelly and Norse also stay leaves (and are
   reported as unsupported if reached); user modules, ``snnc.nn.Quant*`` and containers are traced
   through. Extra ``forward`` parameters that default to ``None`` (neuron states) are fixed to
   ``None``.
2. The graph runs once on an example input; nodes that depend only on parameters and constants
   (weight quantizers, straight-through tricks, scale products) are static: their recorded
   values are what converters see. ``a + b - a * b`` is recognised as a spike OR beforehand.
3. The remaining nodes are converted in order by the registered converters (``converters/``).

Time: the IR graph is ONE time step. Supported are a ``forward`` that takes one step (snnTorch
``init_hidden``/per-step models, Norse cells, snnc.nn, SpikingJelly single-step) and
SpikingJelly multi-step models (``step_mode='m'``, ``SeqToANNContainer``, ``MultiStepContainer``)
whose input is (T, B, ...): the leading T axis is the time axis, and a final ``mean(0)`` /
``sum(0)`` over it is recorded as the readout. A ``forward`` that loops over time itself calls its
neurons several times and is refused with a message saying so.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import logging
import operator
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from ...errors import UnsupportedOpError
from ...ir import Graph, Input, Output
from ...ir.staircase import fuse_staircases
from . import converters as reg
from .context import Context, Port, State, Where, is_dynamic, spike_or
from .handwritten import is_user_module
from .loops import (
    StepValue,
    cse_key,
    is_time_stack,
    loop_steps,
    max_step,
    time_indexed_length,
    time_stack,
)
from .states import example_input, model_sources, reset_model, uses_multi_step

log = logging.getLogger(__name__)

_LIB_PREFIXES = ("torch.nn.", "snntorch", "spikingjelly", "norse")
_SHAPE_QUERIES = {"size", "dim", "shape", "dtype", "device", "ndim", "numel"}


class _ShapedProxy(fx.Proxy):
    """The input of a model traced with a concrete input shape: ``x.shape``, ``x.size()`` and
    ``x.dim()`` are numbers, so ``for step in range(x.shape[0])`` and ``torch.zeros(x.shape[1],
    n)`` trace (the loop is unrolled for the example's T steps)."""

    def __init__(self, node: fx.Node, tracer: Any, shape: tuple[int, ...]) -> None:
        super().__init__(node, tracer)
        self._snnc_shape = torch.Size(shape)

    def __getattr__(self, k: str) -> Any:
        if k == "shape":
            return self._snnc_shape
        if k == "ndim":
            return len(self._snnc_shape)
        return super().__getattr__(k)

    def size(self, dim: int | None = None) -> Any:
        return self._snnc_shape if dim is None else self._snnc_shape[dim]

    def dim(self) -> int:
        return len(self._snnc_shape)


_TORCH_DIR = str(Path(torch.__file__).parent)
_THIS_FILE = __file__


class _Tracer(fx.Tracer):
    """fx's tracer with snnc's leaf modules; each node keeps the user's frames of its creation
    (for error messages naming the model's line). Recorded here with the standard library's
    ``traceback``: fx's own ``record_stack_traces`` symbolizes through torch's profiler, whose
    first use imports torch._dynamo and torch._inductor (seconds of every compile)."""

    def __init__(self, input_shape: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.input_shape = input_shape
        self._placeholders = 0

    def create_node(self, kind: str, target: Any, args: Any, kwargs: Any,
                    name: str | None = None, type_expr: Any = None) -> fx.Node:
        import traceback

        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if not node.stack_trace:
            frames = [f for f in traceback.extract_stack(limit=64)[:-1]
                      if not f.filename.startswith(_TORCH_DIR) and f.filename != _THIS_FILE]
            if frames:
                node.stack_trace = "".join(traceback.format_list(frames[-8:])).rstrip()
        return node

    def proxy(self, node: fx.Node) -> fx.Proxy:
        if node.op == "placeholder" and self.input_shape is not None:
            self._placeholders += 1
            if self._placeholders == 1:
                return _ShapedProxy(node, self, self.input_shape)
        return super().proxy(node)

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if reg.find_module_converter(m) is not None or reg.is_stateful(m):
            return True
        if isinstance(m, nn.Sequential | nn.ModuleList | nn.ModuleDict):
            return False
        return type(m).__module__.startswith(_LIB_PREFIXES)


def _concrete_args(model: nn.Module) -> dict[str, Any]:
    params = list(inspect.signature(model.forward).parameters.values())[1:]
    return {p.name: None for p in params if p.default is None}


def first_line(exc: BaseException, limit: int = 240) -> str:
    """The first line of an exception's message, shortened: torch's run to paragraphs."""
    text = str(exc).strip().splitlines()
    line = text[0].strip() if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def where_failed(model: nn.Module, exc: BaseException) -> str:
    """``Class.forward`` plus the last frame of the user's own code (file:line), if any."""
    import traceback

    name = f"{type(model).__name__}.forward"
    mine = (str(Path(torch.__file__).parent), str(Path(__file__).parents[2]), "<")
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(mine) and "site-packages" not in f.filename]
    if not frames:
        return name
    f = frames[-1]
    return f"{name} ({f.filename}:{f.lineno}, in {f.name}: {(f.line or '').strip()[:80]})"


#: T of the example input when a model's forward loops over ``range(x.shape[0])``
LOOP_STEPS = 3


def _symbolic_trace(model: nn.Module, input_shape: tuple[int, ...] = ()) -> fx.GraphModule:
    if isinstance(model, fx.GraphModule):  # a torch.export program: already a graph
        _rewrite_spike_or(model.graph)
        return model
    tracer = _Tracer()
    try:
        with _traced_factories(tracer):
            graph = tracer.trace(model, concrete_args=_concrete_args(model) or None)
    except UnsupportedOpError:
        raise
    except Exception as exc:  # fx raises many kinds (TraceError, TypeError, RuntimeError)
        # a loop over range(x.shape[0]) (snnTorch tutorials): retry with a concrete
        # time-major input shape (T, B, *shape); keep the first error if that fails too
        tracer = _Tracer((LOOP_STEPS, 2, *input_shape))
        try:
            with _traced_factories(tracer):
                graph = tracer.trace(model, concrete_args=_concrete_args(model) or None)
        except Exception:
            graph = None
        if graph is not None and time_indexed_length(fx.GraphModule(tracer.root, graph)):
            gm = fx.GraphModule(tracer.root, graph)
            _rewrite_spike_or(gm.graph)
            return gm
        raise UnsupportedOpError(
            f"torch.fx could not trace {where_failed(model, exc)}: {first_line(exc)}. snnc "
            "traces one time step without data-dependent Python control flow; write forward as "
            "a single step (the time loop outside the model) or use SpikingJelly's multi-step "
            "mode (--debug shows torch's full error)."
        ) from exc
    gm = fx.GraphModule(tracer.root, graph)
    _rewrite_spike_or(gm.graph)
    return gm


_FACTORIES = ("zeros", "ones", "full", "empty", "zeros_like", "ones_like")


@contextlib.contextmanager
def _traced_factories(tracer: fx.Tracer) -> Any:
    """``torch.zeros(x.shape[1], n)`` (an initial state sized by the batch) cannot take fx's
    proxies as sizes: while tracing, such calls are recorded as graph nodes instead (run with
    the real sizes later, and static since sizes are shape queries)."""
    originals = {name: getattr(torch, name) for name in _FACTORIES}

    def wrap(fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            flat = [*args, *(args[0] if args and isinstance(args[0], tuple | list) else ()),
                    *kwargs.values()]
            if any(isinstance(a, fx.Proxy) and a.tracer is tracer for a in flat):
                return tracer.create_proxy("call_function", fn, args, kwargs)
            return fn(*args, **kwargs)
        return call

    try:
        for name, fn in originals.items():
            setattr(torch, name, wrap(fn))
        yield
    finally:
        for name, fn in originals.items():
            setattr(torch, name, fn)


_ADD = (operator.add, torch.add, torch.ops.aten.add.Tensor)
_MUL = (operator.mul, torch.mul, torch.ops.aten.mul.Tensor)
_SUB = (operator.sub, torch.sub, torch.ops.aten.sub.Tensor)


def _is(node: Any, fns: tuple[Any, ...], method: str) -> bool:
    return isinstance(node, fx.Node) and (
        (node.op == "call_function" and node.target in fns)
        or (node.op == "call_method" and node.target == method))


def _rewrite_spike_or(graph: fx.Graph) -> None:
    """Replace ``(a + b) - (a * b)`` by ``spike_or(a, b)``."""
    for n in list(graph.nodes):
        if not _is(n, _SUB, "sub") or len(n.args) != 2:
            continue
        s, p = n.args
        if not (_is(s, _ADD, "add") and _is(p, _MUL, "mul")):
            continue
        if len(s.args) != 2 or len(p.args) != 2 or set(s.args) != set(p.args):
            continue
        with graph.inserting_before(n):
            new = graph.call_function(spike_or, tuple(s.args))
        new.meta = dict(n.meta)
        n.replace_all_uses_with(new)
        graph.erase_node(n)
        for old in (s, p):
            if not old.users:
                graph.erase_node(old)
    graph.lint()


class _Recorder(fx.Interpreter):
    """Runs the graph once and keeps every node's value."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.values: dict[fx.Node, Any] = {}

    def run_node(self, n: fx.Node) -> Any:
        out = super().run_node(n)
        self.values[n] = out
        return out


def _static_nodes(gm: fx.GraphModule) -> set[fx.Node]:
    static: set[fx.Node] = set()
    inputs = [n for n in gm.graph.nodes if n.op == "placeholder"]
    for n in gm.graph.nodes:
        if n.op == "get_attr" or (n.op == "placeholder" and n is not inputs[0]):
            static.add(n)  # extra placeholders are the forward arguments fixed to None
        elif n.op == "call_module" and n.target.startswith("_guards"):
            static.add(n)  # torch.export's shape guards
        elif n.op in ("call_function", "call_method", "call_module"):
            ins = n.all_input_nodes
            if n.op == "call_module" and reg.is_stateful(gm.get_submodule(n.target)) \
                    and not (is_user_module(gm.get_submodule(n.target))
                             and all(i in static for i in ins)):
                continue  # a user module applied to weights only (a quantizer) stays static
            if all(i in static for i in ins) or _is_shape_query(n):
                static.add(n)
    return static


def _is_shape_query(n: fx.Node) -> bool:
    if n.op == "call_method":
        return n.target in _SHAPE_QUERIES
    return n.op == "call_function" and n.target is getattr and n.args[1] in _SHAPE_QUERIES


def _source_line(n: fx.Node) -> str:
    """``file.py:LINE `code``` of the innermost model frame (not torch.fx internals)."""
    lines = (n.stack_trace or "").splitlines()
    frames = [(lines[i].strip(), lines[i + 1].strip() if i + 1 < len(lines) else "")
              for i in range(len(lines)) if lines[i].strip().startswith("File ")]
    frames = [f for f in frames if "/torch/fx/" not in f[0]] or frames
    if not frames:
        return ""
    head, code = frames[-1]
    parts = head.split(",")
    fname = parts[0][5:].strip().strip('"').rsplit("/", 1)[-1]
    line = parts[1].strip().replace("line ", "") if len(parts) > 1 else "?"
    return f"{fname}:{line} `{code}`"


def trace(model: nn.Module, input_shape: tuple[int, ...], *, multi_step: bool | None = None,
          source: str | None = None) -> Graph:
    """Trace one time step of ``model`` for per-sample input shape ``input_shape``."""
    reg.load_families()
    reset_model(model)  # also drops autograd history held in neuron states, so deepcopy works
    model = copy.deepcopy(model).eval()
    multi = uses_multi_step(model) if multi_step is None else multi_step
    gm = _symbolic_trace(model, tuple(input_shape))
    steps = loop_steps(gm)
    t_indexed = time_indexed_length(gm)
    rec = _Recorder(gm)
    x = example_input(model, tuple(input_shape), multi, t_indexed)
    try:
        with torch.no_grad():
            rec.run(x)
    except Exception as exc:
        raise UnsupportedOpError(
            f"running {where_failed(model, exc)} on an input of shape {tuple(x.shape)} failed: "
            f"{first_line(exc)}. Check --input-shape (per sample, without batch or time axes; "
            "--debug shows torch's full error).") from exc
    reset_model(model)
    mode = "multi-step (T, B, ...)" if multi else "single-step"
    if steps:
        mode = f"time loop in forward ({max(steps.values()) + 1} steps), step 0 traced"
    ctx = Context(metadata={"source": source or model_sources(model), "time_axis": mode})
    lead = 2 if multi or t_indexed else 1
    _convert(gm, rec.values, _static_nodes(gm), ctx, tuple(input_shape), lead, steps)
    return fuse_staircases(ctx.graph(dt=None))


def _convert(gm: fx.GraphModule, values: dict[fx.Node, Any], static: set[fx.Node],
             ctx: Context, input_shape: tuple[int, ...], lead: int,
             steps: dict[fx.Node, int]) -> None:
    env: dict[fx.Node, Any] = {}
    shared: dict[Any, Any] = {}
    for n in gm.graph.nodes:
        if n.op == "placeholder" and n not in static:
            ctx.nodes["input"] = Input(shape=input_shape)
            env[n] = Port("input", input_shape, lead)
        elif n in static:
            env[n] = values[n]
        elif n.op == "output":
            _outputs(ctx, env, n)
        elif steps.get(n, 0) > 0:
            env[n] = StepValue(steps[n])
        else:
            args = list(fx.node.map_arg(n.args, env.__getitem__))
            kwargs = dict(fx.node.map_arg(n.kwargs, env.__getitem__))
            if is_time_stack(n, args, kwargs):
                env[n] = time_stack(ctx, args, kwargs)
            elif max_step((args, kwargs)):
                env[n] = StepValue(max_step((args, kwargs)))
            elif steps and (key := cse_key(n, args, kwargs)) in shared:
                env[n] = shared[key]
            else:
                env[n] = _convert_node(gm, n, args, kwargs, values, ctx)
                if steps and key is not None:
                    shared[key] = env[n]


def _convert_node(gm: fx.GraphModule, n: fx.Node, args: list[Any], kwargs: dict[str, Any],
                  values: dict[fx.Node, Any], ctx: Context) -> Any:
    line = _source_line(n)
    if n.op == "call_module":
        mod = gm.get_submodule(n.target)
        cls = type(mod)
        ctx.where = Where(n.target, f"{cls.__module__}.{cls.__qualname__}", line)
        return convert_module(ctx, mod, n.target, args, kwargs, None)
    name = n.target if isinstance(n.target, str) else getattr(n.target, "__name__", str(n.target))
    ctx.where = Where(_function_base(gm, n), name if n.op == "call_function" else f"Tensor.{name}",
                      line)
    if n.op == "call_function" and n.target is operator.getitem and not isinstance(args[0], Port):
        return args[0][args[1]]
    if n.op == "call_function" and n.target is getattr and isinstance(args[0], State):
        return getattr(args[0], args[1])
    _refuse_decomposed_neuron(ctx, n)
    fn = reg.find_function_converter(n.op, n.target)
    try:
        if fn is None:
            ctx.fail(f"unsupported operation {name}",
                     f"the functions {reg.supported_functions()}")
        return fn(ctx, n.target, args, kwargs, values.get(n))
    except UnsupportedOpError as exc:
        owner = _user_owner(gm, n)
        if owner is None:
            raise
        raise UnsupportedOpError(
            f"{exc} This operation is inside your module {owner}, which snnc traced through "
            "as ordinary code: if it is a neuron, snnc did not recognise it (see README, "
            "hand-written neurons); register it with snnc.frontend.register_neuron(cls, "
            "to_ir).") from exc


def _user_owner(gm: fx.GraphModule, n: fx.Node) -> str | None:
    """``path (module.Class)`` of the innermost user module (not a library's) around ``n``."""
    stack = n.meta.get("nn_module_stack") or {}
    for path, cls in reversed(list(stack.values())):
        if isinstance(cls, type) and not cls.__module__.startswith(
                ("torch", "snntorch", "spikingjelly", "norse", "snnc")) and path:
            return f"'{path}' ({cls.__module__}.{cls.__qualname__})"
    return None


def _function_base(gm: fx.GraphModule, n: fx.Node) -> str:
    """IR name for a function call: the enclosing layer's path (``QuantLinear`` -> its path),
    else ``module_path.fx_name``."""
    stack = n.meta.get("nn_module_stack") or {}
    if not stack:
        return n.name
    path, cls = list(stack.values())[-1]
    if isinstance(cls, str):  # torch.export: every op carries the path of its module
        return path or n.name
    if issubclass(cls, nn.Linear | nn.Conv1d | nn.Conv2d):
        return path
    return f"{path}.{n.name}"


def _refuse_decomposed_neuron(ctx: Context, n: fx.Node) -> None:
    """torch.export programs inline other frameworks' neurons as ATen ops: say so."""
    stack = n.meta.get("nn_module_stack") or {}
    if not stack:
        return
    path, cls = list(stack.values())[-1]
    if isinstance(cls, str) and cls.startswith(("snntorch", "spikingjelly", "norse")):
        ctx.where = Where(path, cls, ctx.where.line)
        ctx.fail("torch.export decomposed this neuron into elementwise ATen ops, which snnc "
                 "does not map back to a neuron", "the module file itself (torch.save(model)) "
                 "or a state_dict with --model; in .pt2 programs only snnc.nn neurons")


def convert_module(ctx: Context, mod: nn.Module, path: str, args: list[Any],
                   kwargs: dict[str, Any], offset: int | None) -> Any:
    """Convert one module call (also used by containers for their children)."""
    fn = reg.find_module_converter(mod)
    if fn is None:
        from .converters.attention import refuse_float_module

        refuse_float_module(ctx, mod)
        ctx.fail("unsupported module", f"the modules {reg.supported_modules()}")
    if reg.is_stateful(mod):
        ctx.calls[path] = ctx.calls.get(path, 0) + 1
        if ctx.calls[path] > 1:
            ctx.fail("this neuron is called more than once in one forward (a time loop inside "
                     "forward?)", "a forward that takes one time step, with the loop over time "
                     "outside the model, or SpikingJelly multi-step mode")
    if offset is None:
        first = next((a for a in args if isinstance(a, Port)), None)
        offset = first.lead if first is not None else 1
    return fn(ctx, mod, path, args, kwargs, offset)


def _outputs(ctx: Context, env: dict[fx.Node, Any], n: fx.Node) -> None:
    found: list[Port] = []
    states: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, Port):
            if v not in found:
                found.append(v)
        elif isinstance(v, State):
            states.append(f"{v.node}.{v.var}")
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(fx.node.map_arg(n.args[0], env.__getitem__))
    if not found:
        raise UnsupportedOpError("forward returns nothing that depends on the input")
    readout = {}
    for i, p in enumerate(found):
        name = "output" if len(found) == 1 else f"output_{i}"
        ctx.nodes[name] = Output(shape=p.shape)
        ctx.edges.append((p.node, name))
        if p.time_reduced:
            readout[name] = f"{p.time_reduced} over time"
    if readout:
        ctx.metadata["readout"] = readout
    if states:
        ctx.metadata["state_outputs"] = states
        log.info("forward also returns neuron states %s; probe them in the simulator", states)


def is_input_dependent(value: Any) -> bool:
    return is_dynamic(value)
