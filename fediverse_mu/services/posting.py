"""Posting and everything done to a status, from either face: residents create, edit, delete,
favourite, boost, bookmark and pin through the Mastodon API; remote Notes, edits, deletes,
likes and boosts arrive through the inbox. Each change, its home-feed entries, notifications
and outgoing activities are written in one transaction (a durable outbox); events are published
after the commit for streaming."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fediverse_mu.activitypub import notes as ap
from fediverse_mu.activitypub.activities import build_undo, new_activity_id
from fediverse_mu.activitypub.validate import host_of
from fediverse_mu.domain import Account, Forbidden, Invalid, NotFound
from fediverse_mu.domain.notification_groups import PolicyValue
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.places import Ressenti
from fediverse_mu.domain.polls import NewPoll
from fediverse_mu.domain.statuses import IncomingNote, Status, StatusEdit, StatusView, Visibility
from fediverse_mu.events import NOTIFICATION, STATUS_CREATED, STATUS_DELETED, STATUS_UPDATED
from fediverse_mu.services import (
    conversations,
    fanout,
    formatting,
    groups_relay,
    notification_requests,
    polls,
    ressentis,
)
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import conversations as conversation_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import lists as list_store
from fediverse_mu.storage import media as media_store
from fediverse_mu.storage import relationships as relationship_store
from fediverse_mu.storage import statuses as store
from fediverse_mu.storage.statuses import NewStatus

MAX_CHARACTERS = 500
URL_LENGTH = 23  # every link counts as 23 characters, as on Mastodon
MAX_PINNED = 5
MAX_MENTIONS = 50
MAX_SPOILER = 500

# Resolves "user@domain" to an account (fetching it when needed); supplied by the face.
MentionResolver = Callable[[str], Awaitable[Account | None]]
LOCAL_ONLY_MARKS = ("👁", "👁\ufe0f")



def count_characters(text: str) -> int:
    """Characters as Mastodon counts them: links are 23, remote mentions count the username."""
    text = formatting.URL_RE.sub("x" * URL_LENGTH, text)
    text = formatting.MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return len(text)


@dataclass
class _Outcome:
    """What a write did, for the events published after it commits."""

    status: Status | None = None
    home: list[int] = field(default_factory=list)
    notifications: list[tuple[int, int]] = field(default_factory=list)  # (id, account id)
    deleted: list[int] = field(default_factory=list)
    jobs: int = 0
    replayed: bool = False  # an Idempotency-Key retry: nothing new happened
    view: StatusView | None = None  # the new status as its author sees it (create)
    tags: list[str] = field(default_factory=list)  # the status's hashtags, normalised
    conversations: list[tuple[int, int]] = field(default_factory=list)  # (account, conv.)
    # Boosts made with it (a local group's relay, the place actor's): (boost, home ids).
    boosts: list[tuple[Status, list[int]]] = field(default_factory=list)


def _publish(svc: Services, outcome: _Outcome, topic: str | None = STATUS_CREATED) -> None:
    if outcome.replayed:
        return
    status = outcome.status
    if status is not None and topic in (STATUS_CREATED, STATUS_UPDATED):
        svc.events.publish(topic, {
            "status_id": status.id, "account_id": status.account_id, "home": outcome.home,
            "public": status.visibility is Visibility.PUBLIC and status.reblog_of_id is None,
            "local": status.local, "local_only": status.local_only,
            "tags": outcome.tags,
        })
    # A local group relaying the new post to its members, the place actor boosting a
    # ressenti to its followers: never on the public streams (boosts are not, on Mastodon).
    for boost, home in outcome.boosts:
        svc.events.publish(STATUS_CREATED, {
            "status_id": boost.id, "account_id": boost.account_id, "home": home,
            "public": False, "local": boost.local, "local_only": False, "tags": []})
    if outcome.deleted:
        svc.events.publish(STATUS_DELETED, {"status_ids": outcome.deleted,
                                            "account_id": None if status is None
                                            else status.account_id})
    for notification_id, account_id in outcome.notifications:
        svc.events.publish(NOTIFICATION, {"notification_id": notification_id,
                                          "account_id": account_id})
    conversations.publish(svc, outcome.conversations)
    if outcome.jobs:
        announce_jobs(svc)


def _notify(db: Database, outcome: _Outcome, account: Account | None, from_id: int, kind: str,
            status_id: int | None, now: datetime) -> bool:
    """Notify a local recipient as their policy says; False when it held it back (filtered
    or dropped)."""
    if account is None or not account.is_local or account.id == from_id:
        return True
    verdict, notification_id = notification_requests.notify_judged(
        db, account_id=account.id, from_account_id=from_id, kind=kind, status_id=status_id,
        now=now)
    if notification_id is not None:
        outcome.notifications.append((notification_id, account.id))
    return verdict is PolicyValue.ACCEPT


def _notify_subscribers(db: Database, outcome: _Outcome, status: Status,
                        mentioned: Sequence[Account], now: datetime) -> None:
    """``status`` notifications for followers who asked for them (not for replies to others,
    nor direct messages; a mentioned follower already has a ``mention``)."""
    if status.visibility is Visibility.DIRECT or (
            status.in_reply_to_account_id not in (None, status.account_id)):
        return
    outcome.notifications += fanout.subscriber_notifications(
        db, status.id, status.account_id, set(outcome.home), {m.id for m in mentioned}, now)


def _inbox_of(account: Account) -> str | None:
    return account.shared_inbox_uri or account.inbox_uri


def _audience_inboxes(db: Database, author: Account, status: Status,
                      mentioned: Sequence[Account], extra: Sequence[Account] = ()) -> list[str]:
    """Where a local status's activities go: one inbox per follower server (unless direct),
    plus remote mentioned accounts and ``extra`` (e.g. the author of the replied status)."""
    inboxes: list[str] = []
    if status.visibility is not Visibility.DIRECT:
        inboxes += follow_store.list_follower_inboxes(db, author.id)
    for account in (*mentioned, *extra):
        inbox = _inbox_of(account)
        if not account.is_local and inbox is not None:
            inboxes.append(inbox)
    return list(dict.fromkeys(inboxes))


def _view(db: Database, status_id: int, viewer_id: int | None) -> StatusView:
    views = store.load_views(db, [status_id], viewer_id)
    if not views:
        raise NotFound("status not found")
    return views[0]


def _note(view: StatusView, base_url: str) -> dict[str, Any]:
    return ap.render_note(view, base_url=base_url)


def tag_url(base_url: str, tag: str) -> str:
    """The page of a hashtag."""
    return f"{base_url}/tags/{quote(tag)}"


# -- local posting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A resident's new status (or new version of one), validated and resolved."""

    text: str
    spoiler_text: str
    sensitive: bool
    visibility: Visibility
    language: str | None
    mentions: tuple[Account, ...]
    tags: tuple[str, ...]
    html: str
    in_reply_to: Status | None = None
    local_only: bool = False
    media_ids: tuple[int, ...] = ()
    ressenti: Ressenti | None = None  # a feeling (and spot) recognised in the text
    network: bool = False  # for the network of places only (stored as private)
    poll: NewPoll | None = None  # checked by services.polls.check_new_poll


