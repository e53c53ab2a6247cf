"""Scheduled statuses (https://docs.joinmastodon.org/methods/scheduled_statuses/): a status
created with ``scheduled_at`` (at least five minutes ahead, as Mastodon) is checked like any
post, kept with its typed parameters, and published at that time by a durable
``publish_scheduled`` job (queued in the same transaction; moving the time queues another, and
a job that finds its status gone or moved does nothing). Publishing goes through
``services.posting`` with an idempotency key, so a crash between posting and forgetting the
scheduled row never posts twice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Final

from fediverse_mu.domain import Account, DomainError, Invalid, Media, NotFound
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.scheduled import (
    MAX_PER_DAY,
    MAX_SCHEDULED,
    MIN_AHEAD,
    ScheduledParams,
    ScheduledStatus,
)
from fediverse_mu.services import posting
from fediverse_mu.services.context import Services
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.storage import media as media_store
from fediverse_mu.storage import scheduled as store

log = logging.getLogger(__name__)

PUBLISH_JOB: Final = "publish_scheduled"


def parse_scheduled_at(text: str, now: datetime) -> datetime:
    """An ISO 8601 time at least five minutes after ``now`` (Invalid otherwise)."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Invalid("Validation failed: scheduled_at must be an ISO 8601 date-time") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment < now + MIN_AHEAD:
        raise Invalid("Validation failed: Scheduled at The scheduled date must be in the "
                      "future (at least 5 minutes ahead)")
    return moment


def _queue(db: Database, scheduled: ScheduledStatus, now: datetime) -> None:
    job_store.put_job(db, PUBLISH_JOB, {"scheduled_id": scheduled.id}, now=now.timestamp(),
                      run_at=scheduled.scheduled_at.timestamp())


def _check_limits(db: Database, account_id: int, scheduled_at: datetime,
                  exclude: int = 0) -> None:
    if store.count_pending(db, account_id) - exclude >= MAX_SCHEDULED:
        raise Invalid(f"Validation failed: at most {MAX_SCHEDULED} scheduled statuses")
    if store.count_pending(db, account_id, scheduled_at) - exclude >= MAX_PER_DAY:
        raise Invalid(f"Validation failed: at most {MAX_PER_DAY} statuses scheduled a day")


def _schedule(db: Database, account: Account, scheduled_at: datetime, params: ScheduledParams,
              now: datetime) -> ScheduledStatus:
    _check_limits(db, account.id, scheduled_at)
    if params.media_ids:  # own, unattached uploads only (the same rule as posting now)
        found = [media_store.get_media(db, i) for i in params.media_ids]
        if any(m is None or m.account_id != account.id or m.status_id is not None
               or m.file_name is None for m in found):
            raise Invalid("Unknown or unavailable media ids")
    scheduled = store.put_scheduled(db, account.id, scheduled_at, params, now)
    _queue(db, scheduled, now)
    return scheduled


def params_of(draft: posting.Draft, *, idempotency: str | None) -> ScheduledParams:
    """What to keep of a checked draft to post it later (as typed)."""
    return ScheduledParams(
        text=draft.text, visibility=draft.visibility.value, spoiler_text=draft.spoiler_text,
        sensitive=draft.sensitive,
        in_reply_to_id=None if draft.in_reply_to is None else draft.in_reply_to.id,
        language=draft.language, media_ids=draft.media_ids, local_only=draft.local_only,
        poll=draft.poll, idempotency=idempotency)


async def schedule(svc: Services, account: Account, draft: posting.Draft, scheduled_at: str, *,
                   idempotency: str | None = None) -> ScheduledStatus:
    """Keep a checked draft to publish at ``scheduled_at`` (≥ 5 minutes ahead)."""
    now = svc.now()
    moment = parse_scheduled_at(scheduled_at, now)
    scheduled = await svc.storage.write(_schedule, account, moment,
                                        params_of(draft, idempotency=idempotency), now)
    announce_jobs(svc)
    return scheduled


