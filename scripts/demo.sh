#!/usr/bin/env bash
# The main job, run by `make demo` after the main environment is set up.
# Compiles the shipped example model for the Loihi simulator target into demo-out/, on Loihi 2
# (the default chip; the output names the chip and where its cost figures come from).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
model=examples/models/qsnn4.pt

if [[ ! -f $model ]]; then
  echo "demo: $model does not exist yet; showing 'snnc --help' instead"
  exec "$venv/bin/snnc" --help
fi
exec "$venv/bin/snnc" compile "$model" --target loihi-sim -o demo-out