def _visibility(value: str | None, default: Visibility) -> tuple[Visibility, bool]:
    if value is None or value == "":
        return default, False
    if value == "local":  # Pleroma/Akkoma's local-only dialect
        return Visibility.PUBLIC, True
    try:
        return Visibility(value), False
    except ValueError:
        raise Invalid(f"Validation failed: visibility {value!r} is not one of public, "
                      "unlisted, private, direct") from None


_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


async def _mention_accounts(svc: Services, text: str,
                            resolve: MentionResolver | None) -> list[Account]:
    found: list[Account] = []
    for handle in formatting.extract_mentions(text)[:MAX_MENTIONS]:
        username, _, domain = handle.partition("@")
        account: Account | None
        if not domain or domain.lower() == svc.config.domain.lower():
            account = await svc.storage.read(account_store.get_local_account, username)
        else:
            account = await svc.storage.read(account_store.get_remote_account, username,
                                             domain.lower())
            if account is None and resolve is not None:
                account = await resolve(handle)
        if account is not None and account not in found:
            found.append(account)
    return found


async def prepare(svc: Services, author: Account, *, text: str, spoiler_text: str = "",
                  sensitive: bool = False, visibility: str | None = None,
                  in_reply_to_id: int | None = None, language: str | None = None,
                  media_ids: Sequence[int] = (), local_only: bool = False,
                  resolve: MentionResolver | None = None, network: bool = False,
                  poll: NewPoll | None = None) -> Draft:
    """Check and resolve what a resident typed (Mastodon's rules and messages)."""
    text = text.replace("\r\n", "\n")
    if not text.strip() and not media_ids:
        raise Invalid("Validation failed: Text can't be blank")
    if count_characters(text) > MAX_CHARACTERS:
        raise Invalid(f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded")
    if len(spoiler_text) > MAX_SPOILER:
        raise Invalid("Validation failed: Spoiler text is too long")
    if language is not None and language != "" and not _LANGUAGE.match(language):
        raise Invalid(f"Validation failed: language {language!r} is not an ISO 639 code")
    if len(media_ids) > 4:
        raise Invalid("Validation failed: at most 4 media attachments")
    if poll is not None and media_ids:
        raise Invalid("Validation failed: a status with a poll cannot have media attachments")
    chosen, local_dialect = _visibility(visibility, Visibility.PUBLIC)
    parent = None
    if in_reply_to_id is not None:
        parent = await svc.storage.read(store.get_status, in_reply_to_id)
        if parent is None or not await svc.storage.read(store.can_see, parent, author.id):
            raise NotFound("the status replied to does not exist")
        if parent.reblog_of_id is not None:
            raise Invalid("Validation failed: cannot reply to a boost")
        local_only = local_only or parent.local_only  # replies inherit local-only
    mentions = await _mention_accounts(svc, text, resolve)
    targets = {(m.username if m.is_local else m.acct()).lower():
               formatting.MentionTarget(m.acct(), m.url or m.actor_uri) for m in mentions}
    for m in mentions:  # "@alice@our.domain" links too
        targets[f"{m.username}@{svc.config.domain}".lower()] = targets[
            (m.username if m.is_local else m.acct()).lower()]
    html = formatting.render_text(text, targets, lambda t: tag_url(svc.config.base_url, t))
    # A feeling's hashtag or leading emoji, and a spot's hashtag, make it a ressenti.
    ressenti, tags = await ressentis.recognise(svc, text, tuple(formatting.extract_tags(text)))
    if text.rstrip().endswith(LOCAL_ONLY_MARKS):  # glitch-soc's "ends with 👁" convention
        local_only = True
    if network:
        chosen, local_dialect = Visibility.PRIVATE, False
    return Draft(text=text, spoiler_text=spoiler_text.strip(), sensitive=sensitive or
                 bool(spoiler_text.strip()), visibility=chosen, language=language or None,
                 mentions=tuple(mentions), tags=tags, html=html,
                 in_reply_to=parent, local_only=local_only or local_dialect,
                 media_ids=tuple(media_ids), ressenti=ressenti,
                 network=network and not (local_only or local_dialect), poll=poll)


def _create(db: Database, base_url: str, author: Account, draft: Draft, now: datetime,
            now_ts: float, idempotency_key: str | None) -> _Outcome:
    outcome = _Outcome()
    if idempotency_key:
        existing = store.get_idempotent_status(db, author.id, idempotency_key)
        if existing is not None:
            outcome.status = store.get_status(db, existing)
            outcome.replayed = True
            return outcome
    status_id = store.new_status_id(db, now)
    uri = f"{author.actor_uri}/statuses/{status_id}"
    parent = draft.in_reply_to
    status = store.put_status(db, NewStatus(
        id=status_id, uri=uri, url=f"{base_url}/@{author.username}/{status_id}",
        account_id=author.id, local=True, content=draft.html, visibility=draft.visibility,
        created_at=now, source_text=draft.text, spoiler_text=draft.spoiler_text,
        sensitive=draft.sensitive, language=draft.language,
        in_reply_to_id=None if parent is None else parent.id,
        in_reply_to_uri=None if parent is None else parent.uri,
        in_reply_to_account_id=None if parent is None else parent.account_id,
        conversation_uri=parent.conversation_uri if parent and parent.conversation_uri
        else f"{base_url}/contexts/{status_id}",
        local_only=draft.local_only, has_media=bool(draft.media_ids),
    ), mention_ids=[m.id for m in draft.mentions], tags=draft.tags)
    media_store.attach_media(db, author.id, list(draft.media_ids), status.id)
    if draft.poll is not None:
        polls.write_local_poll(db, status, draft.poll, now)
    if draft.network:
        ressentis.mark_network_in(db, status.id)
    if draft.ressenti is not None:
        ressentis.store_local_in(db, status, draft.ressenti, network=draft.network)
    outcome.status = status
    outcome.tags = list(draft.tags)
    home = [author.id] + [m.id for m in draft.mentions if m.is_local]
    followers: list[int] | None = []
    if status.visibility is not Visibility.DIRECT:
        followers = fanout.followers_now(db, author.id)
    if followers is None:  # many local followers: their feeds get it from a job, in batches
        fanout.queue(db, status.id, now_ts)
        outcome.jobs += 1
    else:
        home += followers
    home = list_store.fan_out(db, status, home)  # list feeds; exclusive lists skip home
    store.add_to_home_feeds(db, status.id, home)
    outcome.home = list(dict.fromkeys(home))
    # A direct message whose mention the recipient's policy held back is not in their
    # conversations (nor on their direct stream) until they accept the request (Mastodon's
    # NotifyService#push_to_conversation!).
    reached = [m for m in draft.mentions
               if _notify(db, outcome, m, author.id, "mention", status.id, now)]
    if followers is not None:
        _notify_subscribers(db, outcome, status, draft.mentions, now)
    outcome.conversations = conversation_store.record_direct_status(
        db, status, [m.id for m in draft.mentions],
        [author.id, *(m.id for m in reached if m.is_local)], now)
    if idempotency_key:
        store.put_idempotency_key(db, author.id, idempotency_key, status.id, now)
    # The status as its author sees it, for the Create and for the answer: loaded here when
    # a Note is needed (or a poll, whose entity depends on the viewer), otherwise by
    # _create_many for the whole group commit at once.
    if draft.poll is not None:
        outcome.view = _view(db, status.id, author.id)
    if not status.local_only:
        parent_author = None
        if parent is not None and status.visibility is not Visibility.DIRECT:
            parent_author = account_store.get_account_by_id(db, parent.account_id)
        # A reply in a remote group's thread goes to the group too (it stays in the group).
        inboxes = _audience_inboxes(db, author, status, draft.mentions,
                                    ([parent_author] if parent_author else []) +
                                    groups_relay.remote_groups_of(db, parent))
        # The local groups it mentions (or whose thread it is in).
        groups = [] if draft.network else groups_relay.groups_for(db, draft.mentions, parent)
        if inboxes or groups or draft.network:
            outcome.view = outcome.view or _view(db, status.id, author.id)
            note = _note(outcome.view, base_url)
            if draft.network:  # only the allied places (and through them, their residents)
                note, inboxes = ressentis.network_delivery_in(db, note, draft.mentions)
            if inboxes:  # no follower elsewhere, nobody remote mentioned: nothing to send
                activity = ap.build_create(note)
                outcome.jobs = queue_deliveries(db, activity, inboxes, signer_id=author.id,
                                                now=now_ts)
            relayed = groups_relay.relay_local_post(db, groups, author, status, note, now,
                                                    now_ts)
            outcome.jobs += relayed.jobs
            outcome.boosts += relayed.boosts
    if draft.ressenti is not None:  # the place actor boosts it; residents' lists get it
        place_boosts, place_jobs = ressentis.after_local_in(db, base_url, status,
                                                            draft.ressenti, now, now_ts)
        outcome.boosts += place_boosts  # streamed like a local group's relay boost
        outcome.jobs += place_jobs
    return outcome


@dataclass(frozen=True)
class _NewPost:
    """The arguments of one ``_create``, waiting for the next group commit."""

    base_url: str
    author: Account
    draft: Draft
    now: datetime
    now_ts: float
    idempotency_key: str | None


def _create_many(db: Database, posts: list[_NewPost]) -> list[_Outcome]:
    outcomes = [_create(db, p.base_url, p.author, p.draft, p.now, p.now_ts, p.idempotency_key)
                for p in posts]
    # The answers not loaded yet, in one batch: a brand-new status without a poll looks the
    # same to everyone (nobody has favourited, boosted or bookmarked it yet).
    waiting = [o for o in outcomes if o.view is None and not o.replayed and o.status]
    if waiting:
        views = {v.status.id: v for v in store.load_views(
            db, [o.status.id for o in waiting if o.status], None)}
        for outcome in waiting:
            assert outcome.status is not None
            outcome.view = views.get(outcome.status.id)
    return outcomes


async def create_status(svc: Services, author: Account, draft: Draft, *,
                        idempotency_key: str | None = None) -> StatusView:
    """Publish a resident's status: stored, in the home feeds, delivered to followers."""
    # Posts made while a write is in the storage thread are written together (a group
    # commit, Storage.grouped): they share the commit and the home-feed pages.
    outcome = await svc.storage.grouped(_create_many)(_NewPost(
        svc.config.base_url, author, draft, svc.now(), svc.clock(), idempotency_key))
    _publish(svc, outcome)
    assert outcome.status is not None
    if outcome.view is not None:
        return outcome.view
    return await get_view(svc, outcome.status.id, author)  # an idempotent replay


def _own_status(db: Database, account: Account, status_id: int) -> Status:
    status = store.get_status(db, status_id)
    if status is None or status.deleted_at is not None or status.reblog_of_id is not None:
        raise NotFound("Record not found")
    if status.account_id != account.id:
        raise Forbidden("This action is not allowed")
    return status


def _edit(db: Database, base_url: str, author: Account, status_id: int, draft: Draft,
          now: datetime, now_ts: float) -> _Outcome:
    status = _own_status(db, author, status_id)
    outcome = _Outcome()
    media_store.attach_media(db, author.id, list(draft.media_ids), status.id)
    outcome.status = store.edit_status(
        db, status, content=draft.html, source_text=draft.text, spoiler_text=draft.spoiler_text,
        sensitive=draft.sensitive, language=draft.language, edited_at=now,
        mention_ids=[m.id for m in draft.mentions], tags=draft.tags,
        has_media=bool(draft.media_ids))
    ressentis.replace_local_in(db, outcome.status, draft.ressenti)  # the feeling may change
    outcome.tags = list(draft.tags)
    boosters = [account_id for _, account_id in store.reblogged_by_ids(db, status.id, Page(
        limit=80))]
    for account in account_store.get_accounts_by_ids(db, boosters).values():
        _notify(db, outcome, account, author.id, "update", status.id, now)
    if not status.local_only:
        note = _note(_view(db, status.id, author.id), base_url)
        activity = ap.build_update(note, new_activity_id(author.actor_uri, "Update"))
        inboxes = _audience_inboxes(db, author, outcome.status, draft.mentions) + \
            groups_relay.remote_group_inboxes(db, status)
        outcome.jobs = queue_deliveries(db, activity, inboxes, signer_id=author.id, now=now_ts)
        outcome.jobs += groups_relay.relay_activity(db, outcome.status, activity, now_ts)
    return outcome


async def edit_status(svc: Services, author: Account, status_id: int,
                      draft: Draft) -> StatusView:
    """Edit one's own status (the previous version goes to its history); federates Update."""
    outcome = await svc.storage.write(_edit, svc.config.base_url, author, status_id, draft,
                                      svc.now(), svc.clock())
    _publish(svc, outcome, STATUS_UPDATED)
    return await get_view(svc, status_id, author)


def _delete(db: Database, author: Account, status_id: int, now: datetime,
            now_ts: float) -> tuple[_Outcome, StatusView]:
    status = _own_status(db, author, status_id)
    view = _view(db, status.id, author.id)
    mentioned = view.mentions
    outcome = _Outcome(status=status)
    outcome.deleted = store.delete_status(db, status, now)
    media_store.detach_media_of_status(db, status.id, now)
    if not status.local_only:
        followers = f"{author.actor_uri}/followers"
        to, cc = ap.addressing(status.visibility, followers, [m.actor_uri for m in mentioned])
        activity = ap.build_delete(status.uri, author.actor_uri, to, cc,
                                   f"{status.uri}#delete")
        inboxes = _audience_inboxes(db, author, status, mentioned)
        if view.ressenti is not None:  # the place actor's followers got it boosted
            inboxes = list(dict.fromkeys([*inboxes, *ressentis.place_follower_inboxes_in(db)]))
        inboxes += groups_relay.remote_group_inboxes(db, status)
        outcome.jobs = queue_deliveries(db, activity, inboxes, signer_id=author.id, now=now_ts)
        outcome.jobs += groups_relay.relay_activity(db, status, activity, now_ts)
    return outcome, view


async def delete_status(svc: Services, author: Account, status_id: int) -> StatusView:
    """Delete one's own status; returns it as it was (for Mastodon's delete-and-redraft)."""
    outcome, view = await svc.storage.write(_delete, author, status_id, svc.now(), svc.clock())
    _publish(svc, outcome, STATUS_DELETED)
    return view


# -- interactions ----------------------------------------------------------------------------------


def _visible(db: Database, status_id: int, viewer: Account) -> Status:
    status = store.get_status(db, status_id)
    if status is None or not store.can_see(db, status, viewer.id):
        raise NotFound("Record not found")
    if status.reblog_of_id is not None:  # acting on a boost acts on what it boosts
        inner = store.get_status(db, status.reblog_of_id)
        if inner is None or not store.can_see(db, inner, viewer.id):
            raise NotFound("Record not found")
        return inner
    return status


def _favourite(db: Database, account: Account, status_id: int, now: datetime,
               now_ts: float) -> _Outcome:
    status = _visible(db, status_id, account)
    outcome = _Outcome()
    uri = new_activity_id(account.actor_uri, "Like")
    if not store.put_favourite(db, account.id, status.id, uri, now):
        return outcome
    author = account_store.get_account_by_id(db, status.account_id)
    _notify(db, outcome, author, account.id, "favourite", status.id, now)
    if status.local_only:
        return outcome
    like = ap.build_like(uri, account.actor_uri, status.uri)
    # The author, and the remote groups carrying the post (they announce likes, FEP-1b12).
    inboxes = [str(_inbox_of(author))] if author is not None and not author.is_local and \
        _inbox_of(author) else []
    inboxes += groups_relay.remote_group_inboxes(db, status)
    outcome.jobs = queue_deliveries(db, like, inboxes, signer_id=account.id, now=now_ts)
    outcome.jobs += groups_relay.relay_activity(db, status, like, now_ts)
    return outcome


async def favourite(svc: Services, account: Account, status_id: int) -> StatusView:
    """Favourite a status (a Like to a remote author)."""
    outcome = await svc.storage.write(_favourite, account, status_id, svc.now(), svc.clock())
    _publish(svc, outcome)
    return await get_view(svc, status_id, account)


def _unfavourite(db: Database, account: Account, status_id: int, now_ts: float) -> _Outcome:
    status = _visible(db, status_id, account)
    outcome = _Outcome()
    uri = store.get_favourite_uri(db, account.id, status.id)
    if not store.delete_favourite(db, account.id, status.id):
        return outcome
    author = account_store.get_account_by_id(db, status.account_id)
    if uri and author is not None and not author.is_local and _inbox_of(author):
        undo = build_undo(account.actor_uri, ap.build_like(uri, account.actor_uri, status.uri))
        outcome.jobs = queue_deliveries(db, undo, [str(_inbox_of(author))],
                                        signer_id=account.id, now=now_ts)
    return outcome


async def unfavourite(svc: Services, account: Account, status_id: int) -> StatusView:
    """Remove a favourite (Undo Like to a remote author)."""
    outcome = await svc.storage.write(_unfavourite, account, status_id, svc.clock())
    _publish(svc, outcome)
    return await get_view(svc, status_id, account)


def _announce_activity(account: Account, boost: Status, target_uri: str) -> dict[str, Any]:
    followers = f"{account.actor_uri}/followers"
    to, cc = ap.addressing(boost.visibility, followers, [])
    return ap.build_announce(boost.uri, account.actor_uri, target_uri, boost.created_at, to,
                             cc)


def _reblog(db: Database, base_url: str, account: Account, status_id: int,
            visibility: Visibility, now: datetime, now_ts: float) -> _Outcome:
    target = _visible(db, status_id, account)
    outcome = _Outcome()
    existing = store.get_reblog(db, account.id, target.id)
    if existing is not None:
        outcome.status = existing
        return outcome
    if target.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED) and \
            not (target.visibility is Visibility.PRIVATE and target.account_id == account.id):
        raise Forbidden("This action is not allowed")
    boost_id = store.new_status_id(db, now)
    uri = f"{account.actor_uri}/statuses/{boost_id}/activity"
    boost = store.put_status(db, NewStatus(
        id=boost_id, uri=uri, url=f"{base_url}/@{account.username}/{boost_id}",
        account_id=account.id, local=True, content="", visibility=visibility,
        created_at=now, reblog_of_id=target.id, local_only=target.local_only))
    outcome.status = boost
    home = list_store.fan_out(db, boost, [account.id, *store.local_follower_ids(db, account.id)])
    store.add_to_home_feeds(db, boost.id, home)
    outcome.home = home
    author = account_store.get_account_by_id(db, target.account_id)
    _notify(db, outcome, author, account.id, "reblog", target.id, now)
    if not boost.local_only:
        inboxes = _audience_inboxes(db, account, boost, [], [author] if author else [])
        outcome.jobs = queue_deliveries(db, _announce_activity(account, boost, target.uri),
                                        inboxes, signer_id=account.id, now=now_ts)
    return outcome


