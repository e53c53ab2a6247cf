"""Relationships and the resident's own settings: blocks (with the Block activity's id, so an
Undo can find them), mutes (optionally timed, optionally sparing notifications), timeline
markers (Mastodon's reading positions), the options of a follow (boosts shown, notify on
posts), profile fields and the note's plain-text source on accounts, and posting defaults on
users."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create blocks, mutes and markers; add profile and posting-default columns."""
    db["blocks"].create(
        {
            "id": int,
            "account_id": int,  # who blocks (local, or remote after an incoming Block)
            "target_id": int,  # who is blocked
            "uri": str,  # the Block activity's id
            "created_at": str,
        },
        pk="id",
        not_null={"account_id", "target_id", "uri", "created_at"},
        foreign_keys=[("account_id", "accounts", "id"), ("target_id", "accounts", "id")],
    )
    db["blocks"].create_index(["account_id", "target_id"], unique=True)
    db["blocks"].create_index(["target_id"])
    db["blocks"].create_index(["uri"])

    db["mutes"].create(
        {
            "id": int,
            "account_id": int,
            "target_id": int,
            "notifications": int,  # 1: notifications from the target are muted too
            "expires_at": str,  # NULL: until unmuted
            "created_at": str,
        },
        pk="id",
        not_null={"account_id", "target_id", "notifications", "created_at"},
        defaults={"notifications": 1},
        foreign_keys=[("account_id", "accounts", "id"), ("target_id", "accounts", "id")],
    )
    db["mutes"].create_index(["account_id", "target_id"], unique=True)

    db["markers"].create(
        {
            "id": int,
            "user_id": int,
            "timeline": str,  # home | notifications
            "last_read_id": str,
            "version": int,  # bumped on every save (Mastodon's lock_version)
            "updated_at": str,
        },
        pk="id",
        not_null={"user_id", "timeline", "last_read_id", "version", "updated_at"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["markers"].create_index(["user_id", "timeline"], unique=True)

    # Mastodon's follow options (POST /api/v1/accounts/:id/follow reblogs=, notify=).
    db["follows"].add_column("show_reblogs", int, not_null_default=1)
    db["follows"].add_column("notify", int, not_null_default=0)

    db["accounts"].add_column("fields", str, not_null_default="[]")  # JSON [{name, value}]
    db["accounts"].add_column("note_source", str)  # the plain text a resident typed

    db["users"].add_column("default_privacy", str, not_null_default="public")
    db["users"].add_column("default_sensitive", int, not_null_default=0)
    db["users"].add_column("default_language", str)
