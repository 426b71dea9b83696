"""Test-suite policy shared by both environments (.venv: torch; .venv-lava: lava-nc).

Markers name what a test needs: ``torch``, ``brian2``, ``lava``, or ``requires("mod", ...)``.
When a needed module is missing, the test is skipped with the reason; in CI (``CI=true``) it
fails instead, because CI must never pass by silently skipping. ``make test`` runs
``-m "not lava"`` in .venv and ``-m lava`` in .venv-lava, so each test runs where it can.

Fixture ``lavadl_assets``: the folder of lava-dl's netx test files (``tiny.net``,
``gts/tinynet/...``), fetched by scripts/fetch_lavadl.sh and found through
``$SNNC_LAVADL_ASSETS``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
# marker -> module whose presence it requires
MARKER_MODULES = {"torch": "torch", "brian2": "brian2", "lava": "lava.magma"}
MISSING = pytest.StashKey[str]()

# The Lava environment has no torch and runs only lava-marked tests: modules that need torch at
# import time are not collected there (rather than reported as skipped).
if importlib.util.find_spec("torch") is None and importlib.util.find_spec("lava") is not None:
    collect_ignore_glob = ["frontend/test_torch_*.py", "nn/test_*.py",
                           "backends/report/test_neurobench_diff.py", "robustness/*.py",
                           "frontend/test_onnx*.py", "convert/test_*.py"]


@functools.cache
def importable(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it (only its parent packages)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def required_modules(item: pytest.Item) -> list[str]:
    mods = [mod for marker, mod in MARKER_MODULES.items() if item.get_closest_marker(marker)]
    for mark in item.iter_markers("requires"):
        mods.extend(mark.args)
    return mods


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        missing = [mod for mod in required_modules(item) if not importable(mod)]
        if not missing:
            continue
        reason = f"needs {', '.join(missing)}, not installed in {sys.prefix}"
        if IN_CI:
            item.stash[MISSING] = reason
        else:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = item.stash.get(MISSING, None)
    if reason:
        pytest.fail(f"CI must not skip: {reason} (fix the set-up scripts)", pytrace=False)


def lavadl_assets_path() -> Path:
    default = REPO / ".cache" / "lava-dl" / "netx"
    return Path(os.environ.get("SNNC_LAVADL_ASSETS") or default)


@pytest.fixture(scope="session")
def lavadl_assets() -> Path:
    """Folder with lava-dl 0.6.0's netx test files; skip (fail in CI) when absent."""
    path = lavadl_assets_path()
    if not (path / "tiny.net").is_file():
        msg = f"lava-dl netx assets not in {path}: run `make assets` (scripts/fetch_lavadl.sh)"
        if IN_CI:
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    return path


def pytest_report_header(config: pytest.Config) -> list[str]:
    have = [name for name in ("torch", "lava", "brian2", "nir") if importable(name)]
    return [
        f"snnc env: {sys.prefix} (CI={'yes' if IN_CI else 'no'}), has: {', '.join(have)}",
        f"lava-dl assets: {lavadl_assets_path()}",
    ]


def _hypothesis_profiles() -> None:
    try:
        from hypothesis import settings
    except ImportError:
        return
    # No deadline: timings on a shared 2-core machine (and under xdist) are too noisy.
    settings.register_profile("dev", deadline=None)
    settings.register_profile("ci", deadline=None, database=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


_hypothesis_profiles()
