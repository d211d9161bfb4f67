"""The runtime's folders are layers: a module imports only its own layer's package and the layers below it, never
another package's private modules, and the CLI reaches the library through its public names only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[1] / "runtime"
TRAINER = Path(__file__).resolve().parents[1] / "trainer"
MODELS = "edge_predict.models"  # the repository's models/ folder, installed inside the package

# Bottom to top. A package (or top-level module) may import its own package and anything in a lower layer.
LAYERS = [
    {"errors", "float32", "atomicfile", "regularfile", "models"},
    {"model", "signing"},
    {"scoring", "tables", "engines"},
    {"predictor"},
    {"files"},
    {"serve"},  # over Predictor's public names only (tests/serve/test_serve_imports.py); `edge-predict serve` runs it
    {"cli", "distributed"},
    {"__init__"},
]
LAYER = {name: level for level, names in enumerate(LAYERS) for name in names}
# What the command line may import: the package's public names, its error tree, and the table readers and writers.
CLI_MAY_IMPORT = (
    "edge_predict",
    "edge_predict.errors",
    "edge_predict.signing",
    "edge_predict.cli",
    "edge_predict.tables.",
    "edge_predict.serve",
)
CLI_MAY_NOT = ("edge_predict.tables._",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(RUNTIME).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(["edge_predict", *parts])


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every edge_predict import in the file, at any depth (lazy imports count too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from edge_predict.x import y` imports the module edge_predict.x.y where there is one
            for alias in node.names:
                folder = RUNTIME.joinpath(*node.module.split(".")[1:], alias.name)
                is_module = (
                    folder.is_dir() or folder.with_suffix(".py").is_file() or node.module + "." + alias.name == MODELS
                )
                found.append((node.lineno, f"{node.module}.{alias.name}" if is_module else node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return [(line, name) for line, name in found if name.startswith(("edge_predict", "."))]


def top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


FILES = sorted(RUNTIME.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(RUNTIME)))
def test_imports_follow_the_layers(path):
    me = module_name(path)
    own = top(me) if path.name != "__init__.py" or path.parent != RUNTIME else "__init__"
    wrong = []
    for line, name in imports(path):
        assert not name.startswith("."), f"{path.name}:{line}: relative import {name!r}; import edge_predict.* by name"
        target = top(name)
        if target in ("trainer",):
            wrong.append(f"line {line}: {name} (the runtime never imports the trainer)")
            continue
        if target == own:
            continue
        public_api = name == "edge_predict" and LAYER[own] >= LAYER["serve"]  # Predictor, __version__, the errors
        if LAYER[target] >= LAYER[own] and own != "__init__" and not public_api:
            wrong.append(f"line {line}: {name} (layer {LAYER[target]} from layer {LAYER[own]})")
        if any(part.startswith("_") and not part.startswith("__") for part in name.split(".")[2:]):
            wrong.append(f"line {line}: {name} (another package's private module)")
    assert not wrong, f"{path.relative_to(RUNTIME)} imports against the layers: " + "; ".join(wrong)


@pytest.mark.parametrize("path", sorted((RUNTIME / "cli").rglob("*.py")), ids=lambda p: p.name)
def test_the_cli_calls_only_the_public_library(path):
    wrong = [
        f"line {line}: {name}"
        for line, name in imports(path)
        if not (name in CLI_MAY_IMPORT or name.startswith(CLI_MAY_IMPORT[2:])) or name.startswith(CLI_MAY_NOT)
    ]
    assert not wrong, f"cli/{path.name} reaches past the library's public names: " + "; ".join(wrong)


@pytest.mark.parametrize("path", sorted(TRAINER.rglob("*.py")), ids=lambda p: p.name)
def test_the_trainer_uses_no_private_runtime_module(path):
    wrong = [
        f"line {line}: {name}"
        for line, name in imports(path)
        if name.startswith("edge_predict.")
        and not name.startswith("edge_predict.trainer")
        and any(part.startswith("_") and not part.startswith("__") for part in name.split(".")[1:])
    ]
    assert not wrong, f"trainer/{path.name} imports private runtime modules: " + "; ".join(wrong)


def test_every_package_has_a_layer():
    packages = {top(module_name(p)) for p in FILES if p.parent != RUNTIME or p.name != "__init__.py"}
    assert packages <= set(LAYER), f"no layer for {sorted(packages - set(LAYER))}: add it to LAYERS"
