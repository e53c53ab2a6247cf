"""The ``oauth_apps``, ``oauth_tokens``, ``oauth_refresh_tokens`` and
``oauth_authorization_codes`` tables. Tokens, refresh tokens, client secrets and authorization
codes are stored as their SHA-256 only."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from fediverse_mu.domain.oauth import AuthorizationCode, OAuthApp, RefreshToken, Token
from fediverse_mu.storage.db import Database

_APP_COLUMNS = "id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at"
_CODE_COLUMNS = ("id, app_id, user_id, redirect_uri, scopes, code_challenge, "
                 "code_challenge_method, created_at, expires_at, used_at, token_id")


def _token(row: sqlite3.Row) -> Token:
    return Token(id=row["id"], user_id=row["user_id"], app_id=row["app_id"],
                 scopes=frozenset(row["scopes"].split()))


def _app(row: sqlite3.Row) -> OAuthApp:
    return OAuthApp(
        id=row["id"], name=row["name"], website=row["website"] or None,
        redirect_uris=tuple(json.loads(row["redirect_uris"] or "[]")),
        scopes=frozenset(row["scopes"].split()), client_id=row["client_id"],
        client_secret_hash=row["client_secret_hash"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _code(row: sqlite3.Row) -> AuthorizationCode:
    return AuthorizationCode(
        id=row["id"], app_id=row["app_id"], user_id=row["user_id"],
        redirect_uri=row["redirect_uri"], scopes=frozenset(row["scopes"].split()),
        code_challenge=row["code_challenge"], code_challenge_method=row["code_challenge_method"],
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=datetime.fromisoformat(row["expires_at"]), used_at=_when(row["used_at"]),
        token_id=row["token_id"],
    )


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


def revoke_token(db: Database, token_id: int, revoked_at: datetime) -> None:
    """Revoke a token grant (it stops working at once; the row stays for the record)."""
    db.execute("UPDATE oauth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
               [revoked_at.isoformat(), token_id])


# A refresh token reads as revoked once the access token issued with it is, whichever way that
# was revoked (by the client, a password reset, a suspension…).
_REFRESH_COLUMNS = ("r.id, r.family_id, r.app_id, r.user_id, r.scopes, r.access_token_id,"
                    " r.created_at, r.rotated_at, coalesce(r.revoked_at, t.revoked_at)"
                    " AS revoked_at")


def _refresh_token(row: sqlite3.Row) -> RefreshToken:
    return RefreshToken(
        id=row["id"], family_id=row["family_id"], app_id=row["app_id"], user_id=row["user_id"],
        scopes=frozenset(row["scopes"].split()), access_token_id=row["access_token_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        rotated_at=_when(row["rotated_at"]), revoked_at=_when(row["revoked_at"]),
    )


def _get_refresh_token(db: Database, where: str, value: object) -> RefreshToken | None:
    row = db.execute(
        f"SELECT {_REFRESH_COLUMNS} FROM oauth_refresh_tokens r"
        f" JOIN oauth_tokens t ON t.id = r.access_token_id WHERE {where}", [value],
    ).fetchone()
    return None if row is None else _refresh_token(row)


def put_refresh_token(db: Database, *, token_hash: str, family_id: int | None, app_id: int,
                      user_id: int, scopes: frozenset[str], access_token_id: int,
                      created_at: datetime) -> RefreshToken:
    """Store a new refresh token (by hash) in the rotation chain ``family_id``, or start a
    chain of its own when None."""
    # The id is picked here (inside the single writer's transaction), so that the first link
    # of a chain can name itself as the chain in the same statement.
    cursor = db.execute(
        "INSERT INTO oauth_refresh_tokens (id, token_hash, family_id, app_id, user_id, scopes,"
        " access_token_id, created_at) SELECT next_id, ?, coalesce(?, next_id), ?, ?, ?, ?, ?"
        " FROM (SELECT coalesce(max(id), 0) + 1 AS next_id FROM oauth_refresh_tokens)"
        " RETURNING id",
        [token_hash, family_id, app_id, user_id, " ".join(sorted(scopes)), access_token_id,
         created_at.isoformat()],
    )
    found = _get_refresh_token(db, "r.id = ?", cursor.fetchone()[0])
    assert found is not None
    return found


def get_refresh_token(db: Database, token_hash: str) -> RefreshToken | None:
    """A refresh token by hash, whatever its state (rotated and revoked ones included)."""
    return _get_refresh_token(db, "r.token_hash = ?", token_hash)


def get_refresh_family(db: Database, access_token_id: int) -> int | None:
    """The rotation chain an access token was issued in, if it came with a refresh token."""
    row = db.execute("SELECT family_id FROM oauth_refresh_tokens WHERE access_token_id = ?",
                     [access_token_id]).fetchone()
    return None if row is None else int(row[0])


def mark_refresh_token_rotated(db: Database, refresh_token_id: int, rotated_at: datetime) -> bool:
    """Record that a live refresh token was exchanged; False if it was not live any more."""
    cursor = db.execute(
        "UPDATE oauth_refresh_tokens SET rotated_at = ? WHERE id = ? AND rotated_at IS NULL"
        " AND revoked_at IS NULL", [rotated_at.isoformat(), refresh_token_id])
    return cursor.rowcount == 1


def revoke_refresh_family(db: Database, family_id: int, revoked_at: datetime) -> list[int]:
    """Revoke every refresh token of a rotation chain and every access token issued in it;
    returns the ids of the access tokens that were still live."""
    when = revoked_at.isoformat()
    revoked = db.execute(
        "UPDATE oauth_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND id IN"
        " (SELECT access_token_id FROM oauth_refresh_tokens WHERE family_id = ?) RETURNING id",
        [when, family_id]).fetchall()
    db.execute("UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE family_id = ?"
               " AND revoked_at IS NULL", [when, family_id])
    return sorted(int(row[0]) for row in revoked)


def put_app(db: Database, *, name: str, website: str | None, redirect_uris: tuple[str, ...],
            scopes: frozenset[str], client_id: str, client_secret_hash: str,
            created_at: datetime) -> OAuthApp:
    """Register a client application (its secret by hash)."""
    cursor = db.execute(
        "INSERT INTO oauth_apps (name, website, redirect_uris, scopes, client_id,"
        f" client_secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_APP_COLUMNS}",
        [name, website, json.dumps(list(redirect_uris)), " ".join(sorted(scopes)), client_id,
         client_secret_hash, created_at.isoformat()],
    )
    return _app(cursor.fetchone())


def get_app_by_client_id(db: Database, client_id: str) -> OAuthApp | None:
    """A client application by its public ``client_id``."""
    row = db.execute(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE client_id = ?",
                     [client_id]).fetchone()
    return None if row is None else _app(row)


def get_app_by_id(db: Database, app_id: int) -> OAuthApp | None:
    """A client application by local id."""
    row = db.execute(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE id = ?", [app_id]).fetchone()
    return None if row is None else _app(row)


def put_authorization_code(db: Database, *, code_hash: str, app_id: int, user_id: int,
                           redirect_uri: str, scopes: frozenset[str],
                           code_challenge: str | None, code_challenge_method: str | None,
                           created_at: datetime, expires_at: datetime) -> AuthorizationCode:
    """Store a new authorization code (by hash)."""
    cursor = db.execute(
        "INSERT INTO oauth_authorization_codes (code_hash, app_id, user_id, redirect_uri,"
        " scopes, code_challenge, code_challenge_method, created_at, expires_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_CODE_COLUMNS}",
        [code_hash, app_id, user_id, redirect_uri, " ".join(sorted(scopes)), code_challenge,
         code_challenge_method, created_at.isoformat(), expires_at.isoformat()],
    )
    return _code(cursor.fetchone())


def get_authorization_code(db: Database, code_hash: str) -> AuthorizationCode | None:
    """An authorization code by hash, used or not."""
    row = db.execute(f"SELECT {_CODE_COLUMNS} FROM oauth_authorization_codes"
                     " WHERE code_hash = ?", [code_hash]).fetchone()
    return None if row is None else _code(row)


def mark_code_used(db: Database, code_id: int, *, used_at: datetime, token_id: int) -> bool:
    """Record that a code was exchanged for a token; False if it was already used."""
    cursor = db.execute(
        "UPDATE oauth_authorization_codes SET used_at = ?, token_id = ?"
        " WHERE id = ? AND used_at IS NULL", [used_at.isoformat(), token_id, code_id])
    return cursor.rowcount == 1


def delete_expired_codes(db: Database, before: datetime) -> int:
    """Forget authorization codes that expired before ``before``; returns how many."""
    cursor = db.execute("DELETE FROM oauth_authorization_codes WHERE expires_at < ?",
                        [before.isoformat()])
    return int(cursor.rowcount)
