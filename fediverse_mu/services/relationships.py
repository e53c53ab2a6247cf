"""Blocks and mutes, and how one account relates to others (Mastodon's Relationship).

A block severs follows both ways and, towards a remote account, federates as ``Block`` (an
unblock as ``Undo Block``); a remote actor's Block is recorded and severs follows the same way.
Muting is private: it never leaves this instance, and can expire."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fediverse_mu.activitypub.activities import build_block, build_undo, new_activity_id
from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.relationships import Block, Mute, Relationship
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.following import sever_follows
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import relationships as store

MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600  # longer than this is "forever": say 0 instead



def _inbox(account: Account) -> str | None:
    return account.shared_inbox_uri or account.inbox_uri


async def relationships(svc: Services, account: Account,
                        targets: list[Account]) -> list[Relationship]:
    """How ``account`` relates to each of ``targets``, in order."""
    return await svc.storage.read(store.get_relationships, account.id,
                                  [t.id for t in targets], svc.now())


async def relationship(svc: Services, account: Account, target: Account) -> Relationship:
    """How ``account`` relates to ``target``."""
    return (await relationships(svc, account, [target]))[0]


# -- blocks ------------------------------------------------------------------------------------

def _block(db: Database, account: Account, target: Account, now: datetime,
           now_ts: float) -> Block:
    existing = store.get_block(db, account.id, target.id)
    if existing is not None:
        return existing
    sever_follows(db, account, target, now_ts)
    block = store.put_block(db, account_id=account.id, target_id=target.id,
                            uri=new_activity_id(account.actor_uri, "Block"), now=now)
    inbox = _inbox(target)
    if not target.is_local and inbox is not None:
        queue_deliveries(db, build_block(block.uri, account.actor_uri, target.actor_uri),
                         [inbox], signer_id=account.id, now=now_ts)
    return block


async def block(svc: Services, account: Account, target: Account) -> Block:
    """``account`` (local) blocks ``target``: follows between them end, and a remote target
    is sent a Block."""
    if not account.is_local:
        raise Invalid("only local accounts can block from here")
    if account.id == target.id:
        raise Invalid("an account cannot block itself")
    result = await svc.storage.write(_block, account, target, svc.now(), svc.clock())
    announce_jobs(svc)
    return result


def _unblock(db: Database, account: Account, target: Account, now_ts: float) -> bool:
    existing = store.get_block(db, account.id, target.id)
    if existing is None:
        return False
    store.delete_block(db, existing.id)
    inbox = _inbox(target)
    if not target.is_local and inbox is not None:
        undo = build_undo(account.actor_uri,
                          build_block(existing.uri, account.actor_uri, target.actor_uri))
        queue_deliveries(db, undo, [inbox], signer_id=account.id, now=now_ts)
    return True


async def unblock(svc: Services, account: Account, target: Account) -> bool:
    """Lift a block (a remote target is sent an Undo Block); False when there was none."""
    removed = await svc.storage.write(_unblock, account, target, svc.clock())
    announce_jobs(svc)
    return removed


def _receive_block(db: Database, actor: Account, target: Account, raw: dict[str, Any],
                   now: datetime) -> Block:
    # Mastodon (ActivityPub::Activity::Block): follows end both ways; the blocker's server
    # has already dropped them on its side, so nothing is sent back.
    for follow in store.follows_between(db, actor.id, target.id):
        follow_store.delete_follow(db, follow.id)
    return store.put_block(db, account_id=actor.id, target_id=target.id, uri=str(raw["id"]),
                           now=now)


async def receive_block(svc: Services, actor: Account, target: Account,
                        raw: dict[str, Any]) -> Block:
    """A remote actor blocks a local account: record it and end follows between them."""
    if actor.is_local or not target.is_local:
        raise NotFound("a Block must come from a remote actor and aim at a local account")
    return await svc.storage.write(_receive_block, actor, target, raw, svc.now())


def _receive_undo_block(db: Database, actor: Account, block_uri: str) -> bool:
    existing = store.get_block_by_uri(db, block_uri)
    if existing is None or existing.account_id != actor.id:  # only the blocker may undo
        return False
    store.delete_block(db, existing.id)
    return True


async def receive_undo_block(svc: Services, actor: Account, block_uri: str) -> bool:
    """A remote actor lifts its block; False when no such block of theirs is known."""
    return await svc.storage.write(_receive_undo_block, actor, block_uri)


async def list_blocks(svc: Services, account: Account, page: Page) -> list[tuple[int, Account]]:
    """A page of the accounts ``account`` blocks, as ``(block id, account)``, newest first."""
    return await svc.storage.read(store.list_blocked, account.id, page)


# -- mutes -------------------------------------------------------------------------------------

async def mute(svc: Services, account: Account, target: Account, *,
               notifications: bool = True, duration: int = 0) -> Mute:
    """Mute ``target`` (local only); ``duration`` seconds, 0 for "until unmuted". Muting again
    changes the options."""
    if account.id == target.id:
        raise Invalid("an account cannot mute itself")
    if not 0 <= duration <= MAX_MUTE_SECONDS:
        raise Invalid(f"duration must be 0 to {MAX_MUTE_SECONDS} seconds")
    now = svc.now()
    expires = now + timedelta(seconds=duration) if duration else None
    return await svc.storage.write(store.put_mute, account_id=account.id, target_id=target.id,
                                   notifications=notifications, expires_at=expires, now=now)


async def unmute(svc: Services, account: Account, target: Account) -> bool:
    """Unmute; False when there was no mute."""
    return await svc.storage.write(store.delete_mute, account.id, target.id)


async def list_mutes(svc: Services, account: Account,
                     page: Page) -> list[tuple[Mute, Account]]:
    """A page of the accounts ``account`` mutes (mutes still running), newest first."""
    return await svc.storage.read(store.list_muted, account.id, page, svc.now())


async def excluded_account_ids(svc: Services, account: Account) -> set[int]:
    """Accounts whose posts ``account`` does not see (blocked either way, or muted): for
    timelines and notifications."""
    return await svc.storage.read(store.excluded_account_ids, account.id, svc.now())
