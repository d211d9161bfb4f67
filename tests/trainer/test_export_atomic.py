"""Exports never leave a broken model: SIGKILL inside the write and at random moments, failed checks, diverging
training. tests/test_atomic_write.py checks write_atomic itself (fsync, locks, stale temporary files)."""

import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from edge_predict import Predictor, VerificationError
from edge_predict.trainer.data import lecture_data
from edge_predict.trainer import ExportError
from edge_predict.trainer import export as export_model
from edge_predict.trainer.train import PATIENCE, TrainConfig, TrainingError, check_diverged, train

KILLS = int(os.environ.get("EDGE_PREDICT_KILLS", "25"))

pytestmark = pytest.mark.slow  # SIGKILLs exporter processes

# Imports torch and warms up the exporter once, then forks one exporter per round: each child writes model A, B, A, B, ... to the
# target until the test SIGKILLs it, so every kill costs milliseconds, not a fresh interpreter.
EXPORTER = r"""
import os, sys
from edge_predict.trainer import export as export_model
from edge_predict.trainer.data import lecture_data
from edge_predict.trainer.train import TrainConfig, train
target = sys.argv[1]
x, y = lecture_data()
models = [train(x, y, TrainConfig(epochs=20, seed=seed)).model for seed in (0, 1)]
export_model(models[0], sys.argv[2], feature_names=["hours"], model_name="m", model_version=1, x_train=x)  # warm up
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        for i in range(10**9):
            export_model(models[i % 2], target, feature_names=["hours"], model_name="m", model_version=1, training={"seed": i % 2}, x_train=x,
                         domain=[{"min": 0.0}])
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


# Exports model 1 (seed 1) over argv[1] with the fault-injection point set, so it stops after writing half of the
# bytes; with argv[2] == "direct" it first swaps write_atomic for a plain write through the same point: the mutant
# the deterministic test must catch.
PAUSED_EXPORTER = r"""
import os, sys, time
from pathlib import Path
from edge_predict.trainer import exporter
from edge_predict.trainer.data import lecture_data
from edge_predict.trainer.train import TrainConfig, train

