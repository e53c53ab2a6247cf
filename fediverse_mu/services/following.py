"""Following: local residents following accounts anywhere, and remote actors following local
residents (with manual approval for locked accounts). Every change and the activities it
sends are written in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fediverse_mu.activitypub.activities import (
    build_follow,
    build_response,
    build_undo,
    new_activity_id,
)
from fediverse_mu.domain import Account, Follow, FollowState, Invalid, NotFound
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import follows as store


def _inbox(account: Account) -> str:
    inbox = account.shared_inbox_uri or account.inbox_uri
    if inbox is None:
        raise Invalid(f"{account.actor_uri} has no inbox")
    return inbox


def _now(svc: Services) -> datetime:
    return datetime.fromtimestamp(svc.clock(), UTC)


def _follow(db: Database, follower: Account, target: Account, now: datetime,
            now_ts: float) -> Follow:
    existing = store.get_follow(db, follower.id, target.id)
    if existing is not None:
        return existing
    uri = new_activity_id(follower.actor_uri, "Follow")
    if target.is_local:
        state = FollowState.PENDING if target.locked else FollowState.ACCEPTED
        return store.put_follow(db, follower_id=follower.id, followee_id=target.id,
                                state=state, uri=uri, now=now)
    follow = store.put_follow(db, follower_id=follower.id, followee_id=target.id,
                              state=FollowState.PENDING, uri=uri, now=now)
    queue_deliveries(db, build_follow(uri, follower.actor_uri, target.actor_uri),
                     [_inbox(target)], signer_id=follower.id, now=now_ts)
    return follow


async def follow(svc: Services, follower: Account, target: Account) -> Follow:
    """``follower`` (local) follows ``target``; remote targets get a Follow activity."""
    if not follower.is_local:
        raise Invalid("only local accounts can follow from here")
    if follower.id == target.id:
        raise Invalid("an account cannot follow itself")
    result = await svc.storage.write(_follow, follower, target, _now(svc), svc.clock())
    announce_jobs(svc)
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
                    now: datetime, now_ts: float) -> Follow:
    state = FollowState.PENDING if target.locked else FollowState.ACCEPTED
    follow = store.put_follow(db, follower_id=actor.id, followee_id=target.id, state=state,
                              uri=str(raw["id"]), now=now)
    if follow.state is FollowState.ACCEPTED:
        queue_deliveries(db, build_response("Accept", target.actor_uri, raw), [_inbox(actor)],
                         signer_id=target.id, now=now_ts)
    return follow


async def receive_follow(svc: Services, actor: Account, target: Account,
                         raw: dict[str, Any]) -> Follow:
    """A remote actor asks to follow a local one: accept at once unless the account is
    locked (then the request waits for approval)."""
    if not target.is_local:
        raise NotFound("the followed account is not on this instance")
    result = await svc.storage.write(_receive_follow, actor, target, raw, _now(svc),
                                     svc.clock())
    announce_jobs(svc)
    return result


def _resolve_response(db: Database, actor: Account, follow_uri: str, accepted: bool,
                      now: datetime) -> bool:
    existing = store.get_follow_by_uri(db, follow_uri)
    # Only the followed actor may answer a follow request.
    if existing is None or existing.followee_id != actor.id:
        return False
    if accepted:
        store.update_follow_state(db, existing.id, FollowState.ACCEPTED, now)
    else:
        store.delete_follow(db, existing.id)
    return True


async def receive_accept(svc: Services, actor: Account, follow_uri: str) -> bool:
    """A remote actor accepted our follow."""
    return await svc.storage.write(_resolve_response, actor, follow_uri, True, _now(svc))


async def receive_reject(svc: Services, actor: Account, follow_uri: str) -> bool:
    """A remote actor rejected (or removed) our follow."""
    return await svc.storage.write(_resolve_response, actor, follow_uri, False, _now(svc))


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
    return await svc.storage.read(store.list_follower_uris, account.id)


async def following_uris(svc: Services, account: Account) -> list[str]:
    """Actor ids an account follows."""
    return await svc.storage.read(store.list_following_uris, account.id)


async def get_follow(svc: Services, follower: Account, target: Account) -> Follow | None:
    """The follow between two accounts, if any."""
    return await svc.storage.read(store.get_follow, follower.id, target.id)
