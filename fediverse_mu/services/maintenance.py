"""Admin maintenance on an instance's data folder: creating it, migrating its schema, checking
the schema before serving, and consistent online backups. Synchronous: the CLI calls these
before (or without) an event loop."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fediverse_mu.config import (
    CONFIG_FILE,
    DATABASE_FILE,
    Config,
    build_config,
    new_secret_key,
    render_config_toml,
)
from fediverse_mu.domain import Conflict, Invalid
from fediverse_mu.resources import migrations_dir
from fediverse_mu.services.instance import create_instance_actor
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.storage import backup as backup_store
from fediverse_mu.storage import connect, transaction
from fediverse_mu.storage.migrations import (
    MigrationStatus,
    apply_migrations,
    load_migrations,
    migration_status,
)


class SchemaNotReady(Exception):
    """The database needs ``migrate`` (or newer code) before the server can use it."""


def schema_status(config: Config) -> MigrationStatus:
    """Compare the shipped migrations with the database's."""
    db = connect(config.database_path)
    try:
        return migration_status(db, load_migrations(migrations_dir()))
    finally:
        db.close()


def check_schema(config: Config) -> None:
    """Raise SchemaNotReady with what the admin must do, unless the schema is current."""
    status = schema_status(config)
    if status.database_is_newer:
        raise SchemaNotReady(
            "the database was migrated by a newer fediverse-mu (unknown migrations: "
            f"{', '.join(status.unknown)}); install that version or restore a backup")
    if status.pending:
        raise SchemaNotReady(
            f"{len(status.pending)} database migration(s) pending ({', '.join(status.pending)});"
            f" run: fediverse-mu migrate --data {config.data_dir}")


def migrate(config: Config) -> list[str]:
    """Apply pending migrations; returns their names."""
    db = connect(config.database_path)
    try:
        return apply_migrations(db, load_migrations(migrations_dir()))
    finally:
        db.close()


def initialise(target: Path, values: Mapping[str, Any], *, force: bool = False) -> Config:
    """Create a new instance in ``target``: config.toml, migrated database, instance actor and
    keys, media folder. All or nothing: on failure no partial folder is left behind."""
    values = {"secret_key": new_secret_key(), **values}
    config = build_config(target.resolve(), values)  # validate before touching the disk
    staging = _prepare_data_dir(target, force=force, media_dir=config.media_dir)
    try:
        staged = build_config(staging, values)
        write_config(staging, staged)
        migrate(staged)
        db = connect(staged.database_path)
        try:
            with transaction(db):
                create_instance_actor(db, staged.base_url, generate_key_pair())
        finally:
            db.close()
        staged.database_path.chmod(0o600)  # it holds private keys
        staged.media_path.mkdir(mode=0o750)
        _commit_data_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return config


def _prepare_data_dir(target: Path, *, force: bool, media_dir: str = "media") -> Path:
    """Check ``target`` can receive a new instance; return a fresh staging folder.

    The instance is built in the staging folder and moved into place by
    :func:`_commit_data_dir`, so a failed ``init`` leaves nothing half-created. An existing
    target (an empty folder, a mounted volume…) is staged inside itself, so ``init`` needs no
    write access to its parent; a new target is staged beside it.
    """
    if target.exists():
        if not target.is_dir():
            raise Invalid(f"{target} exists and is not a folder")
        if (target / DATABASE_FILE).exists() or (target / CONFIG_FILE).exists():
            raise Conflict(f"{target} already holds a fediverse-mu instance; refusing to "
                           "overwrite it (move it away first)")
        if any(target.iterdir()) and not force:
            raise Conflict(f"{target} is not empty; use --force to initialise it anyway")
        # Moving the staged files in would fail halfway on these (or, for a stale -wal file,
        # corrupt the new database): refuse before creating anything.
        clashes = [name for name in (media_dir, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm")
                   if os.path.lexists(target / name)]
        if clashes:
            raise Conflict(f"{target} already has {', '.join(clashes)}; move it away first")
        return Path(tempfile.mkdtemp(prefix=".init-", dir=target))
    parent = target.resolve().parent
    if not parent.is_dir():
        raise Invalid(f"the parent folder {parent} does not exist")
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=parent))


def write_config(staging: Path, config: Config) -> None:
    """Write config.toml (readable by the owner only: it holds the secret key)."""
    path = staging / CONFIG_FILE
    path.write_text(render_config_toml(config), encoding="utf-8")
    path.chmod(0o600)


def _commit_data_dir(staging: Path, target: Path) -> None:
    """Move the staged instance into ``target`` (created, or existing and allowed)."""
    if not target.exists():
        staging.rename(target)
        target.chmod(0o700)
        return
    for item in staging.iterdir():
        item.rename(target / item.name)
    staging.rmdir()


def backup(config: Config, out: Path) -> int:
    """Copy the live database consistently to ``out`` (atomic replace); returns its size."""
    out = out.resolve()
    if out == config.database_path.resolve():
        raise Invalid("the backup must not overwrite the live database")
    if not out.parent.is_dir():
        raise Invalid(f"the folder {out.parent} does not exist")
    return backup_store.backup_database(config.database_path, out)
