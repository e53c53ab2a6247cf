"""The ``invites`` table: invite links (code, expiry, number of uses, revocation)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.invites import Invite
from fediverse_mu.storage.db import Database

_COLUMNS = "id, code, created_by, created_at, expires_at, max_uses, uses, revoked_at"


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _invite(row: sqlite3.Row) -> Invite:
    return Invite(
        id=row["id"], code=row["code"], created_by=row["created_by"],
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=_when(row["expires_at"]), max_uses=row["max_uses"], uses=row["uses"],
        revoked_at=_when(row["revoked_at"]),
    )


def put_invite(db: Database, *, code: str, created_by: int | None, created_at: datetime,
               expires_at: datetime | None, max_uses: int | None) -> Invite:
    """Insert a new invite."""
    row = db.execute(
        "INSERT INTO invites (code, created_by, created_at, expires_at, max_uses)"
        f" VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        [code, created_by, created_at.isoformat(),
         None if expires_at is None else expires_at.isoformat(), max_uses],
    ).fetchone()
    return _invite(row)


def get_invite(db: Database, invite_id: int) -> Invite | None:
    """An invite by id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM invites WHERE id = ?", [invite_id]).fetchone()
    return None if row is None else _invite(row)


def get_invite_by_code(db: Database, code: str) -> Invite | None:
    """An invite by its code (exact)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM invites WHERE code = ?", [code]).fetchone()
    return None if row is None else _invite(row)


def list_invites(db: Database, *, limit: int = 200) -> list[Invite]:
    """Invites, newest first."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM invites ORDER BY id DESC LIMIT ?", [limit])
    return [_invite(r) for r in rows]


def use_invite(db: Database, invite_id: int, now: datetime) -> bool:
    """Count one use of an invite if it is still usable at ``now`` (one statement, so two
    sign-ups cannot both take its last use); False otherwise."""
    return db.execute(
        "UPDATE invites SET uses = uses + 1 WHERE id = ? AND revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)",
        [invite_id, now.isoformat()],
    ).rowcount == 1


def revoke_invite(db: Database, invite_id: int, now: datetime) -> bool:
    """Revoke an invite; False if unknown or already revoked."""
    return db.execute("UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                      [now.isoformat(), invite_id]).rowcount == 1
