"""Polls (https://docs.joinmastodon.org/methods/polls/): checking a resident's new poll (two to
four options of at most 50 characters, five minutes to a month), writing it with its status
(``services.posting`` calls :func:`write_local_poll` inside the status's transaction, and
:func:`write_remote_poll` for a received ``Question``), voting, counting remote votes on local
polls, and the ``poll_end`` job that sends the ``poll`` notifications when a poll ends.

Federation, as Mastodon: a vote on a remote poll is a ``Create(Note)`` per chosen option
(``name`` = the option) sent to the poll's author; a vote on a local poll updates the counts
and sends an ``Update(Question)`` to the followers' servers and remote voters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from fediverse_mu.activitypub import notes as ap
from fediverse_mu.activitypub.activities import new_activity_id
from fediverse_mu.activitypub.polls import build_vote, parse_vote
from fediverse_mu.domain import Account, Invalid, NotFound, RetryLater
from fediverse_mu.domain.polls import (
    MAX_EXPIRATION,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MIN_EXPIRATION,
    IncomingPoll,
    NewPoll,
    Poll,
)
from fediverse_mu.domain.statuses import Status, Visibility
from fediverse_mu.events import NOTIFICATION
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.storage import polls as store
from fediverse_mu.storage import statuses as status_store

POLL_END_JOB: Final = "poll_end"


def check_new_poll(options: Sequence[str], expires_in: str | int | None,
                   multiple: bool = False, hide_totals: bool = False) -> NewPoll:
    """A resident's poll, checked (Invalid with Mastodon's limits otherwise)."""
    titles = [str(o).strip() for o in options]
    if len(titles) < 2:
        raise Invalid("Validation failed: a poll must have at least 2 options")
    if len(titles) > MAX_OPTIONS:
        raise Invalid(f"Validation failed: a poll can have at most {MAX_OPTIONS} options")
    if any(not t for t in titles):
        raise Invalid("Validation failed: poll options cannot be blank")
    if any(len(t) > MAX_OPTION_CHARS for t in titles):
        raise Invalid(f"Validation failed: poll options are limited to {MAX_OPTION_CHARS} "
                      "characters")
    if len(set(titles)) != len(titles):
        raise Invalid("Validation failed: poll options must be different")
    text = str(expires_in).strip() if expires_in is not None else ""
    if not text.isdigit() or len(text) > 10:
        raise Invalid("Validation failed: poll[expires_in] must be a number of seconds")
    seconds = int(text)
    if not MIN_EXPIRATION <= seconds <= MAX_EXPIRATION:
        raise Invalid(f"Validation failed: a poll lasts between {MIN_EXPIRATION} and "
                      f"{MAX_EXPIRATION} seconds")
    return NewPoll(tuple(titles), seconds, multiple, hide_totals)


def _queue_end(db: Database, status_id: int, expires_at: datetime, now: datetime) -> None:
    job_store.put_job(db, POLL_END_JOB, {"status_id": status_id}, now=now.timestamp(),
                      run_at=expires_at.timestamp(), dedup_key=f"poll_end:{status_id}")


def write_local_poll(db: Database, status: Status, poll: NewPoll, now: datetime) -> None:
    """Inside the status's write: record its poll and the job that ends it."""
    expires_at = now + timedelta(seconds=poll.expires_in)
    store.put_poll(db, status.id, options=poll.options, multiple=poll.multiple,
                   hide_totals=poll.hide_totals, expires_at=expires_at, now=now)
    _queue_end(db, status.id, expires_at, now)


def write_remote_poll(db: Database, status: Status, poll: IncomingPoll, now: datetime) -> None:
    """Inside a received status's write: record its Question's options and counts (and a job
    to tell local voters when it ends)."""
    store.put_poll(db, status.id, options=poll.options, multiple=poll.multiple,
                   hide_totals=False, expires_at=poll.expires_at, now=now, votes=poll.votes,
                   voters_count=poll.voters_count, closed=poll.closed)
    if poll.expires_at is not None and not poll.closed:
        _queue_end(db, status.id, max(poll.expires_at, now), now)


