"""``EvalCounts``: what evaluating some samples produced, as mergeable counts.

Shards are merged by adding the confusion matrices and agreement counts and by concatenating
the per-sample records (prediction, energy, latency); every rate, mean and percentile is
computed once, from the merged counts. No average is ever averaged again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

PER_SAMPLE = ("index", "label", "pred", "float_pred", "energy_j", "dynamic_j", "latency_s",
              "spikes", "syn_ops")


@dataclass(frozen=True)
class EvalCounts:
    """Counts over a set of samples (see the module docstring); arrays are per sample."""

    n_classes: int
    confusion: np.ndarray  # (K, K) int64: [label, chip prediction]
    float_confusion: np.ndarray  # (K, K) int64: [label, float-model prediction]
    agree: int  # samples where the chip and the float model predict the same class
    index: np.ndarray
    label: np.ndarray
    pred: np.ndarray
    float_pred: np.ndarray
    energy_j: np.ndarray
    dynamic_j: np.ndarray
    latency_s: np.ndarray
    spikes: np.ndarray
    syn_ops: np.ndarray

    @classmethod
    def from_samples(cls, n_classes: int, **per: np.ndarray) -> EvalCounts:
        label, pred, fpred = per["label"], per["pred"], per["float_pred"]
        k = n_classes
        conf = np.zeros((k, k), np.int64)
        fconf = np.zeros((k, k), np.int64)
        ok = (label >= 0) & (label < k)
        np.add.at(conf, (label[ok], pred[ok]), 1)
        np.add.at(fconf, (label[ok], fpred[ok]), 1)
        return cls(k, conf, fconf, int((pred == fpred).sum()),
                   **{f: np.asarray(per[f]) for f in PER_SAMPLE})

    @property
    def n(self) -> int:
        return int(self.index.shape[0])

    def merge(self, other: EvalCounts) -> EvalCounts:
        if other.n_classes != self.n_classes:
            raise ValueError("cannot merge counts of models with different class counts")
        order = np.argsort(np.concatenate([self.index, other.index]), kind="stable")
        per = {f: np.concatenate([getattr(self, f), getattr(other, f)])[order]
               for f in PER_SAMPLE}
        return EvalCounts(self.n_classes, self.confusion + other.confusion,
                          self.float_confusion + other.float_confusion,
                          self.agree + other.agree, **per)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EvalCounts:
        ints = {"index", "label", "pred", "float_pred", "confusion", "float_confusion"}
        kw = {f.name: (np.asarray(d[f.name], np.int64 if f.name in ints else np.float64)
                       if f.name not in ("n_classes", "agree") else int(d[f.name]))
              for f in fields(cls)}
        return cls(**kw)


def merge_all(parts: list[EvalCounts]) -> EvalCounts:
    if not parts:
        raise ValueError("no shards to merge")
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


def distribution(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation and percentiles of a per-sample quantity."""
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return {}
    q = np.percentile(v, [0, 5, 50, 95, 100])
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(q[0]),
            "p5": float(q[1]), "median": float(q[2]), "p95": float(q[3]), "max": float(q[4])}


def summary(c: EvalCounts) -> dict[str, Any]:
    """Rates and distributions from the merged counts."""
    n = max(c.n, 1)
    return {"samples": c.n, "accuracy": float(np.trace(c.confusion)) / n,
            "float_accuracy": float(np.trace(c.float_confusion)) / n,
            "agreement": c.agree / n,
            "energy_j": distribution(c.energy_j), "dynamic_j": distribution(c.dynamic_j),
            "latency_s": distribution(c.latency_s), "spikes": distribution(c.spikes),
            "syn_ops": distribution(c.syn_ops)}
