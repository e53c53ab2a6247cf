"""The ``statuses`` table and everything hanging off a status: edits, mentions, tags,
favourites, bookmarks, home feeds, notifications, tombstones and idempotency keys; timeline
queries (one index range each) and the batch loading of what a reader sees."""

from __future__ import annotations

import functools
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import Status, StatusEdit, StatusView, Visibility, status_id_for
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.media import list_media_for_statuses
from fediverse_mu.storage.moderation import HIDDEN_AUTHOR
from fediverse_mu.storage.pagination import page_clause
from fediverse_mu.storage.places import is_network_for
from fediverse_mu.storage.polls import load_polls
from fediverse_mu.storage.ressentis import ressentis_for

_COLUMNS = ("id, uri, url, account_id, local, content, source_text, spoiler_text, sensitive,"
            " visibility, language, created_at, in_reply_to_id, in_reply_to_uri,"
            " in_reply_to_account_id, reblog_of_id, conversation_uri, edited_at, deleted_at,"
            " replies_count, reblogs_count, favourites_count, local_only, pinned_at")
MAX_PAGE = 40
CONTEXT_LIMIT = 4096  # replies walked in one /context, as Mastodon bounds it too


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


_VISIBILITIES = {v.value: v for v in Visibility}


def _status(row: sqlite3.Row | tuple[Any, ...]) -> Status:
    # Unpacked by position (rows always hold _COLUMNS, in order): a timeline page builds
    # 40-80 of these, and 24 lookups by name cost more than the rest of the conversion.
    (id_, uri, url, account_id, local, content, source_text, spoiler_text, sensitive,
     visibility, language, created_at, in_reply_to_id, in_reply_to_uri, in_reply_to_account_id,
     reblog_of_id, conversation_uri, edited_at, deleted_at, replies_count, reblogs_count,
     favourites_count, local_only, pinned_at) = row
    return Status(
        id=id_, uri=uri, url=url, account_id=account_id, local=bool(local), content=content,
        source_text=source_text, spoiler_text=spoiler_text, sensitive=bool(sensitive),
        visibility=_VISIBILITIES[visibility], language=language,
        created_at=datetime.fromisoformat(created_at), in_reply_to_id=in_reply_to_id,
        in_reply_to_uri=in_reply_to_uri, in_reply_to_account_id=in_reply_to_account_id,
        reblog_of_id=reblog_of_id, conversation_uri=conversation_uri,
        edited_at=_dt(edited_at), deleted_at=_dt(deleted_at),
        replies_count=replies_count, reblogs_count=reblogs_count,
        favourites_count=favourites_count, local_only=bool(local_only),
        pinned=pinned_at is not None,
    )


@functools.lru_cache(maxsize=4096)
def _status_of(values: tuple[Any, ...]) -> Status:
    # Timelines read the same recent statuses again and again: the conversion is remembered
    # by the row's values themselves (a changed row is another key, so nothing goes stale);
    # Status is frozen, so sharing it is safe.
    return _status(values)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


# -- writing statuses --------------------------------------------------------------------------


def new_status_id(db: Database, moment: datetime) -> int:
    """A fresh time-ordered id for a status created at ``moment`` (checked unused)."""
    while True:
        candidate = status_id_for(moment, secrets.randbits(16))
        if db.execute("SELECT 1 FROM statuses WHERE id = ?", [candidate]).fetchone() is None:
            return candidate


@dataclass(frozen=True, slots=True)
class NewStatus:
    """The columns of a status to insert."""

    id: int
    uri: str
    url: str | None
    account_id: int
    local: bool
    content: str
    visibility: Visibility
    created_at: datetime
    source_text: str | None = None
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: int | None = None
    in_reply_to_uri: str | None = None
    in_reply_to_account_id: int | None = None
    reblog_of_id: int | None = None
    conversation_uri: str | None = None
    local_only: bool = False
    has_media: bool = False
    edited_at: datetime | None = None


