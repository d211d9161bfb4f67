"""The server is a layer over the library: it imports only the library's public names, and the CLI only it."""

from __future__ import annotations

import ast
from pathlib import Path

SERVE = Path(__file__).resolve().parents[2] / "runtime" / "serve"
PUBLIC = {
    "edge_predict": {"Predictor", "__version__"},
    "edge_predict.errors": {"EdgePredictError", "InputError", "ModelError", "VerificationError"},
}
THIRD_PARTY = {"numpy"}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append((module, {alias.name for alias in node.names}))
        elif isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
    return found


def test_serve_imports_only_public_library_names_numpy_and_the_standard_library():
    import sys

    offenders = []
    for path in sorted(SERVE.glob("*.py")):
        for module, names in _imports(path):
            if module == "edge_predict.serve" or module.startswith("edge_predict.serve."):  # its own modules
                continue
            top = module.split(".")[0]
            if module in PUBLIC and names <= PUBLIC[module]:
                continue
            if top in THIRD_PARTY or top in sys.stdlib_module_names:
                continue
            offenders.append(f"{path.name}: {module} {sorted(names)}")
    assert offenders == []
