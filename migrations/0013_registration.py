"""Registration: ``invites`` (invite links with an optional expiry and number of uses, printable
as a QR code) and ``sign_ups`` (what an applicant wrote when signing up: the reason given in
approval mode, the invite used, when the rules were accepted). A pending sign-up is a ``users``
row with ``approved = 0``; approving sets it, rejecting deletes the user and its account.
The registration mode chosen in the web admin is a ``settings`` row (``registration_mode``)
that overrides config.toml."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create the invite and sign-up tables."""
    db.execute(
        "CREATE TABLE invites (id INTEGER PRIMARY KEY, code TEXT NOT NULL,"
        " created_by INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
        " created_at TEXT NOT NULL, expires_at TEXT,"  # NULL: never expires
        " max_uses INTEGER,"  # NULL: unlimited
        " uses INTEGER NOT NULL DEFAULT 0, revoked_at TEXT)")
    db.execute("CREATE UNIQUE INDEX idx_invites_code ON invites (code)")

    db.execute(
        "CREATE TABLE sign_ups (user_id INTEGER PRIMARY KEY REFERENCES users(id)"
        " ON DELETE CASCADE, reason TEXT NOT NULL DEFAULT '',"
        " invite_id INTEGER REFERENCES invites(id) ON DELETE SET NULL,"
        " rules_accepted_at TEXT, ip TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_sign_ups_invite ON sign_ups (invite_id)")
