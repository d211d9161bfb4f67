"""A device's memory limits: loading a small model needs about its own size, not the model-size limit."""

import resource
import subprocess
import sys

import pytest

# Loads the model at argv[1] with max_bytes argv[2]; prints P(pass | 7 hours), then the process's peak address space.
LOAD = """
import sys
from edge_predict import Predictor
print(Predictor.from_path(sys.argv[1], max_bytes=int(sys.argv[2])).predict_proba([[7.0]])[0, 1])
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmPeak:")) * 1024)
"""


def load(model_path, max_bytes: int, address_space: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.run(
        [sys.executable, "-c", LOAD, str(model_path), str(max_bytes)],
        capture_output=True,
        text=True,
        preexec_fn=limit if address_space else None,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_a_small_model_loads_under_an_address_space_limit(model_path):
    # read(max_bytes + 1) reserved the whole default limit (256 MiB) before reading a 1 kB file: under `ulimit -v`
    # (systemd's LimitAS=) with less room than that, loading failed with a MemoryError
    tight = load(model_path, model_path.stat().st_size)
    assert tight.returncode == 0, tight.stderr
    expected, peak = tight.stdout.split()
    roomy = load(model_path, 256 * 2**20, address_space=int(peak) + 64 * 2**20)
    assert roomy.returncode == 0, roomy.stderr
    assert roomy.stdout.split()[0] == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_a_file_over_the_limit_is_refused_without_reading_it(model_path, tmp_path):
    # read(max_bytes + 1) of a file over the limit took the limit's memory (256 MiB) before refusing it: under an
    # address-space limit the error was "out of memory", not the size limit and how to raise it
    tight = load(model_path, model_path.stat().st_size)
    peak = int(tight.stdout.split()[1])
    huge = tmp_path / "huge.onnx"
    with open(huge, "wb") as stream:
        stream.truncate(300 * 2**20)  # sparse: no disk, no time
    result = load(huge, 256 * 2**20, address_space=peak + 64 * 2**20)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"edge_predict.errors.ModelError: {huge}: the model file is larger than the limit of 268,435,456 bytes; if it "
        "is the model you mean, raise the limit (--max-model-bytes, $EDGE_PREDICT_MAX_MODEL_BYTES, or max_bytes=)"
    )


def test_out_of_memory_is_one_line_not_a_bug_report(model_path, monkeypatch):
    from click.testing import CliRunner

    from edge_predict import Predictor
    from edge_predict.cli import cli

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Predictor, "from_bytes", no_memory)
    result = CliRunner().invoke(cli, ["predict", "--model", str(model_path), "7"])
    assert result.exit_code == 1
    assert result.output == (
        "edge-predict: error: out of memory: free some, raise the process's memory limit, or use a smaller model "
        "or input\n"
    )
