"""Home-feed fan-out of a resident's post to many local followers, as a durable job.

A post goes into the home feed of each local follower: one row, but one B-tree page of
``home_feed`` per follower (the feed is clustered by owner so that a home page is one range).
For an author with a few followers that is cheap and is done in the post's own transaction,
so everyone sees it at once. Past :data:`INLINE_FOLLOWERS` local followers, the post's
transaction queues one ``home.fanout`` job instead (in the same transaction: a post is never
left half fanned-out, even after kill -9), as Mastodon does with its feed-insert workers. The
job runs a moment later: the followers are read then (so an unfollow in between is honoured),
and the jobs claimed together are written in one transaction, their rows sorted by feed, so
that posts sharing followers share the pages and the commit (bench/api.py: posting with 100
local followers each). Lists, ``notify`` subscriptions and streaming follow the same path."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from fediverse_mu.domain.jobs import Job
from fediverse_mu.domain.statuses import Visibility
from fediverse_mu.events import HOME_FANOUT, NOTIFICATION
from fediverse_mu.services import notification_requests
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.storage import lists as list_store
from fediverse_mu.storage import statuses as store

FANOUT_JOB: Final = "home.fanout"
# Up to this many local followers, a post reaches their home feeds in its own transaction.
INLINE_FOLLOWERS: Final = 20


@dataclass
class FanOut:
    """What one fan-out wrote: the feeds that got the status and the notifications made."""

    status_id: int
    account_id: int
    home: list[int] = field(default_factory=list)
    notifications: list[tuple[int, int]] = field(default_factory=list)  # (id, account id)


def followers_now(db: Database, author_id: int) -> list[int] | None:
    """Inside a post's transaction: its author's local followers when there are at most
    :data:`INLINE_FOLLOWERS` (fan out now), None when there are more (queue the job); remote
    followers do not count (an author followed only from elsewhere queues nothing)."""
    followers = store.local_follower_ids(db, author_id, limit=INLINE_FOLLOWERS + 1)
    return None if len(followers) > INLINE_FOLLOWERS else followers


def queue(db: Database, status_id: int, now_ts: float) -> None:
    """Inside a post's transaction: queue its fan-out to the followers' home feeds."""
    job_store.put_job(db, FANOUT_JOB, {"status_id": status_id}, now=now_ts,
                      dedup_key=f"{FANOUT_JOB}:{status_id}")


def subscriber_notifications(db: Database, status_id: int, author_id: int, home: set[int],
                             skip: set[int], now: datetime) -> list[tuple[int, int]]:
    """``status`` notifications for the followers who asked for them (``notify=true``) and
    got the post at home, except ``skip`` (the mentioned, who have a ``mention``)."""
    made: list[tuple[int, int]] = []
    for subscriber_id in store.local_subscriber_ids(db, author_id):
        if subscriber_id in skip or subscriber_id not in home:
            continue
        notification_id = notification_requests.notify(
            db, account_id=subscriber_id, from_account_id=author_id, kind="status",
            status_id=status_id, now=now)
        if notification_id is not None:
            made.append((notification_id, subscriber_id))
    return made


def _fan_out_many(db: Database, items: list[tuple[int, datetime]]) -> list[FanOut]:
    status_ids, now = [i for i, _ in items], items[-1][1]
    statuses = store.get_statuses(db, status_ids)
    done: list[FanOut] = []
    rows: list[tuple[int, int]] = []
    for status_id in status_ids:
        status = statuses.get(status_id)
        outcome = FanOut(status_id, 0 if status is None else status.account_id)
        done.append(outcome)
        if status is None or status.deleted_at is not None or \
                status.visibility is Visibility.DIRECT:
            continue  # deleted meanwhile: nothing to add
        # The author and the mentioned had it in the post's own transaction.
        mentioned = set(store.mention_account_ids(db, status.id))
        followers = [f for f in store.local_follower_ids(db, status.account_id)
                     if f not in mentioned and f != status.account_id]
        home = list_store.fan_out(db, status, followers)
        outcome.home = home
        rows += [(account_id, status.id) for account_id in home]
        reply_to_other = status.in_reply_to_account_id not in (None, status.account_id)
        if not reply_to_other:
            outcome.notifications = subscriber_notifications(
                db, status.id, status.account_id, set(home), mentioned, now)
    rows.sort()  # feed by feed: posts sharing followers write each leaf page once
    store.add_home_feed_rows(db, rows)
    return done


async def run(svc: Services, job: Job) -> None:
    """The ``home.fanout`` job: put the status in its author's local followers' home feeds
    (and lists), notify the subscribers, and tell streaming."""
    outcome = await svc.storage.grouped(_fan_out_many)((int(job.payload["status_id"]),
                                                        svc.now()))
    if outcome.home:
        svc.events.publish(HOME_FANOUT, {"status_id": outcome.status_id,
                                         "account_id": outcome.account_id,
                                         "home": outcome.home})
    for notification_id, account_id in outcome.notifications:
        svc.events.publish(NOTIFICATION, {"notification_id": notification_id,
                                          "account_id": account_id})