async def reblog(svc: Services, account: Account, status_id: int,
                 visibility: str | None = None) -> StatusView:
    """Boost a status (an Announce to followers and the author)."""
    chosen, _ = _visibility(visibility, Visibility.PUBLIC)
    if chosen is Visibility.DIRECT:
        raise Invalid("Validation failed: a boost cannot be direct")
    outcome = await svc.storage.write(_reblog, svc.config.base_url, account, status_id, chosen,
                                      svc.now(), svc.clock())
    _publish(svc, outcome)
    assert outcome.status is not None
    return await get_view(svc, outcome.status.id, account)


def _unreblog(db: Database, account: Account, status_id: int, now: datetime,
              now_ts: float) -> tuple[_Outcome, int]:
    target = _visible(db, status_id, account)
    outcome = _Outcome()
    boost = store.get_reblog(db, account.id, target.id)
    if boost is None:
        return outcome, target.id
    outcome.deleted = store.delete_status(db, boost, now)
    author = account_store.get_account_by_id(db, target.account_id)
    if not boost.local_only:
        undo = build_undo(account.actor_uri, {
            k: v for k, v in _announce_activity(account, boost, target.uri).items()
            if k != "@context"})
        inboxes = _audience_inboxes(db, account, boost, [], [author] if author else [])
        outcome.jobs = queue_deliveries(db, undo, inboxes, signer_id=account.id, now=now_ts)
    return outcome, target.id


