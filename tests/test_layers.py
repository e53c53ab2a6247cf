"""The layering of ARCHITECTURE.md, checked on the import graph: faces -> services ->
storage -> domain, with activitypub/ pure and storage/ the only home of SQL."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fediverse_mu"

# For each layer, the fediverse_mu modules it must NOT import.
FORBIDDEN = {
    "domain": ("activitypub", "storage", "services", "federation", "web", "cli", "app",
               "worker", "config", "events"),
    "activitypub": ("storage", "services", "federation", "web", "cli", "app", "worker"),
    "storage": ("services", "federation", "web", "cli", "app", "worker", "activitypub"),
    "services": ("federation", "web", "cli", "app", "worker", "appkeys"),
    "federation": ("web", "cli", "app"),
    "web": ("storage", "cli"),
    "worker": ("web", "cli", "app", "services"),
}
SQL_MODULES = ("sqlite3", "sqlite_utils")
HTTP_CLIENT = ("aiohttp.ClientSession",)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_layers_import_only_downwards() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        for name in _imports(path):
            if not name.startswith("fediverse_mu."):
                continue
            target = name.split(".")[1]
            if target in FORBIDDEN.get(layer, ()):
                problems.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not problems, "\n".join(sorted(problems))


def test_sql_lives_only_in_storage() -> None:
    offenders = [
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if _layer(path) != "storage" and any(
            name == mod or name.startswith(mod + ".") for name in _imports(path)
            for mod in SQL_MODULES)
    ]
    assert offenders == []


def test_only_the_transport_makes_outgoing_http() -> None:
    offenders = [
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if path.name != "transport.py" and "ClientSession" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_every_module_says_what_it_owns() -> None:
    missing = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
               if ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) is None]
    assert missing == []
