"""The notification policy applied, and the notification requests it makes (Mastodon 4.3,
https://docs.joinmastodon.org/methods/notifications/#requests). :func:`notify` is called by
the services that write favourite, boost and mention notifications, inside their own
transaction: it judges the notification by the recipient's policy
(``domain.notification_requests.decide``), drops it, writes it filtered (not announced, a
mention opens or updates the sender's request) or writes it as usual. The residents' side:
their pending requests, one request, accepting (the sender's filtered notifications join the
list, their held-back direct messages the conversations, and later ones are never filtered)
or dismissing them (the filtered notifications go), and the summary the policy entity
carries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.notification_groups import PolicyValue
from fediverse_mu.domain.notification_requests import (
    FILTERABLE_TYPES,
    REQUEST_TYPES,
    NotificationRequestView,
    PolicySummary,
    decide,
)
from fediverse_mu.domain.notifications import NotificationType
from fediverse_mu.domain.pagination import Page
from fediverse_mu.services import conversations
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import conversations as conversation_store
from fediverse_mu.storage import notification_groups as policy_store
from fediverse_mu.storage import notification_requests as store
from fediverse_mu.storage import statuses as status_store

MAX_BULK = 100  # ids in one bulk accept or dismiss


def judge(db: Database, account_id: int, from_account_id: int, kind: NotificationType,
          status_id: int | None, now: datetime) -> PolicyValue:
    """What ``account_id``'s policy makes of a notification of ``kind`` from
    ``from_account_id`` about ``status_id``."""
    if kind not in FILTERABLE_TYPES:
        return PolicyValue.ACCEPT
    facts = store.sender_facts(db, account_id, from_account_id,
                               status_id if kind is NotificationType.MENTION else None)
    if facts is None:
        return PolicyValue.ACCEPT
    return decide(policy_store.get_policy(db, account_id), kind, facts, now)


def notify(db: Database, *, account_id: int, from_account_id: int, kind: str,
           status_id: int | None, now: datetime) -> int | None:
    """Inside a write: notify local ``account_id`` as their policy says. Returns the id to
    announce once committed; None when dropped, filtered, or already notified."""
    return notify_judged(db, account_id=account_id, from_account_id=from_account_id,
                         kind=kind, status_id=status_id, now=now)[1]


def notify_judged(db: Database, *, account_id: int, from_account_id: int, kind: str,
                  status_id: int | None, now: datetime) -> tuple[PolicyValue, int | None]:
    """:func:`notify`, also saying what the policy made of it (a direct message whose
    mention is held back stays out of the recipient's conversations until accepted)."""
    verdict = judge(db, account_id, from_account_id, NotificationType(kind), status_id, now)
    if verdict is PolicyValue.DROP:
        return verdict, None
    filtered = verdict is PolicyValue.FILTER
    notification_id = store.put_notification(
        db, account_id=account_id, from_account_id=from_account_id, kind=kind,
        status_id=status_id, now=now, filtered=filtered)
    if notification_id is None or not filtered:
        return verdict, notification_id
    if NotificationType(kind) in REQUEST_TYPES:
        store.note_request(db, account_id, from_account_id, now)
    return verdict, None


async def list_requests(svc: Services, account: Account,
                        page: Page) -> list[NotificationRequestView]:
    """A page of the resident's pending notification requests, newest first."""
    return await svc.storage.read(store.list_requests, account.id, page, svc.now())


async def get_request(svc: Services, account: Account,
                      request_id: int) -> NotificationRequestView:
    """One of the resident's pending requests; NotFound otherwise."""
    found = await svc.storage.read(store.get_request, account.id, request_id, svc.now())
    if found is None:
        raise NotFound("Record not found")
    return found


def _accept(db: Database, account_id: int, request_ids: Sequence[int],
            now: datetime) -> tuple[int, list[tuple[int, int]]]:
    """Accept requests, and let their senders' held-back direct messages into the owner's
    conversations (unread), as Mastodon's UnfilterNotificationsWorker does. Returns how many
    were accepted and the conversations touched."""
    held = store.filtered_direct_mentions(db, account_id, request_ids)
    accepted = store.accept_requests(db, account_id, request_ids, now)
    touched: list[tuple[int, int]] = []
    statuses = status_store.get_statuses(db, held)
    for status_id in held:
        if status_id in statuses:
            touched += conversation_store.record_direct_status(
                db, statuses[status_id], status_store.mention_account_ids(db, status_id),
                [account_id], now)
    return accepted, list(dict.fromkeys(touched))


async def _accept_and_publish(svc: Services, account: Account,
                              request_ids: Sequence[int]) -> int:
    accepted, touched = await svc.storage.write(_accept, account.id, request_ids, svc.now())
    conversations.publish(svc, touched)
    return accepted


async def accept(svc: Services, account: Account, request_id: int) -> None:
    """Accept one of the resident's requests; NotFound (nothing changed) otherwise."""
    if not await _accept_and_publish(svc, account, [request_id]):
        raise NotFound("Record not found")


async def dismiss(svc: Services, account: Account, request_id: int) -> None:
    """Dismiss one of the resident's requests; NotFound (nothing changed) otherwise."""
    if not await svc.storage.write(store.dismiss_requests, account.id, [request_id]):
        raise NotFound("Record not found")


def _bulk(request_ids: Sequence[int]) -> list[int]:
    if not request_ids:
        raise Invalid("id[] must name at least one request")
    if len(request_ids) > MAX_BULK:
        raise Invalid(f"at most {MAX_BULK} requests at once")
    return list(dict.fromkeys(request_ids))


async def accept_many(svc: Services, account: Account, request_ids: Sequence[int]) -> int:
    """Accept those of ``request_ids`` that are the resident's (others are ignored, as on
    Mastodon); returns how many. Invalid, with nothing changed, for no id or too many."""
    return await _accept_and_publish(svc, account, _bulk(request_ids))


async def dismiss_many(svc: Services, account: Account, request_ids: Sequence[int]) -> int:
    """Dismiss those of ``request_ids`` that are the resident's; returns how many. Invalid,
    with nothing changed, for no id or too many."""
    return await svc.storage.write(store.dismiss_requests, account.id, _bulk(request_ids))


async def summarize(svc: Services, account: Account) -> PolicySummary:
    """The policy entity's summary: pending requests and their filtered notifications."""
    return await svc.storage.read(store.summarize, account.id, svc.now())