def put_status(db: Database, new: NewStatus, *, mention_ids: Iterable[int] = (),
               tags: Iterable[str] = ()) -> Status:
    """Insert a status with its mentions and tags; bumps the counters of what it replies to
    or boosts."""
    row = db.execute(
        "INSERT INTO statuses (id, uri, url, account_id, local, content, source_text,"
        " spoiler_text, sensitive, visibility, language, created_at, in_reply_to_id,"
        " in_reply_to_uri, in_reply_to_account_id, reblog_of_id, conversation_uri, local_only,"
        " has_media, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        f" ?) RETURNING {_COLUMNS}",
        [new.id, new.uri, new.url, new.account_id, int(new.local), new.content,
         new.source_text, new.spoiler_text, int(new.sensitive), new.visibility.value,
         new.language, new.created_at.isoformat(), new.in_reply_to_id, new.in_reply_to_uri,
         new.in_reply_to_account_id, new.reblog_of_id, new.conversation_uri,
         int(new.local_only), int(new.has_media),
         None if new.edited_at is None else new.edited_at.isoformat()],
    ).fetchone()
    _set_mentions(db, new.id, mention_ids)
    _set_tags(db, new.id, tags)
    if new.in_reply_to_id is not None:
        db.execute("UPDATE statuses SET replies_count = replies_count + 1 WHERE id = ?",
                   [new.in_reply_to_id])
    if new.reblog_of_id is not None:
        db.execute("UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = ?",
                   [new.reblog_of_id])
    return _status(row)


def _set_mentions(db: Database, status_id: int, account_ids: Iterable[int]) -> None:
    db.execute("DELETE FROM mentions WHERE status_id = ?", [status_id])
    db.conn.executemany("INSERT OR IGNORE INTO mentions (status_id, account_id) VALUES (?, ?)",
                   [(status_id, a) for a in dict.fromkeys(account_ids)])


def _set_tags(db: Database, status_id: int, tags: Iterable[str]) -> None:
    db.execute("DELETE FROM status_tags WHERE status_id = ?", [status_id])
    db.conn.executemany("INSERT OR IGNORE INTO status_tags (status_id, tag) VALUES (?, ?)",
                   [(status_id, t) for t in dict.fromkeys(tags)])


def link_replies(db: Database, status: Status) -> int:
    """Attach replies that arrived before their parent (by ``in_reply_to_uri``)."""
    cursor = db.execute(
        "UPDATE statuses SET in_reply_to_id = ?, in_reply_to_account_id = ?"
        " WHERE in_reply_to_uri = ? AND in_reply_to_id IS NULL", [status.id, status.account_id,
                                                                  status.uri])
    if cursor.rowcount:
        db.execute("UPDATE statuses SET replies_count = replies_count + ? WHERE id = ?",
                   [cursor.rowcount, status.id])
    return cursor.rowcount


def edit_status(db: Database, status: Status, *, content: str, source_text: str | None,
                spoiler_text: str, sensitive: bool, language: str | None, edited_at: datetime,
                mention_ids: Iterable[int], tags: Iterable[str], has_media: bool) -> Status:
    """Replace a status's text, keeping the previous version in its history (the first edit
    also records the original, as Mastodon's history starts with it)."""
    if db.execute("SELECT 1 FROM status_edits WHERE status_id = ?", [status.id]).fetchone() \
            is None:
        db.execute("INSERT INTO status_edits (status_id, content, spoiler_text, sensitive,"
                   " created_at) VALUES (?, ?, ?, ?, ?)",
                   [status.id, status.content, status.spoiler_text, int(status.sensitive),
                    status.created_at.isoformat()])
    db.execute("INSERT INTO status_edits (status_id, content, spoiler_text, sensitive,"
               " created_at) VALUES (?, ?, ?, ?, ?)",
               [status.id, content, spoiler_text, int(sensitive), edited_at.isoformat()])
    row = db.execute(
        "UPDATE statuses SET content = ?, source_text = ?, spoiler_text = ?, sensitive = ?,"
        f" language = coalesce(?, language), edited_at = ?, has_media = ? WHERE id = ?"
        f" RETURNING {_COLUMNS}",
        [content, source_text, spoiler_text, int(sensitive), language, edited_at.isoformat(),
         int(has_media), status.id]).fetchone()
    _set_mentions(db, status.id, mention_ids)
    _set_tags(db, status.id, tags)
    return _status(row)


