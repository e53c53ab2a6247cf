"""Locates the files that ship beside the code: the top-level ``migrations/`` and
``templates/`` folders. A wheel carries them inside the package (``_resources/``); a source
checkout or an editable install finds them at the repository's top level."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the '{name}' folder shipped with fediverse-mu")


def migrations_dir() -> Path:
    """The folder holding the numbered migrations."""
    return _resource_dir("migrations")


def templates_dir() -> Path:
    """The folder holding the jinja2 templates."""
    return _resource_dir("templates")
