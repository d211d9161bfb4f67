"""The runtime's folders are layers: a module imports only its own layer's package and the layers below it, never
another package's private modules, and the CLI reaches the library through its public names only. The trainer
reaches the runtime through the package's public names and its declared interface, edge_predict.authoring."""

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
    {"authoring"},  # the trainer's interface: it re-exports the CLI's boundary class; nothing in the runtime imports it
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
AUTHORING = RUNTIME / "authoring.py"


def interface_sources() -> list[tuple[int, str]]:
    """(0, module) of each module edge_predict.authoring re-exports from: its imports, made on first use."""
    from edge_predict.authoring import INTERFACE

    return [(0, spec.split(":")[0]) for spec, _ in INTERFACE.values()]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(RUNTIME)))
def test_imports_follow_the_layers(path):
    me = module_name(path)
    own = top(me) if path.name != "__init__.py" or path.parent != RUNTIME else "__init__"
    wrong = []
    for line, name in imports(path) + (interface_sources() if path == AUTHORING else []):
        assert not name.startswith("."), f"{path.name}:{line}: relative import {name!r}; import edge_predict.* by name"
        target = top(name)
        if target in ("trainer",):
            wrong.append(f"line {line}: {name} (the runtime never imports the trainer)")
            continue
        if target == "authoring" and own != "authoring":
            wrong.append(f"line {line}: {name} (the trainer's interface; the runtime never imports it)")
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


TRAINER_FILES = sorted(TRAINER.rglob("*.py"))


def imported_names(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name) of every edge_predict import in the file, at any depth; name None for `import module`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return [(line, module, name) for line, module, name in found if module.split(".")[0] == "edge_predict"]


def trainer_may_import(module: str, name: str | None) -> bool:
    """The package's public names and its public signing package, the interface's names, the trainer itself."""
    import edge_predict
    import edge_predict.authoring
    import edge_predict.signing

    if module == "edge_predict.trainer" or module.startswith("edge_predict.trainer."):
        return True
    public = {
        "edge_predict": [*edge_predict.__all__, "signing"],
        "edge_predict.signing": edge_predict.signing.__all__,
        "edge_predict.authoring": edge_predict.authoring.__all__,
    }
    return module in public and (name is None or name in public[module])


@pytest.mark.parametrize("path", TRAINER_FILES, ids=lambda p: p.name)
def test_the_trainer_imports_only_the_public_names_and_the_interface(path):
    wrong = [
        f"line {line}: {module}" + (f" import {name}" if name else "")
        for line, module, name in imported_names(path)
        if not trainer_may_import(module, name)
    ]
    assert not wrong, (
        f"trainer/{path.name} reaches past the runtime's public names and edge_predict.authoring: " + "; ".join(wrong)
    )


@pytest.mark.parametrize(
    "module, name, allowed",
    [
        ("edge_predict", "Predictor", True),
        ("edge_predict", "signing", True),
        ("edge_predict.authoring", "seal", True),
        ("edge_predict.signing", "write_signed", True),
        ("edge_predict.trainer.exporter", "export", True),
        ("edge_predict.model.integrity", "seal", False),
        ("edge_predict.signing.files", "write_signed", False),
        ("edge_predict.errors", "InputError", False),
        ("edge_predict", "predictor", False),
        ("edge_predict.authoring", "INTERFACE", False),
        ("edge_predict.cli.boundary", None, False),
    ],
)
def test_the_trainer_rule_tells_the_interface_from_the_internals(module, name, allowed):
    assert trainer_may_import(module, name) is allowed


def test_every_interface_name_is_the_runtimes_own_and_used_by_the_trainer():
    import importlib

    import edge_predict.authoring as authoring

    used = {}
    for path in TRAINER_FILES:
        tree = ast.parse(path.read_text(), str(path))
        loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        for _, module, name in imported_names(path):
            if module == "edge_predict.authoring" and name in loaded:
                used.setdefault(name, []).append(path.name)
    assert sorted(authoring.INTERFACE) == authoring.__all__
    for name, (spec, doc) in authoring.INTERFACE.items():
        module, attribute = spec.split(":")
        assert getattr(authoring, name) is getattr(importlib.import_module(module), attribute), name
        assert doc and "\n" not in doc and doc.endswith("."), f"{name}: one line saying what it is"
    assert sorted(set(authoring.__all__) - set(used)) == [], "re-exported but used by no trainer module"


def test_the_interface_imports_nothing_until_a_name_is_used():
    """`edge-train --help` stays light: the interface loads the module behind a name only when that name is used."""
    import subprocess
    import sys

    script = (
        "import sys; from edge_predict.authoring import OneLineCommand; "
        "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'edge_predict.tables', 'edge_predict.engines'))))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_package_has_a_layer():
    packages = {top(module_name(p)) for p in FILES if p.parent != RUNTIME or p.name != "__init__.py"}
    assert packages <= set(LAYER), f"no layer for {sorted(packages - set(LAYER))}: add it to LAYERS"
