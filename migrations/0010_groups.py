"""Listening groups (FEP-1b12 ``Group`` actors). A local group is an ``accounts`` row with
``actor_type = 'Group'`` (and no ``users`` row); its members are its accepted followers.
``groups`` holds its settings (title, charter, join policy, members-only, closed),
``group_moderators`` its moderators (local or remote accounts), ``group_bans`` the accounts it
refuses, ``group_posts`` the statuses it announced (with the Announce id, the Note as it was
announced, and when a moderator removed it) and ``group_log`` every moderation action."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the group tables and their indexes."""
    db.execute(
        "CREATE TABLE groups (account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
        " charter TEXT NOT NULL DEFAULT '',"
        " join_policy TEXT NOT NULL DEFAULT 'open',"  # open | approval
        " members_only INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,"
        " language TEXT NOT NULL DEFAULT 'fr',"
        " created_by INTEGER REFERENCES accounts(id),"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")

    db.execute(
        "CREATE TABLE group_moderators (group_id INTEGER NOT NULL REFERENCES accounts(id),"
        " account_id INTEGER NOT NULL REFERENCES accounts(id), created_at TEXT NOT NULL,"
        " PRIMARY KEY (group_id, account_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX idx_group_moderators_account ON group_moderators (account_id)")

    db.execute(
        "CREATE TABLE group_bans (group_id INTEGER NOT NULL REFERENCES accounts(id),"
        " account_id INTEGER NOT NULL REFERENCES accounts(id),"
        " reason TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,"
        " PRIMARY KEY (group_id, account_id)) WITHOUT ROWID")

    db.execute(
        "CREATE TABLE group_posts (id INTEGER PRIMARY KEY,"
        " group_id INTEGER NOT NULL REFERENCES accounts(id),"
        " status_id INTEGER NOT NULL REFERENCES statuses(id),"
        " announce_uri TEXT NOT NULL UNIQUE,"
        " note_json TEXT,"  # the Note as announced (embedded for members-only groups)
        " removed_at TEXT, created_at TEXT NOT NULL)")
    db.execute("CREATE UNIQUE INDEX idx_group_posts_status ON group_posts (status_id, group_id)")
    db.execute("CREATE INDEX idx_group_posts_group ON group_posts (group_id, id)")

    db.execute(
        "CREATE TABLE group_log (id INTEGER PRIMARY KEY,"
        " group_id INTEGER NOT NULL REFERENCES accounts(id),"
        " moderator_id INTEGER REFERENCES accounts(id),"
        " action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '',"
        " detail TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_group_log_group ON group_log (group_id, id)")
