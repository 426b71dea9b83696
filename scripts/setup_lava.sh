#!/usr/bin/env bash
# Create or refresh the Lava environment: Python 3.10, lava-nc 0.10.0, numpy<2, and snnc
# (editable) with its dev/nir extras, without torch. Idempotent.
# Usage: scripts/setup_lava.sh [VENV]   (default .venv-lava)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
venv=${1:-.venv-lava}
pins=requirements/lava.txt

PYENV_VERSION=${SNNC_PYENV_LAVA:-3.10.13} make_venv "$venv" "${SNNC_PYTHON_LAVA:-python3.10}" 3.10
pipq "$venv" install -c "$pins" pip
pipq "$venv" install -c "$pins" lava-nc==0.10.0 'numpy<2'
pipq "$venv" install -c "$pins" -e '.[dev,nir]'
"$venv/bin/python" scripts/check_env.py lava
