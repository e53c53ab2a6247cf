"""Numbered migrations: applied in order, recorded, atomic, and checked before serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from fediverse_mu.config import Config
from fediverse_mu.resources import migrations_dir
from fediverse_mu.services import maintenance
from fediverse_mu.storage import connect
from fediverse_mu.storage.migrations import apply_migrations, load_migrations, migration_status


def _write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text("from sqlite_utils import Database\n\n\n"
                               "def up(db: Database) -> None:\n" + body, encoding="utf-8")


def test_shipped_migrations_are_numbered_and_applied(config: Config) -> None:
    shipped = load_migrations(migrations_dir())
    assert shipped.names[0] == "0001_initial"
    assert [n[:4] for n in shipped.names] == sorted(n[:4] for n in shipped.names)
    status = maintenance.schema_status(config)
    assert status.pending == () and status.applied == shipped.names
    maintenance.check_schema(config)  # current: no error
    assert maintenance.migrate(config) == []  # idempotent


def test_migrations_apply_in_order_and_a_failure_rolls_back(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    _write(folder, "0001_first.py", '    db["things"].create({"id": int}, pk="id")\n')
    _write(folder, "0002_second.py", '    db["others"].create({"id": int}, pk="id")\n'
                                    '    raise RuntimeError("half-way")\n')
    _write(folder, "notes.py", "    raise AssertionError('not a migration')\n")
    db = connect(tmp_path / "x.db")
    with pytest.raises(RuntimeError, match="half-way"):
        apply_migrations(db, load_migrations(folder))
    assert db["things"].exists()
    assert not db["others"].exists()  # the failed migration left nothing behind
    status = migration_status(db, load_migrations(folder))
    assert status.applied == ("0001_first",)
    assert status.pending == ("0002_second",)


def test_duplicate_numbers_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.py", "    pass\n")
    _write(tmp_path, "0001_b.py", "    pass\n")
    with pytest.raises(ValueError, match="share a number"):
        load_migrations(tmp_path)


def test_pending_and_newer_databases_are_refused(config: Config) -> None:
    db = connect(config.database_path)
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '0001_initial'")
    db.conn.commit()
    with pytest.raises(maintenance.SchemaNotReady, match="fediverse-mu migrate --data"):
        maintenance.check_schema(config)
    db.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES "
               "('fediverse-mu', '0001_initial', 'x'), ('fediverse-mu', '9999_future', 'y')")
    db.conn.commit()
    with pytest.raises(maintenance.SchemaNotReady, match="newer"):
        maintenance.check_schema(config)
    with pytest.raises(ValueError, match="newer"):
        maintenance.migrate(config)
    db.close()
