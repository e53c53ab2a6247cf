"""OAuth 2 refresh tokens (RFC 6749 §1.5 and §6), stored as their SHA-256 only like the access
tokens. Each refresh token is one link of a rotation chain: ``family_id`` is the id of the
chain's first link (the one the authorization code or password grant gave), so the reuse of a
rotated refresh token can revoke the whole chain (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
``access_token_id`` is the access token issued beside it; ``scopes`` are those the user
granted (an access token obtained by refreshing may have fewer). ``rotated_at`` is set when the
token was exchanged, ``revoked_at`` when it was revoked.

The foreign keys to ``users`` and ``oauth_tokens`` cascade, so that deleting a pending user's
tokens (``storage.registration.delete_pending_user``) takes their refresh tokens along."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the refresh tokens table."""
    db.execute(
        "CREATE TABLE oauth_refresh_tokens (id INTEGER PRIMARY KEY,"
        " token_hash TEXT NOT NULL,"  # SHA-256 of the refresh token, never the token itself
        " family_id INTEGER NOT NULL,"
        " app_id INTEGER NOT NULL REFERENCES oauth_apps(id),"
        " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        " scopes TEXT NOT NULL,"
        " access_token_id INTEGER NOT NULL REFERENCES oauth_tokens(id) ON DELETE CASCADE,"
        " created_at TEXT NOT NULL, rotated_at TEXT, revoked_at TEXT)")
    db.execute("CREATE UNIQUE INDEX idx_oauth_refresh_tokens_token_hash"
               " ON oauth_refresh_tokens (token_hash)")
    db.execute("CREATE INDEX idx_oauth_refresh_tokens_family_id"
               " ON oauth_refresh_tokens (family_id)")
    db.execute("CREATE INDEX idx_oauth_refresh_tokens_access_token_id"
               " ON oauth_refresh_tokens (access_token_id)")
