"""The house's rules, checked on the source: imports point down the layers, private names
stay inside their package, no module grows past ~500 lines.

See ARCHITECTURE.md for the layers. A failure names the file, the line and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "customer2vec"

#: Lower number = lower layer. A module may import its own package, any lower layer and the
#: shared modules. analysis sits above evaluation (the report shows evaluation results);
#: cli sits above api (`customer2vec serve` starts the app).
LAYERS = {
    "data": 1,
    "corpus": 2,
    "vectors": 3,
    "models": 4,
    "recommend": 5,
    "evaluation": 6,
    "analysis": 7,
    "workflow": 8,
    "api": 9,
    "cli": 10,
}
SHARED = {"errors", "columns", "config", "progress"}
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _package_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0].removesuffix(".py") if len(parts) > 1 else "(root)"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every absolute import of our package."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "customer2vec" or node.module.startswith("customer2vec."):
                found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("customer2vec."):
                    found.append((node.lineno, alias.name, []))
    return found


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(LAYERS), "add the new package to LAYERS and ARCHITECTURE.md"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path) -> None:
    own = _package_of(path)
    if own in {"(root)"}:
        return  # the package root re-exports; __main__ runs the CLI
    wrong = []
    for line, module, names in _imports(path):
        parts = module.split(".")
        if len(parts) == 1:
            wrong.append(f"line {line}: imports the package root ({names}); import the module")
            continue
        target = parts[1]
        if target in SHARED or target == own:
            continue
        if own in SHARED:
            wrong.append(f"line {line}: shared module imports {module}")
        elif LAYERS.get(target, 0) > LAYERS[own]:
            wrong.append(
                f"line {line}: {own} (layer {LAYERS[own]}) imports {module} (layer "
                f"{LAYERS[target]})"
            )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_private_names_stay_inside_their_package(path: Path) -> None:
    own = _package_of(path)
    wrong = []
    for line, module, names in _imports(path):
        parts = module.split(".")
        target = parts[1] if len(parts) > 1 else "(root)"
        if target == own:
            continue
        if any(part.startswith("_") and part != "__init__" for part in parts[1:]):
            wrong.append(f"line {line}: imports the private module {module}")
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private:
            wrong.append(f"line {line}: imports private {', '.join(private)} from {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_grows_past_500_lines(path: Path) -> None:
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_LINES, f"{n_lines} lines: split it along the architecture"
