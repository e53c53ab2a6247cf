"""Following: local residents following accounts anywhere, and remote actors following local
residents (with manual approval for locked accounts: requests are authorized or rejected), the
paged lists of followers, followings and requests, and severing follows when one account
blocks another. Every change and the activities it sends are written in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fediverse_mu.activitypub.activities import (
    build_follow,
    build_response,
    build_undo,
    new_activity_id,
)
from fediverse_mu.domain import Account, Follow, FollowState, Forbidden, Invalid, NotFound
from fediverse_mu.domain.pagination import Page
from fediverse_mu.services import groups_relay, notifications
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import follows as store
from fediverse_mu.storage import relationships as rel_store


def _inbox(account: Account) -> str:
    inbox = account.shared_inbox_uri or account.inbox_uri
    if inbox is None:
        raise Invalid(f"{account.actor_uri} has no inbox")
    return inbox



def _follow(db: Database, follower: Account, target: Account, now: datetime,
            now_ts: float, reblogs: bool | None, notify: bool | None,
            notified: list[tuple[int, int]]) -> Follow:
    # Mastodon's FollowService: no follow where either side blocks the other.
    if rel_store.blocks_between(db, follower.id, target.id) or \
            groups_relay.join_refusal(db, target, follower):
        raise Forbidden("This action is not allowed")
    existing = store.get_follow(db, follower.id, target.id)
    if existing is not None:
        rel_store.set_follow_options(db, existing.id, show_reblogs=reblogs, notify=notify)
        return existing
    uri = new_activity_id(follower.actor_uri, "Follow")
    if target.is_local:
        state = FollowState.PENDING if target.locked else FollowState.ACCEPTED
        follow = store.put_follow(db, follower_id=follower.id, followee_id=target.id,
                                  state=state, uri=uri, now=now)
        notified += notifications.notify_follow(db, follow, target, now)
        groups_relay.queue_welcome(db, follow, target, now_ts)
    else:
        follow = store.put_follow(db, follower_id=follower.id, followee_id=target.id,
                                  state=FollowState.PENDING, uri=uri, now=now)
        queue_deliveries(db, build_follow(uri, follower.actor_uri, target.actor_uri),
                         [_inbox(target)], signer_id=follower.id, now=now_ts)
    rel_store.set_follow_options(db, follow.id, show_reblogs=reblogs, notify=notify)
    return follow


async def follow(svc: Services, follower: Account, target: Account, *,
                 reblogs: bool | None = None, notify: bool | None = None) -> Follow:
    """``follower`` (local) follows ``target``; remote targets get a Follow activity.
    ``reblogs``/``notify`` set the follow's options (kept as they are when None)."""
    if not follower.is_local:
        raise Invalid("only local accounts can follow from here")
    if follower.id == target.id:
        raise Invalid("an account cannot follow itself")
    notified: list[tuple[int, int]] = []
    result = await svc.storage.write(_follow, follower, target, svc.now(), svc.clock(),
                                     reblogs, notify, notified)
    announce_jobs(svc)
    notifications.publish(svc, notified)
    return result


def _unfollow(db: Database, follower: Account, target: Account, now_ts: float) -> bool:
    existing = store.get_follow(db, follower.id, target.id)
    if existing is None:
        return False
    store.delete_follow(db, existing.id)
    if not target.is_local:
        undo = build_undo(follower.actor_uri,
                          build_follow(existing.uri, follower.actor_uri, target.actor_uri))
        queue_deliveries(db, undo, [_inbox(target)], signer_id=follower.id, now=now_ts)
    return True


async def unfollow(svc: Services, follower: Account, target: Account) -> bool:
    """Stop following; remote targets get an Undo(Follow)."""
    removed = await svc.storage.write(_unfollow, follower, target, svc.clock())
    announce_jobs(svc)
    return removed


