"""The console entry point answers 'predict NUMBER...' without click, exactly as the click CLI would."""

import json
import os
import subprocess
import sys

import pytest

from edge_predict import entry
from edge_predict.cli import cli


@pytest.fixture(autouse=True)
def no_settings(monkeypatch):
    for name in [n for n in os.environ if n.startswith("EDGE_PREDICT_")]:
        monkeypatch.delenv(name)


def run_entry(capsys, args):
    try:
        entry.main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("args", [["predict", "7"], ["predict", "1", "7"], ["predict", "0", "2.50", "100", "07"],
                                  ["predict", "1", "--format", "csv"], ["predict", "-1"], ["predict", "9" * 400],
                                  ["predict", "1e400"], ["predict"], ["info", "--format", "json"]],
                         ids=["one", "two", "odd spellings", "an option", "negative", "overflow", "exponent",
                              "nothing", "another command"])
def test_same_output_and_exit_code_as_the_click_cli(capsys, cli_runner, args):
    code, out, err = run_entry(capsys, args)
    expected = cli_runner.invoke(cli, args)
    assert (code, out) == (expected.exit_code, expected.stdout)
    assert err.replace("edge-predict: ", "", 1) == expected.stderr.replace("edge-predict: ", "", 1)


def test_plain_predict_does_not_import_click():
    script = ("import sys; from edge_predict.entry import main; main(['predict', '1', '7']); "
              "print(__import__('json').dumps('click' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("EDGE_PREDICT_")})
    assert json.loads(out.stdout.splitlines()[-1]) is False
