"""Statuses, in full: the columns a post needs beyond the first sketch (thread and reply
target, context, counters, local-only, pins), its edit history, mentions, hashtags,
favourites, bookmarks, the per-account home feed (fan-out on write: a timeline page is one
index range, whatever the table's size), notifications, tombstones of deleted remote objects
(so a Delete that overtakes its Create still wins) and client idempotency keys."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Extend statuses and create the tables around them."""
    statuses = db["statuses"]
    statuses.add_column("in_reply_to_account_id", int)
    statuses.add_column("conversation_uri", str)
    statuses.add_column("replies_count", int, not_null_default=0)
    statuses.add_column("reblogs_count", int, not_null_default=0)
    statuses.add_column("favourites_count", int, not_null_default=0)
    statuses.add_column("local_only", int, not_null_default=0)
    statuses.add_column("pinned_at", str)
    statuses.add_column("has_media", int, not_null_default=0)
    db.execute("CREATE INDEX idx_statuses_reply ON statuses (in_reply_to_id)"
               " WHERE in_reply_to_id IS NOT NULL")
    db.execute("CREATE INDEX idx_statuses_reblog ON statuses (reblog_of_id, account_id)"
               " WHERE reblog_of_id IS NOT NULL")
    db.execute("CREATE INDEX idx_statuses_in_reply_to_uri ON statuses (in_reply_to_uri)"
               " WHERE in_reply_to_uri IS NOT NULL")
    # The public timeline: public, original (not boosts), not deleted, newest first.
    db.execute("CREATE INDEX idx_statuses_public ON statuses (id) WHERE visibility = 'public'"
               " AND deleted_at IS NULL AND reblog_of_id IS NULL")

    db["status_edits"].create(
        {"id": int, "status_id": int, "content": str, "spoiler_text": str, "sensitive": int,
         "media_ids": str, "created_at": str},
        pk="id", not_null={"status_id", "content", "created_at"},
        foreign_keys=[("status_id", "statuses", "id")],
    )
    db["status_edits"].create_index(["status_id", "id"])

    db["mentions"].create(
        {"status_id": int, "account_id": int}, pk=("status_id", "account_id"),
        foreign_keys=[("status_id", "statuses", "id"), ("account_id", "accounts", "id")],
    )
    db["mentions"].create_index(["account_id", "status_id"])

    db["status_tags"].create(
        {"status_id": int, "tag": str}, pk=("status_id", "tag"),
        foreign_keys=[("status_id", "statuses", "id")],
    )
    db["status_tags"].create_index(["tag", "status_id"])

    db["favourites"].create(
        {"id": int, "account_id": int, "status_id": int, "uri": str, "created_at": str},
        pk="id", not_null={"account_id", "status_id", "created_at"},
        foreign_keys=[("account_id", "accounts", "id"), ("status_id", "statuses", "id")],
    )
    db["favourites"].create_index(["account_id", "status_id"], unique=True)
    db["favourites"].create_index(["status_id", "id"])
    db["favourites"].create_index(["uri"])

    db["bookmarks"].create(
        {"id": int, "account_id": int, "status_id": int, "created_at": str},
        pk="id", not_null={"account_id", "status_id", "created_at"},
        foreign_keys=[("account_id", "accounts", "id"), ("status_id", "statuses", "id")],
    )
    db["bookmarks"].create_index(["account_id", "status_id"], unique=True)

    # Home feeds: (owner, status) pairs, newest first by status id. WITHOUT ROWID keeps a page
    # of a home timeline in one B-tree range.
    db.execute("CREATE TABLE home_feed (account_id INTEGER NOT NULL, status_id INTEGER NOT NULL,"
               " PRIMARY KEY (account_id, status_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX idx_home_feed_status ON home_feed (status_id)")

    db["notifications"].create(
        {"id": int, "account_id": int, "from_account_id": int, "type": str, "status_id": int,
         "created_at": str, "dismissed": int},
        pk="id", not_null={"account_id", "from_account_id", "type", "created_at"},
        defaults={"dismissed": 0},
        foreign_keys=[("account_id", "accounts", "id"), ("from_account_id", "accounts", "id")],
    )
    db["notifications"].create_index(["account_id", "id"])
    db.execute("CREATE UNIQUE INDEX idx_notifications_once ON notifications"
               " (account_id, from_account_id, type, coalesce(status_id, 0))")

    db["tombstones"].create({"uri": str, "deleted_at": str}, pk="uri")

    db["idempotency_keys"].create(
        {"account_id": int, "key": str, "status_id": int, "created_at": str},
        pk=("account_id", "key"),
    )