def list_status_edits(db: Database, status_id: int) -> list[StatusEdit]:
    """A status's versions, oldest first (empty when never edited)."""
    return [StatusEdit(status_id=r["status_id"], content=r["content"],
                       spoiler_text=r["spoiler_text"] or "", sensitive=bool(r["sensitive"]),
                       created_at=datetime.fromisoformat(r["created_at"]))
            for r in db.execute("SELECT * FROM status_edits WHERE status_id = ? ORDER BY id",
                                [status_id])]


def delete_status(db: Database, status: Status, now: datetime) -> list[int]:
    """Soft-delete a status and the boosts of it (the row stays as a tombstone); returns the
    ids removed, for the streaming ``delete`` events."""
    ids = [status.id] + [r[0] for r in db.execute(
        "SELECT id FROM statuses WHERE reblog_of_id = ? AND deleted_at IS NULL", [status.id])]
    marks = _marks(ids)
    db.execute(f"UPDATE statuses SET deleted_at = ?, content = '', source_text = NULL,"
               f" pinned_at = NULL WHERE id IN ({marks}) AND deleted_at IS NULL",
               [now.isoformat(), *ids])
    db.execute(f"DELETE FROM home_feed WHERE status_id IN ({marks})", ids)
    db.execute(f"DELETE FROM notifications WHERE status_id IN ({marks})", ids)
    db.execute(f"DELETE FROM bookmarks WHERE status_id IN ({marks})", ids)
    if status.in_reply_to_id is not None:
        db.execute("UPDATE statuses SET replies_count = max(0, replies_count - 1) WHERE id = ?",
                   [status.in_reply_to_id])
    if status.reblog_of_id is not None:
        db.execute("UPDATE statuses SET reblogs_count = max(0, reblogs_count - 1) WHERE id = ?",
                   [status.reblog_of_id])
    return ids


def put_tombstone(db: Database, uri: str, now: datetime) -> None:
    """Remember that a remote object was deleted (so a late Create is ignored)."""
    db.execute("INSERT OR IGNORE INTO tombstones (uri, deleted_at) VALUES (?, ?)",
               [uri, now.isoformat()])


def is_tombstoned(db: Database, uri: str) -> bool:
    """True when a Delete for this object id was received."""
    return db.execute("SELECT 1 FROM tombstones WHERE uri = ?", [uri]).fetchone() is not None


def set_pinned(db: Database, status_id: int, pinned_at: datetime | None) -> None:
    """Pin (with a time) or unpin a status."""
    db.execute("UPDATE statuses SET pinned_at = ? WHERE id = ?",
               [None if pinned_at is None else pinned_at.isoformat(), status_id])


def count_pinned(db: Database, account_id: int) -> int:
    """How many statuses an account has pinned."""
    return int(db.execute("SELECT count(*) FROM statuses WHERE account_id = ? AND pinned_at IS"
                          " NOT NULL AND deleted_at IS NULL", [account_id]).fetchone()[0])


# -- reading statuses --------------------------------------------------------------------------


def get_status(db: Database, status_id: int) -> Status | None:
    """A status by id (deleted ones included: check ``deleted_at``)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM statuses WHERE id = ?", [status_id]).fetchone()
    return None if row is None else _status(row)


def get_status_by_uri(db: Database, uri: str) -> Status | None:
    """A status by its ActivityPub id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM statuses WHERE uri = ?", [uri]).fetchone()
    return None if row is None else _status(row)


def get_statuses(db: Database, ids: Sequence[int]) -> dict[int, Status]:
    """Several statuses by id."""
    found: dict[int, Status] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        for row in db.execute(f"SELECT {_COLUMNS} FROM statuses WHERE id IN ({_marks(chunk)})",
                              chunk):
            found[row[0]] = _status_of(tuple(row))
    return found


def get_reblog(db: Database, account_id: int, status_id: int) -> Status | None:
    """An account's live boost of a status."""
    row = db.execute(f"SELECT {_COLUMNS} FROM statuses WHERE reblog_of_id = ? AND account_id = ?"
                     " AND deleted_at IS NULL", [status_id, account_id]).fetchone()
    return None if row is None else _status(row)


def mention_account_ids(db: Database, status_id: int) -> list[int]:
    """The accounts a status mentions."""
    return [r[0] for r in db.execute("SELECT account_id FROM mentions WHERE status_id = ?",
                                     [status_id])]


