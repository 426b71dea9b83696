"""Graph-to-graph passes and the pass manager (see ``manager.py`` and ARCHITECTURE.md).

``parse_pipeline("fold-bn,prune{threshold=0},quantize-loihi")`` gives pass instances;
``PassManager(passes, instruments).run(graph, ctx)`` runs them. ``DEFAULT_PIPELINE`` is the
Loihi pipeline every Loihi target uses.
"""

from __future__ import annotations

from .manager import Pass, PassContext, PassManager, PipelineResult, Semantics, Stage
from .pipeline import (
    BUILTIN_PASSES,
    ENTRY_POINT_GROUP,
    PassRegistry,
    default_registry,
    parse_pipeline,
    split_pipeline,
)

#: Float clean-up: folds and pruning, all EXACT.
FLOAT_PIPELINE = ("canonicalize,fold-bn,avgpool-to-sumpool,fold-affine,fold-scale,canonicalize,"
                  "prune,dce")
#: Float clean-up, spike products to neurons (exact), quantization and lowering to loihi.* ops.
DEFAULT_PIPELINE = (f"{FLOAT_PIPELINE},lower-spike-products,quantize-loihi,lower-loihi,"
                    "canonicalize,dce")

__all__ = [
    "BUILTIN_PASSES", "DEFAULT_PIPELINE", "ENTRY_POINT_GROUP", "FLOAT_PIPELINE", "Pass",
    "PassContext", "PassManager", "PassRegistry", "PipelineResult", "Semantics", "Stage",
    "default_registry", "parse_pipeline", "split_pipeline",
]
