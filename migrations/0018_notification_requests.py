"""The notification policy applied (Mastodon 4.3's filtered notifications and notification
requests).

- ``notifications.filtered``: 1 for a notification the owner's policy filtered (kept, but out
  of the listings, counts and streams until its request is accepted), 0 otherwise. Indexed
  by owner and sender for the filtered ones only (requests read them per sender).
- ``notification_requests``: one row per (owner, sender) with filtered mentions waiting
  (Mastodon's ``NotificationRequest``); ids never reused (AUTOINCREMENT), paged newest first.
  How many notifications and which last status are read from ``notifications``.
- ``notification_permissions``: senders whose request the owner accepted: their later
  notifications are never filtered (Mastodon's ``NotificationPermission``)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Add the filtered flag and the requests and permissions tables."""
    db.execute("ALTER TABLE notifications ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX idx_notifications_filtered ON notifications"
               " (account_id, from_account_id) WHERE filtered = 1")
    db.execute(
        "CREATE TABLE notification_requests (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " account_id INTEGER NOT NULL REFERENCES accounts (id),"
        " from_account_id INTEGER NOT NULL REFERENCES accounts (id),"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " UNIQUE (account_id, from_account_id))")
    db.execute("CREATE INDEX idx_notification_requests_account ON notification_requests"
               " (account_id, id)")
    db.execute(
        "CREATE TABLE notification_permissions ("
        " account_id INTEGER NOT NULL REFERENCES accounts (id),"
        " from_account_id INTEGER NOT NULL REFERENCES accounts (id),"
        " created_at TEXT NOT NULL, PRIMARY KEY (account_id, from_account_id)) WITHOUT ROWID")
