"""The Ray path of ``snnc eval``: a real local Ray instance with two workers gives exactly the
counts of ``--workers 1``. Ray runs on the loopback interface only and is stopped afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from snnc.cli import main
from snnc.evaluate import ProgramFiles, evaluate, load_dataset

pytestmark = [pytest.mark.torch, pytest.mark.requires("ray"), pytest.mark.slow]
DIGITS = Path(__file__).resolve().parents[2] / "examples" / "models" / "digits_test.npz"


def test_ray_cluster_started_by_the_test_equals_one_worker(qsnn4_dir: Path) -> None:
    import ray

    data = load_dataset(DIGITS, (64,), x_key="spikes")
    files = ProgramFiles.from_dir(qsnn4_dir)
    local = evaluate(qsnn4_dir, data, workers=1, files=files)
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
             log_to_driver=False)
    try:
        assert ray.cluster_resources().get("CPU") == 2
        seen: list[tuple[int, int]] = []
        on_ray = evaluate(qsnn4_dir, data, workers=2, files=files,
                          progress=lambda d, t: seen.append((d, t)))
    finally:
        ray.shutdown()
    assert on_ray.to_dict() == local.to_dict()
    assert seen[-1] == (360, 360)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) == 8  # 360 samples, 4 shards per worker


def test_cli_workers_2_starts_and_stops_its_own_ray(qsnn4_dir: Path, tmp_path: Path) -> None:
    import ray

    def run(workers: int, dest: Path) -> dict:
        code = 0
        try:
            main(["eval", str(qsnn4_dir), "--data", str(DIGITS), "--x-key", "spikes",
                  "--limit", "100", "--workers", str(workers), "-o", str(dest), "-q"])
        except SystemExit as exc:
            code = int(exc.code or 0)
        assert code == 0
        return json.loads((dest / "eval.json").read_text())

    two, one = run(2, tmp_path / "two"), run(1, tmp_path / "one")
    assert not ray.is_initialized()
    assert two["counts"] == one["counts"]
    assert two["workers"] == 2
    assert np.isclose(two["summary"]["accuracy"], one["summary"]["accuracy"])