async def unreblog(svc: Services, account: Account, status_id: int) -> StatusView:
    """Undo a boost; returns the status that was boosted."""
    outcome, target_id = await svc.storage.write(_unreblog, account, status_id, svc.now(),
                                                 svc.clock())
    _publish(svc, outcome, STATUS_DELETED)
    return await get_view(svc, target_id, account)


def _bookmark(db: Database, account: Account, status_id: int, on: bool, now: datetime) -> int:
    status = _visible(db, status_id, account)
    if on:
        store.put_bookmark(db, account.id, status.id, now)
    else:
        store.delete_bookmark(db, account.id, status.id)
    return status.id


async def bookmark(svc: Services, account: Account, status_id: int, on: bool) -> StatusView:
    """Bookmark or unbookmark a status (private to the resident)."""
    target = await svc.storage.write(_bookmark, account, status_id, on, svc.now())
    return await get_view(svc, target, account)


def _pin(db: Database, account: Account, status_id: int, on: bool, now: datetime) -> None:
    status = _own_status(db, account, status_id)
    if on:
        if status.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED):
            raise Invalid("Validation failed: only public and unlisted statuses can be pinned")
        if not status.pinned and store.count_pinned(db, account.id) >= MAX_PINNED:
            raise Invalid(f"Validation failed: you can pin at most {MAX_PINNED} statuses")
    store.set_pinned(db, status.id, now if on else None)


