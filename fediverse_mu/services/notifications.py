"""A resident's notifications: listing them (filtered by type and by account, paged), reading
one, dismissing one or all, and counting the unread ones (newer than the notifications marker).
Also the follow and follow request notifications, written by ``services.following`` inside
its own transactions, and their announcement on the event bus once committed. Mentions,
boosts, favourites and edits are notified by ``services.posting``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fediverse_mu.domain import Account, Follow, FollowState, NotFound, User
from fediverse_mu.domain.notifications import (
    NotificationFilter,
    NotificationType,
    NotificationView,
)
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.profiles import Timeline
from fediverse_mu.events import NOTIFICATION
from fediverse_mu.services import groups_relay, profiles
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import notifications as store

UNREAD_DEFAULT = 100
UNREAD_MAX = 1000
_TYPES = {t.value: t for t in NotificationType}



def make_filter(types: Iterable[str] = (), exclude_types: Iterable[str] = (),
                from_account_id: int | None = None, *,
                include_filtered: bool = False) -> NotificationFilter:
    """The filter a client asked for. Types this server does not know are ignored, as
    Mastodon does (clients send newer ones, such as ``poll`` or ``admin.sign_up``), but asking
    only for unknown types returns nothing. ``include_filtered``: also what the resident's
    notification policy filtered."""
    asked = list(types)
    chosen = frozenset(_TYPES[t] for t in asked if t in _TYPES)
    if asked and not chosen:
        return NotificationFilter(exclude_types=frozenset(NotificationType))
    return NotificationFilter(types=chosen,
                              exclude_types=frozenset(_TYPES[t] for t in exclude_types
                                                      if t in _TYPES),
                              from_account_id=from_account_id,
                              include_filtered=include_filtered)


def _list(db: Database, account_id: int, page: Page, wanted: NotificationFilter,
          now: datetime) -> list[NotificationView]:
    found = store.list_notifications(db, account_id, page, wanted, now)
    return store.load_notification_views(db, found, account_id)


async def list_notifications(svc: Services, account: Account, page: Page,
                             wanted: NotificationFilter) -> list[NotificationView]:
    """A page of the resident's notifications, newest first."""
    return await svc.storage.read(_list, account.id, page, wanted, svc.now())


def _get(db: Database, account_id: int, notification_id: int, now: datetime,
         include_filtered: bool) -> NotificationView | None:
    found = store.get_notification(db, account_id, notification_id, now,
                                   include_filtered=include_filtered)
    if found is None:
        return None
    views = store.load_notification_views(db, [found], account_id)
    return views[0] if views else None


async def find_notification(svc: Services, account_id: int, notification_id: int, *,
                            include_filtered: bool = False) -> NotificationView | None:
    """One notification as its owner sees it, or None (gone, hidden, someone else's, or
    filtered by their policy unless ``include_filtered``: what streaming sends)."""
    return await svc.storage.read(_get, account_id, notification_id, svc.now(),
                                  include_filtered)


async def get_notification(svc: Services, account: Account,
                           notification_id: int) -> NotificationView:
    """One of the resident's notifications (filtered ones too, as on Mastodon); NotFound
    otherwise."""
    found = await find_notification(svc, account.id, notification_id, include_filtered=True)
    if found is None:
        raise NotFound("Record not found")
    return found


async def dismiss(svc: Services, account: Account, notification_id: int) -> None:
    """Remove one notification; NotFound when it is not the resident's."""
    if not await svc.storage.write(store.delete_notification, account.id, notification_id):
        raise NotFound("Record not found")


async def clear(svc: Services, account: Account) -> int:
    """Remove all of the resident's notifications; returns how many there were."""
    return await svc.storage.write(store.clear_notifications, account.id)


async def unread_count(svc: Services, user: User, account: Account, wanted: NotificationFilter,
                       limit: int = UNREAD_DEFAULT) -> int:
    """How many notifications are newer than the notifications marker (all of them without
    a marker), capped at ``limit`` (at most 1000), as Mastodon counts."""
    markers = await profiles.get_markers(svc, user, [Timeline.NOTIFICATIONS])
    last_read = markers[0].last_read_id if markers else ""
    after = int(last_read) if last_read.isdigit() and len(last_read) <= 20 else None
    return await svc.storage.read(store.count_notifications, account.id, wanted, after,
                                  max(1, min(limit, UNREAD_MAX)), svc.now())


def notify_follow(db: Database, follow: Follow, target: Account,
                  now: datetime) -> list[tuple[int, int]]:
    """Inside a write that created ``follow``: notify a local ``target`` of it (``follow``
    when accepted, ``follow_request`` while pending). Returns ``[(notification id, account
    id)]`` for :func:`publish` once committed."""
    if not target.is_local or follow.followee_id != target.id:
        return []
    if target.actor_type == "Group":  # a request to join goes to the group's moderators
        return groups_relay.notify_moderators(db, follow, target, now)
    kind = NotificationType.FOLLOW if follow.state is FollowState.ACCEPTED \
        else NotificationType.FOLLOW_REQUEST
    notification_id = store.put_follow_notification(
        db, account_id=target.id, from_account_id=follow.follower_id, kind=kind, now=now)
    return [(notification_id, target.id)]


def publish(svc: Services, notified: Iterable[tuple[int, int]]) -> None:
    """Announce committed notifications on the event bus (streaming sends them on)."""
    for notification_id, account_id in notified:
        svc.events.publish(NOTIFICATION, {"notification_id": notification_id,
                                          "account_id": account_id})
