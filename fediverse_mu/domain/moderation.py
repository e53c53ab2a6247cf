"""Moderation: reports (from residents or from other instances' ``Flag``), their notes, the
actions moderators take on accounts, and an account's moderation state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.accounts import Account, User

MAX_REPORT_COMMENT = 1000
MAX_REPORT_STATUSES = 100
MAX_NOTE = 5000
MAX_REASON = 5000


class ReportCategory(StrEnum):
    """Why something is reported (Mastodon's report categories)."""

    SPAM = "spam"
    LEGAL = "legal"
    VIOLATION = "violation"  # breaks one of the instance rules
    OTHER = "other"


class AccountAction(StrEnum):
    """What a moderator may do to an account."""

    NONE = "none"  # only resolves the report (Mastodon's admin API "none")
    WARN = "warn"
    SILENCE = "silence"
    UNSILENCE = "unsilence"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    DISABLE = "disable"  # local only: no login, account stays visible
    ENABLE = "enable"


@dataclass(frozen=True, slots=True)
class Report:
    """A report about an account (and some of its statuses)."""

    id: int
    account_id: int  # who reported (for an incoming Flag: the remote actor that sent it)
    target_account_id: int
    status_ids: tuple[int, ...]
    rule_ids: tuple[int, ...]
    comment: str
    category: ReportCategory
    forwarded: bool
    assigned_account_id: int | None
    action_taken_at: datetime | None
    action_taken_by_account_id: int | None
    uri: str | None  # the Flag's id (incoming) or the one we sent (forwarded)
    created_at: datetime
    updated_at: datetime

    @property
    def action_taken(self) -> bool:
        """True once resolved."""
        return self.action_taken_at is not None


@dataclass(frozen=True, slots=True)
class ReportNote:
    """A moderator's note on a report."""

    id: int
    report_id: int
    account_id: int
    content: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ModerationState:
    """An account's moderation state (all None/False for an account nobody acted on)."""

    account_id: int
    silenced_at: datetime | None = None
    suspended_at: datetime | None = None
    domain_silenced: bool = False  # its domain is blocked with severity silence
    domain_suspended: bool = False

    @property
    def silenced(self) -> bool:
        """Limited: itself or its domain."""
        return self.silenced_at is not None or self.domain_silenced

    @property
    def suspended(self) -> bool:
        """Suspended: itself or its domain."""
        return self.suspended_at is not None or self.domain_suspended


@dataclass(frozen=True, slots=True)
class AccountWarning:
    """A warning (or another action's notice) given to an account."""

    id: int
    account_id: int
    action: AccountAction
    text: str
    report_id: int | None
    created_at: datetime


# Mastodon's AccountWarning ``action`` for each of ours (warn is its "none": a text only).
WARNING_ACTIONS = {AccountAction.WARN: "none", AccountAction.SILENCE: "silence",
                   AccountAction.SUSPEND: "suspend", AccountAction.DISABLE: "disable"}
# The actions a local account is told about with a ``moderation_warning`` notification.
NOTIFIED_ACTIONS = frozenset({AccountAction.WARN, AccountAction.SILENCE})


@dataclass(frozen=True, slots=True)
class LocalStanding:
    """A local account as the public faces need it: pending (an application not approved
    yet: invisible) and suspended (its actor is gone, its profile says so)."""

    account: Account
    pending: bool
    suspended: bool


@dataclass(frozen=True, slots=True)
class AdminAccount:
    """What moderators see of an account: the actor, its login if local, its state."""

    account: Account
    user: User | None
    state: ModerationState
