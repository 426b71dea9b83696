"""Damaged ``.pt2`` (torch.export) and TorchScript files, and damaged inputs of ``snnc eval``
and ``snnc sweep``, through every command that reads them (inspect, compile, convert, sweep,
eval): exit status 2, one paragraph starting with ``error:``, no traceback, nothing written
(no output directory, no temporary folder beside it) and the inputs unchanged."""

from __future__ import annotations

import io
import random
import shutil
import zipfile
from pathlib import Path

import pytest
from cli_run import run

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
REPO = Path(__file__).resolve().parents[2]
DIGITS = REPO / "examples" / "models" / "digits_test.npz"
GRID = '[grid]\nbits = [4]\nchip = ["loihi1"]\n\n[data]\nx_key = "spikes"\nlimit = 4\n'


def _models(root: Path) -> dict[str, Path]:
    from torch import nn

    import snnc.nn as snn

    torch.manual_seed(0)
    spiking = nn.Sequential(nn.Linear(64, 16), snn.LIF(0.5), nn.Linear(16, 10), snn.IF()).eval()
    pt2 = root / "model.pt2"
    torch.export.save(torch.export.export(spiking, (torch.zeros(2, 64),), strict=False), pt2)
    ts = root / "model.ts.pt"
    torch.jit.trace(spiking, torch.zeros(1, 64), check_trace=False).save(str(ts))
    return {"pt2": pt2, "ts": ts}


def _damage(data: bytes, how: str, rng: random.Random) -> bytes:
    if how == "empty":
        return b""
    if how.startswith("cut"):
        return data[: int(len(data) * float(how[3:]))]
    if how == "garbage":
        return bytes(rng.randrange(256) for _ in range(len(data)))
    if how == "flip":  # bytes in the middle of the archive: CRC or pickle errors
        b = bytearray(data)
        for _ in range(16):
            i = rng.randrange(len(b) // 4, 3 * len(b) // 4)
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if how == "drop-member":  # a valid zip without its pickle (or its largest member)
        src = zipfile.ZipFile(io.BytesIO(data))
        pickles = [i.filename for i in src.infolist() if i.filename.endswith("/data.pkl")]
        biggest = pickles[0] if pickles else max(src.infolist(),
                                                 key=lambda i: i.file_size).filename
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                if info.filename != biggest:
                    dst.writestr(info, src.read(info))
        return out.getvalue()
    raise AssertionError(how)


SHAPE = {"pt2": [], "ts": ["--input-shape", "64"]}  # TorchScript does not record it
DAMAGES = ["empty", "cut0.01", "cut0.5", "cut0.97", "garbage", "flip", "drop-member"]


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _judge(code: int, err: str, work: Path, before: dict[str, bytes]) -> None:
    assert code == 2, err
    assert err.startswith("error: "), err
    assert "Traceback" not in err
    assert "\n\n" not in err.strip(), err  # one paragraph
    assert _tree(work) == before  # nothing written, nothing changed
    assert {p.name for p in work.iterdir()} == {Path(k).parts[0] for k in before}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, Path]:
    return _models(tmp_path_factory.mktemp("models"))


def test_the_clean_files_are_read(clean: dict[str, Path]) -> None:
    """The damaged files below fail because of the damage: the clean ones load."""
    from snnc import api

    for kind, f in clean.items():
        g = api.load(f, **({"input_shape": (64,)} if kind == "ts" else {}))
        assert len(g.nodes) >= 6


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("kind", ["pt2", "ts"])
def test_a_damaged_model_is_refused_by_every_command(clean: dict[str, Path], tmp_path: Path,
                                                     capsys, kind: str, how: str) -> None:
    rng = random.Random(f"{kind}{how}")
    f = tmp_path / clean[kind].name
    f.write_bytes(_damage(clean[kind].read_bytes(), how, rng))
    grid = tmp_path / "g.toml"
    grid.write_text(GRID)
    before = _tree(tmp_path)
    for argv in (["inspect", str(f)],
                 ["compile", str(f), "-o", str(tmp_path / "c"), "-q", *SHAPE[kind]],
                 ["convert", str(f), "-o", str(tmp_path / "cv"), *SHAPE[kind]],
                 ["sweep", str(f), "--grid", str(grid), "--data", str(DIGITS), "-o",
                  str(tmp_path / "sw"), "-q"]):
        code, _, err = run(argv, capsys)
        _judge(code, err, tmp_path, before)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    from snnc import api

    out = tmp_path_factory.mktemp("eval") / "qsnn4"
    api.compile(REPO / "examples" / "models" / "qsnn4.pt", target="loihi-sim", out_dir=out)
    return out


