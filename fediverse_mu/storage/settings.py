"""The ``settings`` table: instance-wide values stored as JSON (e.g. the instance actor id)."""

from __future__ import annotations

import json
from typing import Any

from fediverse_mu.storage.db import Database


def get_setting(db: Database, key: str) -> Any:
    """A setting's value, or None."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else json.loads(row[0])


def put_setting(db: Database, key: str, value: Any) -> None:
    """Create or replace a setting."""
    db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
               " SET value = excluded.value", [key, json.dumps(value)])


def ping(db: Database) -> bool:
    """True when the database answers a query."""
    return bool(db.execute("SELECT 1").fetchone()[0] == 1)
