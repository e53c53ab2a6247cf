"""Pruning old remote statuses that no local account interacted with, and the incoming
activities processed long ago, a batch at a time (each batch is one short write transaction).

A remote status older than the cutoff is **kept** when a local account favourited,
bookmarked, boosted or replied to it, when it mentions a local account or replies to one, when
it belongs to a thread with a local post (it is an ancestor of a local post, a reply below one
of those, or shares a ``conversation`` with a local post), when it is pinned, in a local
group, cited by a report, in a poll a resident voted in, the last message of a resident's
conversation, or named by a resident's filter. A status boosted by a status that is kept is
kept too; the boosts of a pruned status (remote and as old, by construction) go with it.

Removing a status takes its home and list feed rows, notifications, mentions, tags, edits,
media rows (remote media are URLs, never downloaded: there are no files), poll and votes,
remote favourites, ressenti and network-of-places row; replies that stay lose their
``in_reply_to_id`` (not their ``in_reply_to_uri``), the counters of the statuses that stay
are lowered, a deleted one leaves its tombstone, and the account counters follow through the
triggers of ``migrations/0009``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.media import Media
from fediverse_mu.domain.retention import PruneCounts
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.media import _COLUMNS as _MEDIA_COLUMNS
from fediverse_mu.storage.media import _media

# The statuses of the threads residents wrote in: every ancestor of a local post, then every
# reply below those ancestors and below local posts (a resident's whole conversation stays).
_THREADS = (
    "WITH RECURSIVE up(id) AS ("
    " SELECT in_reply_to_id FROM statuses WHERE local = 1 AND in_reply_to_id IS NOT NULL"
    " UNION SELECT p.in_reply_to_id FROM statuses p JOIN up ON p.id = up.id"
    " WHERE p.in_reply_to_id IS NOT NULL),"
    " thread(id) AS (SELECT id FROM up UNION SELECT id FROM statuses WHERE local = 1"
    " UNION SELECT r.id FROM statuses r JOIN thread ON r.in_reply_to_id = thread.id)")


def _kept(s: str) -> str:
    """True when a local account has a reason to keep status ``s`` (see the module doc);
    never NULL (a NULL would make ``NOT`` drop the row as if kept)."""
    return (
        f"coalesce({s}.pinned_at IS NOT NULL"
        f" OR {s}.id IN (SELECT status_id FROM bookmarks)"
        f" OR EXISTS (SELECT 1 FROM favourites f JOIN accounts fa ON fa.id = f.account_id"
        f"  WHERE f.status_id = {s}.id AND fa.domain IS NULL)"
        f" OR EXISTS (SELECT 1 FROM mentions m JOIN accounts ma ON ma.id = m.account_id"
        f"  WHERE m.status_id = {s}.id AND ma.domain IS NULL)"
        f" OR ({s}.in_reply_to_account_id IS NOT NULL AND {s}.in_reply_to_account_id IN"
        f"  (SELECT id FROM accounts WHERE domain IS NULL))"
        f" OR {s}.id IN (SELECT id FROM thread)"
        f" OR ({s}.conversation_uri IS NOT NULL AND {s}.conversation_uri IN"
        f"  (SELECT conversation_uri FROM statuses WHERE local = 1"
        f"  AND conversation_uri IS NOT NULL))"
        f" OR {s}.id IN (SELECT status_id FROM group_posts)"
        f" OR {s}.id IN (SELECT j.value FROM reports r, json_each(r.status_ids) j)"
        f" OR {s}.id IN (SELECT v.status_id FROM poll_votes v JOIN accounts va"
        f"  ON va.id = v.account_id WHERE va.domain IS NULL)"
        f" OR {s}.id IN (SELECT last_status_id FROM conversations)"
        f" OR {s}.id IN (SELECT status_id FROM filter_statuses), 1)")


_CANDIDATES = (
    f"{_THREADS} SELECT s.id FROM statuses s WHERE s.local = 0 AND s.id > ? AND s.id < ?"
    f" AND NOT {_kept('s')}"
    # A boost that stays (a resident's, a recent one, or one kept for itself) keeps its
    # original: a boost without its status would show nothing.
    f" AND NOT EXISTS (SELECT 1 FROM statuses b WHERE b.reblog_of_id = s.id"
    f"  AND (b.local = 1 OR b.id >= ? OR {_kept('b')}))"
    " ORDER BY s.id LIMIT ?")

_IN = "IN (SELECT value FROM json_each(?))"


def prunable_status_ids(db: Database, *, before_id: int, after_id: int,
                        limit: int) -> list[int]:
    """Up to ``limit`` remote statuses with ids in ``(after_id, before_id)`` nobody here needs,
    oldest first (``after_id`` moves past those kept, so a run reads each row once)."""
    return [r[0] for r in db.execute(_CANDIDATES, [after_id, before_id, before_id, limit])]


def _count(db: Database, sql: str, ids: str) -> int:
    return int(db.execute(sql, [ids]).fetchone()[0])


def count_status_rows(db: Database, status_ids: Sequence[int]) -> PruneCounts:
    """What removing ``status_ids`` would remove (their boosts are counted on their own:
    they are prunable too)."""
    ids = json.dumps(list(status_ids))
    return PruneCounts(
        statuses=len(status_ids),
        feed_rows=_count(db, f"SELECT count(*) FROM home_feed WHERE status_id {_IN}", ids)
        + _count(db, f"SELECT count(*) FROM list_feed WHERE status_id {_IN}", ids),
        notifications=_count(db, f"SELECT count(*) FROM notifications WHERE status_id {_IN}",
                             ids),
        mentions=_count(db, f"SELECT count(*) FROM mentions WHERE status_id {_IN}", ids),
        tags=_count(db, f"SELECT count(*) FROM status_tags WHERE status_id {_IN}", ids),
        edits=_count(db, f"SELECT count(*) FROM status_edits WHERE status_id {_IN}", ids),
        media=_count(db, f"SELECT count(*) FROM media_attachments WHERE status_id {_IN}", ids),
        polls=_count(db, f"SELECT count(*) FROM polls WHERE status_id {_IN}", ids),
        favourites=_count(db, f"SELECT count(*) FROM favourites WHERE status_id {_IN}", ids))


def _once(sql: str) -> str:
    """``sql`` with every ``?`` naming the same (first) parameter."""
    return sql.replace("?", "?1")


def _deleted(db: Database, sql: str, ids: str) -> int:
    return db.execute(sql, [ids]).rowcount


def delete_statuses(db: Database, status_ids: Sequence[int]) -> tuple[PruneCounts, list[Media]]:
    """Remove remote statuses, their boosts and everything hanging off them (see the module
    doc); returns the counts and the media rows removed (remote ones have no file)."""
    boosts = [r[0] for r in db.execute(
        f"SELECT id FROM statuses WHERE reblog_of_id {_IN} AND local = 0",
        [json.dumps(list(status_ids))])]
    every = list(dict.fromkeys([*status_ids, *boosts]))
    if not every:
        return PruneCounts(), []
    ids = json.dumps(every)
    # The statuses that stay: their reply and boost counters, and replies pointing here.
    db.execute(
        _once(f"UPDATE statuses SET replies_count = max(0, replies_count - (SELECT count(*)"
        f" FROM statuses g WHERE g.in_reply_to_id = statuses.id AND g.id {_IN}"
        f" AND g.deleted_at IS NULL)) WHERE id IN (SELECT in_reply_to_id FROM statuses"
        f" WHERE id {_IN}) AND id NOT {_IN}"), [ids])
    db.execute(
        _once(f"UPDATE statuses SET reblogs_count = max(0, reblogs_count - (SELECT count(*)"
        f" FROM statuses g WHERE g.reblog_of_id = statuses.id AND g.id {_IN}"
        f" AND g.deleted_at IS NULL)) WHERE id IN (SELECT reblog_of_id FROM statuses"
        f" WHERE id {_IN}) AND id NOT {_IN}"), [ids])
    db.execute(_once(f"UPDATE statuses SET in_reply_to_id = NULL WHERE in_reply_to_id {_IN}"
                     f" AND id NOT {_IN}"), [ids])
    # A Delete that arrives late must still find its tombstone.
    db.execute(f"INSERT OR IGNORE INTO tombstones (uri, deleted_at) SELECT uri, deleted_at"
               f" FROM statuses WHERE id {_IN} AND deleted_at IS NOT NULL", [ids])
    media_rows = [_media(r) for r in db.execute(
        f"DELETE FROM media_attachments WHERE status_id {_IN} RETURNING {_MEDIA_COLUMNS}",
        [ids]).fetchall()]
    feed = _deleted(db, f"DELETE FROM home_feed WHERE status_id {_IN}", ids)
    feed += _deleted(db, f"DELETE FROM list_feed WHERE status_id {_IN}", ids)
    notified = _deleted(db, f"DELETE FROM notifications WHERE status_id {_IN}", ids)
    mentions = _deleted(db, f"DELETE FROM mentions WHERE status_id {_IN}", ids)
    tags = _deleted(db, f"DELETE FROM status_tags WHERE status_id {_IN}", ids)
    edits = _deleted(db, f"DELETE FROM status_edits WHERE status_id {_IN}", ids)
    _deleted(db, f"DELETE FROM poll_votes WHERE status_id {_IN}", ids)
    polls = _deleted(db, f"DELETE FROM polls WHERE status_id {_IN}", ids)
    favourites = _deleted(db, f"DELETE FROM favourites WHERE status_id {_IN}", ids)
    _deleted(db, f"DELETE FROM ressentis WHERE status_id {_IN}", ids)
    _deleted(db, f"DELETE FROM network_statuses WHERE status_id {_IN}", ids)
    removed = _deleted(db, f"DELETE FROM statuses WHERE id {_IN}", ids)
    return PruneCounts(statuses=removed, feed_rows=feed, notifications=notified,
                       mentions=mentions, tags=tags, edits=edits, media=len(media_rows),
                       polls=polls, favourites=favourites), media_rows


def prunable_inbox_item_ids(db: Database, *, received_before: datetime, after_id: int,
                            limit: int) -> list[int]:
    """Up to ``limit`` incoming activities processed and received before the cutoff."""
    return [r[0] for r in db.execute(
        "SELECT id FROM inbox_items WHERE id > ? AND processed_at IS NOT NULL"
        " AND received_at < ? ORDER BY id LIMIT ?",
        [after_id, received_before.isoformat(), limit])]


def delete_inbox_items(db: Database, item_ids: Sequence[int]) -> int:
    """Forget some processed incoming activities."""
    return _deleted(db, f"DELETE FROM inbox_items WHERE id {_IN} AND processed_at IS NOT NULL",
                    json.dumps(list(item_ids)))


def count_unattached_media(db: Database, cutoff: datetime) -> int:
    """How many uploads ``storage.media.delete_unattached_before`` would remove."""
    return int(db.execute(
        "SELECT count(*) FROM media_attachments WHERE status_id IS NULL"
        " AND file_name IS NOT NULL AND created_at < ? AND profile_image IS NULL"
        " AND scheduled_status_id IS NULL", [cutoff.isoformat()]).fetchone()[0])


def free_bytes(db: Database) -> int:
    """Bytes of the database file on its free list (reused by later writes; VACUUM gives
    them back to the disk)."""
    pages = int(db.execute("PRAGMA freelist_count").fetchone()[0])
    return pages * int(db.execute("PRAGMA page_size").fetchone()[0])
