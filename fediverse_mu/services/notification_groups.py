"""A resident's grouped notifications (Mastodon 4.3's ``/api/v2/notifications``): a page of
groups (which types may group is the client's choice among favourite, reblog and follow), one
group by key, its accounts, dismissing a group, the unread groups after the notifications
marker, and the notification policy (applied when notifications are written, by
``services.notification_requests``). The keys themselves are set when notifications are
written (a trigger, migrations/0015)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from fediverse_mu.domain import Account, Invalid, NotFound, User
from fediverse_mu.domain.notification_groups import (
    GROUPABLE_TYPES,
    POLICY_FIELDS,
    NotificationGroupView,
    NotificationPolicy,
    PolicyValue,
    is_group_key,
)
from fediverse_mu.domain.notifications import NotificationFilter, NotificationType
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.profiles import Timeline
from fediverse_mu.services import notifications, profiles
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import notification_groups as store

_VALUES = {v.value: v for v in PolicyValue}


def grouped_types(asked: Iterable[str] | None) -> frozenset[NotificationType]:
    """The types that may group: all the groupable ones when the client names none (``None``
    or nothing), else those it names (unknown names group nothing, as on Mastodon)."""
    names = [] if asked is None else list(asked)
    if not names:
        return GROUPABLE_TYPES
    return frozenset(t for t in GROUPABLE_TYPES if t.value in names)


async def list_groups(svc: Services, account: Account, page: Page, wanted: NotificationFilter,
                      grouped: frozenset[NotificationType]) -> list[NotificationGroupView]:
    """A page of the resident's notification groups, newest first."""
    return await svc.storage.read(store.list_groups, account.id, page, wanted, grouped,
                                  svc.now())


def _known(key: str) -> str:
    if not is_group_key(key):
        raise NotFound("Record not found")
    return key


async def get_group(svc: Services, account: Account, key: str) -> NotificationGroupView:
    """One of the resident's groups; NotFound when they have none with that key."""
    found = await svc.storage.read(store.get_group, account.id, _known(key), svc.now())
    if found is None:
        raise NotFound("Record not found")
    return found


async def group_accounts(svc: Services, account: Account, key: str,
                         page: Page) -> list[tuple[int, Account]]:
    """The accounts of a group's notifications, newest first, with their notification ids
    (which page the list); NotFound when the resident has no such group."""
    found = await svc.storage.read(store.list_group_accounts, account.id, _known(key), page,
                                   svc.now())
    if found is None:
        raise NotFound("Record not found")
    return found


async def dismiss_group(svc: Services, account: Account, key: str) -> None:
    """Remove every notification of one of the resident's groups; NotFound when none."""
    if not await svc.storage.write(store.delete_group, account.id, _known(key)):
        raise NotFound("Record not found")


async def unread_group_count(svc: Services, user: User, account: Account,
                             wanted: NotificationFilter, grouped: frozenset[NotificationType],
                             limit: int = notifications.UNREAD_DEFAULT) -> int:
    """How many groups the notifications newer than the notifications marker make (all of
    them without a marker), capped at ``limit`` (at most 1000)."""
    markers = await profiles.get_markers(svc, user, [Timeline.NOTIFICATIONS])
    last_read = markers[0].last_read_id if markers else ""
    after = int(last_read) if last_read.isdigit() and len(last_read) <= 20 else None
    return await svc.storage.read(store.count_unread_groups, account.id, wanted, grouped,
                                  after, max(1, min(limit, notifications.UNREAD_MAX)),
                                  svc.now())


async def get_policy(svc: Services, account: Account) -> NotificationPolicy:
    """The resident's notification policy."""
    return await svc.storage.read(store.get_policy, account.id)


def _changed(db: Database, account_id: int, changes: dict[str, PolicyValue],
             now: datetime) -> NotificationPolicy:
    current = store.get_policy(db, account_id)
    merged = NotificationPolicy(**{name: changes.get(name, getattr(current, name))
                                   for name in POLICY_FIELDS})
    return store.put_policy(db, account_id, merged, now)


async def update_policy(svc: Services, account: Account,
                        params: Mapping[str, str]) -> NotificationPolicy:
    """Change some fields of the resident's policy (``accept``, ``filter`` or ``drop`` each);
    Invalid, with nothing changed, when a value is anything else. Other keys are ignored."""
    changes: dict[str, PolicyValue] = {}
    for name in POLICY_FIELDS:
        value = params.get(name)
        if value is None:
            continue
        if value not in _VALUES:
            raise Invalid(f"{name} must be one of accept, filter, drop")
        changes[name] = _VALUES[value]
    if not changes:
        return await get_policy(svc, account)
    return await svc.storage.write(_changed, account.id, changes, svc.now())