def status_tags(db: Database, status_id: int) -> list[str]:
    """The hashtags of a status."""
    return [r[0] for r in db.execute("SELECT tag FROM status_tags WHERE status_id = ?",
                                     [status_id])]


def is_mentioned(db: Database, status_id: int, account_id: int) -> bool:
    """True when the status mentions the account."""
    return db.execute("SELECT 1 FROM mentions WHERE status_id = ? AND account_id = ?",
                      [status_id, account_id]).fetchone() is not None


def follows_accepted(db: Database, follower_id: int, followee_id: int) -> bool:
    """True when ``follower_id`` follows ``followee_id`` (accepted)."""
    return db.execute("SELECT 1 FROM follows WHERE follower_id = ? AND followee_id = ? AND"
                      " state = 'accepted'", [follower_id, followee_id]).fetchone() is not None


def local_follower_ids(db: Database, account_id: int, limit: int = -1) -> list[int]:
    """Local residents following ``account_id`` (accepted): whose home feeds get its posts
    (at most ``limit``; -1: all). Joined through ``users`` (a small row per resident), not
    ``accounts`` (large rows, keys included): 4 times faster for 100 followers, and only
    residents read a home feed."""
    return [r[0] for r in db.execute(
        "SELECT f.follower_id FROM follows f JOIN users u ON u.account_id = f.follower_id"
        " WHERE f.followee_id = ? AND f.state = 'accepted' LIMIT ?", [account_id, limit])]


def has_local_followers(db: Database, account_id: int) -> bool:
    """True when a local account follows ``account_id``."""
    return db.execute(
        "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.follower_id WHERE f.followee_id = ?"
        " AND f.state = 'accepted' AND a.domain IS NULL LIMIT 1", [account_id]).fetchone() \
        is not None


def can_see(db: Database, status: Status, viewer_id: int | None) -> bool:
    """Whether ``viewer_id`` (None: anonymous) may see ``status``."""
    if status.deleted_at is not None:
        return False
    if status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    if viewer_id is None:
        return False
    if viewer_id == status.account_id or is_mentioned(db, status.id, viewer_id):
        return True
    if status.visibility is Visibility.PRIVATE and is_network_for(db, status.id, viewer_id):
        return True  # a post for the network of places: every resident here may read it
    if status.visibility is Visibility.PRIVATE and \
            follows_accepted(db, viewer_id, status.account_id):
        return True
    return status.reblog_of_id is None and in_members_group(db, status.id, viewer_id)


def in_members_group(db: Database, status_id: int, viewer_id: int) -> bool:
    """True when a group the viewer is a member of announced the status (FEP-1b12): members
    see the group's posts, members-only ones too."""
    return db.execute(
        "SELECT 1 FROM statuses b JOIN follows f ON f.followee_id = b.account_id"
        " AND f.follower_id = ? AND f.state = 'accepted' JOIN accounts g ON g.id = b.account_id"
        " WHERE b.reblog_of_id = ? AND b.deleted_at IS NULL AND g.actor_type = 'Group'"
        " LIMIT 1", [viewer_id, status_id]).fetchone() is not None


# -- feeds and timelines -----------------------------------------------------------------------


def add_to_home_feeds(db: Database, status_id: int, account_ids: Iterable[int]) -> None:
    """Put a status in these local accounts' home feeds."""
    add_home_feed_rows(db, [(a, status_id) for a in dict.fromkeys(account_ids)])


def add_home_feed_rows(db: Database, rows: Iterable[tuple[int, int]]) -> None:
    """Put ``(account id, status id)`` rows in home feeds (best sorted: one leaf per feed)."""
    db.conn.executemany("INSERT OR IGNORE INTO home_feed (account_id, status_id) VALUES (?, ?)",
                        rows)


def remove_from_home_feed(db: Database, account_id: int, author_id: int) -> None:
    """Drop an author's statuses from one home feed (after an unfollow or a block)."""
    db.execute("DELETE FROM home_feed WHERE account_id = ? AND status_id IN"
               " (SELECT id FROM statuses WHERE account_id = ?)", [account_id, author_id])


