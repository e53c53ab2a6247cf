"""The ``inbox_items`` table: accepted incoming activities, stored before the 202 and
processed later by the worker. The activity id is unique, so a duplicate is stored once."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fediverse_mu.storage.db import Database
from fediverse_mu.storage.jobs import put_job

INBOX_JOB = "inbox.process"


def put_inbox_item_if_new(db: Database, *, activity_id: str, activity_type: str,
                          actor_uri: str, raw: dict[str, Any], now: datetime,
                          now_ts: float) -> int | None:
    """Store an activity and its processing job in one transaction; None for a duplicate."""
    row = db.execute(
        "INSERT INTO inbox_items (activity_id, activity_type, actor_uri, body, received_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO NOTHING RETURNING id",
        [activity_id, activity_type, actor_uri, json.dumps(raw, separators=(",", ":")),
         now.isoformat()],
    ).fetchone()
    if row is None:
        return None
    put_job(db, INBOX_JOB, {"item_id": row[0]}, now=now_ts, max_attempts=8)
    return int(row[0])


def get_inbox_item(db: Database, item_id: int) -> dict[str, Any] | None:
    """The stored activity of an inbox item."""
    row = db.execute("SELECT body FROM inbox_items WHERE id = ?", [item_id]).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def mark_inbox_item(db: Database, item_id: int, now: datetime, error: str | None = None) -> None:
    """Record that an inbox item was processed (with the reason when it was ignored)."""
    db.execute("UPDATE inbox_items SET processed_at = ?, error = ? WHERE id = ?",
               [now.isoformat(), error, item_id])


def count_inbox_items(db: Database) -> int:
    """How many activities were ever accepted."""
    return int(db.execute("SELECT count(*) FROM inbox_items").fetchone()[0])


def put_inbox_items_if_new(db: Database, items: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """:func:`put_inbox_item_if_new` for several activities in one transaction (the inbox's
    group commit); one result per item, in order."""
    return [put_inbox_item_if_new(db, **item) for item in items]
