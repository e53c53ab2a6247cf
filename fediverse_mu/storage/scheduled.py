"""The ``scheduled_statuses`` table: statuses residents asked to publish later, their typed
parameters kept as JSON; their uploads are reserved (``media_attachments.scheduled_status_id``)
so the purge of stale uploads leaves them alone."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import datetime, timedelta

from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.polls import NewPoll
from fediverse_mu.domain.scheduled import ScheduledParams, ScheduledStatus
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.media import reserve_for_scheduled
from fediverse_mu.storage.pagination import newest_first, page_clause

_COLUMNS = "id, account_id, scheduled_at, params, created_at"


def _params(text: str) -> ScheduledParams:
    raw = json.loads(text)
    poll = raw.pop("poll", None)
    raw["media_ids"] = tuple(raw.get("media_ids") or ())
    return ScheduledParams(**raw, poll=None if poll is None else NewPoll(
        options=tuple(poll["options"]), expires_in=int(poll["expires_in"]),
        multiple=bool(poll["multiple"]), hide_totals=bool(poll["hide_totals"])))


def _scheduled(row: sqlite3.Row) -> ScheduledStatus:
    return ScheduledStatus(id=row["id"], account_id=row["account_id"],
                           scheduled_at=datetime.fromisoformat(row["scheduled_at"]),
                           params=_params(row["params"]),
                           created_at=datetime.fromisoformat(row["created_at"]))


def count_pending(db: Database, account_id: int, day_of: datetime | None = None) -> int:
    """An account's scheduled statuses (with ``day_of``: those due within that UTC day)."""
    sql = "SELECT count(*) FROM scheduled_statuses WHERE account_id = ?"
    args: list[object] = [account_id]
    if day_of is not None:
        start = day_of.replace(hour=0, minute=0, second=0, microsecond=0)
        sql += " AND scheduled_at >= ? AND scheduled_at < ?"
        args += [start.isoformat(), (start + timedelta(days=1)).isoformat()]
    return int(db.execute(sql, args).fetchone()[0])


def put_scheduled(db: Database, account_id: int, scheduled_at: datetime,
                  params: ScheduledParams, now: datetime) -> ScheduledStatus:
    """Record a status to publish later and reserve its uploads."""
    row = db.execute(
        f"INSERT INTO scheduled_statuses (account_id, scheduled_at, params, created_at)"
        f" VALUES (?, ?, ?, ?) RETURNING {_COLUMNS}",
        [account_id, scheduled_at.isoformat(), json.dumps(asdict(params), ensure_ascii=False),
         now.isoformat()]).fetchone()
    reserve_for_scheduled(db, account_id, list(params.media_ids), row["id"])
    return _scheduled(row)


def get_scheduled(db: Database, scheduled_id: int,
                  account_id: int | None = None) -> ScheduledStatus | None:
    """A scheduled status (only ``account_id``'s when given)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM scheduled_statuses WHERE id = ?"
                     " AND (? IS NULL OR account_id = ?)",
                     [scheduled_id, account_id, account_id]).fetchone()
    return None if row is None else _scheduled(row)


def list_scheduled(db: Database, account_id: int, page: Page) -> list[ScheduledStatus]:
    """A page of an account's scheduled statuses, newest first by id."""
    where, args, direction = page_clause("id", page)
    rows = db.execute(f"SELECT {_COLUMNS} FROM scheduled_statuses WHERE account_id = ?"
                      f" AND {where} ORDER BY id {direction} LIMIT ?",
                      [account_id, *args, page.limit]).fetchall()
    return newest_first([_scheduled(r) for r in rows], page)


def reschedule(db: Database, scheduled_id: int, account_id: int,
               scheduled_at: datetime) -> ScheduledStatus | None:
    """Move a scheduled status to another time."""
    row = db.execute(f"UPDATE scheduled_statuses SET scheduled_at = ? WHERE id = ?"
                     f" AND account_id = ? RETURNING {_COLUMNS}",
                     [scheduled_at.isoformat(), scheduled_id, account_id]).fetchone()
    return None if row is None else _scheduled(row)


def delete_scheduled(db: Database, scheduled_id: int) -> ScheduledStatus | None:
    """Forget a scheduled status (published or cancelled) and release its uploads."""
    row = db.execute(f"DELETE FROM scheduled_statuses WHERE id = ? RETURNING {_COLUMNS}",
                     [scheduled_id]).fetchone()
    if row is None:
        return None
    found = _scheduled(row)
    db.execute("UPDATE media_attachments SET scheduled_status_id = NULL"
               " WHERE scheduled_status_id = ?", [scheduled_id])
    return found
