"""The ``audit_log`` table: moderation and administration actions, append-only."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.audit import AuditEntry
from fediverse_mu.storage.db import Database

_COLUMNS = ("l.id, l.actor_account_id, l.action, l.target, l.detail, l.created_at,"
            " CASE WHEN a.id IS NULL THEN NULL WHEN a.domain IS NULL THEN a.username"
            " ELSE a.username || '@' || a.domain END AS actor_acct")


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(id=row["id"], actor_account_id=row["actor_account_id"],
                      actor_acct=row["actor_acct"], action=row["action"], target=row["target"],
                      detail=row["detail"], created_at=datetime.fromisoformat(row["created_at"]))


def put_entry(db: Database, *, actor_account_id: int | None, action: str, target: str,
              detail: str, now: datetime) -> int:
    """Append an entry; returns its id."""
    cursor = db.execute(
        "INSERT INTO audit_log (actor_account_id, action, target, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?)", [actor_account_id, action, target, detail, now.isoformat()])
    return int(cursor.lastrowid or 0)


def list_entries(db: Database, *, limit: int, max_id: int | None = None,
                 action_prefix: str | None = None) -> list[AuditEntry]:
    """The newest entries first (older than ``max_id`` when given)."""
    sql = (f"SELECT {_COLUMNS} FROM audit_log l LEFT JOIN accounts a"
           " ON a.id = l.actor_account_id WHERE 1 = 1")
    args: list[object] = []
    if max_id is not None:
        sql += " AND l.id < ?"
        args.append(max_id)
    if action_prefix:
        sql += " AND l.action LIKE ? ESCAPE '\\'"
        args.append(action_prefix.replace("\\", "\\\\").replace("%", "\\%")
                    .replace("_", "\\_") + "%")
    sql += " ORDER BY l.id DESC LIMIT ?"
    args.append(limit)
    return [_entry(row) for row in db.execute(sql, args)]
