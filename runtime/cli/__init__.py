"""The command-line layer: click commands over the library, and the boundary where errors become exit codes."""

from edge_predict.cli.commands import cli, main

__all__ = ["cli", "main"]