def refresh_remote_poll(db: Database, status: Status, poll: IncomingPoll, now: datetime) -> bool:
    """Inside an Update's write: take the origin's new counts; True when they were taken."""
    return store.refresh_remote_poll(db, status.id, poll, now)


def _distribute(db: Database, base_url: str, status: Status, now_ts: float) -> int:
    """Send the local poll's new counts (an Update of the Question) to the followers'
    servers and to remote voters; returns how many deliveries were queued."""
    if status.local_only:
        return 0
    author = account_store.get_account_by_id(db, status.account_id)
    views = status_store.load_views(db, [status.id], status.account_id)
    if author is None or not views:
        return 0
    inboxes: list[str] = []
    if status.visibility is not Visibility.DIRECT:
        inboxes += follow_store.list_follower_inboxes(db, author.id)
    voters = account_store.get_accounts_by_ids(db, store.voter_ids(db, status.id))
    inboxes += [inbox for a in voters.values() if not a.is_local
                for inbox in (a.shared_inbox_uri or a.inbox_uri,) if inbox]
    activity = ap.build_update(ap.render_note(views[0], base_url=base_url),
                               new_activity_id(author.actor_uri, "Update"))
    return queue_deliveries(db, activity, inboxes, signer_id=author.id, now=now_ts)


def _choices(poll: Poll, choices: Sequence[int]) -> list[int]:
    chosen = list(choices)
    if not chosen:
        raise Invalid("Validation failed: choose at least one option")
    if len(set(chosen)) != len(chosen):
        raise Invalid("Validation failed: an option is chosen twice")
    if any(not 0 <= c < len(poll.options) for c in chosen):
        raise Invalid("Validation failed: unknown poll option")
    if not poll.multiple and len(chosen) > 1:
        raise Invalid("Validation failed: this poll allows one choice only")
    return sorted(chosen)


def _vote(db: Database, base_url: str, account: Account, status_id: int,
          choices: Sequence[int], now: datetime, now_ts: float) -> tuple[Poll, int]:
    status = status_store.get_status(db, status_id)
    if status is None or not status_store.can_see(db, status, account.id):
        raise NotFound("Record not found")
    poll = store.get_poll(db, status.id, account.id)
    if poll is None:
        raise NotFound("Record not found")
    if poll.expired(now):
        raise Invalid("Validation failed: The poll has already ended")
    if status.account_id == account.id:
        raise Invalid("Validation failed: You cannot vote in your own polls")
    if poll.voted:
        raise Invalid("Validation failed: You have already voted on this poll")
    chosen = _choices(poll, choices)
    jobs = 0
    if status.local:
        store.put_votes(db, status.id, account.id, chosen, [None] * len(chosen), now)
        jobs = _distribute(db, base_url, status, now_ts)
    else:
        author = account_store.get_account_by_id(db, status.account_id)
        inbox = None if author is None else author.inbox_uri or author.shared_inbox_uri
        uris = [f"{account.actor_uri}#votes/{status.id}/{c}" for c in chosen]
        store.put_votes(db, status.id, account.id, chosen, uris, now)
        if author is not None and inbox is not None:
            for uri, choice in zip(uris, chosen, strict=True):
                jobs += queue_deliveries(db, build_vote(uri, account.actor_uri, status.uri,
                                                        author.actor_uri, poll.options[choice]),
                                         [inbox], signer_id=account.id, now=now_ts)
    updated = store.get_poll(db, status.id, account.id)
    assert updated is not None
    return updated, jobs


async def vote(svc: Services, account: Account, status_id: int,
               choices: Sequence[int]) -> Poll:
    """Vote in a poll the resident may see (not their own, once, before it ends); a remote
    poll's author is sent the vote."""
    poll, jobs = await svc.storage.write(_vote, svc.config.base_url, account, status_id,
                                         choices, svc.now(), svc.clock())
    if jobs:
        announce_jobs(svc)
    return poll


