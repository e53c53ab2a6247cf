"""The ``follows`` table."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.follows import Follow, FollowState
from fediverse_mu.storage.db import Database

_COLUMNS = "id, follower_id, followee_id, state, uri"


def _follow(row: sqlite3.Row) -> Follow:
    return Follow(id=row["id"], follower_id=row["follower_id"], followee_id=row["followee_id"],
                  state=FollowState(row["state"]), uri=row["uri"])


def put_follow(db: Database, *, follower_id: int, followee_id: int, state: FollowState,
               uri: str, now: datetime) -> Follow:
    """Create a follow, or refresh the uri/state of the existing one between the two."""
    accepted_at = now.isoformat() if state is FollowState.ACCEPTED else None
    row = db.execute(
        "INSERT INTO follows (follower_id, followee_id, state, uri, created_at, accepted_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (follower_id, followee_id) DO UPDATE SET"
        " uri = excluded.uri, state = CASE WHEN follows.state = 'accepted' THEN 'accepted'"
        " ELSE excluded.state END, accepted_at = coalesce(follows.accepted_at,"
        f" excluded.accepted_at) RETURNING {_COLUMNS}",
        [follower_id, followee_id, state.value, uri, now.isoformat(), accepted_at],
    ).fetchone()
    return _follow(row)


def get_follow(db: Database, follower_id: int, followee_id: int) -> Follow | None:
    """The follow between two accounts."""
    row = db.execute(f"SELECT {_COLUMNS} FROM follows WHERE follower_id = ? AND followee_id = ?",
                     [follower_id, followee_id]).fetchone()
    return None if row is None else _follow(row)


def get_follow_by_uri(db: Database, uri: str) -> Follow | None:
    """A follow by its Follow activity id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM follows WHERE uri = ?", [uri]).fetchone()
    return None if row is None else _follow(row)


def update_follow_state(db: Database, follow_id: int, state: FollowState, now: datetime) -> None:
    """Accept (or set back to pending) a follow."""
    db.execute("UPDATE follows SET state = ?, accepted_at = CASE WHEN ? = 'accepted' THEN ?"
               " ELSE NULL END WHERE id = ?", [state.value, state.value, now.isoformat(),
                                              follow_id])


def delete_follow(db: Database, follow_id: int) -> None:
    """Remove a follow (unfollow, reject)."""
    db.execute("DELETE FROM follows WHERE id = ?", [follow_id])


def list_follower_uris(db: Database, followee_id: int) -> list[str]:
    """Actor ids of accepted followers."""
    return [r[0] for r in db.execute(
        "SELECT a.actor_uri FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = ? AND f.state = 'accepted' ORDER BY f.id", [followee_id])]


def list_following_uris(db: Database, follower_id: int) -> list[str]:
    """Actor ids an account follows (accepted)."""
    return [r[0] for r in db.execute(
        "SELECT a.actor_uri FROM follows f JOIN accounts a ON a.id = f.followee_id"
        " WHERE f.follower_id = ? AND f.state = 'accepted' ORDER BY f.id", [follower_id])]


def list_follower_inboxes(db: Database, followee_id: int) -> list[str]:
    """One inbox per remote follower's server: its shared inbox when it has one (so a post to
    10,000 followers on 500 instances is about 500 POSTs), else the follower's own inbox."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT coalesce(a.shared_inbox_uri, a.inbox_uri) FROM follows f"
        " JOIN accounts a ON a.id = f.follower_id WHERE f.followee_id = ?"
        " AND f.state = 'accepted' AND a.domain IS NOT NULL"
        " AND coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL", [followee_id])]
