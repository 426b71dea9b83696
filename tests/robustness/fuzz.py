"""A seeded mutation fuzzer over every file snnc reads and every command that reads it.

``case(seed)`` derives everything from one integer: which seed file (a valid ``.snnc`` graph,
``program.h5``, ``.net``, ``.nir``, ``report.json``, chip TOML, input ``.npy``, learning
``.npz``, ``.pt``, a special path such as a FIFO or ``/dev/zero``, or hostile CLI numbers), how it
is mutated (bit flips, truncation, splices, chunk overwrite, or a structural edit of an HDF5
attribute/dataset, JSON/TOML value or array dtype/shape) and which command reads it. A failure
is reproduced with ``python -m tests.robustness.fuzz --seed N --cases 1``.

Each call runs in-process through ``snnc.cli.main`` in a sandbox directory; the outcome is
accepted when the exit status is 0, or 2 with an ``error:`` line, nothing on stderr looks like a
traceback, no file outside the case's output folder changed, the payload sentinel does not
exist, and the call finished within the timeout (``faulthandler`` kills a hung process, so a
hang can never pass silently). ``python -m tests.robustness.fuzz --cases 3000`` runs a campaign
and prints the counts (cases, tracebacks, hangs, payloads run).
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "examples" / "models"
NASTY_NUMBERS = ["0", "-1", "1e9", "1000000000", str(2**63), "nan", "inf", "-inf", "abc", "",
                 "3.5", "99999999999999999999", "0x10", "1,2", " "]
NASTY_VALUES = [None, [], {}, "x", -1, 0, 2**63, 10**30, 1e308, -1e308, float("nan"),
                float("inf"), True, "", [1, [2, [3]]], {"a": 1}, 3.5, "\udcff" * 0 + "é"]
TIMEOUT = 60.0


@dataclass
class Outcome:
    seed: int
    argv: list[str]
    code: int
    err: str
    seconds: float
    problems: list[str] = field(default_factory=list)


# ---- the seed corpus ---------------------------------------------------------------------------


def build_corpus(root: Path) -> dict[str, Path]:
    """Valid files of every kind, written once per session (about 5 s)."""
    from snnc.api import compile as compile_model

    root.mkdir(parents=True, exist_ok=True)
    calib = MODELS / "qsnn4.input.npy"
    sim = root / "sim"
    compile_model(MODELS / "qsnn4.pt", out_dir=sim, calibration=calib)
    nets = sorted(Path(os.environ.get("SNNC_LAVADL_ASSETS", REPO / ".cache" / "lava-dl" /
                                       "netx")).glob("*.net"))
    net = root / "model.net"
    if nets:  # lava-dl's own netx test network
        shutil.copy(nets[0], net)
    else:  # fall back to netx written by snnc (a one-value-per-layer model)
        from snnc.backends.netx.writer import write_netx
        from snnc.ir.serialize import read_graph

        write_netx(read_graph(sim / "graph.lowered.snnc"), net)
    compile_model(sim / "graph.float.snnc", target="nir", out_dir=root / "nir", calibration=calib,
                  load_options={"dt": 1e-3})
    x = np.load(calib)
    np.save(root / "x.npy", x[0])
    np.savez(root / "data.npz", x=x, y=np.arange(len(x)) % 10)
    chip = root / "chip.toml"
    chip.write_text(
        'base = "loihi1"\nname = "fuzzchip"\n[core]\nneurons = 256\n'
        '[mesh]\ntiles_x = 2\ntiles_y = 2\nmax_chips = 4\ncores_per_chip = 16\n')
    shutil.copy(MODELS / "qsnn4.pt", root / "qsnn4.pt")
    return {"graph": sim / "graph.float.snnc", "lowered": sim / "graph.lowered.snnc",
            "program": sim / "program.h5", "simdir": sim,
            "net": net, "nir": next((root / "nir").glob("*.nir")),
            "report": sim / "report.json", "chip": chip, "x": root / "x.npy",
            "data": root / "data.npz", "pt": root / "qsnn4.pt"}


# ---- mutations ---------------------------------------------------------------------------------


def mutate_bytes(data: bytes, rng: random.Random, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    how = rng.choice(["flip", "flip", "truncate", "chunk", "zero", "insert", "splice", "empty"])
    if how == "empty" or not b:
        return b""
    if how == "flip":
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif how == "truncate":
        b = b[: rng.randrange(len(b))]
    elif how in ("chunk", "zero"):
        i = rng.randrange(len(b))
        n = rng.randint(1, 512)
        fill = bytes(rng.randrange(256) for _ in range(n)) if how == "chunk" else \
            bytes([rng.choice([0, 0xFF])]) * n
        b[i:i + n] = fill[: len(b) - i]
    elif how == "insert":
        i = rng.randrange(len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    else:
        other = rng.choice(pool)
        i, j = rng.randrange(len(b)), rng.randrange(max(len(other), 1))
        b = b[:i] + other[j:j + rng.randint(1, 4096)]
    return bytes(b)


def mutate_hdf5(path: Path, rng: random.Random) -> None:
    """A structural edit: an attribute or dataset replaced by a value of the wrong kind."""
    import h5py

    with h5py.File(path, "r+") as f:
        items: list[tuple[str, str]] = []
        f.visititems(lambda n, o: items.append((n, "ds" if isinstance(o, h5py.Dataset)
                                                else "grp")))
        items.append(("", "grp"))
        name, kind = rng.choice(items)
        obj = f[name] if name else f
        attrs = list(obj.attrs)
        choice = rng.random()
        if attrs and choice < 0.5:
            key = rng.choice(attrs)
            new = rng.choice(["", "null", "{", "[1,2]", -1, 2**62, np.nan, np.array([1, 2, 3]),
                              "snnc-graph", 999])
            del obj.attrs[key]
            if rng.random() < 0.8:
                obj.attrs[key] = new
        elif kind == "ds" and choice < 0.8:
            shape = obj.shape
            del f[name]
            f[name] = rng.choice([np.array([]), np.full(shape or (1,), np.nan),
                                  np.array([[1, 2], [3, 4]]), np.array(2**40),
                                  np.full(shape or (1,), -7, np.int64), np.array(["x", "y"],
                                                                                dtype="S")])
        elif name:
            del f[name]


def mutate_doc(doc, rng: random.Random):
    """Replace or delete one random leaf of a JSON/TOML document."""
    if not isinstance(doc, (dict, list)) or not doc:
        return rng.choice(NASTY_VALUES)
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    k = rng.choice(keys)
    if isinstance(doc[k], (dict, list)) and doc[k] and rng.random() < 0.7:
        doc[k] = mutate_doc(doc[k], rng)
    elif isinstance(doc, dict) and rng.random() < 0.3:
        del doc[k]
    else:
        doc[k] = rng.choice(NASTY_VALUES)
    return doc


def _toml(doc: dict, prefix: str = "") -> str:
    """A tiny TOML writer for mutated chip files (values TOML cannot hold become strings)."""
    lines, tables = [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append((f"{prefix}{k}", v))
        else:
            lines.append(f"{json.dumps(str(k))} = {_toml_value(v)}")
    out = "\n".join(lines) + "\n"
    for name, sub in tables:
        out += f"[{name}]\n" + _toml(sub, f"{name}.")
    return out


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else
                                     "-inf" if v == float("-inf") else repr(v))
    if isinstance(v, int):
        return str(v) if -2**63 <= v < 2**63 else json.dumps(str(v))
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if v is None or isinstance(v, dict):
        return '""'
    return json.dumps(str(v))


def nasty_array(rng: random.Random, good: np.ndarray) -> np.ndarray:
    choices: list[Callable[[], np.ndarray]] = [
        lambda: np.zeros(0), lambda: np.array(3.0), lambda: np.full(good.shape, np.nan),
        lambda: np.full(good.shape, np.inf), lambda: good.astype(np.complex64),
        lambda: np.zeros(good.shape, dtype=[("a", "i4"), ("b", "f4")]),
        lambda: np.array(["a", "b"]), lambda: good[..., :0], lambda: good[None, None],
        lambda: good.reshape(-1), lambda: good.astype(bool), lambda: -good * 1e30,
        lambda: np.zeros((*good.shape[:-1], 0)), lambda: good.T.copy(),
        lambda: np.zeros((1, 1, 1, 1, 1, 1, 1, 1)), lambda: good.astype(np.uint64) + 2**63,
    ]
    return rng.choice(choices)()


# ---- cases -------------------------------------------------------------------------------------


KINDS = ["graph", "lowered", "program", "net", "nir", "report", "chip", "x", "data", "pt",
         "special", "numbers"]


def _write_mutant(kind: str, corpus: dict[str, Path], work: Path, rng: random.Random,
                  pool: list[bytes]) -> Path:
    src = corpus[kind]
    dest = work / f"in{src.suffix}"
    if kind in ("x", "data") and rng.random() < 0.6:
        good = np.load(corpus["x"])
        if kind == "x":
            np.save(dest, nasty_array(rng, good), allow_pickle=False)
        else:
            arrs = {"x": np.load(corpus["data"])["x"], "y": np.arange(16) % 10}
            key = rng.choice(["x", "y", "drop-x", "drop-y", "y-scalar", "y-range", "T0"])
            if key in ("x", "y"):
                arrs[key] = nasty_array(rng, arrs[key])
            elif key.startswith("drop"):
                del arrs[key[-1]]
            elif key == "y-scalar":
                arrs["y"] = np.array(3)
            elif key == "y-range":
                arrs["y"] = np.full(16, 99)
            else:
                arrs["x"] = arrs["x"][..., :0]
            np.savez(dest, **arrs)
        return dest
    if kind in ("report", "chip") and rng.random() < 0.6:
        if kind == "report":
            doc = mutate_doc(json.loads(src.read_text()), rng)
            dest.write_text(json.dumps(doc, allow_nan=True))
        else:
            from snnc.backends.loihi.chips import _raw

            doc = mutate_doc(_raw(src), rng)
            dest.write_text(_toml(doc) if isinstance(doc, dict) else _toml_value(doc))
        return dest
    if src.suffix in (".snnc", ".h5", ".net", ".nir") and rng.random() < 0.4:
        shutil.copy(src, dest)
        mutate_hdf5(dest, rng)
        return dest
    dest.write_bytes(mutate_bytes(src.read_bytes(), rng, pool))
    return dest


def _special(work: Path, rng: random.Random) -> Path:
    how = rng.choice(["fifo", "devzero", "dir", "missing", "loop"])
    suffix = rng.choice([".snnc", ".npy", ".net", ".pt", ".json", ".toml", ".h5"])
    p = work / f"special{suffix}"
    if how == "fifo":
        os.mkfifo(p)
    elif how == "devzero":
        p.symlink_to("/dev/zero")
    elif how == "dir":
        p.mkdir()
    elif how == "loop":
        p.symlink_to(p)
    return p


def commands(kind: str, f: Path, c: dict[str, Path], out: Path, rng: random.Random) -> list[str]:
    r = str(out / "r.npz")
    sim = ["-o", r, "-q"]
    x = str(c["x"])
    table: dict[str, list[list[str]]] = {
        "graph": [["inspect", str(f)], ["inspect", "--text", str(f)],
                  ["simulate", str(f), "-i", x, "-b", "reference", *sim]],
        "lowered": [["inspect", str(f)], ["simulate", str(f), "-i", x, *sim],
                    ["learn", str(f), "--data", str(c["data"]), "-o", str(out / "l")]],
        "program": [["simulate", str(f.parent), "-i", x, *sim], ["inspect", str(f.parent)]],
        "net": [["inspect", str(f)], ["simulate", str(f), "-i", x, "-b", "reference", *sim]],
        "nir": [["inspect", "--dt", "1e-3", str(f)]],
        "report": [["report", str(f), "--no-html"], ["report", str(f), "--json"],
                   ["report", str(c["report"]), "--compare", str(f), "--no-html"]],
        "chip": [["simulate", str(c["lowered"]), "-i", x, "--chip", str(f), *sim]],
        "x": [["simulate", str(c["simdir"]), "-i", str(f), *sim],
              ["simulate", str(c["graph"]), "-i", str(f), "-b", "reference", *sim]],
        "data": [["learn", str(c["simdir"]), "--data", str(f), "-o", str(out / "l")]],
        "pt": [["inspect", str(f)]],
    }
    if kind == "special":
        return rng.choice([["inspect", str(f)], ["simulate", str(c["simdir"]), "-i", str(f), *sim],
                           ["report", str(f)], ["simulate", str(c["lowered"]), "-i", x, "--chip",
                                                str(f), *sim],
                           ["learn", str(c["simdir"]), "--data", str(f), "-o", str(out / "l")]])
    if kind == "numbers":
        n = rng.choice(NASTY_NUMBERS)
        return rng.choice([["simulate", str(c["simdir"]), "-i", x, "--steps", n, *sim],
                           ["simulate", str(c["simdir"]), "-i", x, "--reset-interval", n, *sim],
                           ["inspect", str(c["pt"]), "--input-shape", n],
                           ["compile", str(c["pt"]), "--input-shape", n, "--steps", n, "-o",
                            str(out / "c")],
                           ["learn", str(c["simdir"]), "--data", str(c["data"]), "--epochs", n,
                            "-o", str(out / "l")]])
    return rng.choice(table[kind])


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        if d == skip or skip in d.parents:
            dirnames[:] = []
            continue
        for n in filenames:
            p = d / n
            with contextlib.suppress(OSError):
                st = p.lstat()
                out[str(p)] = (st.st_mtime_ns, st.st_size)
    return out


def run_case(seed: int, corpus: dict[str, Path], sandbox: Path, sentinel: Path,
             pool: list[bytes], timeout: float = TIMEOUT) -> Outcome:
    """Build and run case ``seed``; ``Outcome.problems`` lists every broken promise."""
    from snnc.cli import main

    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)] if rng.random() < 0.9 else rng.choice(KINDS)
    work = sandbox / f"case{seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out = work / "out"
    if kind in ("special", "numbers"):
        f = _special(work, rng) if kind == "special" else corpus["pt"]
    else:
        f = _write_mutant(kind, corpus, work, rng, pool)
        if kind == "program":  # the program is read from a compile output directory
            d = work / "prog"
            shutil.copytree(corpus["simdir"], d)
            os.replace(f, d / "program.h5")
            f = d / "program.h5"
    argv = commands(kind, f, corpus, out, rng)
    before = _snapshot(sandbox.parent, out)
    err_buf, out_buf = io.StringIO(), io.StringIO()
    t0 = time.monotonic()
    faulthandler.dump_traceback_later(timeout * 2, exit=True)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    code = 0
    try:
        with contextlib.redirect_stderr(err_buf), contextlib.redirect_stdout(out_buf):
            main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except _Hang:
        code = -1
    except BaseException as exc:  # anything escaping main is a traceback
        code = -2
        err_buf.write(f"Traceback (escaped main): {type(exc).__name__}: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()
    res = Outcome(seed, argv, code, err_buf.getvalue(), time.monotonic() - t0)
    res.problems = _judge(res, out_buf.getvalue(), sentinel)
    after = _snapshot(sandbox.parent, out)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed:
        res.problems.append(f"touched files outside the output: {changed[:3]}")
    shutil.rmtree(work, ignore_errors=True)
    return res


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


def _judge(res: Outcome, stdout: str, sentinel: Path) -> list[str]:
    problems = []
    if res.code == -1:
        problems.append(f"hang (> {TIMEOUT} s)")
    elif res.code not in (0, 2):
        problems.append(f"exit status {res.code}")
    text = res.err + stdout
    if "Traceback" in text or 'File "' in text:
        problems.append("traceback")
    if res.code == 2 and not any(line.lower().startswith("error:")
                                 for line in res.err.splitlines()):
        problems.append("exit 2 without an 'error:' line")
    if sentinel.exists():
        problems.append("payload ran")
    return problems


def campaign(seeds: range, root: Path, verbose: bool = False) -> list[Outcome]:
    corpus = build_corpus(root / "corpus")
    pool = [p.read_bytes() for p in corpus.values() if p.is_file()]
    sandbox = root / "sandbox"
    sentinel = root / "PAYLOAD-RAN"
    results = []
    for seed in seeds:
        res = run_case(seed, corpus, sandbox, sentinel, pool)
        results.append(res)
        if verbose or res.problems:
            print(f"seed {seed}: exit {res.code} {res.seconds:.2f}s {res.problems} "
                  f"{' '.join(res.argv)}\n  {res.err.strip()[:300]}", flush=True)
    return results


def _main() -> None:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        results = campaign(range(args.seed, args.seed + args.cases), Path(tmp), args.verbose)
        bad = [r for r in results if r.problems]
        count = lambda what: sum(any(what in p for p in r.problems) for r in results)  # noqa: E731
        print(f"cases {len(results)}, exit 0: {sum(r.code == 0 for r in results)}, exit 2: "
              f"{sum(r.code == 2 for r in results)}, failing {len(bad)}, tracebacks "
              f"{count('traceback')}, hangs {count('hang')}, payloads run {count('payload')}, "
              f"other exits {count('exit status')}, touched {count('touched')}, "
              f"{time.monotonic() - t0:.0f} s, slowest {max(r.seconds for r in results):.1f} s")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    _main()
