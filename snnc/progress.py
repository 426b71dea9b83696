"""A progress bar for long compiles: tqdm on stderr, shown once a run has taken 2 s.

``Stages(names)`` is a context manager; ``with bar.stage("map"): ...`` marks each stage. The bar
("compile: map 3/5 [00:04]") appears only when the run is still going after ``delay`` seconds,
only on a terminal (``SNNC_PROGRESS=1`` forces it on any stream, ``SNNC_PROGRESS=0`` turns it off),
and is removed when the run ends, so short compiles and logs print nothing extra.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any

DELAY_S = 2.0


def wanted(stream: IO[str]) -> bool:
    flag = os.environ.get("SNNC_PROGRESS", "")
    if flag == "0":
        return False
    return flag == "1" or bool(getattr(stream, "isatty", lambda: False)())


class Stages:
    """One bar over named stages, drawn by a helper thread after ``delay`` seconds."""

    def __init__(self, what: str, names: list[str], enabled: bool = True,
                 stream: IO[str] | None = None, delay: float = DELAY_S) -> None:
        self.what, self.names, self.delay = what, names, delay
        self.stream = stream or sys.stderr
        self.enabled = enabled and wanted(self.stream)
        self.done, self.current = 0, ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.shown = False

    def __enter__(self) -> Stages:
        if self.enabled:
            self._thread = threading.Thread(target=self._draw, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.current = name
        try:
            yield
        finally:
            self.done += 1

    def _draw(self) -> None:
        if self._stop.wait(self.delay):
            return
        from tqdm import tqdm

        with tqdm(total=len(self.names), desc=self.what, file=self.stream, leave=False,
                  bar_format="{desc} {n_fmt}/{total_fmt} |{bar:20}| [{elapsed}]",
                  dynamic_ncols=True) as bar:
            self.shown = True
            while True:
                bar.n = self.done
                # the stage in the description: tqdm's {postfix} starts with ", "
                bar.set_description_str(f"{self.what}: {self.current}", refresh=False)
                bar.refresh()
                if self._stop.wait(0.2):
                    break
