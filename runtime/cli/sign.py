"""edge-predict sign: write a model's signature file beside it."""

from __future__ import annotations

import os

import click

from ..errors import OutputError


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--key",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    metavar="PEM",
    help="The private key to sign with (elliptic-curve P-256, PEM; see docs/signing.md).",
)
def sign(model, key) -> None:
    """Sign MODEL (an exported .onnx) with a private key: writes MODEL.sig beside it.

    The signature is in the OpenSSF model-signing format: `model_signing verify key` checks it too.
    Needs the signing extra: pip install 'edge-predict[signed]'.
    """
    from .. import signing
    from ..modelfile import DEFAULT_MAX_BYTES, read_model_file
    from ..predictor import Predictor
    from ..sigfiles import resolved, write_signature

    data = read_model_file(model, DEFAULT_MAX_BYTES)
    predictor = Predictor.from_bytes(data, source=model)  # sign only a model that loads and verifies here
    sig = signing.sign(data, signing.read_key(key, "signing key"), os.path.basename(model))
    target = signing.signature_path(resolved(model))  # where write_signature puts it: beside the file, not a link
    try:
        write_signature(model, sig)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"signed {model} (sha256 {predictor.sha256}) with key {signing.key_hint(sig)}: wrote {target}")
