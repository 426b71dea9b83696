"""The CI fuzz run: 300 seeded mutation cases over every reader and command (see fuzz.py).

Each failing case prints its seed; ``python -m tests.robustness.fuzz --seed N --cases 1 -v``
reproduces it. The seeds are fixed so CI is deterministic; a bigger campaign with other seeds is
run by hand (see the module docstring of ``fuzz``).
"""

from __future__ import annotations

import os

import pytest

from . import fuzz

pytestmark = pytest.mark.torch
CHUNK = 50
SEEDS = range(0, 300)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    pytest.importorskip("torch")
    os.environ["SNNC_HDF5_TIMEOUT"] = "3"  # a spinning HDF5 case costs 3 s, not 20
    root = tmp_path_factory.mktemp("fuzz")
    files = fuzz.build_corpus(root / "corpus")
    return root, files, [p.read_bytes() for p in files.values() if p.is_file()]


@pytest.mark.parametrize("start", range(SEEDS.start, SEEDS.stop, CHUNK))
def test_fuzz_chunk(corpus, start):
    root, files, pool = corpus
    sentinel = root / "PAYLOAD-RAN"
    failures = []
    for seed in range(start, start + CHUNK):
        res = fuzz.run_case(seed, files, root / "sandbox", sentinel, pool)
        if res.problems:
            failures.append(f"seed {seed}: {res.problems}: {' '.join(res.argv)}\n"
                            f"{res.err.strip()[:400]}")
    assert failures == []
