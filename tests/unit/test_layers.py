"""No module inside minorm/ imports the `minorm` facade (DESIGN.md section 2)."""

from __future__ import annotations

import ast
import pathlib

import minorm

PACKAGE = pathlib.Path(minorm.__file__).parent


def test_no_module_imports_the_facade() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(alias.name == "minorm" for alias in node.names):
                offenders.append(str(path.relative_to(PACKAGE)))
            if isinstance(node, ast.ImportFrom) and node.module == "minorm" and node.level == 0:
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_import_minorm_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, minorm; print(sorted(m for m in ('alembic', 'click', 'asyncpg', 'aiosqlite', 'asyncmy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
