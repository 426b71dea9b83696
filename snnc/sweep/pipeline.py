"""Applying a point's axes to a pass pipeline string (``"a,b{k=v,k2=v2},c"``)."""

from __future__ import annotations

from ..errors import SnncError


def split_items(pipeline: str) -> list[str]:
    """Top-level comma-separated items (commas inside braces stay)."""
    items, depth, cur = [], 0, ""
    for ch in pipeline:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


def with_options(pipeline: str, name: str, **opts: object) -> str:
    """``pipeline`` with ``opts`` set on every item of pass ``name`` (which must be there)."""
    items, hit = [], False
    for item in split_items(pipeline):
        base, _, rest = item.partition("{")
        if base.strip() != name:
            items.append(item)
            continue
        hit = True
        kv: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in rest.rstrip("}").split(","))):
            k, _, v = part.partition("=")
            kv[k.strip()] = v.strip()
        kv.update({k: repr(v) if isinstance(v, str) else str(v) for k, v in opts.items()})
        items.append(name + "{" + ",".join(f"{k}={v}" for k, v in kv.items()) + "}")
    if not hit:
        raise SnncError(f"the sweep sets options of pass {name!r}, but the pipeline has no "
                        f"{name!r}: {pipeline}")
    return ",".join(items)


def point_pipeline(base: str, values: dict[str, object]) -> str:
    """The pipeline for one point: ``bits`` and ``prune_threshold`` applied to ``base``."""
    out = str(values.get("pipeline", base))
    if "bits" in values:
        bits = int(values["bits"])  # type: ignore[call-overload]
        out = with_options(out, "quantize-loihi", max_weight=2 ** (bits - 1) - 1)
    if "prune_threshold" in values:
        out = with_options(out, "prune", threshold=float(values["prune_threshold"]))  # type: ignore[arg-type]
    return out
