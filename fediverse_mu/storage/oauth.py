"""The ``oauth_apps`` and ``oauth_tokens`` tables. Tokens are stored as their SHA-256 only."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.oauth import Token
from fediverse_mu.storage.db import Database


def _token(row: sqlite3.Row) -> Token:
    return Token(id=row["id"], user_id=row["user_id"], app_id=row["app_id"],
                 scopes=frozenset(row["scopes"].split()))


def put_token(db: Database, *, token_hash: str, user_id: int | None, app_id: int | None,
              scopes: frozenset[str], created_at: datetime) -> Token:
    """Store a new token grant (by hash)."""
    cursor = db.execute(
        "INSERT INTO oauth_tokens (token_hash, user_id, app_id, scopes, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id, user_id, app_id, scopes",
        [token_hash, user_id, app_id, " ".join(sorted(scopes)), created_at.isoformat()],
    )
    return _token(cursor.fetchone())


def get_live_token(db: Database, token_hash: str) -> Token | None:
    """A token grant that has not been revoked."""
    row = db.execute(
        "SELECT id, user_id, app_id, scopes FROM oauth_tokens WHERE token_hash = ?"
        " AND revoked_at IS NULL", [token_hash],
    ).fetchone()
    return None if row is None else _token(row)
