"""Build the event simulator's ahead-of-time kernels (simulators/event/kernels_aot.pyx) in place.

Cython translates the .pyx to C and the machine's C compiler builds the extension module next to
it (``kernels_aot.<abi>.so``, ignored by git), so an editable install and a fresh clone get the
fast kernels from ``make setup-main`` (run by ``make demo`` and ``make test``). OpenMP threads
over samples when the compiler supports ``-fopenmp``. Nothing is rebuilt when the module is newer
than its source. Usage: ``python scripts/build_kernels.py [--force]``.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "simulators" / "event" / "kernels_aot.pyx"
FLAGS = ["-O3", "-fno-strict-aliasing"]
# Built on the machine that runs it (make setup-main), so tuned for its CPU; SNNC_PORTABLE=1
# builds for any x86-64 (a wheel meant for other machines).
NATIVE = [] if os.environ.get("SNNC_PORTABLE", "") not in ("", "0") else ["-march=native"]


def target() -> Path:
    return SRC.with_name("kernels_aot" + sysconfig.get_config_var("EXT_SUFFIX"))


def build(force: bool = False) -> Path:
    out = target()
    if not force and out.exists() and out.stat().st_mtime >= SRC.stat().st_mtime:
        return out
    import numpy  # noqa: F401  (the extension needs it at import)
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    omp = ["-fopenmp"] if os.environ.get("SNNC_NO_OPENMP", "") in ("", "0") else []
    with tempfile.TemporaryDirectory() as tmp:
        ext = Extension("kernels_aot", [str(SRC)], extra_compile_args=FLAGS + NATIVE + omp,
                        extra_link_args=omp)
        modules = cythonize([ext], build_dir=tmp, quiet=True,
                            compiler_directives={"language_level": 3})
        dist = Distribution({"ext_modules": modules})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = tmp
        cmd.build_temp = tmp
        cmd.ensure_finalized()
        cmd.run()
        built = Path(cmd.get_ext_fullpath("kernels_aot"))
        shutil.copyfile(built, out.with_suffix(".tmp"))
        os.replace(out.with_suffix(".tmp"), out)
    return out


if __name__ == "__main__":
    path = build(force="--force" in sys.argv[1:])
    print(f"build_kernels: {path.relative_to(SRC.parents[2])}")
