"""The edge-predict command's entry point: 'predict' with plain numbers, the commonest call, skips click.

Importing click is ~9 ms of a ~115 ms start (`python -X importtime`). Anything else (an option, another
command, a negative or odd number, an $EDGE_PREDICT_* setting, any error) goes to the click CLI in
cli.py, which then does all the work itself, so every message and exit code stays its.
"""

from __future__ import annotations

import io
import os
import re
import sys

_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        table = _plain_predict(args)
    except KeyboardInterrupt:  # Ctrl-C while starting up: as quiet as the full CLI
        sys.exit(130)
    if table is None:
        from .cli import main as full

        full(argv)
        return
    try:
        sys.stdout.write(table)
        sys.stdout.flush()
    except (AttributeError, OSError):  # stdout closed (None), a closed pipe, a full disk: the boundary words it
        from .boundary import writing_output

        with writing_output("edge-predict"):
            raise


def _plain_predict(args: list[str]) -> str | None:
    """The text table `predict NUMBER...` prints with the packaged model, or None if the CLI must decide."""
    if len(args) < 2 or args[0] != "predict" or not all(_PLAIN.fullmatch(a) for a in args[1:]):
        return None
    if any(name.startswith("EDGE_PREDICT_") for name in os.environ):
        return None
    from .output import Writer
    from .predictor import Predictor, _default_model_file
    from .tabular import samples_from_args

    try:
        predictor = Predictor.from_path(_default_model_file())
        batch = samples_from_args(args[1:], predictor.feature_names)
        proba = predictor.predict_proba(batch.values)
    except Exception:  # bad input, a bad model, or a bug: the full CLI meets it again and words it
        return None
    out = io.StringIO()
    Writer(out, "text", predictor.feature_names, predictor.labels).write(
        batch, proba, (proba >= predictor.threshold).astype("int64"))
    return out.getvalue()
