"""Headless Chromium for page tests: load a page, return its DOM and console messages.

Needs a ``chromium`` binary (Debian package; scripts/setup_chromium.sh). Without one a test is
skipped locally and fails in CI, like every other missing test dependency (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    msg = "no chromium binary: install the Debian package (scripts/setup_chromium.sh)"
    if IN_CI:
        pytest.fail(f"CI must not skip: {msg}", pytrace=False)
    pytest.skip(msg)


def load_page(browser: str, page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """(DOM after load, console messages) of ``page``."""
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
