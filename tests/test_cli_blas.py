"""``snnc`` asks OpenBLAS for one thread only for commands that do no BLAS work."""

from __future__ import annotations

from snnc.cli import one_blas_thread


def test_light_commands_get_one_blas_thread(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "program.h5").write_bytes(b"")
    for args in ([], ["--help"], ["inspect", "model.pt"], ["list", "passes"],
                 ["report", str(out)], ["simulate", str(out), "-i", "x.npy"],
                 ["simulate", str(out), "--backend", "loihi-sim"],
                 ["simulate", str(out), "--backend=loihi-sim"]):
        assert one_blas_thread(args, {}), args


def test_blas_work_and_user_choices_are_left_alone(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "program.h5").write_bytes(b"")
    for args in (["compile", "model.pt"], ["eval", str(out)], ["convert", "ann.onnx"],
                 ["simulate", "model.pt", "-i", "x.npy"],  # compiled on the fly, reference run
                 ["simulate", str(tmp_path), "-i", "x.npy"],  # not a compile output
                 ["simulate", str(out), "--backend", "reference"],
                 ["simulate", str(out), "-b", "lava"], ["simulate", str(out), "--backend=brian2"]):
        assert not one_blas_thread(args, {}), args
    for env in ({"OPENBLAS_NUM_THREADS": "4"}, {"OMP_NUM_THREADS": "2"}):
        assert not one_blas_thread(["inspect", "m.pt"], env)
