"""The ``blocks`` and ``mutes`` tables, the options of a follow, and the relationship queries
that read ``follows``, ``blocks`` and ``mutes`` together: Mastodon's Relationship for many
accounts at once, and paged lists (followers, following, follow requests, blocks, mutes),
each paged by the id of its own row, as Mastodon does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime

from fediverse_mu.domain import Account
from fediverse_mu.domain.follows import Follow
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.relationships import Block, Mute, Relationship
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.follows import get_follow
from fediverse_mu.storage.pagination import newest_first, page_clause

_BLOCK_COLUMNS = "id, account_id, target_id, uri, created_at"
_MUTE_COLUMNS = "id, account_id, target_id, notifications, expires_at, created_at"
_CHUNK = 500
# A mute counts while it has no end or its end is still ahead.
_ACTIVE_MUTE = "(m.expires_at IS NULL OR m.expires_at > ?)"


def _block(row: sqlite3.Row) -> Block:
    return Block(id=row["id"], account_id=row["account_id"], target_id=row["target_id"],
                 uri=row["uri"], created_at=datetime.fromisoformat(row["created_at"]))


def _mute(row: sqlite3.Row) -> Mute:
    expires = row["expires_at"]
    return Mute(id=row["id"], account_id=row["account_id"], target_id=row["target_id"],
                notifications=bool(row["notifications"]),
                expires_at=None if expires is None else datetime.fromisoformat(expires),
                created_at=datetime.fromisoformat(row["created_at"]))


def _chunks(ids: Iterable[int]) -> Iterator[tuple[list[int], str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        yield chunk, ",".join("?" * len(chunk))


# -- blocks ------------------------------------------------------------------------------------

def put_block(db: Database, *, account_id: int, target_id: int, uri: str,
              now: datetime) -> Block:
    """Record a block, or refresh the activity id of the existing one."""
    row = db.execute(
        "INSERT INTO blocks (account_id, target_id, uri, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (account_id, target_id) DO UPDATE SET uri = excluded.uri"
        f" RETURNING {_BLOCK_COLUMNS}", [account_id, target_id, uri, now.isoformat()],
    ).fetchone()
    return _block(row)


def get_block(db: Database, account_id: int, target_id: int) -> Block | None:
    """The block of ``target_id`` by ``account_id``, if any."""
    row = db.execute(f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE account_id = ?"
                     " AND target_id = ?", [account_id, target_id]).fetchone()
    return None if row is None else _block(row)


def get_block_by_uri(db: Database, uri: str) -> Block | None:
    """A block by its Block activity id."""
    row = db.execute(f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE uri = ?", [uri]).fetchone()
    return None if row is None else _block(row)


def delete_block(db: Database, block_id: int) -> None:
    """Remove a block."""
    db.execute("DELETE FROM blocks WHERE id = ?", [block_id])


def blocks_between(db: Database, one_id: int, other_id: int) -> bool:
    """True when either account blocks the other."""
    return db.execute("SELECT 1 FROM blocks WHERE (account_id = ? AND target_id = ?)"
                      " OR (account_id = ? AND target_id = ?)",
                      [one_id, other_id, other_id, one_id]).fetchone() is not None


def list_blocked(db: Database, account_id: int, page: Page) -> list[tuple[int, Account]]:
    """Accounts blocked by ``account_id``, newest block first, as ``(block id, account)``."""
    where, args, direction = page_clause("id", page)
    rows = db.execute(f"SELECT id, target_id FROM blocks WHERE account_id = ? AND {where}"
                      f" ORDER BY id {direction} LIMIT ?",
                      [account_id, *args, page.limit]).fetchall()
    return _with_accounts(db, newest_first([(r[0], r[1]) for r in rows], page))


# -- mutes -------------------------------------------------------------------------------------

def put_mute(db: Database, *, account_id: int, target_id: int, notifications: bool,
             expires_at: datetime | None, now: datetime) -> Mute:
    """Mute an account, or change the options of an existing mute."""
    row = db.execute(
        "INSERT INTO mutes (account_id, target_id, notifications, expires_at, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, target_id) DO UPDATE SET"
        " notifications = excluded.notifications, expires_at = excluded.expires_at"
        f" RETURNING {_MUTE_COLUMNS}",
        [account_id, target_id, int(notifications),
         None if expires_at is None else expires_at.isoformat(), now.isoformat()],
    ).fetchone()
    return _mute(row)


def delete_mute(db: Database, account_id: int, target_id: int) -> bool:
    """Unmute; True when there was a mute."""
    cursor = db.execute("DELETE FROM mutes WHERE account_id = ? AND target_id = ?",
                        [account_id, target_id])
    return cursor.rowcount > 0


def list_muted(db: Database, account_id: int, page: Page,
               now: datetime) -> list[tuple[Mute, Account]]:
    """Accounts muted by ``account_id`` (mutes still running), newest mute first."""
    where, args, direction = page_clause("m.id", page)
    rows = db.execute(
        f"SELECT {', '.join('m.' + c for c in _MUTE_COLUMNS.split(', '))} FROM mutes m"
        f" WHERE m.account_id = ? AND {_ACTIVE_MUTE} AND {where}"
        f" ORDER BY m.id {direction} LIMIT ?",
        [account_id, now.isoformat(), *args, page.limit]).fetchall()
    mutes = newest_first([_mute(r) for r in rows], page)
    accounts = get_accounts_by_ids(db, [m.target_id for m in mutes])
    return [(m, accounts[m.target_id]) for m in mutes if m.target_id in accounts]


# -- follows -----------------------------------------------------------------------------------

def set_follow_options(db: Database, follow_id: int, *, show_reblogs: bool | None,
                       notify: bool | None) -> None:
    """Change whether a follow shows the followee's boosts and notifies of their posts."""
    if show_reblogs is not None:
        db.execute("UPDATE follows SET show_reblogs = ? WHERE id = ?",
                   [int(show_reblogs), follow_id])
    if notify is not None:
        db.execute("UPDATE follows SET notify = ? WHERE id = ?", [int(notify), follow_id])