async def list_scheduled(svc: Services, account: Account, page: Page) -> list[ScheduledStatus]:
    """A page of the resident's scheduled statuses."""
    return await svc.storage.read(store.list_scheduled, account.id, page)


async def get_scheduled(svc: Services, account: Account, scheduled_id: int) -> ScheduledStatus:
    """One of the resident's scheduled statuses (404 for anyone else's)."""
    found = await svc.storage.read(store.get_scheduled, scheduled_id, account.id)
    if found is None:
        raise NotFound("Record not found")
    return found


async def media_of(svc: Services, items: list[ScheduledStatus]) -> dict[int, list[Media]]:
    """The uploads each scheduled status will carry, in order."""
    def read(db: Database) -> dict[int, list[Media]]:
        out: dict[int, list[Media]] = {}
        for item in items:
            found = [media_store.get_media(db, i) for i in item.params.media_ids]
            out[item.id] = [m for m in found if m is not None]
        return out
    return await svc.storage.read(read)


def _reschedule(db: Database, account: Account, scheduled_id: int, moment: datetime,
                now: datetime) -> ScheduledStatus:
    current = store.get_scheduled(db, scheduled_id, account.id)
    if current is None:
        raise NotFound("Record not found")
    _check_limits(db, account.id, moment, exclude=1)
    moved = store.reschedule(db, scheduled_id, account.id, moment)
    assert moved is not None
    _queue(db, moved, now)
    return moved


async def reschedule(svc: Services, account: Account, scheduled_id: int,
                     scheduled_at: str) -> ScheduledStatus:
    """Move one of the resident's scheduled statuses to another time (≥ 5 minutes ahead)."""
    now = svc.now()
    moment = parse_scheduled_at(scheduled_at, now)
    moved = await svc.storage.write(_reschedule, account, scheduled_id, moment, now)
    announce_jobs(svc)
    return moved


def _cancel(db: Database, account_id: int, scheduled_id: int) -> bool:
    if store.get_scheduled(db, scheduled_id, account_id) is None:
        return False
    return store.delete_scheduled(db, scheduled_id) is not None


async def cancel(svc: Services, account: Account, scheduled_id: int) -> None:
    """Cancel one of the resident's scheduled statuses (its uploads become ordinary ones)."""
    if not await svc.storage.write(_cancel, account.id, scheduled_id):
        raise NotFound("Record not found")


async def publish(svc: Services, scheduled_id: int,
                  resolve: posting.MentionResolver | None = None) -> int | None:
    """Job: publish a scheduled status whose time has come; returns the new status's id
    (None: gone, moved later, or no longer valid — then it is dropped, as on Mastodon)."""
    found = await svc.storage.read(store.get_scheduled, scheduled_id, None)
    if found is None or found.scheduled_at > svc.now():
        return None  # cancelled, published already, or moved later (another job is queued)
    author = await svc.storage.read(account_store.get_account_by_id, found.account_id)
    p = found.params
    try:
        if author is None:
            raise NotFound("the account is gone")
        draft = await posting.prepare(
            svc, author, text=p.text, spoiler_text=p.spoiler_text, sensitive=p.sensitive,
            visibility=p.visibility, in_reply_to_id=p.in_reply_to_id, language=p.language,
            media_ids=p.media_ids, local_only=p.local_only, resolve=resolve, poll=p.poll)
        view = await posting.create_status(svc, author, draft,
                                           idempotency_key=f"scheduled:{scheduled_id}")
    except DomainError as exc:  # e.g. the status it replied to was deleted meanwhile
        log.info("scheduled status %s dropped: %s", scheduled_id, exc)
        await svc.storage.write(store.delete_scheduled, scheduled_id)
        return None
    await svc.storage.write(store.delete_scheduled, scheduled_id)
    return view.status.id
