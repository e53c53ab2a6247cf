"""The audit log: one entry per moderation or administration action (who, what, on what, why,
when). Entries are only ever added, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action. ``actor_account_id`` is None for the CLI or the system."""

    id: int
    actor_account_id: int | None
    actor_acct: str | None
    action: str  # e.g. "account.suspend", "domain_block.create", "report.resolve"
    target: str  # what it acted on, e.g. "alice@b.test", "b.test", "report 3"
    detail: str  # the reason or a short description
    created_at: datetime