def _page_ids(db: Database, sql: str, params: list[object], page: Page, column: str) -> list[int]:
    where, extra, order = page_clause(column, page)
    ids = [r[0] for r in db.execute(f"{sql} AND {where} ORDER BY {column} {order} LIMIT ?",
                                    [*params, *extra, min(page.limit, MAX_PAGE)])]
    return sorted(ids, reverse=True)


def home_timeline_ids(db: Database, account_id: int, page: Page) -> list[int]:
    """A page of an account's home feed, newest first."""
    return _page_ids(db, "SELECT status_id FROM home_feed WHERE account_id = ?", [account_id],
                     page, "status_id")


def public_timeline_ids(db: Database, page: Page, *, local: bool | None = None,
                        only_media: bool = False, include_local_only: bool = False) -> list[int]:
    """A page of the public timeline (``local``: True only ours, False only remote)."""
    sql = ("SELECT s.id FROM statuses s INDEXED BY idx_statuses_public WHERE"
           " s.visibility = 'public' AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL"
           + _public_conditions(local, only_media, include_local_only))
    return _page_ids(db, sql, [], page, "s.id")


def _public_conditions(local: bool | None, only_media: bool, include_local_only: bool) -> str:
    """The optional conditions shared by the public and hashtag timelines (on ``s``)."""
    sql = "" if local is None else f" AND s.local = {int(local)}"
    if only_media:
        sql += " AND s.has_media = 1"
    if not include_local_only:
        sql += " AND s.local_only = 0"
    # Silenced and suspended authors (themselves or by domain) stay out of public timelines.
    return sql + f" AND NOT {HIDDEN_AUTHOR}"


def tag_timeline_ids(db: Database, tag: str, page: Page, *, local: bool | None = None,
                     only_media: bool = False, include_local_only: bool = False) -> list[int]:
    """A page of public statuses carrying a hashtag."""
    sql = ("SELECT t.status_id FROM status_tags t JOIN statuses s ON s.id = t.status_id"
           " WHERE t.tag = ? AND s.visibility = 'public' AND s.deleted_at IS NULL"
           + _public_conditions(local, only_media, include_local_only))
    return _page_ids(db, sql, [tag], page, "t.status_id")


def account_status_ids(db: Database, account_id: int, viewer_id: int | None, page: Page, *,
                       exclude_replies: bool = False, exclude_reblogs: bool = False,
                       only_media: bool = False, pinned: bool = False, tagged: str | None = None,
                       include_local_only: bool = True) -> list[int]:
    """A page of an account's statuses that ``viewer_id`` may see."""
    sql = "SELECT s.id FROM statuses s WHERE s.account_id = ? AND s.deleted_at IS NULL"
    params: list[object] = [account_id]
    if viewer_id == account_id:
        pass
    elif viewer_id is None:
        sql += " AND s.visibility IN ('public', 'unlisted')"
    else:
        sql += (" AND (s.visibility IN ('public', 'unlisted') OR EXISTS (SELECT 1 FROM mentions"
                " m WHERE m.status_id = s.id AND m.account_id = ?) OR (s.visibility = 'private'"
                " AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ? AND"
                " f.followee_id = s.account_id AND f.state = 'accepted')))")
        params += [viewer_id, viewer_id]
    if exclude_replies:
        # Mastodon keeps self-replies (threads) when replies are excluded.
        sql += (" AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)"
                " AND (s.in_reply_to_uri IS NULL OR s.in_reply_to_id IS NOT NULL)")
    if exclude_reblogs:
        sql += " AND s.reblog_of_id IS NULL"
    if only_media:
        sql += " AND s.has_media = 1"
    if pinned:
        sql += " AND s.pinned_at IS NOT NULL"
    if tagged is not None:
        sql += " AND EXISTS (SELECT 1 FROM status_tags t WHERE t.status_id = s.id AND t.tag = ?)"
        params.append(tagged)
    if not include_local_only:
        sql += " AND s.local_only = 0"
    return _page_ids(db, sql, params, page, "s.id")