async def get_poll(svc: Services, status_id: int, viewer: Account | None) -> Poll:
    """A poll whose status the viewer may see (404 otherwise)."""
    def read(db: Database) -> Poll | None:
        status = status_store.get_status(db, status_id)
        viewer_id = None if viewer is None else viewer.id
        if status is None or not status_store.can_see(db, status, viewer_id):
            return None
        return store.get_poll(db, status_id, viewer_id)

    found = await svc.storage.read(read)
    if found is None:
        raise NotFound("Record not found")
    return found


def _receive_vote(db: Database, base_url: str, actor: Account, vote_uri: str, poll_uri: str,
                  title: str, now: datetime, now_ts: float) -> str | None:
    status = status_store.get_status_by_uri(db, poll_uri)
    if status is None or not status.local or status.deleted_at is not None:
        return "vote in an unknown poll"
    poll = store.get_poll(db, status.id, actor.id)
    if poll is None:
        return "vote in a status without a poll"
    if not status_store.can_see(db, status, actor.id):
        return "vote in a poll the voter cannot see"
    if poll.expired(now):
        return "vote in an ended poll"
    if title not in poll.options:
        return "vote for an unknown option"
    choice = poll.options.index(title)
    if (poll.voted and not poll.multiple) or choice in poll.own_votes:
        return "repeated vote"
    store.put_votes(db, status.id, actor.id, [choice], [vote_uri], now)
    _distribute(db, base_url, status, now_ts)
    return None


async def receive_vote(svc: Services, actor: Account, raw: dict[str, Any]) -> str | None:
    """A remote actor's vote (a Note with a ``name``) on a local poll; returns why it was
    ignored, or None when counted."""
    parsed = parse_vote(raw)
    vote_uri = raw.get("id")
    if parsed is None or not isinstance(vote_uri, str):
        return "not a vote"
    reason = await svc.storage.write(_receive_vote, svc.config.base_url, actor, vote_uri,
                                     parsed[0], parsed[1], svc.now(), svc.clock())
    if reason is None:
        announce_jobs(svc)
    return reason


def is_vote(raw: dict[str, Any]) -> bool:
    """True when a Note looks like a poll vote (a ``name``, an ``inReplyTo``, no content)."""
    return parse_vote(raw) is not None


def _end(db: Database, base_url: str, status_id: int, now: datetime,
         now_ts: float) -> list[tuple[int, int]]:
    status = status_store.get_status(db, status_id)
    poll = None if status is None else store.get_poll(db, status_id)
    if status is None or poll is None or status.deleted_at is not None:
        return []
    if not poll.expired(now):  # its end was moved later (a remote Update): not yet
        assert poll.expires_at is not None
        raise RetryLater("the poll has not ended yet",
                         retry_after=(poll.expires_at - now).total_seconds())
    if not store.mark_ended(db, status_id, now):
        return []
    author = account_store.get_account_by_id(db, status.account_id)
    people = account_store.get_accounts_by_ids(db, store.voter_ids(db, status_id))
    if author is not None:
        people[author.id] = author
    notified = []
    for person in people.values():
        if not person.is_local:
            continue
        notification_id = status_store.put_notification(
            db, account_id=person.id, from_account_id=status.account_id, kind="poll",
            status_id=status.id, now=now)
        if notification_id is not None:
            notified.append((notification_id, person.id))
    if status.local:
        _distribute(db, base_url, status, now_ts)  # the final counts, closed
    return notified


async def end_poll(svc: Services, status_id: int) -> int:
    """Job: a poll has ended; its author and local voters get a ``poll`` notification (once).
    Returns how many were notified."""
    notified = await svc.storage.write(_end, svc.config.base_url, status_id, svc.now(),
                                       svc.clock())
    for notification_id, account_id in notified:
        svc.events.publish(NOTIFICATION, {"notification_id": notification_id,
                                          "account_id": account_id})
    announce_jobs(svc)
    return len(notified)
