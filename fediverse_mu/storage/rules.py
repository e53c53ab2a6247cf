"""The ``rules`` table: the instance rules, in display order."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.rules import Rule
from fediverse_mu.storage.db import Database

_COLUMNS = "id, text, hint, position, created_at, updated_at"


def _rule(row: sqlite3.Row) -> Rule:
    return Rule(id=row["id"], text=row["text"], hint=row["hint"], position=row["position"],
                created_at=datetime.fromisoformat(row["created_at"]),
                updated_at=datetime.fromisoformat(row["updated_at"]))


def list_rules(db: Database) -> list[Rule]:
    """Every rule, in display order."""
    return [_rule(row) for row in
            db.execute(f"SELECT {_COLUMNS} FROM rules ORDER BY position, id")]


def get_rule(db: Database, rule_id: int) -> Rule | None:
    """A rule by id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM rules WHERE id = ?", [rule_id]).fetchone()
    return None if row is None else _rule(row)


def put_rule(db: Database, *, text: str, hint: str, position: int | None,
             now: datetime) -> Rule:
    """Add a rule (at the end unless ``position`` is given)."""
    if position is None:
        position = int(db.execute("SELECT coalesce(max(position), 0) + 1 FROM rules")
                       .fetchone()[0])
    row = db.execute(
        f"INSERT INTO rules (text, hint, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
        f" RETURNING {_COLUMNS}", [text, hint, position, now.isoformat(), now.isoformat()],
    ).fetchone()
    return _rule(row)


def update_rule(db: Database, rule_id: int, *, text: str, hint: str, position: int,
                now: datetime) -> Rule | None:
    """Change a rule; None when it does not exist."""
    row = db.execute(
        f"UPDATE rules SET text = ?, hint = ?, position = ?, updated_at = ? WHERE id = ?"
        f" RETURNING {_COLUMNS}", [text, hint, position, now.isoformat(), rule_id]).fetchone()
    return None if row is None else _rule(row)


def delete_rule(db: Database, rule_id: int) -> bool:
    """Remove a rule; False when it did not exist."""
    return db.execute("DELETE FROM rules WHERE id = ?", [rule_id]).rowcount > 0
