"""The ``polls`` and ``poll_votes`` tables: a status's options and their counts (kept on the
poll row, so reading a page never counts votes), each voter's choices, and the bookkeeping of
a poll's end (the ``poll`` notifications are sent once)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.polls import IncomingPoll, Poll
from fediverse_mu.storage.db import Database

_COLUMNS = ("status_id, options, votes, multiple, hide_totals, expires_at, voters_count,"
            " closed")


def _poll(row: sqlite3.Row, voted: bool | None = None, own: Sequence[int] = ()) -> Poll:
    (status_id, options, votes, multiple, hide_totals, expires_at, voters_count,
     closed) = row
    return Poll(status_id=status_id, options=tuple(json.loads(options)),
                votes=tuple(int(v) for v in json.loads(votes)), multiple=bool(multiple),
                hide_totals=bool(hide_totals),
                expires_at=None if expires_at is None else datetime.fromisoformat(expires_at),
                voters_count=voters_count, closed=bool(closed), voted=voted,
                own_votes=tuple(own))


def put_poll(db: Database, status_id: int, *, options: Sequence[str], multiple: bool,
             hide_totals: bool, expires_at: datetime | None, now: datetime,
             votes: Sequence[int] | None = None, voters_count: int | None = 0,
             closed: bool = False) -> None:
    """Record the poll of a status (local: no votes yet; remote: its origin's counts)."""
    db.execute(
        f"INSERT INTO polls ({_COLUMNS}, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [status_id, json.dumps(list(options), ensure_ascii=False),
         json.dumps(list(votes) if votes is not None else [0] * len(options)), int(multiple),
         int(hide_totals), None if expires_at is None else expires_at.isoformat(),
         voters_count, int(closed), now.isoformat(), now.isoformat()])


def refresh_remote_poll(db: Database, status_id: int, poll: IncomingPoll, now: datetime) -> bool:
    """Take a remote poll's counts from its origin (an Update of the Question); False when
    the status has no poll or its options changed (then it is left alone)."""
    current = get_poll(db, status_id)
    if current is None or current.options != poll.options:
        return False
    db.execute("UPDATE polls SET votes = ?, voters_count = ?, closed = ?, expires_at = ?,"
               " updated_at = ? WHERE status_id = ?",
               [json.dumps(list(poll.votes)), poll.voters_count, int(poll.closed),
                None if poll.expires_at is None else poll.expires_at.isoformat(),
                now.isoformat(), status_id])
    return True


def get_poll(db: Database, status_id: int, viewer_id: int | None = None) -> Poll | None:
    """A status's poll, with ``viewer_id``'s own choices."""
    found = load_polls(db, [status_id], viewer_id)
    return found.get(status_id)


def load_polls(db: Database, status_ids: Sequence[int], viewer_id: int | None) -> dict[int, Poll]:
    """The polls among ``status_ids`` (one query; a second for the viewer's own votes only
    when there is a poll)."""
    if not status_ids:
        return {}
    rows = db.execute(f"SELECT {_COLUMNS} FROM polls WHERE status_id IN"
                      " (SELECT value FROM json_each(?))", [json.dumps(list(status_ids))]
                      ).fetchall()
    if not rows:
        return {}
    own: dict[int, list[int]] = {}
    if viewer_id is not None:
        for status_id, choice in db.execute(
                "SELECT status_id, choice FROM poll_votes WHERE account_id = ? AND status_id IN"
                " (SELECT value FROM json_each(?)) ORDER BY choice",
                [viewer_id, json.dumps([r[0] for r in rows])]):
            own.setdefault(status_id, []).append(choice)
    return {row[0]: _poll(row, None if viewer_id is None else row[0] in own,
                          own.get(row[0], ())) for row in rows}


def put_votes(db: Database, status_id: int, account_id: int, choices: Sequence[int],
              uris: Sequence[str | None], now: datetime) -> None:
    """Record a voter's choices and count them (a new voter adds one to ``voters_count``)."""
    first_time = db.execute("SELECT 1 FROM poll_votes WHERE status_id = ? AND account_id = ?"
                            " LIMIT 1", [status_id, account_id]).fetchone() is None
    row = db.execute("SELECT votes FROM polls WHERE status_id = ?", [status_id]).fetchone()
    votes = [int(v) for v in json.loads(row[0])]
    for choice, uri in zip(choices, uris, strict=True):
        db.execute("INSERT INTO poll_votes (status_id, account_id, choice, uri, created_at)"
                   " VALUES (?, ?, ?, ?, ?)", [status_id, account_id, choice, uri,
                                                now.isoformat()])
        votes[choice] += 1
    db.execute("UPDATE polls SET votes = ?, voters_count = CASE WHEN ? AND voters_count IS NOT"
               " NULL THEN voters_count + 1 ELSE voters_count END, updated_at = ?"
               " WHERE status_id = ?", [json.dumps(votes), int(first_time), now.isoformat(),
                                        status_id])


def own_choices(db: Database, status_id: int, account_id: int) -> list[int]:
    """What one account chose in a poll (empty: not voted)."""
    return [r[0] for r in db.execute("SELECT choice FROM poll_votes WHERE status_id = ? AND"
                                     " account_id = ? ORDER BY choice", [status_id, account_id])]


def voter_ids(db: Database, status_id: int) -> list[int]:
    """Every account that voted in a poll."""
    return [r[0] for r in db.execute("SELECT DISTINCT account_id FROM poll_votes"
                                     " WHERE status_id = ?", [status_id])]


def mark_ended(db: Database, status_id: int, now: datetime) -> bool:
    """Record that a poll's end was handled (it is closed from now on); False when it
    already was (a job run twice)."""
    return db.execute("UPDATE polls SET ended_notified_at = ?, closed = 1 WHERE status_id = ?"
                      " AND ended_notified_at IS NULL", [now.isoformat(), status_id]
                      ).rowcount == 1