async def pin(svc: Services, account: Account, status_id: int, on: bool) -> StatusView:
    """Pin or unpin one's own status on the profile."""
    await svc.storage.write(_pin, account, status_id, on, svc.now())
    return await get_view(svc, status_id, account)


# -- reading ---------------------------------------------------------------------------------------


def _get_view(db: Database, status_id: int, viewer_id: int | None) -> StatusView:
    status = store.get_status(db, status_id)
    if status is None or not store.can_see(db, status, viewer_id):
        raise NotFound("Record not found")
    return _view(db, status_id, viewer_id)


async def get_view(svc: Services, status_id: int, viewer: Account | None) -> StatusView:
    """A status the viewer may see (404 otherwise: its existence is not revealed)."""
    return await svc.storage.read(_get_view, status_id, None if viewer is None else viewer.id)


async def _view_if_visible(svc: Services, status: Status | None,
                           viewer: Account | None) -> StatusView | None:
    if status is None:
        return None
    try:
        return await get_view(svc, status.id, viewer)
    except NotFound:
        return None


async def get_view_by_uri(svc: Services, uri: str, viewer: Account | None) -> StatusView | None:
    """A known status by its ActivityPub id, if the viewer may see it."""
    return await _view_if_visible(svc, await svc.storage.read(store.get_status_by_uri, uri),
                                  viewer)


def _context(db: Database, status_id: int, viewer_id: int | None,
             now: datetime) -> tuple[list[StatusView], list[StatusView]]:
    status = store.get_status(db, status_id)
    if status is None or not store.can_see(db, status, viewer_id):
        raise NotFound("Record not found")
    ancestors, descendants = store.context_ids(db, status)
    visible = store.get_statuses(db, ancestors + descendants)
    allowed = {i for i, s in visible.items() if store.can_see(db, s, viewer_id)}
    return (store.load_views(db, [i for i in ancestors if i in allowed], viewer_id),
            _without_excluded(db, store.load_views(
                db, [i for i in descendants if i in allowed], viewer_id), viewer_id, now))


async def context(svc: Services, status_id: int,
                  viewer: Account | None) -> tuple[list[StatusView], list[StatusView]]:
    """The thread around a status: ancestors and descendants the viewer may see."""
    return await svc.storage.read(_context, status_id, None if viewer is None else viewer.id,
                                  svc.now())


