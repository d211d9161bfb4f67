"""An empty --model or $EDGE_PREDICT_MODEL, or an empty $EDGE_PREDICT_PUBLIC_KEY, is a usage error (exit 2).

click reads an environment variable set to '' as unset, and `--model ''` fell back to the default too: a device whose
script or unit file expanded an unset variable scored the packaged lecture model instead of its own, or ran unsigned
models with signature checks switched off, exit 0.
"""

import pytest

from edge_predict.cli import cli

COMMANDS = [["predict", "1", "7"], ["info"], ["verify"]]
MODEL_FIX = (
    "the packaged model would be scored instead; give a model file, or leave the option and the variable out for the "
    "packaged model"
)
KEY_FIX = "unsigned models would be run; give the public key's PEM file, or unset the variable"


def usage_error(result, message: str) -> None:
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_model_path_is_refused_not_the_packaged_model(cli_runner, command):
    usage_error(
        cli_runner.invoke(cli, [*command, "--model", ""]),
        f"Invalid value for '-m' / '--model': an empty path: {MODEL_FIX}",
    )
    usage_error(
        cli_runner.invoke(cli, command, env={"EDGE_PREDICT_MODEL": ""}),
        f"Invalid value for '-m' / '--model': $EDGE_PREDICT_MODEL is set but empty: {MODEL_FIX}",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_public_key_variable_is_refused_not_ignored(cli_runner, command):
    usage_error(
        cli_runner.invoke(cli, command, env={"EDGE_PREDICT_PUBLIC_KEY": ""}),
        f"Invalid value for '--public-key': $EDGE_PREDICT_PUBLIC_KEY is set but empty: {KEY_FIX}",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_unset_variables_still_mean_the_packaged_model_unsigned(cli_runner, command):
    result = cli_runner.invoke(cli, command, env={"EDGE_PREDICT_MODEL": None, "EDGE_PREDICT_PUBLIC_KEY": None})
    assert result.exit_code == 0, result.stderr
