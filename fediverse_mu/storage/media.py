"""The ``media_attachments`` table: residents' uploads (waiting for a status, then attached to
one) and the media of remote posts, referenced by URL. Files themselves are written and
removed by ``services.media``; this module only keeps their records."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from fediverse_mu.domain.errors import Invalid
from fediverse_mu.domain.media import MAX_ATTACHMENTS, Media, MediaType, RemoteMedia
from fediverse_mu.storage.db import Database

_COLUMNS = ("id, account_id, status_id, position, type, file_name, thumbnail_name, mime_type,"
            " thumbnail_mime_type, width, height, thumbnail_width, thumbnail_height, size,"
            " blurhash, description, focus_x, focus_y, remote_url, created_at")


def _media(row: sqlite3.Row) -> Media:
    return Media(
        id=row["id"], account_id=row["account_id"], status_id=row["status_id"],
        position=row["position"] or 0, type=MediaType(row["type"]),
        file_name=row["file_name"], thumbnail_name=row["thumbnail_name"],
        mime_type=row["mime_type"], thumbnail_mime_type=row["thumbnail_mime_type"],
        width=row["width"], height=row["height"], thumbnail_width=row["thumbnail_width"],
        thumbnail_height=row["thumbnail_height"], size=row["size"], blurhash=row["blurhash"],
        description=row["description"], focus_x=row["focus_x"], focus_y=row["focus_y"],
        remote_url=row["remote_url"], created_at=datetime.fromisoformat(row["created_at"]),
    )


def put_media(db: Database, *, account_id: int, type: MediaType, file_name: str,
              mime_type: str, width: int, height: int, size: int, thumbnail_name: str,
              thumbnail_mime_type: str, thumbnail_width: int, thumbnail_height: int,
              blurhash: str | None, description: str, focus_x: float, focus_y: float,
              created_at: datetime) -> Media:
    """Record a resident's upload (not attached to any status yet)."""
    cursor = db.execute(
        "INSERT INTO media_attachments (account_id, type, file_name, mime_type, width, height,"
        " size, thumbnail_name, thumbnail_mime_type, thumbnail_width, thumbnail_height,"
        " blurhash, description, focus_x, focus_y, created_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        [account_id, type.value, file_name, mime_type, width, height, size, thumbnail_name,
         thumbnail_mime_type, thumbnail_width, thumbnail_height, blurhash, description,
         focus_x, focus_y, created_at.isoformat()],
    )
    return _media(cursor.fetchone())


def put_remote_media(db: Database, status_id: int, account_id: int, remote: RemoteMedia,
                     *, created_at: datetime | None = None) -> Media:
    """Record a remote post's attachment (by URL: nothing is downloaded), after the ones the
    status already has."""
    row = db.execute("SELECT coalesce(max(position) + 1, 0) FROM media_attachments"
                     " WHERE status_id = ?", [status_id]).fetchone()
    cursor = db.execute(
        "INSERT INTO media_attachments (account_id, status_id, position, type, mime_type,"
        " width, height, blurhash, description, focus_x, focus_y, remote_url, created_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        [account_id, status_id, row[0], remote.type.value, remote.mime_type, remote.width,
         remote.height, remote.blurhash, remote.description, remote.focus_x, remote.focus_y,
         remote.url, (created_at or datetime.now(UTC)).isoformat()],
    )
    return _media(cursor.fetchone())


def get_media(db: Database, media_id: int) -> Media | None:
    """An attachment by id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM media_attachments WHERE id = ?",
                     [media_id]).fetchone()
    return None if row is None else _media(row)


def get_media_by_file_name(db: Database, name: str) -> Media | None:
    """The attachment a stored file (full size or preview) belongs to."""
    row = db.execute(f"SELECT {_COLUMNS} FROM media_attachments WHERE file_name = ?"
                     f" UNION ALL SELECT {_COLUMNS} FROM media_attachments"
                     " WHERE thumbnail_name = ? LIMIT 1", [name, name]).fetchone()
    return None if row is None else _media(row)


def update_media(db: Database, media_id: int, *, description: str, focus_x: float,
                 focus_y: float) -> Media:
    """Change an attachment's alt text and focal point."""
    cursor = db.execute(
        "UPDATE media_attachments SET description = ?, focus_x = ?, focus_y = ? WHERE id = ?"
        f" RETURNING {_COLUMNS}", [description, focus_x, focus_y, media_id])
    return _media(cursor.fetchone())


def delete_unattached_media(db: Database, media_id: int) -> bool:
    """Forget an upload's record unless a status holds it (the caller removes its files);
    True when it was deleted."""
    cursor = db.execute("DELETE FROM media_attachments WHERE id = ? AND status_id IS NULL"
                        " AND profile_image IS NULL AND scheduled_status_id IS NULL",
                        [media_id])
    return cursor.rowcount == 1