def context_ids(db: Database, status: Status) -> tuple[list[int], list[int]]:
    """Ancestors (oldest first) and descendants (in thread order) of a status, bounded."""
    ancestors: list[int] = []
    parent = status.in_reply_to_id
    seen = {status.id}
    while parent is not None and parent not in seen and len(ancestors) < CONTEXT_LIMIT:
        seen.add(parent)
        row = db.execute("SELECT id, in_reply_to_id FROM statuses WHERE id = ?",
                         [parent]).fetchone()
        if row is None:
            break
        ancestors.append(row["id"])
        parent = row["in_reply_to_id"]
    ancestors.reverse()
    descendants = [r[0] for r in db.execute(
        "WITH RECURSIVE thread(id, path) AS ("
        " SELECT id, printf('%020d', id) FROM statuses WHERE in_reply_to_id = ?"
        " UNION ALL SELECT s.id, thread.path || '/' || printf('%020d', s.id) FROM statuses s"
        " JOIN thread ON s.in_reply_to_id = thread.id)"
        " SELECT id FROM thread ORDER BY path LIMIT ?", [status.id, CONTEXT_LIMIT])]
    return ancestors, descendants


# -- interactions ------------------------------------------------------------------------------


def put_favourite(db: Database, account_id: int, status_id: int, uri: str | None,
                  now: datetime) -> bool:
    """Favourite a status; False when it already was."""
    cursor = db.execute("INSERT OR IGNORE INTO favourites (account_id, status_id, uri,"
                        " created_at) VALUES (?, ?, ?, ?)",
                        [account_id, status_id, uri, now.isoformat()])
    if cursor.rowcount:
        db.execute("UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = ?",
                   [status_id])
    return cursor.rowcount > 0


def get_favourite_uri(db: Database, account_id: int, status_id: int) -> str | None:
    """The Like activity id of a favourite (None when not favourited)."""
    row = db.execute("SELECT uri FROM favourites WHERE account_id = ? AND status_id = ?",
                     [account_id, status_id]).fetchone()
    return None if row is None else str(row[0])


def get_favourite_by_uri(db: Database, uri: str) -> tuple[int, int] | None:
    """(account id, status id) of the favourite made by this Like activity."""
    row = db.execute("SELECT account_id, status_id FROM favourites WHERE uri = ?",
                     [uri]).fetchone()
    return None if row is None else (row[0], row[1])


def delete_favourite(db: Database, account_id: int, status_id: int) -> bool:
    """Remove a favourite; False when there was none."""
    cursor = db.execute("DELETE FROM favourites WHERE account_id = ? AND status_id = ?",
                        [account_id, status_id])
    if cursor.rowcount:
        db.execute("UPDATE statuses SET favourites_count = max(0, favourites_count - 1)"
                   " WHERE id = ?", [status_id])
        db.execute("DELETE FROM notifications WHERE from_account_id = ? AND status_id = ? AND"
                   " type = 'favourite'", [account_id, status_id])
    return cursor.rowcount > 0


def put_bookmark(db: Database, account_id: int, status_id: int, now: datetime) -> None:
    """Bookmark a status (idempotent)."""
    db.execute("INSERT OR IGNORE INTO bookmarks (account_id, status_id, created_at)"
               " VALUES (?, ?, ?)", [account_id, status_id, now.isoformat()])


def delete_bookmark(db: Database, account_id: int, status_id: int) -> None:
    """Remove a bookmark (idempotent)."""
    db.execute("DELETE FROM bookmarks WHERE account_id = ? AND status_id = ?",
               [account_id, status_id])


def bookmark_ids(db: Database, account_id: int, page: Page) -> list[tuple[int, int]]:
    """(bookmark id, status id) pairs, newest bookmark first."""
    return _pairs(db, "SELECT id, status_id FROM bookmarks WHERE account_id = ?", account_id,
                  page)


def favourite_ids(db: Database, account_id: int, page: Page) -> list[tuple[int, int]]:
    """(favourite id, status id) pairs, newest favourite first."""
    return _pairs(db, "SELECT id, status_id FROM favourites WHERE account_id = ?", account_id,
                  page)


def _pairs(db: Database, sql: str, account_id: int, page: Page) -> list[tuple[int, int]]:
    where, extra, order = page_clause("id", page)
    rows = db.execute(f"{sql} AND {where} ORDER BY id {order} LIMIT ?",
                      [account_id, *extra, min(page.limit, MAX_PAGE)]).fetchall()
    return sorted(((r[0], r[1]) for r in rows), reverse=True)


