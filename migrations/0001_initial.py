"""Initial schema: instance settings, accounts (local and remote), users, OAuth apps and
tokens, statuses, and the durable jobs table.

Migrations receive a sqlite-utils Database; use ``table.create``/``create_index`` for schema
and ``db.execute`` for anything sqlite-utils cannot express (expression indexes).
Timestamps are ISO 8601 UTC text; job times are UNIX seconds (REAL) because the worker
compares them on every claim.
"""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the first tables."""
    db["settings"].create({"key": str, "value": str}, pk="key")

    db["accounts"].create(
        {
            "id": int,
            "username": str,
            "domain": str,  # NULL for local accounts
            "actor_uri": str,
            "actor_type": str,
            "display_name": str,
            "note": str,
            "url": str,
            "inbox_uri": str,
            "shared_inbox_uri": str,
            "outbox_uri": str,
            "followers_uri": str,
            "following_uri": str,
            "featured_uri": str,
            "public_key_id": str,
            "public_key_pem": str,
            "private_key_pem": str,
            "avatar_url": str,
            "header_url": str,
            "locked": int,
            "bot": int,
            "discoverable": int,
            "created_at": str,
            "updated_at": str,
            "fetched_at": str,
        },
        pk="id",
        not_null={"username", "actor_uri", "actor_type", "created_at"},
        defaults={"actor_type": "Person", "display_name": "", "note": "", "locked": 0,
                  "bot": 0, "discoverable": 1},
    )
    db["accounts"].create_index(["actor_uri"], unique=True)
    # One account per (username, domain), case-insensitively, local accounts included.
    db.execute(
        "CREATE UNIQUE INDEX idx_accounts_handle ON accounts "
        "(lower(username), coalesce(domain, ''))"
    )

    db["users"].create(
        {
            "id": int,
            "account_id": int,
            "email": str,
            "password_hash": str,
            "role": str,
            "approved": int,
            "disabled": int,
            "locale": str,
            "created_at": str,
            "last_seen_at": str,
        },
        pk="id",
        not_null={"account_id", "email", "password_hash", "role", "created_at"},
        defaults={"role": "resident", "approved": 1, "disabled": 0, "locale": "fr"},
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db["users"].create_index(["account_id"], unique=True)
    db.execute("CREATE UNIQUE INDEX idx_users_email ON users (lower(email))")

    db["oauth_apps"].create(
        {
            "id": int,
            "name": str,
            "website": str,
            "redirect_uris": str,
            "scopes": str,
            "client_id": str,
            "client_secret_hash": str,
            "created_at": str,
        },
        pk="id",
        not_null={"name", "client_id", "client_secret_hash", "scopes", "created_at"},
    )
    db["oauth_apps"].create_index(["client_id"], unique=True)

    db["oauth_tokens"].create(
        {
            "id": int,
            "token_hash": str,  # SHA-256 of the bearer token: the token itself is never stored
            "user_id": int,
            "app_id": int,
            "scopes": str,
            "created_at": str,
            "last_used_at": str,
            "revoked_at": str,
        },
        pk="id",
        not_null={"token_hash", "scopes", "created_at"},
        foreign_keys=[("user_id", "users", "id"), ("app_id", "oauth_apps", "id")],
    )
    db["oauth_tokens"].create_index(["token_hash"], unique=True)

    db["statuses"].create(
        {
            "id": int,  # time-ordered (see fediverse_mu.domain.ids)
            "uri": str,
            "url": str,
            "account_id": int,
            "local": int,
            "in_reply_to_id": int,
            "in_reply_to_uri": str,
            "reblog_of_id": int,
            "content": str,
            "source_text": str,
            "spoiler_text": str,
            "sensitive": int,
            "visibility": str,
            "language": str,
            "created_at": str,
            "edited_at": str,
            "deleted_at": str,
        },
        pk="id",
        not_null={"uri", "account_id", "local", "visibility", "created_at"},
        defaults={"content": "", "spoiler_text": "", "sensitive": 0, "local": 0},
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db["statuses"].create_index(["uri"], unique=True)
    db["statuses"].create_index(["account_id", "id"])
    db["statuses"].create_index(["local", "id"])

    db["jobs"].create(
        {
            "id": int,
            "kind": str,
            "payload": str,  # JSON
            "state": str,  # pending | done | dead
            "attempts": int,
            "max_attempts": int,
            "next_attempt_at": float,  # UNIX seconds
            "locked_until": float,  # lease end while a worker holds it, else NULL
            "locked_by": str,
            "host": str,  # remote host for delivery jobs (queue health, circuit breaker)
            "dedup_key": str,
            "last_status": int,
            "last_error": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"kind", "payload", "state", "attempts", "max_attempts", "next_attempt_at",
                  "created_at", "updated_at"},
        defaults={"state": "pending", "attempts": 0},
    )
    # The claim query's index: only pending jobs, by due time.
    db.execute("CREATE INDEX idx_jobs_due ON jobs (next_attempt_at) WHERE state = 'pending'")
    db.execute("CREATE UNIQUE INDEX idx_jobs_dedup ON jobs (dedup_key) "
               "WHERE dedup_key IS NOT NULL AND state = 'pending'")
    db["jobs"].create_index(["state", "updated_at"])