def delete_media_of_status(db: Database, status_id: int) -> list[Media]:
    """Forget every attachment of a status (before the status row goes); returns them so the
    caller can remove their files."""
    cursor = db.execute(f"DELETE FROM media_attachments WHERE status_id = ? RETURNING {_COLUMNS}",
                        [status_id])
    return [_media(row) for row in cursor.fetchall()]


def attach_media(db: Database, account_id: int, media_ids: list[int],
                 status_id: int) -> list[Media]:
    """Attach a resident's uploads to their status, in the order given (an id listed twice
    counts once, as in Mastodon). Raises Invalid, changing nothing, when there are more than
    MAX_ATTACHMENTS or an id is unknown, someone else's, or attached to another status."""
    ordered = list(dict.fromkeys(media_ids))
    if len(ordered) > MAX_ATTACHMENTS:
        raise Invalid(f"Cannot attach more than {MAX_ATTACHMENTS} files")
    if not ordered:
        return []
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM media_attachments WHERE id IN (SELECT value FROM json_each(?))"
        " AND profile_image IS NULL", [json.dumps(ordered)]).fetchall()
    found = {row["id"]: _media(row) for row in rows}
    refused = [media_id for media_id in ordered
               if media_id not in found or found[media_id].account_id != account_id
               or found[media_id].file_name is None
               or found[media_id].status_id not in (None, status_id)]
    if refused:
        raise Invalid("Unknown or unavailable media ids: "
                      + ", ".join(str(media_id) for media_id in refused))
    attached = []
    for position, media_id in enumerate(ordered):
        cursor = db.execute(
            "UPDATE media_attachments SET status_id = ?, position = ? WHERE id = ?"
            f" RETURNING {_COLUMNS}", [status_id, position, media_id])
        attached.append(_media(cursor.fetchone()))
    return attached


def list_media_for_statuses(db: Database, status_ids: list[int]) -> dict[int, list[Media]]:
    """The attachments of each status, in order (every id asked for is a key)."""
    found: dict[int, list[Media]] = {status_id: [] for status_id in status_ids}
    if not status_ids:
        return found
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM media_attachments"
        " WHERE status_id IN (SELECT value FROM json_each(?)) ORDER BY status_id, position, id",
        [json.dumps(list(found))]).fetchall()
    for row in rows:
        found[row["status_id"]].append(_media(row))
    return found


def delete_unattached_before(db: Database, cutoff: datetime) -> list[Media]:
    """Forget the uploads never attached to a status and created before ``cutoff``; returns
    them so the caller can remove their files."""
    cursor = db.execute(f"DELETE FROM media_attachments WHERE status_id IS NULL"
                        f" AND file_name IS NOT NULL AND created_at < ?"
                        f" AND profile_image IS NULL AND scheduled_status_id IS NULL"
                        f" RETURNING {_COLUMNS}",
                        [cutoff.isoformat()])
    return [_media(row) for row in cursor.fetchall()]


def detach_media_of_status(db: Database, status_id: int, now: datetime) -> int:
    """A local status was deleted: its uploads become unattached again (a client's "delete
    and redraft" re-uses them; unused ones are purged with the other stale uploads)."""
    cursor = db.execute("UPDATE media_attachments SET status_id = NULL, created_at = ?"
                        " WHERE status_id = ? AND file_name IS NOT NULL",
                        [now.isoformat(), status_id])
    db.execute("DELETE FROM media_attachments WHERE status_id = ? AND file_name IS NULL",
               [status_id])
    return cursor.rowcount


def put_profile_image(db: Database, media_id: int, account_id: int, kind: str) -> list[Media]:
    """Make an upload the account's avatar (``kind`` "avatar") or header ("header"): it is
    then never attached nor purged. The one it replaces is forgotten and returned (the
    caller removes its files)."""
    replaced = db.execute(
        f"DELETE FROM media_attachments WHERE account_id = ? AND profile_image = ? AND id != ?"
        f" RETURNING {_COLUMNS}", [account_id, kind, media_id]).fetchall()
    db.execute("UPDATE media_attachments SET profile_image = ? WHERE id = ? AND account_id = ?",
               [kind, media_id, account_id])
    return [_media(row) for row in replaced]


def reserve_for_scheduled(db: Database, account_id: int, media_ids: list[int],
                          scheduled_id: int | None) -> None:
    """Keep (``scheduled_id``) or release (None) a resident's unattached uploads for a
    scheduled status, so the purge of stale uploads leaves them alone meanwhile."""
    db.execute("UPDATE media_attachments SET scheduled_status_id = ? WHERE account_id = ?"
               " AND status_id IS NULL AND profile_image IS NULL"
               " AND id IN (SELECT value FROM json_each(?))",
               [scheduled_id, account_id, json.dumps(media_ids)])
