"""Listening groups: a local ``Group`` actor's settings, its announced posts and its
moderation log (FEP-1b12, https://codeberg.org/fediverse/fep/src/branch/main/fep/1b12/fep-1b12.md).
The group itself is an :class:`~fediverse_mu.domain.accounts.Account` (``actor_type
"Group"``); its members are its accepted followers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.accounts import Account

MAX_CHARTER = 5000
MAX_TITLE = 100


class JoinPolicy(StrEnum):
    """Who may join: anyone at once, or after a moderator's approval."""

    OPEN = "open"
    APPROVAL = "approval"


class GroupAction(StrEnum):
    """What a moderator did (the moderation log)."""

    CREATE = "create"
    SETTINGS = "settings"
    REMOVE_POST = "remove_post"
    REMOVE_MEMBER = "remove_member"
    BAN = "ban"
    UNBAN = "unban"
    CLOSE = "close"
    REOPEN = "reopen"
    APPROVE = "approve"
    REJECT = "reject"
    ADD_MODERATOR = "add_moderator"


@dataclass(frozen=True, slots=True)
class Group:
    """A local group's settings, with its account and moderators."""

    account: Account
    charter: str
    join_policy: JoinPolicy
    members_only: bool
    closed: bool
    language: str
    moderator_ids: tuple[int, ...]
    created_at: datetime

    @property
    def title(self) -> str:
        """The group's display name (its username when it has none)."""
        return self.account.display_name or self.account.username

    def is_moderator(self, account: Account | None) -> bool:
        """True when ``account`` moderates the group."""
        return account is not None and account.id in self.moderator_ids


@dataclass(frozen=True, slots=True)
class GroupPost:
    """A status a local group announced to its members."""

    id: int
    group_id: int
    status_id: int
    announce_uri: str
    note_json: str | None
    removed_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GroupLogEntry:
    """One moderation action, for the group's moderators."""

    id: int
    group_id: int
    moderator: Account | None
    action: GroupAction
    target: str
    detail: str
    created_at: datetime
