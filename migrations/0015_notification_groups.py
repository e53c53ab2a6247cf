"""Grouped notifications (Mastodon 4.3) and the notification policy.

- ``notifications.group_key``: the key of a favourite, boost or follow notification
  (``favourite-<status id>-<hour bucket>``, ``reblog-…``, ``follow-<hour bucket>``; NULL for the
  other types, which never group), set by the ``notifications_group_key`` trigger on insert, so
  every path that notifies (posting, following, groups) gets one without knowing about it.
  The hour bucket is ``created_at`` in hours since the epoch, or the bucket of the previous
  notification with the same prefix while it is less than 12 hours older: Mastodon's
  ``Notification::Groups#set_group_key!``, reading the previous bucket back from the table
  instead of Redis. Indexed with the account, for a group's rows and the previous bucket.
  A later migration that rebuilds ``notifications`` must create the trigger again
  (:data:`TRIGGER`).
- ``notification_policies``: one row per account that changed its policy (accept, filter or
  drop for five kinds of senders); the others have Mastodon's defaults."""

from sqlite_utils import Database

_PREFIX = ("CASE WHEN NEW.type = 'follow' THEN 'follow'"
           " ELSE NEW.type || '-' || NEW.status_id END")
_BUCKET = "CAST(strftime('%s', NEW.created_at) AS INTEGER) / 3600"
# The previous key with the same prefix: '-' is followed by '.' in ASCII, so the range holds
# exactly the keys '<prefix>-<digits>' (not those of a status whose id merely starts alike).
_PREVIOUS = (
    "SELECT CAST(substr(p.group_key, length(b.prefix) + 2) AS INTEGER) FROM notifications p"
    " WHERE p.account_id = NEW.account_id AND p.group_key > b.prefix || '-'"
    " AND p.group_key < b.prefix || '.' ORDER BY p.id DESC LIMIT 1")

TRIGGER = (
    "CREATE TRIGGER notifications_group_key AFTER INSERT ON notifications"
    " WHEN NEW.group_key IS NULL AND (NEW.type = 'follow'"
    " OR (NEW.type IN ('favourite', 'reblog') AND NEW.status_id IS NOT NULL)) BEGIN"
    " UPDATE notifications SET group_key = ("
    "  SELECT g.prefix || '-' || CASE WHEN g.previous IS NOT NULL"
    "  AND g.bucket < g.previous + 12 THEN g.previous ELSE g.bucket END"
    f"  FROM (SELECT b.prefix, b.bucket, ({_PREVIOUS}) AS previous"
    f"   FROM (SELECT {_PREFIX} AS prefix, {_BUCKET} AS bucket) b) g)"
    " WHERE id = NEW.id; END"
)


def _backfill(db: Database) -> None:
    """Give the existing notifications their keys, oldest first (as the trigger would have)."""
    last: dict[tuple[int, str], int] = {}
    rows = db.execute(
        "SELECT id, account_id, type, status_id, CAST(strftime('%s', created_at) AS INTEGER)"
        " FROM notifications WHERE type = 'follow' OR (type IN ('favourite', 'reblog')"
        " AND status_id IS NOT NULL) ORDER BY id").fetchall()
    for notification_id, account_id, kind, status_id, seconds in rows:
        prefix = "follow" if kind == "follow" else f"{kind}-{status_id}"
        bucket = int(seconds or 0) // 3600
        previous = last.get((account_id, prefix))
        if previous is not None and bucket < previous + 12:
            bucket = previous
        last[(account_id, prefix)] = bucket
        db.execute("UPDATE notifications SET group_key = ? WHERE id = ?",
                   [f"{prefix}-{bucket}", notification_id])


def up(db: Database) -> None:
    """Add the group key (filled for existing rows, then by a trigger) and the policies."""
    db.table("notifications").add_column("group_key", str)
    _backfill(db)
    db.execute("CREATE INDEX idx_notifications_group ON notifications (account_id, group_key)"
               " WHERE group_key IS NOT NULL")
    db.execute(TRIGGER)
    db.execute(
        "CREATE TABLE notification_policies (account_id INTEGER PRIMARY KEY"
        " REFERENCES accounts (id), for_not_following TEXT NOT NULL,"
        " for_not_followers TEXT NOT NULL, for_new_accounts TEXT NOT NULL,"
        " for_private_mentions TEXT NOT NULL, for_limited_accounts TEXT NOT NULL,"
        " updated_at TEXT NOT NULL)")
