"""Check that a snnc environment is complete and sane; exit 1 with a list of problems if not.

Usage: python scripts/check_env.py main|lava   (run with the environment's own python)
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib import metadata

# Modules that must import, per environment.
IMPORTS = {
    "main": [
        "snnc",
        "snnc.ir",
        "snnc.backends",
        "snnc.simulators",
        "snnc.simulators.event.kernels_aot",  # built by scripts/build_kernels.py
        "torch",
        "nir",
        "nirtorch",
        "snntorch",
        "spikingjelly.activation_based.neuron",
        "spikingjelly.activation_based.layer",
        "norse.torch",
        "neurobench.metrics.workload",
        "neurobench.benchmarks",
        "sklearn",
        "onnx",
        "onnxruntime",
        "onnxscript",
        "brian2",
        "Cython",
        "aedat",
        "expelliarmus",
        "tonic",
        "ray",
        "pytest",
        "xdist",
        "hypothesis",
    ],
    "lava": [
        "snnc",
        "snnc.ir",
        "snnc.backends",
        "snnc.simulators",
        "lava.proc.lif.process",
        "lava.proc.dense.process",
        "lava.magma.core.run_configs",
        "nir",
        "pytest",
        "hypothesis",
    ],
}
OPTIONAL = {"main": ["sanafe"], "lava": []}
# Distributions that must not be installed: CUDA builds and the heavy torch companions.
FORBIDDEN_PREFIXES = ("nvidia-", "cuda-", "triton", "torchvision", "torchaudio", "tensorboard")
# `pip check` complaints we accept: deps of frameworks installed with --no-deps on purpose.
ACCEPTED_MISSING = {
    "spikingjelly": {
        "torchvision",
        "torchaudio",
        "tensorboard",
        "scienceplots",
        "matplotlib",
        "scipy",
        "requests",
        "packaging",
    },
    "neurobench": {"torchaudio", "tonic", "numba", "llvmlite"},
    "norse": {"torchvision"},
    "tonic": {"librosa"},
}


def problems(env: str) -> list[str]:
    found = []
    for name in IMPORTS[env]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # report every failure, whatever it is
            found.append(f"import {name}: {type(exc).__name__}: {exc}")
    for name in OPTIONAL[env]:
        try:
            importlib.import_module(name)
        except Exception as exc:
            print(f"check_env: optional {name} unavailable ({exc})")
    dists = {d.metadata["Name"].lower(): d.version for d in metadata.distributions()}
    found += [
        f"forbidden package installed: {n}=={v}"
        for n, v in sorted(dists.items())
        if n.startswith(FORBIDDEN_PREFIXES)
    ]
    found += version_problems(env, dists)
    found += pip_check_problems()
    return found


def version_problems(env: str, dists: dict[str, str]) -> list[str]:
    found = []
    if env == "lava":
        numpy = dists.get("numpy", "0")
        if int(numpy.split(".")[0]) >= 2:
            found.append(f"numpy {numpy} installed, lava-nc needs numpy<2")
        if "torch" in dists:
            found.append("torch installed in the Lava environment")
    elif dists.get("torch") != "2.13.0+cpu":
        found.append(f"torch is {dists.get('torch', 'missing')}, want 2.13.0+cpu")
    return found


def pip_check_problems() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    found = []
    for line in out.stdout.splitlines():
        words = line.split()
        if line.endswith("which is not installed.") and len(words) >= 4:
            pkg, dep = words[0].lower(), words[3].rstrip(",").lower()
            if dep in ACCEPTED_MISSING.get(pkg, set()):
                continue
        if line.strip() and not line.startswith("No broken requirements"):
            found.append(f"pip check: {line}")
    return found


def main() -> int:
    env = sys.argv[1] if len(sys.argv) > 1 else ""
    if env not in IMPORTS:
        print(__doc__, file=sys.stderr)
        return 2
    found = problems(env)
    for line in found:
        print(f"check_env {env}: {line}", file=sys.stderr)
    if not found:
        print(f"check_env: {env} environment OK ({sys.executable})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
