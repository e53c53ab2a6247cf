"""The ``domain_blocks`` and ``domain_allows`` tables and the allowlist-mode setting, plus
the clean-ups a domain suspension needs (severing follows, dropping queued deliveries)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.federation_policy import (
    DomainAllow,
    DomainBlock,
    HostPolicy,
    Severity,
    candidates,
)
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.settings import get_setting, put_setting

ALLOWLIST_SETTING = "federation_allowlist_mode"
_BLOCK_COLUMNS = ("id, domain, severity, reject_media, reject_reports, public_comment,"
                  " private_comment, obfuscate, created_at")


def _block(row: sqlite3.Row) -> DomainBlock:
    return DomainBlock(id=row["id"], domain=row["domain"], severity=Severity(row["severity"]),
                       reject_media=bool(row["reject_media"]),
                       reject_reports=bool(row["reject_reports"]),
                       public_comment=row["public_comment"],
                       private_comment=row["private_comment"], obfuscate=bool(row["obfuscate"]),
                       created_at=datetime.fromisoformat(row["created_at"]))


def _allow(row: sqlite3.Row) -> DomainAllow:
    return DomainAllow(id=row["id"], domain=row["domain"],
                       created_at=datetime.fromisoformat(row["created_at"]))


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))


# -- blocks ------------------------------------------------------------------------------------


def list_blocks(db: Database) -> list[DomainBlock]:
    """Every domain block, by domain."""
    return [_block(r) for r in db.execute(f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks"
                                          " ORDER BY domain")]


def get_block(db: Database, block_id: int) -> DomainBlock | None:
    """A block by id."""
    row = db.execute(f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE id = ?",
                     [block_id]).fetchone()
    return None if row is None else _block(row)


def get_block_by_domain(db: Database, domain: str) -> DomainBlock | None:
    """The block on exactly this domain."""
    row = db.execute(f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE domain = ?",
                     [domain]).fetchone()
    return None if row is None else _block(row)


def put_block(db: Database, *, domain: str, severity: Severity, reject_media: bool,
              reject_reports: bool, public_comment: str, private_comment: str,
              obfuscate: bool, now: datetime) -> DomainBlock:
    """Create or replace the block on ``domain``."""
    row = db.execute(
        "INSERT INTO domain_blocks (domain, severity, reject_media, reject_reports,"
        " public_comment, private_comment, obfuscate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (domain) DO UPDATE SET severity = excluded.severity,"
        " reject_media = excluded.reject_media, reject_reports = excluded.reject_reports,"
        " public_comment = excluded.public_comment, private_comment = excluded.private_comment,"
        f" obfuscate = excluded.obfuscate RETURNING {_BLOCK_COLUMNS}",
        [domain, severity.value, int(reject_media), int(reject_reports), public_comment,
         private_comment, int(obfuscate), now.isoformat()]).fetchone()
    return _block(row)


def delete_block(db: Database, block_id: int) -> bool:
    """Remove a block; False when there was none."""
    return db.execute("DELETE FROM domain_blocks WHERE id = ?", [block_id]).rowcount > 0


# -- allows ------------------------------------------------------------------------------------


def list_allows(db: Database) -> list[DomainAllow]:
    """Every allowed domain, by domain."""
    return [_allow(r) for r in db.execute("SELECT id, domain, created_at FROM domain_allows"
                                          " ORDER BY domain")]


def get_allow(db: Database, allow_id: int) -> DomainAllow | None:
    """An allowed domain by id."""
    row = db.execute("SELECT id, domain, created_at FROM domain_allows WHERE id = ?",
                     [allow_id]).fetchone()
    return None if row is None else _allow(row)


def get_allow_by_domain(db: Database, domain: str) -> DomainAllow | None:
    """The allow entry of exactly this domain."""
    row = db.execute("SELECT id, domain, created_at FROM domain_allows WHERE domain = ?",
                     [domain]).fetchone()
    return None if row is None else _allow(row)


def put_allow(db: Database, domain: str, now: datetime) -> DomainAllow:
    """Allow a domain (idempotent)."""
    db.execute("INSERT INTO domain_allows (domain, created_at) VALUES (?, ?)"
               " ON CONFLICT (domain) DO NOTHING", [domain, now.isoformat()])
    found = get_allow_by_domain(db, domain)
    assert found is not None
    return found


def delete_allow(db: Database, allow_id: int) -> bool:
    """Remove an allowed domain; False when there was none."""
    return db.execute("DELETE FROM domain_allows WHERE id = ?", [allow_id]).rowcount > 0


def allowlist_mode(db: Database) -> bool:
    """True when the instance federates only with allowed domains."""
    return bool(get_setting(db, ALLOWLIST_SETTING))


def set_allowlist_mode(db: Database, enabled: bool) -> None:
    """Turn allowlist mode on or off."""
    put_setting(db, ALLOWLIST_SETTING, bool(enabled))


# -- the checks --------------------------------------------------------------------------------


def host_policy(db: Database, host: str) -> HostPolicy:
    """What the policy says of one remote host (a block on a parent domain covers it)."""
    names = candidates(host)
    if not names:
        return HostPolicy(host=host, block=None, allowed=False)
    rows = db.execute(f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE domain IN"
                      f" ({_marks(names)})", names).fetchall()
    # The most specific block wins (Mastodon's DomainBlock.rule_for).
    blocks = sorted((_block(r) for r in rows), key=lambda b: -len(b.domain))
    allowed = True
    if allowlist_mode(db):
        allowed = db.execute(f"SELECT 1 FROM domain_allows WHERE domain IN ({_marks(names)})"
                             " LIMIT 1", names).fetchone() is not None
    return HostPolicy(host=host, block=blocks[0] if blocks else None, allowed=allowed)


def domain_account_ids(db: Database, domain: str) -> list[int]:
    """The known remote accounts of a domain and its subdomains."""
    return [r[0] for r in db.execute(
        "SELECT id FROM accounts WHERE domain IS NOT NULL AND (domain = ? OR domain LIKE ?"
        " OR domain LIKE ?)", [domain, f"%.{domain}", f"{domain}:%"])]


def drop_pending_deliveries(db: Database, domain: str, *, now: float) -> int:
    """Give up the queued deliveries to a domain (and its subdomains); returns how many."""
    return db.execute(
        "UPDATE jobs SET state = 'dead', last_error = 'domain suspended', updated_at = ?,"
        " locked_until = NULL WHERE state = 'pending' AND kind = 'deliver'"
        " AND (host = ? OR host LIKE ? OR host LIKE ?)",
        [now, domain, f"%.{domain}", f"{domain}:%"]).rowcount


def host_policies(db: Database, hosts: list[str]) -> list[HostPolicy]:
    """The policy of several hosts in one read."""
    return [host_policy(db, host) for host in hosts]
