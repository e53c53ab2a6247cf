"""Moderation warnings as notifications (Mastodon 4.3's ``moderation_warning`` type): a
notification may point at the ``account_warnings`` row it tells about
(``notifications.account_warning_id``). The "one notification per (owner, sender, type,
status)" unique index takes that column in, so that a second warning is a second
notification (its sender is the warned account itself, as on Mastodon, and it has no status).

The retention of remote statuses (``remote_status_retention_days``) and the time of the last
automatic prune are ``settings`` rows: no schema change."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Add ``notifications.account_warning_id`` and widen the uniqueness index with it."""
    db.execute("ALTER TABLE notifications ADD COLUMN account_warning_id INTEGER"
               " REFERENCES account_warnings(id)")
    db.execute("DROP INDEX idx_notifications_once")
    db.execute("CREATE UNIQUE INDEX idx_notifications_once ON notifications"
               " (account_id, from_account_id, type, coalesce(status_id, 0),"
               " coalesce(account_warning_id, 0))")