@pytest.mark.parametrize("how", ["empty", "cut0.5", "garbage", "flip"])
def test_eval_of_a_damaged_program_or_dataset_writes_nothing(compiled: Path, tmp_path: Path,
                                                             capsys, how: str) -> None:
    rng = random.Random(how)
    prog = tmp_path / "prog"
    shutil.copytree(compiled, prog)
    (prog / "program.h5").write_bytes(_damage((prog / "program.h5").read_bytes(), how, rng))
    data = tmp_path / "data.npz"
    data.write_bytes(_damage(DIGITS.read_bytes(), how, rng))
    before = _tree(tmp_path)
    for argv in (["eval", str(prog), "--data", str(DIGITS), "--x-key", "spikes", "-q"],
                 ["eval", str(prog), "--data", str(DIGITS), "--x-key", "spikes", "-q", "-o",
                  str(tmp_path / "ev")],
                 ["eval", str(compiled), "--data", str(data), "--x-key", "spikes", "-q", "-o",
                  str(tmp_path / "ev")]):
        code, _, err = run(argv, capsys)
        _judge(code, err, tmp_path, before)


@pytest.mark.parametrize("text", ["", "[grid", "[grid]\nbits = [99]\n", "[grid]\nbits = 'x'\n",
                                  "[grid]\nnope = [1]\n", "\x00\xff\xfe"])
def test_sweep_with_a_damaged_grid_writes_nothing(tmp_path: Path, capsys, text: str) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(text, errors="surrogateescape")
    before = _tree(tmp_path)
    code, _, err = run(["sweep", str(REPO / "examples" / "models" / "qsnn4.pt"), "--grid",
                        str(grid), "--data", str(DIGITS), "-o", str(tmp_path / "sw")], capsys)
    _judge(code, err, tmp_path, before)


@pytest.mark.parametrize(("argv", "needle"), [
    (["simulate", "M", "--reset-interval", str(2**70)], "--reset-interval"),
    (["simulate", "M", "--steps", "0"], "--steps"),
    (["eval", "D", "--data", "X", "--steps", str(10**9)], "--steps"),
    (["eval", "D", "--data", "X", "--seed", "-1"], "--seed"),
    (["eval", "D", "--data", "X", "--batch", "0"], "--batch"),
    (["eval", "D", "--data", "X", "--workers", "100000"], "--workers"),
    (["convert", "M", "-o", "O", "--tau", "-3"], "--tau"),
    (["convert", "M", "-o", "O", "--steps", "1,2,9999999"], "--steps"),
    (["convert", "M", "-o", "O", "--calib-batch", "0"], "--calib-batch"),
    (["sweep", "M", "--grid", "G", "-o", "O", "--limit", "0"], "--limit"),
    (["compile", "M", "-o", "O", "--netx-layers", "0"], "--netx-layers"),
    (["compile", "M", "-o", "O", "--pipeline", f"quantize-loihi,lower-loihi{{reset_interval="
      f"{2**70}}}"], "reset_interval"),
    (["compile", "M", "-o", "O", "--pipeline", "quantize-loihi{headroom_bits=1000},lower-loihi"],
     "headroom_bits"),
    (["compile", "M", "-o", "O", "--pipeline", "quantize-loihi{input_bits=0},lower-loihi"],
     "input_bits"),
    (["compile", "M", "-o", "O", "--pipeline", "quantize-loihi{input_max=nan},lower-loihi"],
     "input_max"),
    (["compile", "M", "-o", "O", "--pipeline", "quantize-loihi{bias_exp=99},lower-loihi"],
     "bias_exp"),
])
def test_integer_options_out_of_range_are_refused(tmp_path: Path, capsys, argv: list[str],
                                                  needle: str) -> None:
    prog = tmp_path / "D"
    files = {"M": REPO / "examples" / "models" / "qsnn4.pt", "X": DIGITS, "G": tmp_path / "g.toml",
             "O": tmp_path / "out", "D": prog}
    (tmp_path / "g.toml").write_text(GRID)
    prog.mkdir()
    before = _tree(tmp_path)
    code, _, err = run([str(files.get(a, a)) for a in argv], capsys)
    assert code == 2, err
    assert needle in err
    assert "Traceback" not in err
    assert _tree(tmp_path) == before
    assert not (tmp_path / "out").exists()