class Halves:  # a file that stops after half of what it is given, says so in argv[3] and waits to be killed
    def __init__(self, handle):
        self.handle = handle
    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        Path(sys.argv[3]).write_text(f"{os.getpid()}\n")
        time.sleep(60)
        self.handle.write(data[len(data) // 2 :])
    def __getattr__(self, name):
        return getattr(self.handle, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.handle.close()
fdopen = os.fdopen
os.fdopen = lambda fd, mode: Halves(fdopen(fd, mode))  # the temporary file write_atomic writes
if sys.argv[2] == "direct":
    def direct(path, data):
        with Halves(open(path, "wb")) as handle:
            handle.write(data)
    exporter.write_atomic = direct
x, y = lecture_data()
model = train(x, y, TrainConfig(epochs=20, seed=1)).model
exporter.export(model, sys.argv[1], feature_names=["hours"], model_name="m", model_version=1, training={"seed": 1}, x_train=x, domain=[{"min": 0.0}])
"""


def paused_exporter(target, writer, ready):
    """An exporter of model 1 to `target`, stopped halfway through writing it (its PID is in `ready`)."""
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_EXPORTER, str(target), writer, str(ready)])
    deadline = time.monotonic() + 120
    while not (ready.exists() and ready.read_text().endswith("\n")):
        assert proc.poll() is None, f"the exporter ended ({proc.returncode}) before reaching the pause"
        assert time.monotonic() < deadline, "the exporter never reached the pause"
        time.sleep(0.05)
    assert int(ready.read_text()) == proc.pid
    return proc


def kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL


def export(model, path, seed):
    x, _ = lecture_data()
    return export_model(
        model,
        path,
        feature_names=["hours"],
        model_name="m",
        model_version=1,
        training={"seed": seed},
        x_train=x,
        domain=[{"min": 0.0}],
    )


@pytest.fixture(scope="module")
def models():
    x, y = lecture_data()
    return [train(x, y, TrainConfig(epochs=20, seed=seed)).model for seed in (0, 1)]


@pytest.mark.parametrize("writer, intact", [("write_atomic", True), ("direct", False)])
def test_sigkill_inside_the_write_leaves_the_old_model(tmp_path, models, writer, intact):
    target = tmp_path / "m.onnx"
    old, new = export(models[0], target, 0), export(models[1], tmp_path / "new.onnx", 1)
    kill(paused_exporter(target, writer, tmp_path / "paused"))
    data = target.read_bytes()
    # The kill landed inside the write: a plain write over the target (the "direct" mutant) leaves half a model.
    assert (data == old) is intact
    assert intact or data == new[: len(new) // 2]


def test_a_live_writers_temporary_file_is_left_alone_and_a_dead_ones_removed(tmp_path, models):
    target = tmp_path / "m.onnx"
    export(models[0], target, 0)
    proc = paused_exporter(target, "write_atomic", tmp_path / "paused")
    try:
        [live] = tmp_path.glob(".m.onnx.*.tmp")
        export(models[0], target, 0)  # sweeps the temporary files of dead writers to the same target
        assert live.exists()
    finally:
        kill(proc)
    export(models[0], target, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "paused"]


def test_sigkill_at_random_moments_leaves_the_old_or_the_new_model(tmp_path, models):
    target = tmp_path / "m.onnx"
    versions = {export(m, tmp_path / f"v{seed}.onnx", seed): seed for seed, m in enumerate(models)}
    assert len(versions) == 2
    export(models[0], target, 0)
    rng = random.Random(6)
    seen, stale = set(), 0
    proc = subprocess.Popen(
        [sys.executable, "-c", EXPORTER, str(target), str(tmp_path / "warm" / "up.onnx")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(KILLS):
            proc.stdin.write("go\n")
            proc.stdin.flush()
            child = int(proc.stdout.readline())
            subprocess.run(["sleep", f"{rng.uniform(0.0, 0.4):.3f}"], check=True)
            os.kill(child, signal.SIGKILL)
            assert proc.stdout.readline() == "reaped\n"
            data = target.read_bytes()
            assert data in versions, "the target is neither the old model nor the new one"
            assert Predictor.from_bytes(data).verify() <= 1e-6
            seen.add(versions[data])
            stale += any(p.suffix == ".tmp" for p in tmp_path.iterdir())
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    print(f"{KILLS} kills: target held versions {sorted(seen)}; a temporary file was left {stale} times")
    export(models[1], target, 1)  # a normal run afterwards removes what killed runs left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "v0.onnx", "v1.onnx", "warm"]


def test_failed_parity_check_writes_nothing(tmp_path, models, monkeypatch):
    target = tmp_path / "m.onnx"
    old = export(models[0], target, 0)

    def disagree(self):
        raise VerificationError("golden vectors do not match", difference=0.5)

    monkeypatch.setattr(Predictor, "verify", disagree)
    with pytest.raises(
        ExportError,
        match="^onnxruntime disagrees with torch on the golden vectors: largest "
        "difference 0.5 > 1e-06; nothing was written",
    ):
        export(models[1], target, 1)
    assert target.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_failed_write_leaves_no_temporary_file(tmp_path, models, monkeypatch):
    target = tmp_path / "m.onnx"
    old = export(models[0], target, 0)

    def replace_fails(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(ExportError, match=f"^cannot write {re.escape(str(target))}: No space left on device"):
        export(models[1], target, 1)
    assert target.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--lr", "100"],
            "edge-train: error: training diverged: the loss rose from 0.714 to 5.686 and stayed above "
            "its start for 100 epochs (epoch 101); lower --lr (now 100); nothing was written",
        ),
        (
            ["--lr", "1e6", "--epochs", "50"],
            "edge-train: error: training diverged: the loss ended above where it "
            "started (0.714 -> 1.608e+05); lower --lr (now 1e+06); nothing was written",
        ),
        (
            ["--data", "progression", "--standardize", "--lr", "10"],
            "edge-train: error: training diverged: the loss or the weights are not finite at epoch 11 (loss inf)",
        ),
    ],
)
def test_diverging_training_stops_and_writes_nothing(cli_runner, tmp_path, diabetes_path, args, message):
    from edge_predict.trainer.cli import cli

    data = [] if "--data" in args else ["--data", str(diabetes_path)]  # not separable: huge steps oscillate
    args = [str(diabetes_path.parent / "progression.csv.gz") if a == "progression" else a for a in args]
    result = cli_runner.invoke(cli, [*data, *args, "--out", str(tmp_path / "m.onnx")], prog_name="edge-train")
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lr", [3.0, 10.0])
def test_large_but_converging_learning_rates_are_not_divergence(lr):
    result = train(*lecture_data(), TrainConfig(lr=lr))
    assert max(result.losses) > result.losses[0] > result.final_loss  # overshoots, then converges


def test_non_finite_weights_are_divergence():
    with pytest.raises(TrainingError, match="^training diverged: the loss or the weights are not finite at epoch 1"):
        train(*lecture_data(), TrainConfig(lr=float("inf")))


def test_a_loss_stuck_a_little_above_its_start_is_divergence():
    losses, model = [1.0] + [1.5] * PATIENCE, torch.nn.Linear(1, 1)  # 1.5 times the start: never doubled
    check_diverged(losses[:PATIENCE], model, PATIENCE, 0.1)  # PATIENCE - 1 epochs above the start: not yet
    with pytest.raises(
        TrainingError,
        match=f"^training diverged: the loss rose from 1 to 1.5 and stayed above its "
        f"start for {PATIENCE} epochs \\(epoch {PATIENCE + 1}\\); lower --lr",
    ):
        check_diverged(losses, model, PATIENCE + 1, 0.1)
    check_diverged(losses[:-1] + [0.99], model, PATIENCE + 1, 0.1)  # one epoch back below the start: not stuck
