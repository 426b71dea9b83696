"""The compile pipeline as one-way stages, each a function returning a frozen value.

```
path --load-->      Graph                         (snnc.api.load: front ends by suffix)
Graph --optimize--> Optimized                     (passes + fidelity report; stages/optimize.py)
Optimized --map-->  ChipProgram | None            (the target's Backend; stages/mapping.py)
ChipProgram --measure--> Measurement              (event simulator -> Counters; stages/measure.py)
(program, Measurement, Optimized) --report--> dict (pure; backends.report.build_report)
CompileResult.save(out)                           (writes the values above; runs nothing)
```

``snnc.api.compile`` calls them in this order; each stage reads only the values of the earlier
ones, never their internals.
"""

from __future__ import annotations

from .mapping import map_program
from .measure import Measurement, measure
from .optimize import Optimized, load_calibration, optimize
from .reporting import build as report
from .result import CompileResult

__all__ = ["CompileResult", "Measurement", "Optimized", "load_calibration", "map_program",
           "measure", "optimize", "report"]
