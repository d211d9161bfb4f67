"""edge-predict sign: write a model's signature file beside it."""

from __future__ import annotations

import os
import sys

import click

from edge_predict.errors import OutputError


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
    from edge_predict import signing
    from edge_predict import sign_model

    target = signing.signature_path(signing.resolved(model))
    try:
        signed = sign_model(model, key)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:  # success is reported only with the signature in place; a report that cannot be written takes it back
        click.echo(
            f"signed {model} (sha256 {signed.sha256}) with key {signed.key_fingerprint}: wrote {signed.signature_path}"
        )
        sys.stdout.flush()
    except OutputError as exc:
        os.unlink(signed.signature_path)
        raise OutputError(f"{exc}; so {signed.signature_path} was removed again: sign the model again") from None
