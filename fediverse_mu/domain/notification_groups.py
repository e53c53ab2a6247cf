"""Grouped notifications (Mastodon 4.3, https://docs.joinmastodon.org/methods/grouped_notifications/):
which types group, what a group key looks like, a group as a page shows it, and the
notification filtering policy a resident keeps (Mastodon's ``NotificationPolicy``; how it
applies is in ``domain.notification_requests``).

Group keys follow Mastodon's ``Notification::Groups#set_group_key!``: favourites and boosts of
one status group as ``<type>-<status id>-<hour bucket>``, follows as ``follow-<hour bucket>``,
where the hour bucket is ``created_at`` in hours since the epoch, reused from the previous
notification of the same kind while it is less than 12 hours older (so a group spans at most
12 hours). Any other notification is its own group, ``ungrouped-<notification id>``; so is a
groupable one when the client leaves its type out of ``grouped_types[]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.moderation import AccountWarning
from fediverse_mu.domain.notifications import Notification, NotificationType
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import StatusView

# Mastodon's GROUPABLE_NOTIFICATION_TYPES (admin.sign_up aside: this server sends none).
GROUPABLE_TYPES = frozenset({NotificationType.FAVOURITE, NotificationType.REBLOG,
                             NotificationType.FOLLOW})
MAXIMUM_GROUP_SPAN_HOURS = 12
SAMPLE_ACCOUNTS = 8  # Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE
UNGROUPED = "ungrouped-"


def ungrouped_key(notification_id: int) -> str:
    """The key of a notification shown on its own."""
    return f"{UNGROUPED}{notification_id}"


def ungrouped_id(key: str) -> int | None:
    """The notification id of an ``ungrouped-<id>`` key, None for any other key."""
    digits = key.removeprefix(UNGROUPED)
    if digits == key or not digits.isdigit() or len(digits) > 20:
        return None
    return int(digits)


def is_group_key(key: str) -> bool:
    """Whether ``key`` has the shape of a key this server gives (anything else is unknown)."""
    if ungrouped_id(key) is not None:
        return True
    parts = key.split("-")
    if len(parts) == 2:
        return parts[0] == NotificationType.FOLLOW.value and parts[1].isdigit()
    return (len(parts) == 3 and parts[0] in (NotificationType.FAVOURITE.value,
                                              NotificationType.REBLOG.value)
            and all(p.isdigit() and len(p) <= 20 for p in parts[1:]))


@dataclass(frozen=True, slots=True)
class PageRange:
    """The ids a page of groups spans, both ends included (None: unbounded): what a group
    counts is bounded by ``newest``, what it shows of the page by both, as Mastodon does."""

    oldest: int | None
    newest: int | None

    @classmethod
    def of_page(cls, oldest_head: int, newest_head: int, found: int, page: Page) -> PageRange:
        """From its oldest to its newest head; a page that is not full is the last one in its
        direction, so it reaches to the end of the list there (Mastodon's
        ``load_grouped_notifications``)."""
        if found >= page.limit:
            return cls(oldest_head, newest_head)
        if page.min_id is not None:
            return cls(oldest_head, None if page.max_id is None else page.max_id - 1)
        return cls(None if page.since_id is None else page.since_id + 1, newest_head)


@dataclass(frozen=True, slots=True)
class NotificationGroup:
    """One group as a listing shows it. ``head`` is the notification that stands for the
    group on the page (its newest one there; its id pages the listing); ``page_*`` are None
    outside a paged listing."""

    key: str
    head: Notification
    notifications_count: int
    most_recent_notification_id: int
    sample_account_ids: tuple[int, ...]
    page_min_id: int | None = None
    page_max_id: int | None = None
    latest_page_notification_at: datetime | None = None

    @property
    def type(self) -> NotificationType:
        """The type shared by the group's notifications."""
        return self.head.type


@dataclass(frozen=True, slots=True)
class NotificationGroupView:
    """A group with its sample accounts (newest first) and its status, if about one."""

    group: NotificationGroup
    accounts: tuple[Account, ...]
    status: StatusView | None = None
    warning: AccountWarning | None = None  # moderation_warning only


class PolicyValue(StrEnum):
    """What to do with notifications from one kind of sender (Mastodon's policy values)."""

    ACCEPT = "accept"
    FILTER = "filter"
    DROP = "drop"


POLICY_FIELDS = ("for_not_following", "for_not_followers", "for_new_accounts",
                 "for_private_mentions", "for_limited_accounts")


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    """A resident's notification policy; the defaults are Mastodon 4.3's. Applied when a
    notification is written (``domain.notification_requests.decide``)."""

    for_not_following: PolicyValue = PolicyValue.ACCEPT
    for_not_followers: PolicyValue = PolicyValue.ACCEPT
    for_new_accounts: PolicyValue = PolicyValue.ACCEPT
    for_private_mentions: PolicyValue = PolicyValue.FILTER
    for_limited_accounts: PolicyValue = PolicyValue.FILTER
