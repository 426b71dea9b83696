"""``snnc eval`` throughput on 1 worker (in process, no Ray) and 2 Ray workers, with the ratio.

Workload: the shipped 4-bit digits model (qsnn4, compiled for Loihi 1) on the 360 test digits
tiled ``--copies`` times (default 10: 3600 samples, 8 + 2 steps each). Each sample runs on the
event simulator (chip prediction, per-sample energy and latency) and on the reference simulator
(the float model's prediction), as ``snnc eval`` does. The Ray instance (local, loopback, 2
CPUs) is started before the timed run; its start-up is printed separately. Both runs must give
identical counts.

BLAS runs single-threaded here (as Ray runs its workers, OMP_NUM_THREADS=1): with numpy's
default threads the in-process run oversubscribes the two cores and the "scaling" exceeds 2x,
which measures thread contention, not the workers.

    python benchmarks/bench_eval_workers.py [--copies 30] [--repeats 3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from snnc import api  # noqa: E402
from snnc.evaluate import Dataset, ProgramFiles, evaluate, load_dataset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _timed(out: Path, data: Dataset, files: ProgramFiles, workers: int, repeats: int
           ) -> tuple[float, object]:
    times, counts = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        counts = evaluate(out, data, workers=workers, files=files)
        times.append(time.perf_counter() - t)
    return statistics.median(times), counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "qsnn4"
        api.compile(REPO / "examples/models/qsnn4.pt", target="loihi-sim", out_dir=out)
        base = load_dataset(REPO / "examples/models/digits_test.npz", (64,), x_key="spikes")
        data = Dataset(np.tile(base.x, (args.copies, 1, 1)), np.tile(base.y, args.copies),
                       f"digits x{args.copies}")
        files = ProgramFiles.from_dir(out)
        evaluate(out, data.subset(64), files=files)  # warm-up: imports, numba kernels
        t1, c1 = _timed(out, data, files, 1, args.repeats)
        t = time.perf_counter()
        ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
                 log_to_driver=False)
        start = time.perf_counter() - t
        try:
            evaluate(out, data.subset(64), workers=2, files=files)  # warm the workers
            t2, c2 = _timed(out, data, files, 2, args.repeats)
        finally:
            ray.shutdown()
    assert c1.to_dict() == c2.to_dict(), "1 and 2 workers disagree"
    n = len(data)
    print(f"snnc eval, {n} samples (qsnn4 on Loihi 1, {data.x.shape[1]} steps), "
          f"median of {args.repeats}")
    print(f"  1 worker (in process): {t1:7.2f} s  {n / t1:8.0f} samples/s")
    print(f"  2 Ray workers:         {t2:7.2f} s  {n / t2:8.0f} samples/s  "
          f"(Ray start-up {start:.1f} s, not included)")
    print(f"  scaling 2 vs 1 workers: {t1 / t2:.2f}x (ideal 2.00x)")


if __name__ == "__main__":
    main()
