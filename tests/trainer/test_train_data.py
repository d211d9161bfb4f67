"""edge-train's table reader: header or not, gzip, label column, 0/1 labels, seeded split."""

import gzip

import numpy as np
import pytest

from edge_predict import InputError
from edge_predict.trainer.data import split
from edge_predict.trainer.table import read_table

DIABETES_ROWS, DIABETES_FEATURES = 759, 8


def write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz"])
def test_header_names_the_features(tmp_path, name):
    table = read_table(write(tmp_path, "age,bmi,sick\n1,2,0\n3,4,1\n", name))
    assert table.feature_names == ("age", "bmi") and table.label_name == "sick"
    np.testing.assert_array_equal(table.x, [[1, 2], [3, 4]])


def test_without_a_header_the_kept_features_are_numbered_in_order(tmp_path):
    table = read_table(write(tmp_path, "7,1,9,2,0\n8,3,9,4,1\n"), drop=["1", "3"])
    assert table.feature_names == ("x0", "x1")
    np.testing.assert_array_equal(table.x, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(table.y, [[0], [1]])


def test_without_header_features_are_x0_x1(tmp_path):
    table = read_table(write(tmp_path, "# comment\n1,2,0\n\n3,4,1.0\n"))
    assert table.feature_names == ("x0", "x1")
    np.testing.assert_array_equal(table.y, [[0], [1]])


@pytest.mark.parametrize(
    "label, names, y",
    [
        ("sick", ("age", "bmi"), [0, 1]),
        ("age", ("bmi", "sick"), [1, 0]),
        ("1", ("bmi", "sick"), [1, 0]),
        ("3", ("age", "bmi"), [0, 1]),
    ],
)
def test_label_by_name_or_column_number(tmp_path, label, names, y):
    table = read_table(write(tmp_path, "age,bmi,sick\n1,2,0\n0,4,1\n"), label)
    assert table.feature_names == names
    np.testing.assert_array_equal(table.y.reshape(-1), y)


@pytest.mark.parametrize(
    "text, label, message",
    [
        ("a,b\n1,0\n2,\n", None, " line 3: the label column 2 (b) is empty; every row needs one"),
        ("a,b\n1,0\n2,nan\n", None, " line 3: the label column 2 (b) 'nan' is not a finite number"),
        ("a,b\n1,0\nx,1\n", None, " line 3, column 1 (a): 'x' is not a number"),
        ("a,b\n1,0\n1,2,1\n", None, " line 3: 3 columns, but the first line has 2"),
        (
            "a,b\n1,1\n2,1\n",
            None,
            ": the label column 2 (b) is '1' in every row; a classifier needs at least two classes",
        ),
        ("a,b\n1,0\n", "c", ": no label column 'c'; use a header name (a,b) or a column number from 1 to 2"),
        ("\n# nothing\n", None, ": the data file has no rows"),
    ],
)
def test_bad_tables_are_input_errors_naming_the_row(tmp_path, text, label, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_table(path, label)
    assert str(info.value).startswith(f"{path}{message}")


def test_diabetes_reads_as_documented(diabetes_path):
    table = read_table(diabetes_path)
    assert table.x.shape == (DIABETES_ROWS, DIABETES_FEATURES)
    assert table.feature_names == tuple(f"x{i}" for i in range(DIABETES_FEATURES))
    assert table.x.min() >= -1 and table.x.max() <= 1
    assert set(np.unique(table.y)) == {0.0, 1.0}


@pytest.mark.parametrize("fraction, n_val", [(0.2, 152), (0.5, 380), (0.01, 8)])
def test_split_is_seeded_and_disjoint(diabetes_path, fraction, n_val):
    table = read_table(diabetes_path)
    fit, val = split(table, fraction, seed=0)
    again, _ = split(table, fraction, seed=0)
    other, _ = split(table, fraction, seed=1)
    assert len(val.x) == n_val and len(fit.x) == DIABETES_ROWS - n_val
    np.testing.assert_array_equal(fit.x, again.x)
    assert not np.array_equal(fit.x, other.x)
    rows = {tuple(r) for r in np.concatenate([fit.x, val.x])}
    assert len(rows) == len({tuple(r) for r in table.x})


def test_zero_fraction_keeps_every_row_for_training(diabetes_path):
    table = read_table(diabetes_path)
    fit, val = split(table, 0.0, seed=0)
    assert fit is table and val is None


@pytest.mark.parametrize(
    "header, message",
    [
        ("a,a,y", "line 1: column name 'a' appears twice; give every column its own name"),
        ("a,b,a", "line 1: column name 'a' appears twice"),
        ("probability,b,y", "line 1: a feature may not be named 'probability'"),
        ("a,label,y", "line 1: a feature may not be named 'label'"),
        ("a,,y", "line 1: column 2 has no name"),
        ("_a,_b,y", "line 1: no feature name starts with a letter (and is not a number)"),
        ("2nd,nan,label", "line 1: no feature name starts with a letter"),
    ],
)
def test_header_names_the_runtime_cannot_tell_apart(tmp_path, header, message):
    path = write(tmp_path, f"{header}\n1,2,0\n3,4,1\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert str(info.value).startswith(f"{path} {message}")


@pytest.mark.parametrize("task", ["auto", "multiclass"])
def test_a_header_of_numbers_over_a_numeric_label_is_refused_not_trained_on(tmp_path, task):
    """'400,450,class' (wavelengths) read as a row of data: 'class' became a third class and 400, 450 a sample."""
    path = write(tmp_path, "400,450,class\n1,2,0\n3,4,1\n5,6,0\n")
    with pytest.raises(InputError) as info:
        read_table(path, task=task)
    assert str(info.value) == (
        f"{path} line 1: the label column 3 holds 'class' here and a number on every other line, so this line is a "
        "header; but no feature name in it starts with a letter, so edge-predict could not tell it from a row of data; "
        "rename the features, e.g. 'x1'"
    )


@pytest.mark.parametrize("value", ["nan", "-inf", "1e39"])
def test_a_feature_that_is_not_a_finite_float32_is_refused_naming_its_line(tmp_path, value):
    """Trained on, it made the loss NaN and the error said 'training diverged ...; lower --lr'."""
    path = write(tmp_path, f"a,b,y\n1,2,0\n3,{value},1\n2,1,0\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert str(info.value) == (
        f"{path} line 3, column 2 (b): {value!r} is not a finite float32 number; the model cannot be trained on it: "
        "fix the value or remove the row"
    )


def test_text_labels_under_a_line_of_numbers_are_data(tmp_path):
    table = read_table(write(tmp_path, "1,2,no\n3,4,yes\n5,6,no\n"))
    assert table.labels == ("no", "yes") and len(table.x) == 3


def test_label_column_may_be_called_label(tmp_path):
    assert read_table(write(tmp_path, "a,b,label\n1,2,0\n3,4,1\n")).feature_names == ("a", "b")


def test_dropped_columns_are_not_read(tmp_path):
    table = read_table(write(tmp_path, "id,a,note,b,y\nS1,1,n/a,2,0\nS2,3,,4,1\n"), drop=["id", "3"])
    assert table.feature_names == ("a", "b")
    np.testing.assert_array_equal(table.x, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    "text, drop, x",
    [
        ("a,b,y\n1,2,0\n# a note\n# a, note\n3,4,1\n", (), [[1, 2], [3, 4]]),  # '#' lines of another width
        ("# x0,x1,y\n1,2,0\n3,4,1\n", (), [[1, 2], [3, 4]]),  # a commented-out header, as numpy.savetxt writes
        ("# exported\n#1,2,0\n#2,3,1\n4,5,0\n", ("1",), [[2], [3], [5]]),  # an ID first: rows, from the first
    ],
)
def test_a_hash_line_is_a_comment_only_if_it_cannot_be_a_row(tmp_path, text, drop, x):
    np.testing.assert_array_equal(read_table(write(tmp_path, text), drop=drop).x, x)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "1,2,0\n#12,3.5,1\n3,4,1\n",
            " line 2, column 1 (column 1): '#12' is not a number (expected a decimal number such as 7, -0.5 or 2.5e3); "
            "a '#' line with the table's 3 fields is a row, not a comment: fix or delete it",
        ),
        (
            "a,b,y\n1,2,0\n#x,2,1\n3,4,1\n",
            " line 3, column 1 (a): '#x' is not a number (expected a decimal number such as 7, -0.5 or 2.5e3); "
            "a '#' line with the table's 3 fields is a row, not a comment: fix or delete it",
        ),
        (
            "#12,3.5,1\n1,2,0\n3,4,1\n",
            " line 1: '#12,3.5,1' has the table's 3 fields and is a row once its '#' is removed; remove the '#' to "
            "train on it, or delete the line",
        ),
    ],
)
def test_a_hash_line_that_could_be_a_row_is_refused_not_dropped(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_table(path)
    assert str(info.value) == f"{path}{message}"


@pytest.mark.parametrize(
    "text, label, message",
    [
        (
            "y,a,b\nyes,1,2\nno,3,4\n#yes,5,6\n",
            "y",
            " line 4, column 1 (y): the label '#yes' starts with '#'; a '#' line with the table's 3 fields is a row, "
            "not a comment: fix or delete it",
        ),
        (
            "#1,5,6\n0,1,2\n1,3,4\n",
            "1",
            " line 1, column 1 (column 1): the label '#1' starts with '#'; a '#' line with the table's 3 fields is a "
            "row, not a comment: fix or delete it",
        ),
    ],
)
def test_a_hash_line_whose_label_would_start_with_hash_is_refused(tmp_path, text, label, message):
    """The label column first: a commented-out row would be trained on as a sample of a new class '#yes'."""
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_table(path, label=label)
    assert str(info.value) == f"{path}{message}"
