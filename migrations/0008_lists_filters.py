"""Lists and filters. ``lists`` (a resident's named groups of followed accounts, with a replies
policy and the ``exclusive`` flag), ``list_accounts`` (members) and ``list_feed`` (each list's
statuses, filled on write like ``home_feed``, so a list timeline page is one index range);
``filters`` with their ``filter_keywords`` and ``filter_statuses`` (Mastodon's filters v2; a v1
filter is one keyword). Two triggers keep the list tables honest whoever changes the rows they
depend on: a follow that ends takes the followee out of the follower's lists (as Mastodon's
``ListAccount`` belongs to its ``Follow``), and a deleted status leaves every list feed."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the list and filter tables, their indexes and triggers."""
    db.execute(
        "CREATE TABLE lists (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL"
        " REFERENCES accounts(id), title TEXT NOT NULL,"
        " replies_policy TEXT NOT NULL DEFAULT 'list',"  # followed | list | none
        " exclusive INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_lists_account ON lists (account_id, id)")

    db.execute(
        "CREATE TABLE list_accounts (id INTEGER PRIMARY KEY, list_id INTEGER NOT NULL"
        " REFERENCES lists(id) ON DELETE CASCADE, account_id INTEGER NOT NULL"
        " REFERENCES accounts(id), created_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX idx_list_accounts_member ON list_accounts"
               " (list_id, account_id)")
    db.execute("CREATE INDEX idx_list_accounts_account ON list_accounts (account_id, list_id)")

    # (list, status) pairs, newest first by status id; WITHOUT ROWID keeps a page in one
    # B-tree range, as for home_feed.
    db.execute(
        "CREATE TABLE list_feed (list_id INTEGER NOT NULL REFERENCES lists(id)"
        " ON DELETE CASCADE, status_id INTEGER NOT NULL, PRIMARY KEY (list_id, status_id))"
        " WITHOUT ROWID")
    db.execute("CREATE INDEX idx_list_feed_status ON list_feed (status_id)")

    db.execute(
        "CREATE TRIGGER follows_leave_lists AFTER DELETE ON follows BEGIN"
        " DELETE FROM list_feed WHERE list_id IN (SELECT la.list_id FROM list_accounts la"
        "  JOIN lists l ON l.id = la.list_id WHERE la.account_id = old.followee_id"
        "  AND l.account_id = old.follower_id)"
        "  AND status_id IN (SELECT id FROM statuses WHERE account_id = old.followee_id);"
        " DELETE FROM list_accounts WHERE account_id = old.followee_id AND list_id IN"
        "  (SELECT id FROM lists WHERE account_id = old.follower_id);"
        " END")
    db.execute(
        "CREATE TRIGGER statuses_leave_list_feeds AFTER UPDATE OF deleted_at ON statuses"
        " WHEN new.deleted_at IS NOT NULL BEGIN"
        " DELETE FROM list_feed WHERE status_id = new.id;"
        " END")

    db.execute(
        "CREATE TABLE filters (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL"
        " REFERENCES accounts(id), title TEXT NOT NULL,"
        " context TEXT NOT NULL,"  # comma-separated: home,notifications,public,thread,account
        " action TEXT NOT NULL DEFAULT 'warn',"  # warn | hide
        " expires_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_filters_account ON filters (account_id, id)")
    db.execute(
        "CREATE TABLE filter_keywords (id INTEGER PRIMARY KEY, filter_id INTEGER NOT NULL"
        " REFERENCES filters(id) ON DELETE CASCADE, keyword TEXT NOT NULL,"
        " whole_word INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_filter_keywords_filter ON filter_keywords (filter_id, id)")
    db.execute(
        "CREATE TABLE filter_statuses (id INTEGER PRIMARY KEY, filter_id INTEGER NOT NULL"
        " REFERENCES filters(id) ON DELETE CASCADE, status_id INTEGER NOT NULL"
        " REFERENCES statuses(id), created_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX idx_filter_statuses_once ON filter_statuses"
               " (filter_id, status_id)")
