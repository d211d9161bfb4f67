"""`edge-predict info` on a typed model: each feature's type, categories, unknown and missing rules, impute value."""

import json

import pytest

from edge_predict.cli import cli
from helpers import typed


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("typed") / "typed.onnx"
    path.write_bytes(typed.model_bytes())
    return path


def test_info_shows_each_features_type_and_rules(cli_runner, model):
    result = cli_runner.invoke(cli, ["info", "--model", str(model)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("features:"))
    assert lines[start : start + 6] == [
        "features:  hours: number [0, inf]; may be missing (imputed in the graph: 3.0)",
        "           weight: number; may not be missing",
        "           island: category of 4 ('Biscoe', 'Dream', 'Torgersen', 'NA'); unknown values refused; may be "
        "missing (imputed in the graph: 'Biscoe')",
        "           sex: category of 2 ('female', 'male'); unknown values encoded by the graph: bucket 2; may not be "
        "missing",
        "           rating: integer category of 3 (1, 2, 3); unknown values refused; may be missing (imputed in the "
        "graph: 2)",
        "inputs:    numbers float32 (hours, weight), text string (island, sex), codes int64 (rating)",
    ]


def test_a_long_vocabulary_is_cut_in_the_text_but_whole_in_json(cli_runner, tmp_path):
    features = typed.features()
    features[3] = {**features[3], "categories": [f"s{i}" for i in range(40)]}
    path = tmp_path / "long.onnx"
    doc = {"features": features}
    path.write_bytes(typed.model_bytes(golden_outputs=[[0.5, 0.5]] * len(typed.GOLDEN), **doc))
    text = cli_runner.invoke(cli, ["info", "--no-verify", "--model", str(path)])
    assert text.exit_code == 0, text.output
    line = next(line for line in text.stdout.splitlines() if "sex:" in line)
    assert line.startswith("           sex: category of 40 ('s0', 's1',") and "'s11', … 28 more)" in line
    facts = json.loads(cli_runner.invoke(cli, ["info", "--no-verify", "--format", "json", "--model", str(path)]).stdout)
    sex = next(f for f in facts["features"] if f["name"] == "sex")
    assert sex == {
        "name": "sex",
        "type": "category",
        "codes": "text",
        "categories": [f"s{i}" for i in range(40)],
        "unknown": "encode",
        "unknown_policy": "bucket 2",
        "missing": "refuse",
    }


def test_info_json_carries_the_rules_with_defaults_filled_in(cli_runner, model):
    facts = json.loads(cli_runner.invoke(cli, ["info", "--format", "json", "--model", str(model)]).stdout)
    assert facts["features"][2] == {
        "name": "island",
        "type": "category",
        "codes": "text",
        "categories": typed.ISLANDS,
        "unknown": "refuse",
        "unknown_policy": None,
        "missing": "impute",
        "missing_value": "",
        "impute": "Biscoe",
    }
    assert facts["features"][4]["codes"] == "integer" and facts["features"][4]["missing_value"] == -1