def follows_between(db: Database, one_id: int, other_id: int) -> list[Follow]:
    """The follows (accepted or pending) from either account to the other."""
    found = [get_follow(db, one_id, other_id), get_follow(db, other_id, one_id)]
    return [f for f in found if f is not None]


def _not_excluded(viewer_id: int | None, column: str,
                  now: datetime) -> tuple[str, list[object]]:
    """Leave out accounts the viewer blocks or mutes (Mastodon's not_excluded_by_account)."""
    if viewer_id is None:
        return "1", []
    return (f"NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ? AND b.target_id ="
            f" {column}) AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ? AND"
            f" m.target_id = {column} AND {_ACTIVE_MUTE})"), [viewer_id, viewer_id,
                                                               now.isoformat()]


def _list_follows(db: Database, *, match: str, other: str, account_id: int, state: str,
                  page: Page, viewer_id: int | None, now: datetime) -> list[tuple[int, Account]]:
    where, args, direction = page_clause("f.id", page)
    excluded, excluded_args = _not_excluded(viewer_id, f"f.{other}", now)
    rows = db.execute(
        f"SELECT f.id, f.{other} FROM follows f WHERE f.{match} = ? AND f.state = ?"
        f" AND {excluded} AND {where} ORDER BY f.id {direction} LIMIT ?",
        [account_id, state, *excluded_args, *args, page.limit]).fetchall()
    return _with_accounts(db, newest_first([(r[0], r[1]) for r in rows], page))


def list_followers(db: Database, account_id: int, page: Page, *, viewer_id: int | None,
                   now: datetime) -> list[tuple[int, Account]]:
    """Accepted followers, newest follow first, as ``(follow id, account)``."""
    return _list_follows(db, match="followee_id", other="follower_id", account_id=account_id,
                         state="accepted", page=page, viewer_id=viewer_id, now=now)


def list_following(db: Database, account_id: int, page: Page, *, viewer_id: int | None,
                   now: datetime) -> list[tuple[int, Account]]:
    """Accounts followed (accepted), newest follow first, as ``(follow id, account)``."""
    return _list_follows(db, match="follower_id", other="followee_id", account_id=account_id,
                         state="accepted", page=page, viewer_id=viewer_id, now=now)


def list_follow_requests(db: Database, account_id: int, page: Page,
                         now: datetime) -> list[tuple[int, Account]]:
    """Pending requests to follow ``account_id`` (or to join a group it moderates), newest
    first, as ``(follow id, account)``."""
    where, args, direction = page_clause("f.id", page)
    rows = db.execute(
        f"SELECT f.id, f.follower_id FROM follows f WHERE f.followee_id IN ({_ANSWERED_BY})"
        f" AND f.state = 'pending' AND {where} ORDER BY f.id {direction} LIMIT ?",
        [account_id, account_id, *args, page.limit]).fetchall()
    return _with_accounts(db, newest_first([(r[0], r[1]) for r in rows], page))


