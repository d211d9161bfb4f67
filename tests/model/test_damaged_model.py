"""Every damaged copy of the default model either scores exactly as the original or is refused: never a
different answer with exit 0, never a traceback, never onnxruntime's own text on stdout."""

import contextlib
import io
import subprocess
import sys

import numpy as np
import pytest

from helpers import DATA

from edge_predict import EdgePredictError, Predictor
from edge_predict.cli import cli
from edge_predict.model.integrity import seal
from edge_predict.model.file import default_model_path

ORIGINAL = open(default_model_path(), "rb").read()
GRID = np.concatenate([np.linspace(0, 12, 49), [0.5, 1, 7, 100, 1e6]]).astype(np.float32)
EXPECTED = Predictor.from_bytes(ORIGINAL).predict_table(GRID)
PATTERNS = (0x01, 0x80, 0xFF)  # the lowest bit, the highest bit, every bit


def flipped(position: int, pattern: int) -> bytes:
    data = bytearray(ORIGINAL)
    data[position] ^= pattern
    return bytes(data)


def outcome(data: bytes) -> str:
    """'same' if the copy scores the grid exactly as the original, 'refused' if loading raises ModelError or
    VerificationError (exit 1); anything else fails the test with what happened."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        try:
            table = Predictor.from_bytes(data).predict_table(GRID)
        except EdgePredictError as exc:
            assert exc.exit_code == 1 and "\n" not in str(exc), str(exc)
            result = "refused"
        else:
            same = all(np.array_equal(table[k], EXPECTED[k]) for k in EXPECTED) and list(table) == list(EXPECTED)
            result = "same" if same else "DIFFERENT NUMBERS WITH NO ERROR"
    assert stdout.getvalue() == "", stdout.getvalue()
    return result


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: f"xor {p:#04x}")
def test_every_single_byte_flip_is_refused_or_harmless(pattern):
    results = {position: outcome(flipped(position, pattern)) for position in range(len(ORIGINAL))}
    wrong = [position for position, result in results.items() if result not in ("same", "refused")]
    assert wrong == []
    assert list(results.values()).count("refused") == len(ORIGINAL)  # the digest covers every byte


def test_every_truncation_is_refused():
    results = [outcome(ORIGINAL[:length]) for length in range(len(ORIGINAL))]
    assert set(results) == {"refused"}


def test_a_byte_appended_is_refused():
    assert outcome(ORIGINAL + b"\x00") == "refused"


@pytest.mark.parametrize("position", range(0, len(ORIGINAL), 37))
def test_cli_refuses_damaged_copies_with_one_line(cli_runner, tmp_path, position):
    path = tmp_path / "m.onnx"
    path.write_bytes(flipped(position, 0xFF))
    for args in (["predict", "1", "7"], ["info"], ["verify"]):
        result = cli_runner.invoke(cli, [*args, "--model", str(path)])
        assert (result.exit_code, result.stdout) == (1, ""), (args, result.stdout, result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "unexpected" not in result.stderr, result.stderr


@pytest.mark.slow
def test_damaged_copies_in_a_real_process_print_nothing_on_stdout(tmp_path):
    """onnxruntime's own banners (written by its Python layer or by C++ to fd 1) must not reach stdout."""
    for position in range(0, len(ORIGINAL), 97):
        path = tmp_path / f"m{position}.onnx"
        path.write_bytes(flipped(position, 0xFF))
        proc = subprocess.run(
            [sys.executable, "-m", "edge_predict.cli", "predict", "1", "--model", str(path), "--format", "json"],
            capture_output=True,
            text=True,
        )
        assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
        assert len(proc.stderr.splitlines()) == 1


def test_unsealed_format2_files_are_refused_and_sealing_is_what_the_exporter_does():
    from edge_predict.model.integrity import DIGEST_KEY

    unsealed = ORIGINAL[: ORIGINAL.rindex(DIGEST_KEY) - 4]  # the last record: tag, length, key tag, key length
    assert seal(unsealed) == ORIGINAL
    with pytest.raises(EdgePredictError, match="has no integrity digest"):
        Predictor.from_bytes(unsealed)


def test_format1_flips_never_crash_or_print(tmp_path):
    """Format 1 files predate the digest: a flip reaches onnxruntime, which must still end in our one line."""

    original = (DATA / "default_format1.onnx").read_bytes()
    kinds = set()
    for position in range(len(original)):
        data = bytearray(original)
        data[position] ^= 0xFF
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            try:
                Predictor.from_bytes(bytes(data)).predict_proba(GRID)
                kinds.add("scored")
            except EdgePredictError as exc:
                assert "\n" not in str(exc)
                kinds.add(type(exc).__name__)
        assert stdout.getvalue() == ""
    assert kinds >= {"ModelError", "VerificationError"}