def favourited_by_ids(db: Database, status_id: int, page: Page) -> list[tuple[int, int]]:
    """(favourite id, account id) pairs of who favourited a status."""
    where, extra, order = page_clause("id", page)
    rows = db.execute(f"SELECT id, account_id FROM favourites WHERE status_id = ? AND {where}"
                      f" ORDER BY id {order} LIMIT ?",
                      [status_id, *extra, min(page.limit, 80)]).fetchall()
    return sorted(((r[0], r[1]) for r in rows), reverse=True)


def reblogged_by_ids(db: Database, status_id: int, page: Page) -> list[tuple[int, int]]:
    """(boost id, account id) pairs of who boosted a status."""
    where, extra, order = page_clause("id", page)
    rows = db.execute(f"SELECT id, account_id FROM statuses WHERE reblog_of_id = ? AND"
                      f" deleted_at IS NULL AND {where} ORDER BY id {order} LIMIT ?",
                      [status_id, *extra, min(page.limit, 80)]).fetchall()
    return sorted(((r[0], r[1]) for r in rows), reverse=True)


def put_notification(db: Database, *, account_id: int, from_account_id: int, kind: str,
                     status_id: int | None, now: datetime) -> int | None:
    """Notify a local account; None when the same notification already exists."""
    row = db.execute(
        "INSERT OR IGNORE INTO notifications (account_id, from_account_id, type, status_id,"
        " created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        [account_id, from_account_id, kind, status_id, now.isoformat()]).fetchone()
    return None if row is None else int(row[0])


def get_idempotent_status(db: Database, account_id: int, key: str) -> int | None:
    """The status already created with this Idempotency-Key."""
    row = db.execute("SELECT status_id FROM idempotency_keys WHERE account_id = ? AND key = ?",
                     [account_id, key]).fetchone()
    return None if row is None else int(row[0])


def put_idempotency_key(db: Database, account_id: int, key: str, status_id: int,
                        now: datetime) -> None:
    """Remember which status a client's Idempotency-Key created."""
    db.execute("INSERT OR REPLACE INTO idempotency_keys (account_id, key, status_id, created_at)"
               " VALUES (?, ?, ?, ?)", [account_id, key, status_id, now.isoformat()])


# -- what a reader sees ------------------------------------------------------------------------


def _flags(db: Database, table: str, viewer_id: int, ids: list[int]) -> set[int]:
    return {r[0] for r in db.execute(
        f"SELECT status_id FROM {table} WHERE account_id = ? AND status_id IN ({_marks(ids)})",
        [viewer_id, *ids])}


def load_views(db: Database, ids: Sequence[int], viewer_id: int | None) -> list[StatusView]:
    """Statuses as ``viewer_id`` sees them, in the order of ``ids`` (missing ones left out),
    in a handful of queries whatever the page size."""
    statuses = get_statuses(db, ids)
    inner_ids = [s.reblog_of_id for s in statuses.values() if s.reblog_of_id is not None]
    inner = get_statuses(db, inner_ids) if inner_ids else {}
    every = {**statuses, **inner}
    all_ids = list(every)
    if not all_ids:
        return []
    mentions: dict[int, list[int]] = {}
    tags: dict[int, list[str]] = {}
    marks = _marks(all_ids)
    for r in db.execute(f"SELECT status_id, account_id FROM mentions WHERE status_id IN"
                        f" ({marks})", all_ids):
        mentions.setdefault(r[0], []).append(r[1])
    for r in db.execute(f"SELECT status_id, tag FROM status_tags WHERE status_id IN ({marks})",
                        all_ids):
        tags.setdefault(r[0], []).append(r[1])
    account_ids = [s.account_id for s in every.values()]
    account_ids += [a for ids_ in mentions.values() for a in ids_]
    account_ids += [s.in_reply_to_account_id for s in every.values()
                    if s.in_reply_to_account_id is not None]
    accounts = get_accounts_by_ids(db, account_ids)
    media = list_media_for_statuses(db, all_ids)
    polls = load_polls(db, all_ids, viewer_id)
    ressentis = ressentis_for(db, all_ids)
    favourited: set[int] = set()
    reblogged: set[int] = set()
    bookmarked: set[int] = set()
    if viewer_id is not None:
        favourited = _flags(db, "favourites", viewer_id, all_ids)
        bookmarked = _flags(db, "bookmarks", viewer_id, all_ids)
        reblogged = {r[0] for r in db.execute(
            f"SELECT reblog_of_id FROM statuses WHERE account_id = ? AND deleted_at IS NULL AND"
            f" reblog_of_id IN ({marks})", [viewer_id, *all_ids])}

    def view(status: Status, reblog: StatusView | None) -> StatusView | None:
        author = accounts.get(status.account_id)
        if author is None:
            return None
        return StatusView(
            status=status, account=author,
            mentions=tuple(accounts[a] for a in mentions.get(status.id, ()) if a in accounts),
            tags=tuple(tags.get(status.id, ())), media=tuple(media.get(status.id, ())),
            reblog=reblog,
            in_reply_to_account=None if status.in_reply_to_account_id is None
            else accounts.get(status.in_reply_to_account_id),
            favourited=status.id in favourited, reblogged=status.id in reblogged,
            bookmarked=status.id in bookmarked, ressenti=ressentis.get(status.id),
            poll=polls.get(status.id))

    out: list[StatusView] = []
    for status_id in ids:
        status = statuses.get(status_id)
        if status is None:
            continue
        reblog = None
        if status.reblog_of_id is not None:
            target = inner.get(status.reblog_of_id)
            if target is None or target.deleted_at is not None:
                continue
            reblog = view(target, None)
            if reblog is None:
                continue
        built = view(status, reblog)
        if built is not None:
            out.append(built)
    return out



def search_tags(db: Database, prefix: str, limit: int, offset: int = 0) -> list[str]:
    """Known hashtags starting with ``prefix`` (already normalised), most used first."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [r[0] for r in db.execute(
        "SELECT tag FROM status_tags WHERE tag LIKE ? ESCAPE '\\' GROUP BY tag"
        " ORDER BY tag = ? DESC, count(*) DESC, tag LIMIT ? OFFSET ?",
        [f"{escaped}%", prefix, limit, offset])]


def get_status_by_url(db: Database, url: str) -> Status | None:
    """A status by its ActivityPub id or its HTML page's URL."""
    row = db.execute(f"SELECT {_COLUMNS} FROM statuses WHERE uri = ? OR url = ? LIMIT 1",
                     [url, url]).fetchone()
    return None if row is None else _status(row)


def purge_account_content(db: Database, account_id: int, now: datetime) -> list[int]:
    """A remote actor was deleted: tombstone its statuses and boosts, drop its favourites,
    follows and notifications; returns the status ids removed (for streaming)."""
    ids = [r[0] for r in db.execute(
        "SELECT id FROM statuses WHERE account_id = ? AND deleted_at IS NULL", [account_id])]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = _marks(chunk)
        db.execute(f"UPDATE statuses SET deleted_at = ?, content = '', source_text = NULL"
                   f" WHERE id IN ({marks})", [now.isoformat(), *chunk])
        db.execute(f"DELETE FROM home_feed WHERE status_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM bookmarks WHERE status_id IN ({marks})", chunk)
    favourited = [r[0] for r in db.execute(
        "DELETE FROM favourites WHERE account_id = ? RETURNING status_id", [account_id])]
    for status_id in favourited:
        db.execute("UPDATE statuses SET favourites_count = max(0, favourites_count - 1)"
                   " WHERE id = ?", [status_id])
    db.execute("UPDATE statuses SET reblogs_count = (SELECT count(*) FROM statuses b WHERE"
               " b.reblog_of_id = statuses.id AND b.deleted_at IS NULL) WHERE id IN (SELECT"
               " reblog_of_id FROM statuses WHERE account_id = ? AND reblog_of_id IS NOT NULL)",
               [account_id])
    db.execute("DELETE FROM notifications WHERE from_account_id = ?", [account_id])
    db.execute("DELETE FROM follows WHERE follower_id = ? OR followee_id = ?",
               [account_id, account_id])
    return ids


def local_subscriber_ids(db: Database, account_id: int) -> list[int]:
    """Local followers who asked to be notified of each post (``notify=true``)."""
    return [r[0] for r in db.execute(
        "SELECT f.follower_id FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = ? AND f.state = 'accepted' AND f.notify = 1"
        " AND a.domain IS NULL", [account_id])]
