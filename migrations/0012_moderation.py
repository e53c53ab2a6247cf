"""Moderation: the audit log, instance rules, reports (with their statuses, rules and notes),
warnings given to accounts, the moderation state of accounts (``silenced_at``,
``suspended_at`` on ``accounts``), the federation policy (``domain_blocks``,
``domain_allows``; allowlist mode is a setting) and the domains residents hide
(``account_domain_blocks``, Mastodon's ``/api/v1/domain_blocks``)."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the moderation tables and the moderation columns of ``accounts``."""
    db.execute(
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, actor_account_id INTEGER"
        " REFERENCES accounts(id), action TEXT NOT NULL, target TEXT NOT NULL,"
        " detail TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)")

    db.execute(
        "CREATE TABLE rules (id INTEGER PRIMARY KEY, text TEXT NOT NULL,"
        " hint TEXT NOT NULL DEFAULT '', position INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")

    db.execute(
        "CREATE TABLE reports (id INTEGER PRIMARY KEY,"
        " account_id INTEGER NOT NULL REFERENCES accounts(id),"  # who reported
        " target_account_id INTEGER NOT NULL REFERENCES accounts(id),"
        " status_ids TEXT NOT NULL DEFAULT '[]', rule_ids TEXT NOT NULL DEFAULT '[]',"
        " comment TEXT NOT NULL DEFAULT '', category TEXT NOT NULL DEFAULT 'other',"
        " forwarded INTEGER NOT NULL DEFAULT 0,"
        " assigned_account_id INTEGER REFERENCES accounts(id),"
        " action_taken_at TEXT, action_taken_by_account_id INTEGER REFERENCES accounts(id),"
        " uri TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_reports_open ON reports (action_taken_at, id)")
    db.execute("CREATE INDEX idx_reports_target ON reports (target_account_id, id)")
    db.execute("CREATE UNIQUE INDEX idx_reports_uri ON reports (uri) WHERE uri IS NOT NULL")

    db.execute(
        "CREATE TABLE report_notes (id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL"
        " REFERENCES reports(id) ON DELETE CASCADE, account_id INTEGER NOT NULL"
        " REFERENCES accounts(id), content TEXT NOT NULL, created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_report_notes_report ON report_notes (report_id, id)")

    db.execute(
        "CREATE TABLE account_warnings (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL"
        " REFERENCES accounts(id), action TEXT NOT NULL, text TEXT NOT NULL DEFAULT '',"
        " report_id INTEGER REFERENCES reports(id), created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_account_warnings_account ON account_warnings (account_id, id)")

    db.execute("ALTER TABLE accounts ADD COLUMN silenced_at TEXT")
    db.execute("ALTER TABLE accounts ADD COLUMN suspended_at TEXT")
    db.execute("CREATE INDEX idx_accounts_silenced ON accounts (id) WHERE silenced_at IS NOT NULL")
    db.execute("CREATE INDEX idx_accounts_suspended ON accounts (id)"
               " WHERE suspended_at IS NOT NULL")

    db.execute(
        "CREATE TABLE domain_blocks (id INTEGER PRIMARY KEY, domain TEXT NOT NULL UNIQUE,"
        " severity TEXT NOT NULL DEFAULT 'silence',"  # noop | silence | suspend
        " reject_media INTEGER NOT NULL DEFAULT 0, reject_reports INTEGER NOT NULL DEFAULT 0,"
        " public_comment TEXT NOT NULL DEFAULT '', private_comment TEXT NOT NULL DEFAULT '',"
        " obfuscate INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE domain_allows (id INTEGER PRIMARY KEY, domain TEXT NOT NULL UNIQUE,"
        " created_at TEXT NOT NULL)")

    db.execute(
        "CREATE TABLE account_domain_blocks (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL"
        " REFERENCES accounts(id), domain TEXT NOT NULL, created_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX idx_account_domain_blocks ON account_domain_blocks"
               " (account_id, domain)")