def _receive_follow(db: Database, actor: Account, target: Account, raw: dict[str, Any],
                    now: datetime, now_ts: float,
                    notified: list[tuple[int, int]]) -> Follow | None:
    if rel_store.get_block(db, target.id, actor.id) is not None or \
            groups_relay.join_refusal(db, target, actor):
        # Mastodon answers a blocked account's Follow with a Reject and keeps nothing.
        queue_deliveries(db, build_response("Reject", target.actor_uri, raw), [_inbox(actor)],
                         signer_id=target.id, now=now_ts)
        return None
    state = FollowState.PENDING if target.locked else FollowState.ACCEPTED
    known = store.get_follow(db, actor.id, target.id) is not None  # a repeated Follow
    follow = store.put_follow(db, follower_id=actor.id, followee_id=target.id, state=state,
                              uri=str(raw["id"]), now=now)
    if not known:
        notified += notifications.notify_follow(db, follow, target, now)
    if follow.state is FollowState.ACCEPTED:
        queue_deliveries(db, build_response("Accept", target.actor_uri, raw), [_inbox(actor)],
                         signer_id=target.id, now=now_ts)
        if not known:
            groups_relay.queue_welcome(db, follow, target, now_ts)
    return follow


async def receive_follow(svc: Services, actor: Account, target: Account,
                         raw: dict[str, Any]) -> Follow | None:
    """A remote actor asks to follow a local one: accept at once unless the account is
    locked (then the request waits for approval); rejected (None) when the target blocks
    the actor."""
    if not target.is_local:
        raise NotFound("the followed account is not on this instance")
    notified: list[tuple[int, int]] = []
    result = await svc.storage.write(_receive_follow, actor, target, raw, svc.now(),
                                     svc.clock(), notified)
    announce_jobs(svc)
    notifications.publish(svc, notified)
    return result


def _resolve_response(db: Database, actor: Account, follow_uri: str, accepted: bool,
                      now: datetime) -> bool:
    existing = store.get_follow_by_uri(db, follow_uri)
    # Only the followed actor may answer a follow request.
    if existing is None or existing.followee_id != actor.id:
        return False
    if accepted:
        store.update_follow_state(db, existing.id, FollowState.ACCEPTED, now)
        if existing.state is FollowState.PENDING:  # joined a remote group: its list
            groups_relay.queue_welcome(db, Follow(
                id=existing.id, follower_id=existing.follower_id, followee_id=actor.id,
                state=FollowState.ACCEPTED, uri=existing.uri), actor, now.timestamp())
    else:
        store.delete_follow(db, existing.id)
    return True


async def receive_accept(svc: Services, actor: Account, follow_uri: str) -> bool:
    """A remote actor accepted our follow."""
    return await svc.storage.write(_resolve_response, actor, follow_uri, True, svc.now())


async def receive_reject(svc: Services, actor: Account, follow_uri: str) -> bool:
    """A remote actor rejected (or removed) our follow."""
    return await svc.storage.write(_resolve_response, actor, follow_uri, False, svc.now())


def _receive_undo_follow(db: Database, actor: Account, follow_uri: str) -> bool:
    existing = store.get_follow_by_uri(db, follow_uri)
    if existing is None or existing.follower_id != actor.id:  # only the follower may undo
        return False
    store.delete_follow(db, existing.id)
    return True


async def receive_undo_follow(svc: Services, actor: Account, follow_uri: str) -> bool:
    """A remote follower unfollowed."""
    return await svc.storage.write(_receive_undo_follow, actor, follow_uri)


async def follower_uris(svc: Services, account: Account) -> list[str]:
    """Actor ids of an account's accepted followers."""
    return await svc.storage.read_in_thread(store.list_follower_uris, account.id)


async def following_uris(svc: Services, account: Account) -> list[str]:
    """Actor ids an account follows."""
    return await svc.storage.read_in_thread(store.list_following_uris, account.id)


async def get_follow(svc: Services, follower: Account, target: Account) -> Follow | None:
    """The follow between two accounts, if any."""
    return await svc.storage.read(store.get_follow, follower.id, target.id)


