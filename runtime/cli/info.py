"""What `edge-predict info` shows of a model: its manifest, as aligned text or JSON."""

from __future__ import annotations

import json


def plain_info(model: str | None, max_model_bytes: int | None, fmt: str, allow_ops=(), graph_limits=()) -> None:
    """Print what a plain ONNX model (no manifest) declares; print nothing for any other file."""
    import click

    from edge_predict.errors import ModelError
    from edge_predict import inspect_model

    try:
        facts = inspect_model(model, max_model_bytes, list(allow_ops), dict(graph_limits) or None)
    except ModelError:
        return
    if facts is None:
        return
    path = facts.pop("path")
    head = {"path": path, "sha256": facts.pop("sha256"), "manifest": None}
    if fmt == "json":
        click.echo(json.dumps({**head, "plain": facts}, indent=2, sort_keys=True))
        return
    tensors = {
        kind: ", ".join(f"{a['name']} {a['type']} {a['shape']}" for a in facts[kind]) for kind in ("inputs", "outputs")
    }
    rows = [
        ("model", path),
        ("sha256", head["sha256"]),
        ("format", "plain ONNX (no edge-predict manifest)"),
        ("inputs", tensors["inputs"]),
        ("outputs", tensors["outputs"]),
        ("opset", ", ".join(f"{d or 'ai.onnx'} {v}" for d, v in sorted(facts["opsets"].items()))),
        ("ir", str(facts["ir_version"])),
        ("producer", facts["producer"] or "unknown"),
    ]
    click.echo("\n".join(f"{key + ':':<11}{value}" for key, value in rows))


def info_json(predictor) -> str:
    return json.dumps(
        {
            "path": predictor.source,
            "sha256": predictor.sha256,
            "manifest": predictor.manifest,
            "engine": predictor.engine,
            "features": [feature_facts(f) for f in predictor.features],
            "signature": signature_facts(predictor),
        },
        indent=2,
        sort_keys=True,
    )


def signature_facts(predictor) -> dict | None:
    """The model's signature: checked by the key given (verified), or only present with the key it claims."""
    from edge_predict import signing
    from edge_predict.errors import ModelError

    if predictor.signature is not None:
        verified = predictor.signature
        return {"file": verified.file, "key_fingerprint": verified.key_fingerprint, "verified": True}
    model = signing.resolved(predictor.source)  # where a key check would look: beside the file, not a symlink
    path = signing.signature_path(model)
    try:
        sig = signing.read_signature(model)
    except ModelError:
        sig = b""
    return None if sig is None else {"file": path, "key_fingerprint": signing.key_hint(sig), "verified": False}


def _signature_text(facts: dict | None) -> str:
    if facts is None:
        return "none (unsigned)"
    if facts["verified"]:
        return f"{facts['file']}, key {facts['key_fingerprint']} (verified)"
    return (
        f"{facts['file']}, claims key {facts['key_fingerprint'] or '(unreadable)'} "
        "(not verified: pass --public-key PEM to check it)"
    )


