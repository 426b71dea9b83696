"""The pass manager: ``Pass`` base class, ``PassContext`` and ``PassManager``.

A pass is a frozen dataclass: a stable kebab-case ``name`` (CLI), its options as typed fields,
a ``semantics`` class attribute and ``run(graph, ctx) -> Graph``; ``requires(graph)`` raises
``PassError`` when a precondition fails. ``PassManager.run`` does ``requires -> run -> verify``
for each pass and calls its instruments (``instruments.py``) around every pass. A failure is
re-raised with the same error class and a prefix naming the pass and the passes before it:
"in pass 'quantize-loihi' after ['canonicalize', 'fold-bn']: ...".

Registration and the pipeline string parser live in ``pipeline.py``; ``snnc.passes`` exports both.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from ..errors import PassError, SnncError
from ..ir import Graph

log = logging.getLogger(__name__)


class Semantics(str, enum.Enum):
    """What a pass promises about the graph's behaviour on the reference simulator."""

    EXACT = "exact"  # identical spikes (and outputs) before and after, on every input
    APPROXIMATE = "approximate"  # close, with an error metric the pass reports (quantization)
    LOWERING = "lowering"  # equal up to the stated latency convention (loihi.* ops)


@dataclass
class PassContext:
    """Explicit configuration and results shared by the passes of one pipeline run.

    ``calibration``: time-major stimuli ``{input node: (T, B, *shape)}`` that passes may run
    the reference on (quantization statistics); ``reports``: one dict per pass run, in order;
    ``progress``: called with a message for long passes (the CLI prints it);
    ``programmable_neurons``: the chip runs Loihi 2's programmable neurons (quantize-loihi keeps
    '>=' and subtract reset native instead of refusing or approximating them).
    """

    calibration: Mapping[str, np.ndarray] | None = None
    steps: int | None = None
    # the target chip runs programmable neurons (Loihi 2): '>=' and subtract reset are native
    programmable_neurons: bool = False
    reports: list[dict[str, Any]] = field(default_factory=list)
    progress: Callable[[str], None] | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("snnc.passes"))

    def report(self, pass_: Pass, **data: Any) -> None:
        """Record what ``pass_`` did (JSON-serialisable values); also logged at INFO."""
        entry = {"pass": pass_.name, **data}
        self.reports.append(entry)
        self.log.info("%s: %s", pass_.name, {k: v for k, v in data.items() if k != "layers"})

    def last_report(self, name: str) -> dict[str, Any] | None:
        return next((r for r in reversed(self.reports) if r["pass"] == name), None)

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


@dataclass(frozen=True)
class Pass:
    """Base of every pass. Subclasses are frozen dataclasses whose fields are the options."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    semantics: ClassVar[Semantics] = Semantics.EXACT

    def requires(self, graph: Graph) -> None:
        """Raise ``PassError`` (naming the node and the pass to run first) if ``graph`` does not
        meet this pass's preconditions."""

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        raise NotImplementedError

    def effective_semantics(self) -> Semantics:
        """The semantics of this instance (options may make an exact pass approximate)."""
        return self.semantics

    def options(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def spec(self) -> str:
        """The pipeline-string form, ``name{opt=value}`` with non-default options only."""
        changed = []
        for f in dataclasses.fields(self):
            default = f.default if f.default is not dataclasses.MISSING else None
            value = getattr(self, f.name)
            if value != default:
                changed.append(f"{f.name}={_fmt(value)}")
        return self.name + ("{" + ",".join(changed) + "}" if changed else "")


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Instrument(Protocol):
    """Called around every pass; see ``instruments.py`` for the built-in ones."""

    def before(self, p: Pass, graph: Graph, index: int, total: int) -> None: ...

    def after(self, p: Pass, before: Graph, after: Graph, seconds: float, index: int,
              total: int) -> None: ...


@dataclass(frozen=True)
class Stage:
    """One executed pass: the pass, the graph it produced, the wall time."""

    pass_: Pass
    graph: Graph
    seconds: float


@dataclass
class PipelineResult:
    """The graph after the last executed pass, every stage, and the context (reports)."""

    input: Graph
    stages: list[Stage]
    ctx: PassContext

    @property
    def graph(self) -> Graph:
        return self.stages[-1].graph if self.stages else self.input

    def last_exact_graph(self) -> Graph:
        """The graph just before the first pass that is not EXACT (the "float" graph)."""
        g = self.input
        for st in self.stages:
            if st.pass_.effective_semantics() is not Semantics.EXACT:
                return g
            g = st.graph
        return g


class PassManager:
    """Runs passes in order: requires -> run -> verify, with instruments around each."""

    def __init__(self, passes: Sequence[Pass], instruments: Sequence[Instrument] = ()) -> None:
        self.passes = list(passes)
        self.instruments = list(instruments)

    def pipeline(self) -> str:
        return ",".join(p.spec() for p in self.passes)

    def run(self, graph: Graph, ctx: PassContext | None = None,
            stop_after: str | None = None) -> PipelineResult:
        """Run the pipeline on ``graph``; stop after the first pass named ``stop_after``."""
        ctx = ctx or PassContext()
        if stop_after is not None and stop_after not in [p.name for p in self.passes]:
            raise PassError(f"--stop-after {stop_after!r}: no such pass in the pipeline "
                            f"{self.pipeline()!r}")
        result = PipelineResult(graph, [], ctx)
        total = len(self.passes)
        for i, p in enumerate(self.passes):
            before = result.graph
            for ins in self.instruments:
                ins.before(p, before, i, total)
            t0 = time.perf_counter()
            after = self._run_one(p, before, ctx, [s.pass_.name for s in result.stages])
            seconds = time.perf_counter() - t0
            result.stages.append(Stage(p, after, seconds))
            for ins in self.instruments:
                ins.after(p, before, after, seconds, i, total)
            if p.name == stop_after:
                break
        return result

    @staticmethod
    def _run_one(p: Pass, graph: Graph, ctx: PassContext, done: list[str]) -> Graph:
        where = f"in pass {p.name!r} after {done}"
        try:
            p.requires(graph)
            out = p.run(graph, ctx)
            if not isinstance(out, Graph):
                raise PassError(f"returned {type(out).__name__}, not a Graph")
            out.verify()
        except SnncError as exc:
            raise _prefixed(exc, where) from exc
        except Exception as exc:  # a bug in the pass: keep the traceback for --debug
            raise PassError(f"{where}: internal error {type(exc).__name__}: {exc}") from exc
        return out


def _prefixed(exc: SnncError, where: str) -> SnncError:
    message = f"{where}: {exc}"
    try:
        return type(exc)(message)
    except TypeError:
        return PassError(message)
