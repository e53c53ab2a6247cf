"""Notifications: what a local resident is told about (mentions, boosts, favourites, follows,
follow requests, edits of boosted statuses, new posts of accounts they asked to hear from),
and a notification as its owner sees it: with the account that caused it and the status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.moderation import AccountWarning
from fediverse_mu.domain.statuses import StatusView


class NotificationType(StrEnum):
    """The notification types this server creates (Mastodon's names)."""

    MENTION = "mention"
    STATUS = "status"
    REBLOG = "reblog"
    FOLLOW = "follow"
    FOLLOW_REQUEST = "follow_request"
    FAVOURITE = "favourite"
    UPDATE = "update"
    POLL = "poll"  # a poll one voted in or created has ended
    MODERATION_WARNING = "moderation_warning"  # a moderator warned or limited the account


# Types that point at a status (the others are about an account).
STATUS_TYPES = frozenset({NotificationType.MENTION, NotificationType.STATUS,
                          NotificationType.REBLOG, NotificationType.FAVOURITE,
                          NotificationType.UPDATE, NotificationType.POLL})


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification as stored."""

    id: int
    account_id: int  # who is notified (local)
    from_account_id: int  # who caused it
    type: NotificationType
    status_id: int | None
    created_at: datetime
    account_warning_id: int | None = None  # moderation_warning: the warning told about
    group_key: str | None = None  # favourites, boosts and follows (migrations/0015)
    filtered: bool = False  # held back by the owner's notification policy


@dataclass(frozen=True, slots=True)
class NotificationFilter:
    """Which notifications a listing wants (Mastodon's ``types[]``, ``exclude_types[]``,
    ``account_id`` and ``include_filtered``); an empty ``types`` means every type."""

    types: frozenset[NotificationType] = frozenset()
    exclude_types: frozenset[NotificationType] = frozenset()
    from_account_id: int | None = None
    include_filtered: bool = False

    @property
    def shows_filtered(self) -> bool:
        """Whether the notifications the policy filtered are listed too: when asked, or when
        listing one sender's (how a client shows a notification request), as Mastodon's
        ``Notification.browserable`` does."""
        return self.include_filtered or self.from_account_id is not None

    def wanted(self) -> list[NotificationType]:
        """The types to return, in a stable order."""
        chosen = self.types or frozenset(NotificationType)
        return sorted(chosen - self.exclude_types)


@dataclass(frozen=True, slots=True)
class NotificationView:
    """A notification as its owner sees it."""

    notification: Notification
    account: Account
    status: StatusView | None = None
    warning: AccountWarning | None = None  # moderation_warning only
