#!/usr/bin/env bash
# Create or refresh the main environment: Python 3.11, CPU torch, snnc (editable) with its
# dev/nir/brian2 extras, and the SNN frameworks snnc is compared against. Idempotent.
# Usage: scripts/setup_main.sh [VENV]   (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
venv=${1:-.venv}
pins=requirements/main.txt

make_venv "$venv" "${SNNC_PYTHON_MAIN:-python3}" 3.11
pipq "$venv" install -c "$pins" pip setuptools
# torch first and alone: the CPU wheel from disk. Nothing later may replace it.
pipq "$venv" install -c "$pins" torch==2.13.0
pipq "$venv" install -c "$pins" -e '.[dev,nir,onnx,brian2,fast,events,ray]' nirtorch scikit-learn \
  cython loguru tqdm
if ! pipq "$venv" install -c "$pins" sanafe; then
  echo "setup: WARNING: sanafe did not install; the benchmarks that use it will skip" >&2
fi
# Their declared deps would pull torchvision/torchaudio/tensorboard and a CUDA torch.
pipq "$venv" install -c "$pins" --no-deps snntorch spikingjelly norse neurobench
# tonic (the event tests' reference) declares librosa for its audio datasets: not needed.
pipq "$venv" install -c "$pins" --no-deps tonic importRosbag
# The event simulator's ahead-of-time kernels (Cython -> C, built in place with the machine's
# compiler; log in .cache/build_kernels.log). Not optional: check_env.py fails without them.
mkdir -p .cache
if ! "$venv/bin/python" scripts/build_kernels.py > .cache/build_kernels.log 2>&1; then
  cat .cache/build_kernels.log >&2
  echo "setup: building the event simulator kernels failed (see above)" >&2
  exit 1
fi
"$venv/bin/python" scripts/check_env.py main
