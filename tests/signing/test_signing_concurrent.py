"""Signed exports are one transaction: writers to one path take turns (PATH.lock), so the pair in place is always
one writer's model with that writer's signature, and every writer that returns wrote its pair."""

import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge_predict import signing
from helpers.handmade import identity


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.slow
def test_concurrent_signed_exports_never_leave_a_mixed_pair(key, tmp_path):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path / "model.onnx"
    models = [identity(golden_inputs=((v,),)) for v in (0.25, 0.75)]
    pairs = [(data, signing.sign(data, pem, path.name)) for data in models]
    errors = []

    def writer(data, sig):
        try:
            for _ in range(25):
                signing.write_signed(path, data, sig)
        except Exception as exc:  # 'No such file or directory' when another writer renamed our .sig.new
            errors.append(exc)

    for _ in range(2):
        threads = [threading.Thread(target=writer, args=pair) for pair in pairs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        data = path.read_bytes()
        assert data in models
        signing.verify_signature(data, (tmp_path / "model.onnx.sig").read_bytes(), public, str(path))
