"""Where shards run: in this process (``workers=1``) or as Ray tasks.

``map_shards(fn, tasks, workers, address, progress)`` calls ``fn(*task)`` for every task and
returns the results in task order. With ``workers == 1`` and no ``address`` it loops here, with
no Ray at all. Otherwise it uses Ray: ``address`` attaches to an existing cluster (``"auto"``
or ``host:port``); without one it starts a local Ray instance limited to ``workers`` CPUs on
the loopback interface and stops it afterwards. ``progress(done, total)`` is called as tasks
finish; ``Progress`` draws a bar with an ETA on a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import SnncError

Task = tuple[Any, ...]


@contextmanager
def ray_session(workers: int, address: str | None):
    """A Ray connection: attached to ``address``, or a private local instance we shut down."""
    try:
        import ray
    except ImportError:
        raise SnncError("running on several workers needs Ray (pip install 'snnc[ray]'); "
                        "--workers 1 runs in this process without it") from None
    if ray.is_initialized():
        yield ray
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                          "configure_logging": False}
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=workers, _node_ip_address="127.0.0.1", **kw)
    except Exception as exc:  # ConnectionError, RuntimeError, ... from Ray itself
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise SnncError(f"could not start or reach {where}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def map_shards(fn: Callable[..., Any], tasks: Sequence[Task], workers: int = 1,
               address: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> list[Any]:
    tick = progress or (lambda done, total: None)
    if workers < 1:
        raise SnncError(f"--workers must be at least 1, got {workers}")
    if workers == 1 and not address:
        out = []
        for i, task in enumerate(tasks):
            out.append(fn(*task))
            tick(i + 1, len(tasks))
        return out
    with ray_session(workers, address) as ray:
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        shared: dict[int, Any] = {}
        refs = [remote.remote(*[_put(ray, a, shared) for a in task]) for task in tasks]
        pending, done = list(refs), 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            done += len(ready)
            tick(done, len(tasks))
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.as_instanceof_cause()
            if isinstance(cause, SnncError):
                raise SnncError(str(cause).splitlines()[-1]) from None
            raise


def _put(ray: Any, arg: Any, shared: dict[int, Any]) -> Any:
    """Put large shared arguments (the program files) into the object store once."""
    from .shard import ProgramFiles

    if isinstance(arg, ProgramFiles):
        key = id(arg)
        if key not in shared:
            shared[key] = ray.put(arg)
        return shared[key]
    return arg


class Progress:
    """A rich progress bar with ETA on a terminal (stderr); silent otherwise."""

    def __init__(self, what: str, total: int, show: bool = True) -> None:
        self.what, self.total = what, total
        self.show = show and sys.stderr.isatty()
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.show:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.what, total=self.total)
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