def _views(db: Database, ids: list[int], viewer_id: int | None) -> list[StatusView]:
    return store.load_views(db, ids, viewer_id)


def _without_excluded(db: Database, views: list[StatusView], viewer_id: int | None,
                      now: datetime) -> list[StatusView]:
    """Leave out what blocked (either way) and muted accounts posted or boosted."""
    if viewer_id is None or not views:
        return views
    excluded = relationship_store.excluded_account_ids(db, viewer_id, now)
    if not excluded:
        return views
    return [v for v in views if v.account.id not in excluded and
            (v.reblog is None or v.reblog.account.id not in excluded)]


def _home(db: Database, account_id: int, page: Page, now: datetime) -> list[StatusView]:
    views = store.load_views(db, store.home_timeline_ids(db, account_id, page), account_id)
    return _without_excluded(db, views, account_id, now)


async def home_timeline(svc: Services, viewer: Account, page: Page) -> list[StatusView]:
    """A page of the viewer's home feed."""
    return await svc.storage.read(_home, viewer.id, page, svc.now())


def _public(db: Database, viewer_id: int | None, page: Page, local: bool | None,
            only_media: bool, include_local_only: bool, now: datetime) -> list[StatusView]:
    ids = store.public_timeline_ids(db, page, local=local, only_media=only_media,
                                    include_local_only=include_local_only)
    return _without_excluded(db, store.load_views(db, ids, viewer_id), viewer_id, now)


async def public_timeline(svc: Services, viewer: Account | None, page: Page, *,
                          local: bool | None = None, only_media: bool = False) -> list[StatusView]:
    """A page of public statuses (local-only ones are shown to signed-in residents only)."""
    return await svc.storage.read(_public, None if viewer is None else viewer.id, page, local,
                                  only_media, viewer is not None and viewer.is_local,
                                  svc.now())


def _tag(db: Database, viewer_id: int | None, tag: str, page: Page, local: bool | None,
         only_media: bool, include_local_only: bool, now: datetime) -> list[StatusView]:
    ids = store.tag_timeline_ids(db, tag, page, local=local, only_media=only_media,
                                 include_local_only=include_local_only)
    return _without_excluded(db, store.load_views(db, ids, viewer_id), viewer_id, now)


async def tag_timeline(svc: Services, viewer: Account | None, tag: str, page: Page, *,
                       local: bool | None = None, only_media: bool = False) -> list[StatusView]:
    """A page of public statuses with a hashtag."""
    return await svc.storage.read(_tag, None if viewer is None else viewer.id,
                                  formatting.normalize_tag(tag), page, local, only_media,
                                  viewer is not None and viewer.is_local, svc.now())


def _account_statuses(db: Database, account_id: int, viewer_id: int | None, page: Page,
                      options: dict[str, Any]) -> list[StatusView]:
    ids = store.account_status_ids(db, account_id, viewer_id, page, **options)
    return store.load_views(db, ids, viewer_id)


async def account_statuses(svc: Services, account: Account, viewer: Account | None, page: Page,
                           *, exclude_replies: bool = False, exclude_reblogs: bool = False,
                           only_media: bool = False, pinned: bool = False,
                           tagged: str | None = None) -> list[StatusView]:
    """A page of an account's statuses the viewer may see."""
    options = {"exclude_replies": exclude_replies, "exclude_reblogs": exclude_reblogs,
               "only_media": only_media, "pinned": pinned,
               "tagged": None if tagged is None else formatting.normalize_tag(tagged),
               "include_local_only": viewer is not None and viewer.is_local}
    return await svc.storage.read(_account_statuses, account.id,
                                  None if viewer is None else viewer.id, page, options)


def _marked(db: Database, account_id: int, page: Page,
            kind: str) -> tuple[list[StatusView], list[int]]:
    pairs = (store.bookmark_ids if kind == "bookmarks" else store.favourite_ids)(
        db, account_id, page)
    views = store.load_views(db, [status_id for _, status_id in pairs], account_id)
    return views, [marker for marker, _ in pairs]


async def bookmarks(svc: Services, account: Account,
                    page: Page) -> tuple[list[StatusView], list[int]]:
    """Bookmarked statuses, with the bookmark ids that paginate them."""
    return await svc.storage.read(_marked, account.id, page, "bookmarks")


async def favourites(svc: Services, account: Account,
                     page: Page) -> tuple[list[StatusView], list[int]]:
    """Favourited statuses, with the favourite ids that paginate them."""
    return await svc.storage.read(_marked, account.id, page, "favourites")


def _who(db: Database, status_id: int, viewer_id: int | None, page: Page,
         kind: str) -> tuple[list[Account], list[int]]:
    status = store.get_status(db, status_id)
    if status is None or not store.can_see(db, status, viewer_id):
        raise NotFound("Record not found")
    pairs = (store.favourited_by_ids if kind == "favourites" else store.reblogged_by_ids)(
        db, status_id, page)
    accounts = account_store.get_accounts_by_ids(db, [a for _, a in pairs])
    return [accounts[a] for _, a in pairs if a in accounts], [m for m, _ in pairs]


async def favourited_by(svc: Services, status_id: int, viewer: Account | None,
                        page: Page) -> tuple[list[Account], list[int]]:
    """Who favourited a status."""
    return await svc.storage.read(_who, status_id, None if viewer is None else viewer.id, page,
                                  "favourites")


async def reblogged_by(svc: Services, status_id: int, viewer: Account | None,
                       page: Page) -> tuple[list[Account], list[int]]:
    """Who boosted a status."""
    return await svc.storage.read(_who, status_id, None if viewer is None else viewer.id, page,
                                  "reblogs")


def _history(db: Database, status_id: int, viewer_id: int | None) -> tuple[StatusView,
                                                                            list[StatusEdit]]:
    view = _get_view(db, status_id, viewer_id)
    status = view.status
    # A status never edited has one version: itself (as Mastodon answers).
    return view, store.list_status_edits(db, status_id) or [StatusEdit(
        status_id=status.id, content=status.content, spoiler_text=status.spoiler_text,
        sensitive=status.sensitive, created_at=status.created_at)]


