#!/usr/bin/env bash
# Install a headless-capable Chromium for the report.html browser test
# (tests/backends/report/test_html.py), from the distribution's packages. Idempotent: does nothing
# when a chromium binary is already on PATH. Needs root (apt-get); ~300 MB installed.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "setup_chromium: $(command -v "$name") present"
    exit 0
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "setup_chromium: not root; install the 'chromium' package to run the browser test" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "setup_chromium: installed $(command -v chromium)"
