"""Every snnc-internal import in the tree (module-level and inside functions), found with ast."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: source folder -> the package name it is imported as (the top-level folders are symlinked).
TREES = {"snnc": "snnc", "ir": "snnc.ir", "backends": "snnc.backends",
         "simulators": "snnc.simulators"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [TREES[rel.parts[0]], *rel.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for top in TREES:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if top == "snnc" and rel.parts[1] in ("ir", "backends", "simulators"):
                continue  # the symlinks: scanned through their real folders
            yield path


def _modules() -> set[str]:
    return {module_name(p) for p in source_files()}


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom, known: set[str]) -> list[str]:
    """``from X import a``: ``X.a`` where that is a module of the tree, else ``X``."""
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_pkg else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


KNOWN = _modules()


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import of snnc code in ``path``."""
    module = module_name(path)
    is_pkg = path.name == "__init__.py"
    known = KNOWN
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = _resolve(module, is_pkg, node, known)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        for name in names:
            if name == "snnc" or name.startswith("snnc."):
                yield node.lineno, name