async def history(svc: Services, status_id: int,
                  viewer: Account | None) -> tuple[StatusView, list[StatusEdit]]:
    """A status and its versions, oldest first (the current one included)."""
    return await svc.storage.read(_history, status_id, None if viewer is None else viewer.id)


# -- from other servers ----------------------------------------------------------------------------


def _remote_mentions(db: Database, note: IncomingNote) -> list[Account]:
    known = account_store.get_accounts_by_uris(db, list(note.mention_uris))
    return [known[u] for u in note.mention_uris if u in known]


def _store_note(db: Database, actor: Account, note: IncomingNote, now: datetime,
                force: bool) -> _Outcome:
    outcome = _Outcome()
    if store.is_tombstoned(db, note.uri):
        return outcome  # a Delete that overtook its Create wins
    existing = store.get_status_by_uri(db, note.uri)
    if existing is not None:
        # Stored first by another job (the worker runs a Create and a boost of the same post
        # side by side; the check and the insert share this write, so exactly one inserts):
        # the row that won is the answer, and nothing new happened to publish.
        if existing.deleted_at is None and existing.account_id == actor.id and \
                existing.reblog_of_id is None:
            outcome.status = existing
            outcome.replayed = True
        return outcome
    mentions = _remote_mentions(db, note)
    # A mentioned local group does not make a post wanted: the group decides (services.groups).
    local_mentions = [m for m in mentions if m.is_local and m.actor_type != "Group"]
    parent = None if note.in_reply_to_uri is None else \
        store.get_status_by_uri(db, note.in_reply_to_uri)
    followers = store.local_follower_ids(db, actor.id)
    replies_to_local = parent is not None and parent.local
    for_network = ressentis.for_our_network_in(db, actor, note)
    if not (force or followers or local_mentions or replies_to_local or for_network):
        return outcome  # nobody here asked for it: unsolicited posts are not kept
    created = min(note.published, now)
    status_id = store.new_status_id(db, created)
    status = store.put_status(db, NewStatus(
        id=status_id, uri=note.uri, url=note.url, account_id=actor.id, local=False,
        content=note.content, visibility=note.visibility, created_at=created,
        spoiler_text=note.spoiler_text, sensitive=note.sensitive, language=note.language,
        in_reply_to_id=None if parent is None else parent.id,
        in_reply_to_uri=note.in_reply_to_uri,
        in_reply_to_account_id=None if parent is None else parent.account_id,
        conversation_uri=note.conversation_uri or (parent.conversation_uri if parent else None)
        or note.uri,
        has_media=bool(note.attachments),
        edited_at=note.updated if note.updated and note.updated > note.published else None,
    ), mention_ids=[m.id for m in mentions],
        tags=[formatting.normalize_tag(t) for t in note.tags])
    for attachment in note.attachments:
        media_store.put_remote_media(db, status.id, actor.id, attachment, created_at=now)
    if note.poll is not None:
        polls.write_remote_poll(db, status, note.poll, now)
    if for_network:
        ressentis.mark_network_in(db, status.id)
    if note.ressenti is not None:  # checked against the feelings vocabulary, else ignored
        ressentis.store_remote_in(db, status, note.ressenti)
    ressentis.after_remote_in(db, status, actor, note.ressenti)
    store.link_replies(db, status)
    outcome.status = status
    outcome.tags = [formatting.normalize_tag(t) for t in note.tags]
    home = [m.id for m in local_mentions]
    if status.visibility is not Visibility.DIRECT:
        home += followers
    home = list_store.fan_out(db, status, home)  # list feeds; exclusive lists skip home
    store.add_to_home_feeds(db, status.id, home)
    outcome.home = list(dict.fromkeys(home))
    reached = [m for m in local_mentions  # held back: no conversation yet (see _create)
               if _notify(db, outcome, m, actor.id, "mention", status.id, now)]
    _notify_subscribers(db, outcome, status, mentions, now)
    outcome.conversations = conversation_store.record_direct_status(
        db, status, [m.id for m in mentions], [m.id for m in reached], now)
    return outcome


async def receive_note(svc: Services, actor: Account, note: IncomingNote, *,
                       force: bool = False) -> Status | None:
    """Keep a remote post when someone here follows its author, is mentioned, or it replies
    to a local status (``force``: fetched as thread context or for a boost). Idempotent: a
    post already here (stored by a job running alongside) is answered with the stored row;
    None when not kept (unsolicited, deleted)."""
    if note.actor_uri != actor.actor_uri:
        raise Forbidden("the note is attributed to another actor")
    outcome = await svc.storage.write(_store_note, actor, note, svc.now(), force)
    _publish(svc, outcome)
    return outcome.status


def _update_note(db: Database, actor: Account, note: IncomingNote, now: datetime) -> _Outcome:
    outcome = _Outcome()
    status = store.get_status_by_uri(db, note.uri)
    if status is None or status.deleted_at is not None or status.account_id != actor.id:
        return outcome
    if note.poll is not None and polls.refresh_remote_poll(db, status, note.poll, now) and \
            (note.content, note.spoiler_text, note.sensitive) == (
                status.content, status.spoiler_text, status.sensitive):
        return outcome  # new counts of its poll, not an edit (Mastodon sends these)
    if note.updated is not None and status.edited_at is not None and \
            note.updated <= status.edited_at:
        return outcome  # an older or repeated edit
    mentions = _remote_mentions(db, note)
    outcome.status = store.edit_status(
        db, status, content=note.content, source_text=None, spoiler_text=note.spoiler_text,
        sensitive=note.sensitive, language=note.language, edited_at=note.updated or now,
        mention_ids=[m.id for m in mentions],
        tags=[formatting.normalize_tag(t) for t in note.tags], has_media=bool(note.attachments))
    outcome.tags = [formatting.normalize_tag(t) for t in note.tags]
    boosters = [a for _, a in store.reblogged_by_ids(db, status.id, Page(limit=80))]
    for account in account_store.get_accounts_by_ids(db, boosters).values():
        _notify(db, outcome, account, actor.id, "update", status.id, now)
    return outcome


async def receive_note_update(svc: Services, actor: Account, note: IncomingNote) -> bool:
    """A remote author edited a post we have; only its author may."""
    if note.actor_uri != actor.actor_uri:
        raise Forbidden("the note is attributed to another actor")
    outcome = await svc.storage.write(_update_note, actor, note, svc.now())
    _publish(svc, outcome, STATUS_UPDATED)
    return outcome.status is not None


