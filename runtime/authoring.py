"""What a model file's producer needs from the runtime, declared in one place: the trainer imports only this module
and the package's public names (tests/test_layers.py says so).

The runtime reads and checks what the trainer writes, so both must agree on the manifest's format and keys, the seal,
the tolerances, the grammar of column names and numbers; the trainer also shares the runtime's atomic write and its
command-line boundary. Each name below is the runtime's own object, not a copy: one definition, two users.

Nothing in the runtime imports this module. Its names are imported on first use, so that `edge-train --help` loads
click and the command-line boundary and none of numpy, the table readers or the engines.
"""

from __future__ import annotations

import importlib

# name: ("module:attribute" that defines it, what it is for the producer)
INTERFACE = {
    # The file: its manifest, its seal, its operators, the packaged one
    "FORMAT_VERSION": ("edge_predict.model.manifest:FORMAT_VERSION", "The manifest format an exporter writes."),
    "METADATA_KEY": ("edge_predict.model.manifest:METADATA_KEY", "The metadata_props key that holds the manifest."),
    "TASKS": ("edge_predict.model.manifest:TASKS", "The tasks a manifest may name: binary, multiclass, regression."),
    "seal": ("edge_predict.model.integrity:seal", "A serialized ModelProto with its integrity digest appended."),
    "parse_operators": (
        "edge_predict.model.operators:parse",
        "(domain, op_type) pairs from names as --allow-op spells them.",
    ),
    "operators_outside": (
        "edge_predict.model.operators:outside",
        "The operators of a graph outside the runtime's set and the allowed ones, by name.",
    ),
    "operator_name": ("edge_predict.model.operators:name", "How messages and --allow-op spell an operator."),
    "default_model_path": ("edge_predict.model.file:default_model_path", "Where the packaged default model lives."),
    # The golden vectors: the tolerances the runtime checks them with, and the second engine that may reproduce them
    "too_loose": (
        "edge_predict.model.golden:too_loose",
        "Why a golden tolerance would prove nothing on a device, or None.",
    ),
    "SUM_ATOL": ("edge_predict.scoring.outputs:SUM_ATOL", "How far from 1 a row of class probabilities may sum."),
    "read_numpy_model": ("edge_predict.engines.numpy.reader:read", "A serialized model as the numpy engine reads it."),
    "numpy_unsupported": (
        "edge_predict.engines.numpy.session:unsupported",
        "The operators of a model the numpy engine does not run.",
    ),
    "NumpySession": ("edge_predict.engines.numpy.session:Session", "The numpy engine's session over a read model."),
    # Numbers and tables, read as the runtime reads them
    "F32_MAX": ("edge_predict.float32:F32_MAX", "float32's largest finite value."),
    "shortest_float32": (
        "edge_predict.float32:shortest_float32",
        "The shortest decimal that reads back as the float32.",
    ),
    "NUMBER": ("edge_predict.tables.grammar:NUMBER", "The grammar of a number in a table (a compiled regex)."),
    "SPACE": ("edge_predict.tables.grammar:SPACE", "The whitespace stripped around lines and fields."),
    "parse_number": ("edge_predict.tables.grammar:parse_number", "A field as a number, or InputError naming where."),
    "names_a_column": ("edge_predict.tables.grammar:names_a_column", "Whether a field makes its line a CSV header."),
    "shown": ("edge_predict.tables.grammar:shown", "repr of a text, cut short for an error line."),
    "split_fields": ("edge_predict.tables.reader:split_fields", "A CSV line's fields (RFC 4180 quotes)."),
    "columns_by_name": ("edge_predict.scoring.frames:columns_by_name", "A DataFrame's columns, by name, as an array."),
    "macro_f1": ("edge_predict.scoring.metrics:macro_f1", "Macro-averaged F1, as edge-predict evaluate reports it."),
    # Files and the command line
    "write_atomic": ("edge_predict.atomicfile:write_atomic", "Write a file so that a reader sees the old or the new."),
    "OneLineCommand": ("edge_predict.cli.boundary:OneLineCommand", "A click command whose errors end as one line."),
    "FiniteFloatRange": ("edge_predict.cli.params:FiniteFloatRange", "click.FloatRange that also refuses nan and inf."),
}

__all__ = sorted(INTERFACE)


def __getattr__(name: str):
    if name not in INTERFACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = INTERFACE[name][0].split(":")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(INTERFACE))