def info_lines(predictor) -> list[str]:
    manifest = predictor.manifest
    golden = manifest["golden"]
    task = predictor.task
    rows = [
        ("model", predictor.source),
        ("sha256", predictor.sha256),
        ("format", f"{manifest['format']}"),
        *(
            [("name", f"{manifest['model']['name']}, version {manifest['model']['version']}")]
            if "model" in manifest
            else []
        ),
        ("task", task),
    ]
    typed = any(f.type != "number" or f.missing != "refuse" for f in predictor.features)
    if typed:  # one line per feature: its type and rules
        rows += [
            ("features" if j == 0 else "", _typed_text(f, raw))
            for j, (f, raw) in enumerate(zip(predictor.features, manifest["features"]))
        ]
        rows += [
            (
                "inputs",
                ", ".join(f"{i['name']} {i['type']} ({', '.join(i['features'])})" for i in manifest.get("inputs", [])),
            )
        ]
    else:
        rows += [("features", ", ".join(_feature_text(f) for f in manifest["features"]))]
    if task == "binary":
        rows += [
            ("labels", " / ".join(predictor.labels) + f"  (positive: {predictor.labels[1]})"),
            ("threshold", f"{predictor.threshold:g}"),
        ]
    elif task == "multiclass":
        rows += [("labels", " / ".join(predictor.labels))]
    else:
        rows += [("targets", ", ".join(predictor.targets))]
    tolerance = f"atol {golden['atol']:g}" + (f", rtol {golden['rtol']:g}" if golden.get("rtol") else "")
    rows += [
        ("opset", str(manifest["versions"].get("opset"))),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(manifest["versions"].items()) if k != "opset")),
        ("training", ", ".join(f"{k}={v}" for k, v in sorted(manifest["training"].items()))),
        (
            "golden",
            f"{len(golden['inputs'])} vectors, {tolerance}"
            + (f"; reproduced at export by {', '.join(golden['engines'])}" if "engines" in golden else ""),
        ),
        ("engine", _engine_text(predictor, golden.get("engines", ["onnxruntime"]))),
        ("signature", _signature_text(signature_facts(predictor))),
    ]
    return [f"{key + ':' if key else '':<11}{value}" for key, value in rows]


def _engine_text(predictor, proven: list[str]) -> str:
    """The engine in use, and how it was proven for this file: at export, at load, or not yet (--no-verify)."""
    if predictor.engine in proven:
        return f"{predictor.engine} (proven at export)"
    if predictor.proven:
        return f"{predictor.engine} (not proven at export; verified at load)"
    return f"{predictor.engine} (not proven at export and not verified: it will not score until verified)"


def _feature_text(feature: dict) -> str:
    lo, hi = feature.get("min"), feature.get("max")
    text = feature["name"]
    if lo is not None or hi is not None:
        text += f" [{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
    seen = feature.get("observed")  # the training range: shown for people, never enforced
    if isinstance(seen, list) and len(seen) == 2 and all(isinstance(v, (int, float)) for v in seen):
        text += f" (trained on {seen[0]:g}..{seen[1]:g})"
    return text


SHOWN_CATEGORIES = 12  # info lists at most this many categories of a feature, then how many there are


def feature_facts(feature) -> dict:
    """A feature's type and rules as `info --json` gives them, the manifest's defaults filled in."""
    facts = {"name": feature.name, "type": feature.type, "missing": feature.missing}
    if feature.type == "number":
        facts.update(min=feature.min, max=feature.max)
    else:
        facts.update(
            categories=list(feature.categories),
            codes="text" if isinstance(feature.categories[0], str) else "integer",
            unknown=feature.unknown,
            unknown_policy=feature.unknown_policy,
        )
        if feature.missing == "impute":
            facts["missing_value"] = feature.missing_value
    if feature.missing == "impute":
        facts["impute"] = feature.impute
    return facts


def _typed_text(feature, raw: dict) -> str:
    """'island: category of 3 ('Biscoe', 'Dream', 'Torgersen'); unknown refused; may be missing (imputed: ...)'."""
    if feature.type == "number":
        text = _feature_text(raw).replace(feature.name, f"{feature.name}: number", 1)
    else:
        shown = ", ".join(map(repr, feature.categories[:SHOWN_CATEGORIES]))
        more = len(feature.categories) - SHOWN_CATEGORIES
        kind = "category" if isinstance(feature.categories[0], str) else "integer category"
        text = f"{feature.name}: {kind} of {len(feature.categories)} ({shown}{f', … {more} more' if more > 0 else ''})"
        if feature.unknown == "encode":
            text += f"; unknown values encoded by the graph: {feature.unknown_policy}"
        else:
            text += "; unknown values refused"
    if feature.missing == "impute":
        imputed = "" if feature.impute is None else f": {feature.impute!r}"
        return text + f"; may be missing (imputed in the graph{imputed})"
    return text + "; may not be missing"