def _receive_delete(db: Database, actor: Account, object_uri: str, now: datetime) -> _Outcome:
    outcome = _Outcome()
    status = store.get_status_by_uri(db, object_uri)
    if status is None:
        if host_of(object_uri) == host_of(actor.actor_uri):
            store.put_tombstone(db, object_uri, now)
        return outcome
    if status.account_id != actor.id or status.deleted_at is not None:
        return outcome
    outcome.status = status
    outcome.deleted = store.delete_status(db, status, now)
    store.put_tombstone(db, object_uri, now)
    return outcome


async def receive_delete(svc: Services, actor: Account, object_uri: str) -> bool:
    """A remote author deleted a post (or a boost): tombstone it, even if not seen yet."""
    outcome = await svc.storage.write(_receive_delete, actor, object_uri, svc.now())
    _publish(svc, outcome, STATUS_DELETED)
    return bool(outcome.deleted)


def _receive_announce(db: Database, actor: Account, activity_uri: str, target: Status,
                      visibility: Visibility, published: datetime, now: datetime) -> _Outcome:
    outcome = _Outcome()
    if store.get_status_by_uri(db, activity_uri) is not None or \
            store.is_tombstoned(db, activity_uri):
        return outcome
    if target.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED) or \
            target.deleted_at is not None:
        return outcome
    followers = store.local_follower_ids(db, actor.id)
    if not followers and not target.local:
        return outcome
    created = min(published, now)
    boost = store.put_status(db, NewStatus(
        id=store.new_status_id(db, created), uri=activity_uri, url=target.url,
        account_id=actor.id, local=False, content="", visibility=visibility,
        created_at=created, reblog_of_id=target.id))
    outcome.status = boost
    followers = list_store.fan_out(db, boost, followers)  # exclusive lists skip home
    store.add_to_home_feeds(db, boost.id, followers)
    outcome.home = followers
    author = account_store.get_account_by_id(db, target.account_id)
    _notify(db, outcome, author, actor.id, "reblog", target.id, now)
    return outcome


async def receive_announce(svc: Services, actor: Account, activity_uri: str, target: Status,
                           visibility: Visibility, published: datetime) -> bool:
    """A remote boost of a status we have."""
    outcome = await svc.storage.write(_receive_announce, actor, activity_uri, target,
                                      visibility, published, svc.now())
    _publish(svc, outcome)
    return outcome.status is not None


def _receive_like(db: Database, actor: Account, activity_uri: str, target: Status,
                  now: datetime) -> _Outcome:
    outcome = _Outcome()
    if target.deleted_at is not None or not store.can_see(db, target, actor.id):
        return outcome
    if store.put_favourite(db, actor.id, target.id, activity_uri, now):
        author = account_store.get_account_by_id(db, target.account_id)
        _notify(db, outcome, author, actor.id, "favourite", target.id, now)
        outcome.status = target
    return outcome


async def receive_like(svc: Services, actor: Account, activity_uri: str,
                       target: Status) -> bool:
    """A remote favourite of a status here."""
    outcome = await svc.storage.write(_receive_like, actor, activity_uri, target, svc.now())
    _publish(svc, outcome, None)
    return outcome.status is not None


def _undo_like(db: Database, actor: Account, like_uri: str | None,
               object_uri: str | None) -> bool:
    target_id = None
    if like_uri is not None:
        found = store.get_favourite_by_uri(db, like_uri)
        if found is not None and found[0] == actor.id:
            target_id = found[1]
    if target_id is None and object_uri is not None:
        status = store.get_status_by_uri(db, object_uri)
        target_id = None if status is None else status.id
    return target_id is not None and store.delete_favourite(db, actor.id, target_id)


async def receive_undo_like(svc: Services, actor: Account, like_uri: str | None,
                            object_uri: str | None) -> bool:
    """A remote actor took back a favourite."""
    return await svc.storage.write(_undo_like, actor, like_uri, object_uri)


async def receive_undo_announce(svc: Services, actor: Account, announce_uri: str) -> bool:
    """A remote actor took back a boost: the same as deleting it."""
    return await receive_delete(svc, actor, announce_uri)


async def relevant_author(svc: Services, actor: Account) -> bool:
    """True when someone here follows this remote actor (their posts are wanted)."""
    return await svc.storage.read(store.has_local_followers, actor.id)


async def get_status_by_uri(svc: Services, uri: str) -> Status | None:
    """Any known status by its ActivityPub id."""
    return await svc.storage.read(store.get_status_by_uri, uri)


async def is_tombstoned(svc: Services, uri: str) -> bool:
    """True when we were told this object was deleted."""
    return await svc.storage.read(store.is_tombstoned, uri)


async def statuses_of(svc: Services, ids: list[int], viewer: Account | None) -> list[StatusView]:
    """Several statuses as the viewer sees them (used by notifications and search)."""
    return await svc.storage.read(_views, ids, None if viewer is None else viewer.id)


async def search_tags(svc: Services, query: str, limit: int, offset: int = 0) -> list[str]:
    """Hashtags in use here that start with ``query`` (with or without ``#``)."""
    prefix = formatting.normalize_tag(query.strip().lstrip("#"))
    if not prefix or not all(c.isalnum() or c == "_" for c in prefix):
        return []
    return await svc.storage.read_in_thread(store.search_tags, prefix, limit, offset)


async def find_by_url(svc: Services, url: str, viewer: Account | None) -> StatusView | None:
    """A known status by its id or page URL, if the viewer may see it."""
    return await _view_if_visible(svc, await svc.storage.read(store.get_status_by_url, url),
                                  viewer)


def _purge(db: Database, actor: Account, now: datetime) -> _Outcome:
    outcome = _Outcome()
    outcome.deleted = store.purge_account_content(db, actor.id, now)
    return outcome


async def receive_actor_delete(svc: Services, actor: Account) -> int:
    """A remote actor deleted itself: its posts, boosts, favourites and follows go."""
    if actor.is_local:
        raise Forbidden("a local account cannot be deleted from outside")
    outcome = await svc.storage.write(_purge, actor, svc.now())
    _publish(svc, outcome, STATUS_DELETED)
    return len(outcome.deleted)
