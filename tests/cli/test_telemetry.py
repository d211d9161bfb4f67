"""The runtime keeps onnxruntime's telemetry off: nothing is written to the home directory."""

import os
import subprocess
import sys

import pytest

# CI variables make onnxruntime suppress telemetry by itself; drop them to see what a device would do.
SUPPRESSING = (
    "CI",
    "TF_BUILD",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "JENKINS_URL",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "ORT_DISABLE_TELEMETRY",
)


def files_written(home, code: str, **extra) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in SUPPRESSING}
    env.update(HOME=str(home), **extra)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())


def test_scoring_writes_nothing_in_home_where_plain_onnxruntime_does(tmp_path):
    plain, ours = tmp_path / "plain", tmp_path / "ours"
    plain.mkdir(), ours.mkdir()
    if not files_written(plain, "import onnxruntime"):
        pytest.skip("this onnxruntime writes no telemetry files: nothing to turn off")
    assert files_written(ours, "import edge_predict; edge_predict.Predictor.default().predict_proba(7)[:, 1]") == []


def test_users_choice_wins(tmp_path):
    code = "import edge_predict, os; print(os.environ['ORT_DISABLE_TELEMETRY'])"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    for value, expected in ((None, "1"), ("0", "0")):
        if value is not None:
            env["ORT_DISABLE_TELEMETRY"] = value
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
        assert out.stdout.strip() == expected