def _answer_request(db: Database, account: Account, requester: Account, accept: bool,
                    now: datetime, now_ts: float) -> Follow:
    request = store.get_follow(db, requester.id, account.id)
    moderator = None
    if request is None or request.state is not FollowState.PENDING:
        # A moderator answers the requests to join the groups they moderate.
        found = groups_relay.moderated_request(db, account, requester)
        if found is None:
            raise NotFound("Follow request not found")
        moderator, (request, account) = account, found
    if moderator is not None:
        groups_relay.log_answer(db, moderator, account, requester, accept, now)
    if accept:
        store.update_follow_state(db, request.id, FollowState.ACCEPTED, now)
        groups_relay.queue_welcome(db, Follow(
            id=request.id, follower_id=request.follower_id, followee_id=request.followee_id,
            state=FollowState.ACCEPTED, uri=request.uri), account, now_ts)
    else:
        store.delete_follow(db, request.id)
    if not requester.is_local:
        follow = build_follow(request.uri, requester.actor_uri, account.actor_uri)
        queue_deliveries(db, build_response("Accept" if accept else "Reject",
                                            account.actor_uri, follow),
                         [_inbox(requester)], signer_id=account.id, now=now_ts)
    return request


async def authorize_request(svc: Services, account: Account, requester: Account) -> Follow:
    """``account`` (local, locked) accepts ``requester``'s pending follow; a remote requester
    gets an Accept. NotFound when there is no pending request."""
    result = await svc.storage.write(_answer_request, account, requester, True, svc.now(),
                                     svc.clock())
    announce_jobs(svc)
    return result


async def reject_request(svc: Services, account: Account, requester: Account) -> Follow:
    """``account`` refuses ``requester``'s pending follow; a remote requester gets a Reject."""
    result = await svc.storage.write(_answer_request, account, requester, False, svc.now(),
                                     svc.clock())
    announce_jobs(svc)
    return result


def sever_follows(db: Database, account: Account, other: Account, now_ts: float) -> None:
    """Inside a write: remove the follows (accepted or pending) between ``account`` (local)
    and ``other`` both ways, as Mastodon does on a block: ``account``'s own follow of a remote
    ``other`` is undone (Undo Follow), a remote ``other``'s follow of ``account`` is
    rejected (Reject)."""
    if store.get_follow(db, account.id, other.id) is not None:
        _unfollow(db, account, other, now_ts)
    theirs = store.get_follow(db, other.id, account.id)
    if theirs is not None:
        store.delete_follow(db, theirs.id)
        if not other.is_local:
            follow = build_follow(theirs.uri, other.actor_uri, account.actor_uri)
            queue_deliveries(db, build_response("Reject", account.actor_uri, follow),
                             [_inbox(other)], signer_id=account.id, now=now_ts)


async def list_followers(svc: Services, account: Account, page: Page, *,
                         viewer: Account | None = None) -> list[tuple[int, Account]]:
    """A page of ``account``'s followers as ``(follow id, follower)``, newest first; those
    the viewer blocks or mutes are left out."""
    return await svc.storage.read(rel_store.list_followers, account.id, page,
                                  viewer_id=None if viewer is None else viewer.id,
                                  now=svc.now())


async def list_following(svc: Services, account: Account, page: Page, *,
                         viewer: Account | None = None) -> list[tuple[int, Account]]:
    """A page of the accounts ``account`` follows as ``(follow id, account)``, newest first."""
    return await svc.storage.read(rel_store.list_following, account.id, page,
                                  viewer_id=None if viewer is None else viewer.id,
                                  now=svc.now())


async def list_requests(svc: Services, account: Account,
                        page: Page) -> list[tuple[int, Account]]:
    """A page of the pending requests to follow ``account`` as ``(follow id, requester)``."""
    return await svc.storage.read(rel_store.list_follow_requests, account.id, page, svc.now())


async def count_requests(svc: Services, account: Account) -> int:
    """How many follow requests wait for ``account``'s answer."""
    return await svc.storage.read(rel_store.count_follow_requests, account.id)