# The accounts whose follow requests an account answers: itself and the groups it moderates.
_ANSWERED_BY = "SELECT ? UNION ALL SELECT group_id FROM group_moderators WHERE account_id = ?"


def count_follow_requests(db: Database, account_id: int) -> int:
    """How many follow requests wait for ``account_id``'s answer (its groups' included)."""
    return int(db.execute(f"SELECT count(*) FROM follows WHERE followee_id IN ({_ANSWERED_BY})"
                          " AND state = 'pending'", [account_id, account_id]).fetchone()[0])


def _with_accounts(db: Database, pairs: list[tuple[int, int]]) -> list[tuple[int, Account]]:
    accounts = get_accounts_by_ids(db, [target for _, target in pairs])
    return [(key, accounts[target]) for key, target in pairs if target in accounts]


# -- relationships -----------------------------------------------------------------------------

def get_relationships(db: Database, account_id: int, target_ids: list[int],
                      now: datetime) -> list[Relationship]:
    """How ``account_id`` relates to each of ``target_ids`` (in that order, once each)."""
    outgoing: dict[int, sqlite3.Row] = {}
    incoming: dict[int, str] = {}
    blocking: set[int] = set()
    blocked_by: set[int] = set()
    mutes: dict[int, sqlite3.Row] = {}
    for chunk, marks in _chunks(target_ids):
        for row in db.execute("SELECT followee_id, state, show_reblogs, notify FROM follows"
                              f" WHERE follower_id = ? AND followee_id IN ({marks})",
                              [account_id, *chunk]):
            outgoing[row["followee_id"]] = row
        for row in db.execute("SELECT follower_id, state FROM follows WHERE followee_id = ?"
                              f" AND follower_id IN ({marks})", [account_id, *chunk]):
            incoming[row[0]] = row[1]
        blocking.update(r[0] for r in db.execute(
            f"SELECT target_id FROM blocks WHERE account_id = ? AND target_id IN ({marks})",
            [account_id, *chunk]))
        blocked_by.update(r[0] for r in db.execute(
            f"SELECT account_id FROM blocks WHERE target_id = ? AND account_id IN ({marks})",
            [account_id, *chunk]))
        for row in db.execute(
                "SELECT m.target_id, m.notifications, m.expires_at FROM mutes m"
                f" WHERE m.account_id = ? AND m.target_id IN ({marks}) AND {_ACTIVE_MUTE}",
                [account_id, *chunk, now.isoformat()]):
            mutes[row[0]] = row
    found = []
    for target in dict.fromkeys(target_ids):
        follow = outgoing.get(target)
        mute = mutes.get(target)
        found.append(Relationship(
            account_id=account_id, target_id=target,
            following=follow is not None and follow["state"] == "accepted",
            requested=follow is not None and follow["state"] == "pending",
            followed_by=incoming.get(target) == "accepted",
            requested_by=incoming.get(target) == "pending",
            showing_reblogs=follow is not None and bool(follow["show_reblogs"]),
            notifying=follow is not None and bool(follow["notify"]),
            blocking=target in blocking, blocked_by=target in blocked_by,
            muting=mute is not None,
            muting_notifications=mute is not None and bool(mute["notifications"]),
            muting_expires_at=None if mute is None or mute["expires_at"] is None
            else datetime.fromisoformat(mute["expires_at"]),
        ))
    return found


def excluded_account_ids(db: Database, account_id: int, now: datetime) -> set[int]:
    """Accounts whose posts ``account_id`` should not see: blocked either way, muted, or on
    a domain they hide (for timelines and notifications)."""
    return {r[0] for r in db.execute(
        "SELECT target_id FROM blocks WHERE account_id = ?"
        " UNION SELECT account_id FROM blocks WHERE target_id = ?"
        f" UNION SELECT m.target_id FROM mutes m WHERE m.account_id = ? AND {_ACTIVE_MUTE}"
        " UNION SELECT a.id FROM account_domain_blocks d JOIN accounts a"
        " ON a.domain = d.domain WHERE d.account_id = ?",
        [account_id, account_id, account_id, now.isoformat(), account_id])}
