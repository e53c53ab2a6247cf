"""Schema migrations: numbered Python files in the top-level ``migrations/`` folder
(``0001_initial.py`` …), each with ``def up(db: Database) -> None``, applied in order through
sqlite-utils' :class:`~sqlite_utils.migrations.Migrations` (each in its own transaction, recorded
in ``_sqlite_migrations``)."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils.migrations import Migrations

from fediverse_mu.storage.db import Database

MIGRATION_SET = "fediverse-mu"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+$")


@dataclass(frozen=True)
class MigrationStatus:
    """What the code knows, what the database has, and the difference."""

    known: tuple[str, ...]
    applied: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...]  # applied by a newer version of the code

    @property
    def database_is_newer(self) -> bool:
        """True when the database was migrated by a newer fediverse-mu."""
        return bool(self.unknown)


@dataclass(frozen=True)
class MigrationSet:
    """The migrations shipped with the code, in order."""

    migrations: Migrations
    names: tuple[str, ...]


def load_migrations(folder: Path) -> MigrationSet:
    """Load every numbered migration file of ``folder`` into one migration set, in order."""
    migrations = Migrations(MIGRATION_SET)
    files = sorted(p for p in folder.glob("*.py") if _NAME.match(p.stem))
    numbers = [p.stem[:4] for p in files]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"two migrations share a number in {folder}")
    for path in files:
        spec = importlib.util.spec_from_file_location(f"fediverse_mu_migration_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load migration {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        up = getattr(module, "up", None)
        if not callable(up):
            raise ValueError(f"migration {path} has no up(db) function")
        migrations(name=path.stem)(up)
    return MigrationSet(migrations, tuple(p.stem for p in files))


def migration_status(db: Database, shipped: MigrationSet) -> MigrationStatus:
    """Compare the migrations known to the code with those recorded in the database."""
    known = shipped.names
    applied = tuple(m.name for m in shipped.migrations.applied(db))
    return MigrationStatus(
        known=known,
        applied=applied,
        pending=tuple(name for name in known if name not in applied),
        unknown=tuple(name for name in applied if name not in known),
    )


def apply_migrations(db: Database, shipped: MigrationSet) -> list[str]:
    """Apply the pending migrations; return their names. Refuses a newer database."""
    status = migration_status(db, shipped)
    if status.database_is_newer:
        raise ValueError("the database was migrated by a newer fediverse-mu "
                         f"({', '.join(status.unknown)}); upgrade the code instead")
    shipped.migrations.apply(db)
    return list(status.pending)
