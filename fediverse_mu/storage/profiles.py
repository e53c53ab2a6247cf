"""A resident's own settings, on ``accounts`` (profile fields, the note's plain-text source,
display name, flags) and ``users`` (posting defaults), and the ``markers`` table."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from fediverse_mu.domain.profiles import (
    Marker,
    PostingDefaults,
    Profile,
    ProfileField,
    Timeline,
)
from fediverse_mu.domain.statuses import Visibility
from fediverse_mu.storage.db import Database


def _fields(text: str | None) -> tuple[ProfileField, ...]:
    try:
        raw = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(raw, list):
        return ()
    return tuple(ProfileField(str(f.get("name", "")), str(f.get("value", "")))
                 for f in raw if isinstance(f, dict))


def get_fields(db: Database, account_ids: list[int]) -> dict[int, tuple[ProfileField, ...]]:
    """The profile fields of several accounts (accounts without fields are left out)."""
    found: dict[int, tuple[ProfileField, ...]] = {}
    unique = list(dict.fromkeys(account_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        for row in db.execute("SELECT id, fields FROM accounts WHERE fields != '[]' AND id IN"
                              f" ({','.join('?' * len(chunk))})", chunk):
            fields = _fields(row[1])
            if fields:
                found[row[0]] = fields
    return found


def get_profile(db: Database, account_id: int) -> Profile | None:
    """The editable side of a local account (None for remote or unknown accounts)."""
    row = db.execute(
        "SELECT a.id, a.note, a.note_source, a.fields, u.default_privacy, u.default_sensitive,"
        " u.default_language FROM accounts a JOIN users u ON u.account_id = a.id"
        " WHERE a.id = ? AND a.domain IS NULL", [account_id]).fetchone()
    if row is None:
        return None
    return Profile(
        account_id=row["id"],
        note_source=row["note_source"] if row["note_source"] is not None else "",
        fields=_fields(row["fields"]),
        defaults=PostingDefaults(privacy=Visibility(row["default_privacy"]),
                                 sensitive=bool(row["default_sensitive"]),
                                 language=row["default_language"]))


def update_account_profile(db: Database, account_id: int, *, display_name: str, note: str,
                           note_source: str, locked: bool, bot: bool, discoverable: bool,
                           fields: tuple[ProfileField, ...], now: datetime) -> None:
    """Write the public side of a local profile (the note both as HTML and as typed)."""
    db.execute(
        "UPDATE accounts SET display_name = ?, note = ?, note_source = ?, locked = ?, bot = ?,"
        " discoverable = ?, fields = ?, updated_at = ? WHERE id = ? AND domain IS NULL",
        [display_name, note, note_source, int(locked), int(bot), int(discoverable),
         json.dumps([{"name": f.name, "value": f.value} for f in fields], ensure_ascii=False),
         now.isoformat(), account_id])


def update_posting_defaults(db: Database, account_id: int, defaults: PostingDefaults) -> None:
    """Write a resident's posting defaults."""
    db.execute("UPDATE users SET default_privacy = ?, default_sensitive = ?,"
               " default_language = ? WHERE account_id = ?",
               [defaults.privacy.value, int(defaults.sensitive), defaults.language, account_id])


# -- markers -----------------------------------------------------------------------------------

def _marker(row: sqlite3.Row) -> Marker:
    return Marker(timeline=Timeline(row["timeline"]), last_read_id=row["last_read_id"],
                  version=row["version"], updated_at=datetime.fromisoformat(row["updated_at"]))


def get_markers(db: Database, user_id: int, timelines: list[Timeline]) -> list[Marker]:
    """A user's saved positions in the given timelines (those never saved are left out)."""
    if not timelines:
        return []
    marks = ",".join("?" * len(timelines))
    return [_marker(r) for r in db.execute(
        "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE user_id = ?"
        f" AND timeline IN ({marks}) ORDER BY timeline",
        [user_id, *(t.value for t in timelines)])]


def put_marker(db: Database, user_id: int, timeline: Timeline, last_read_id: str,
               now: datetime) -> Marker:
    """Save a position; the version grows by one on every save."""
    row = db.execute(
        "INSERT INTO markers (user_id, timeline, last_read_id, version, updated_at)"
        " VALUES (?, ?, ?, 1, ?) ON CONFLICT (user_id, timeline) DO UPDATE SET"
        " last_read_id = excluded.last_read_id, version = markers.version + 1,"
        " updated_at = excluded.updated_at"
        " RETURNING timeline, last_read_id, version, updated_at",
        [user_id, timeline.value, last_read_id, now.isoformat()]).fetchone()
    return _marker(row)
