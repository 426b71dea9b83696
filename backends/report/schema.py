"""``report.json``: its version, a structural check, and reading it back (docs/report-schema.md).

The document is a JSON object with ``"schema": "snnc.report"`` and an integer ``"version"``.
Readers accept every version up to ``VERSION`` (older ones are migrated by ``MIGRATIONS``) and
refuse newer ones with a message saying to upgrade snnc. ``validate`` checks that the required
sections exist with the right JSON types; it is run before every write and after every read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ...errors import FormatError

SCHEMA = "snnc.report"
VERSION = 1
# version -> function turning a document of that version into one of version + 1
MIGRATIONS: dict[int, Any] = {}

NUM = (int, float)
# section -> {key: allowed JSON types}; None in a tuple means the value may be null
REQUIRED: dict[str, dict[str, tuple[Any, ...]]] = {
    "": {"schema": (str,), "version": (int,), "generator": (str,), "target": (str, type(None)),
         "chip": (dict,), "input": (dict,), "energy": (dict,), "latency": (dict,),
         "layers": (list,), "cores": (list,), "activity": (dict,),
         "alternative_energy": (list,), "neurobench": (dict, type(None)),
         "analytic": (dict, type(None)), "fidelity": (dict, type(None)), "notes": (list,)},
    "chip": {"name": (str,), "chips": (int,), "cores": (int,), "tiles": (int,),
             "cores_per_chip": (int,), "mesh": (dict,)},
    "input": {"kind": (str,), "samples": (int,), "timesteps": (int,), "note": (str,)},
    "energy": {"model": (dict,), "unit": (str,), "total": NUM, "dynamic": NUM,
               "static": (*NUM, type(None)), "total_range": (list, type(None)),
               "by_kind": (dict,), "by_layer": (dict,), "by_core": (list,)},
    "latency": {"unit": (str,), "per_inference": NUM, "throughput_per_s": NUM,
                "per_step": (dict,), "bottleneck": (dict,), "over_time_ns": (list,)},
    "activity": {"per_inference": (dict,), "raster": (dict,)},
}
INPUT_KINDS = ("user", "example", "calibration", "worst-case")
#: sections only some reports have (converted SNNs compiled with --data): checked when present
OPTIONAL: dict[str, dict[str, tuple[Any, ...]]] = {
    "conversion": {"samples": (int,), "ann_accuracy": (*NUM, type(None)), "rows": (list,),
                   "energy_model": (str,), "unit": (str,), "note": (str,)},
}


def _check(required: dict[str, dict[str, tuple[Any, ...]]], where: str,
           doc: dict[str, Any]) -> None:
    for section, keys in required.items():
        obj = doc if not section else doc.get(section)
        label = section or "top level"
        if not isinstance(obj, dict):
            raise FormatError(f"{where}: section {label!r} is missing or not an object")
        for key, types in keys.items():
            if key not in obj:
                raise FormatError(f"{where}: {label} lacks {key!r}")
            if not isinstance(obj[key], types) or isinstance(obj[key], bool):
                raise FormatError(f"{where}: {label}.{key} has type {type(obj[key]).__name__}, "
                                  f"expected {' or '.join(t.__name__ for t in types)}")


def validate(doc: dict[str, Any], where: str = "report") -> dict[str, Any]:
    """Raise ``FormatError`` naming the first missing or mistyped field; return ``doc``."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise FormatError(f"{where}: not an snnc report (no \"schema\": \"{SCHEMA}\")")
    _check(REQUIRED, where, doc)
    present = {k: v for k, v in OPTIONAL.items() if doc.get(k) is not None}
    if present:
        _check({"": {k: (dict,) for k in present}, **present}, where, doc)
    if doc["input"]["kind"] not in INPUT_KINDS:
        raise FormatError(f"{where}: input.kind must be one of {', '.join(INPUT_KINDS)}")
    return doc


def _finite(obj: Any) -> Any:
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(_finite(validate(doc)), indent=1, sort_keys=False, allow_nan=False)


def dump(doc: dict[str, Any], fp: Any) -> None:
    """``dumps(doc)`` written to the text file ``fp`` chunk by chunk (the same characters; with
    ``indent`` the encoder is the pure-Python one, whose joined chunk list was about 9 MB for
    the 1 MB report of the ResNet-18-sized program)."""
    json.dump(_finite(validate(doc)), fp, indent=1, sort_keys=False, allow_nan=False)


def report_path(path: str | Path) -> Path:
    """``report.json`` itself, or the one inside a compile output directory."""
    p = Path(path)
    return p / "report.json" if p.is_dir() else p


def load_report(path: str | Path) -> dict[str, Any]:
    """Read, migrate to ``VERSION`` and validate a report (file or output directory)."""
    p = report_path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no report here; `snnc compile ... -o DIR` writes DIR/report.json")
    from ...readers import read_json

    doc = read_json(p, "an snnc report (report.json)")
    version = doc.get("version")
    if not isinstance(version, int):
        raise FormatError(f"{p}: report has no integer 'version'")
    if version > VERSION:
        raise FormatError(f"{p}: report version {version} is newer than this snnc reads "
                          f"({VERSION}); upgrade snnc")
    while version < VERSION:
        if version not in MIGRATIONS:
            raise FormatError(f"{p}: report version {version} is not one snnc ever wrote")
        doc = MIGRATIONS[version](doc)
        version = doc["version"]
    return validate(doc, str(p))
