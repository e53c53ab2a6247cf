"""The inbox, in two halves. ``receive`` runs in the request: size, content type, JSON,
schema, HTTP signature (key fetched or refetched from its origin), origin checks, then the
activity is persisted with its processing job **before** the 202. ``process`` runs in the
worker: the one dispatch point from activity types to services."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fediverse_mu.activitypub.actors import parse_actor
from fediverse_mu.activitypub.groups import inner_activity
from fediverse_mu.activitypub.notes import NOTE_TYPES
from fediverse_mu.activitypub.validate import (
    ACTOR_TYPES,
    InvalidActivity,
    activity_type,
    actor_id,
    host_of,
    load_json,
    object_id,
    object_type,
    validate_activity,
)
from fediverse_mu.activitypub.vocab import is_as2_media_type
from fediverse_mu.coalesce import Coalesced
from fediverse_mu.domain import Account, DomainError, GiveUp, Job, Unauthorized
from fediverse_mu.federation import federation_policy, httpsig, moderation, objects
from fediverse_mu.federation import groups as group_inbox
from fediverse_mu.federation.client import Federation, FetchError
from fediverse_mu.services import accounts, following, posting, relationships
from fediverse_mu.services.jobs import announce_jobs
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import inbox as inbox_store

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
RawObject = dict[str, Any]


class PayloadTooLarge(DomainError):
    """The body is over the inbox's size limit."""

    status = 413


class UnsupportedMediaType(DomainError):
    """The body is not ActivityStreams JSON."""

    status = 415


class BadActivity(DomainError):
    """Malformed or invalid activity."""

    status = 400


def _is_self_delete(raw: RawObject) -> bool:
    return activity_type(raw) == "Delete" and object_id(raw) == actor_id(raw)


def _distrust_foreign_objects(raw: RawObject, actor: str) -> RawObject:
    """Replace an embedded object that lives on another host by its bare id: it must be
    fetched from its own origin, never trusted as relayed. (An activity a group announces is
    kept whole: ``federation.groups`` checks it against its origin.)"""
    obj = raw.get("object")
    relayed = activity_type(raw) == "Announce" and inner_activity(raw) is not None
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and \
            host_of(obj["id"]) != host_of(actor) and activity_type(raw) not in (
                "Accept", "Reject", "Undo") and not relayed:
        return {**raw, "object": obj["id"]}
    if isinstance(obj, dict) and activity_type(raw) in ("Create", "Update") and \
            obj.get("type") not in ACTOR_TYPES:
        attributed = obj.get("attributedTo")
        owner = attributed.get("id") if isinstance(attributed, dict) else attributed
        if owner is not None and owner != actor:
            raise BadActivity("the object's attributedTo is not the activity's actor")
    return raw


def _accounts_by_key_id(db: Database, key_ids: list[str]) -> list[Account | None]:
    return [account_store.get_account_by_key_id(db, key_id) for key_id in key_ids]


@dataclass
class _Batching:
    known_key_owner: Coalesced[str, Account | None]
    store_item: Coalesced[dict[str, Any], int | None]


_batching: weakref.WeakKeyDictionary[Federation, _Batching] = weakref.WeakKeyDictionary()


def _batched(fed: Federation) -> _Batching:
    """The coalesced storage calls of the inbox, one set per instance."""
    found = _batching.get(fed)
    if found is None:
        storage = fed.svc.storage

        async def owners(key_ids: list[str]) -> list[Account | None]:
            return await storage.read(_accounts_by_key_id, key_ids)

        async def owner(key_id: str) -> Account | None:
            return await storage.read(account_store.get_account_by_key_id, key_id)

        async def put_many(items: list[dict[str, Any]]) -> list[int | None]:
            return await storage.write(inbox_store.put_inbox_items_if_new, items)

        async def put_one(item: dict[str, Any]) -> int | None:
            return await storage.write(inbox_store.put_inbox_item_if_new, **item)

        found = _batching[fed] = _Batching(Coalesced(owners, owner),
                                           Coalesced(put_many, put_one))
    return found


async def verified_signer(fed: Federation, method: str, url: str,
                          headers: Mapping[str, str], body: bytes) -> Account:
    """The account whose key signed this request (cavage or RFC 9421), its key fetched or
    refetched from its origin; raises Unauthorized. Used by the inbox and authorized fetch."""
    try:
        parsed = httpsig.parse_signature(method, url, headers, body)
    except httpsig.SignatureError as exc:
        raise Unauthorized(f"bad signature: {exc.reason}") from exc
    try:
        # The usual case, a key already known, is one coalesced read; else fetch it.
        signer = await _batched(fed).known_key_owner(parsed.key_id) or \
            await fed.key_owner(parsed.key_id)
    except (FetchError, InvalidActivity) as exc:
        raise Unauthorized(f"cannot fetch the signing key: {exc}") from exc
    if signer is None or signer.public_key_pem is None:
        raise Unauthorized("unknown signing key")
    try:
        httpsig.verify_signature(parsed, httpsig.load_public_key_pem(signer.public_key_pem))
        return signer
    except httpsig.SignatureError:
        pass
    # The key may have been rotated: refetch it once from its origin (rate-limited per host).
    try:
        refreshed = await fed.key_owner(parsed.key_id, refetch=True)
    except (FetchError, InvalidActivity) as exc:
        raise Unauthorized(f"signature does not verify: {exc}") from exc
    if refreshed is None or refreshed.public_key_pem is None:
        raise Unauthorized("signature does not verify")
    try:
        httpsig.verify_signature(parsed, httpsig.load_public_key_pem(refreshed.public_key_pem))
    except httpsig.SignatureError as exc:
        raise Unauthorized(f"signature does not verify: {exc.reason}") from exc
    return refreshed


async def receive(fed: Federation, *, method: str, url: str, headers: Mapping[str, str],
                  body: bytes) -> bool:
    """Check and persist an incoming activity; True when newly stored (False: duplicate or
    deliberately ignored). Raises a DomainError mapped to 400/401/403/413/415."""
    # A suspended or non-allowed server is refused first, on the keyId's host alone: no
    # parsing, no key fetch, nothing stored.
    claimed = await federation_policy.refuse_request(fed.svc, headers)
    if len(body) > MAX_BODY:
        raise PayloadTooLarge("activity too large")
    if not is_as2_media_type(headers.get("Content-Type", "")):
        raise UnsupportedMediaType("expected application/activity+json")
    try:
        raw = load_json(body, max_bytes=MAX_BODY)
        raw = validate_activity(raw)
        actor = actor_id(raw)
    except InvalidActivity as exc:
        raise BadActivity(exc.reason) from exc
    if host_of(actor) not in claimed:
        await federation_policy.refuse_hosts(fed.svc, [host_of(actor)])
    if _is_self_delete(raw) and await accounts.get_account_by_uri(fed.svc, actor) is None:
        return False  # an unknown actor's goodbye: nothing to do, nothing to fetch (Mastodon)
    signer = await verified_signer(fed, method, url, headers, body)
    if host_of(signer.actor_uri) != host_of(actor):
        raise Unauthorized(f"signed by {signer.actor_uri}, claims to be from {actor}")
    if activity_type(raw) == "Announce" and signer.actor_uri != actor:
        # A boost, or a group relaying to its members (FEP-1b12), is signed by its actor:
        # nobody else on its server may speak for a group.
        raise Unauthorized(f"signed by {signer.actor_uri}, claims to be from {actor}")
    # It wrote to us, so it is up: an unavailable host is available again, and the deliveries
    # postponed by its circuit breaker are due now.
    await fed.peers.answered(host_of(actor))
    try:
        raw = _distrust_foreign_objects(raw, actor)
    except InvalidActivity as exc:
        raise BadActivity(exc.reason) from exc
    now = fed.svc.clock()
    stored = await _batched(fed).store_item(  # group commit: stored before the 202
        {"activity_id": str(raw["id"]), "activity_type": activity_type(raw), "actor_uri": actor,
         "raw": raw, "now": datetime.fromtimestamp(now, UTC), "now_ts": now})
    if stored is not None:
        announce_jobs(fed.svc)
    return stored is not None


async def process(fed: Federation, job: Job) -> None:
    """Job handler: apply one stored inbox activity through the services."""
    item_id = int(job.payload["item_id"])
    raw = await fed.svc.storage.read(inbox_store.get_inbox_item, item_id)
    if raw is None:
        raise GiveUp(f"inbox item {item_id} is gone")
    error = None
    try:
        actor = await fed.fetch_actor(actor_id(raw))
        # The policy may have changed since the 202: a suspended actor or server is ignored.
        error = await moderation.ignored_actor(fed, actor) or await _dispatch(fed, actor, raw)
    except (FetchError, InvalidActivity) as exc:
        error = str(exc)
    await fed.svc.storage.write(inbox_store.mark_inbox_item, item_id,
                                fed.svc.now(), error)
    if error:
        log.info("inbox item %s (%s) not applied: %s", item_id, raw.get("type"), error)


async def _local_target(fed: Federation, uri: str | None) -> Account | None:
    if uri is None:
        return None
    account = await accounts.get_account_by_uri(fed.svc, uri)
    return account if account is not None and account.is_local else None


async def _dispatch(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Apply an activity; returns why it was ignored, or None."""
    svc = fed.svc
    match (activity_type(raw), object_type(raw)):
        case ("Follow", _):
            target = await _local_target(fed, object_id(raw))
            if target is None:
                return "follow of an unknown local account"
            await following.receive_follow(svc, actor, target, raw)
        case ("Accept", _):
            follow_uri = object_id(raw)
            if follow_uri is None or not await following.receive_accept(svc, actor, follow_uri):
                return "accept of an unknown follow"
        case ("Reject", _):
            follow_uri = object_id(raw)
            if follow_uri is None or not await following.receive_reject(svc, actor, follow_uri):
                return "reject of an unknown follow"
        case ("Undo", "Follow"):
            follow_uri = object_id(raw)
            if follow_uri is None or not await following.receive_undo_follow(
                    svc, actor, follow_uri):
                return "undo of an unknown follow"
        case ("Block", _):
            target = await _local_target(fed, object_id(raw))
            if target is None:
                return "block of an unknown local account"
            await relationships.receive_block(svc, actor, target, raw)
        case ("Undo", "Block"):
            block_uri = object_id(raw)
            if block_uri is None or not await relationships.receive_undo_block(
                    svc, actor, block_uri):
                return "undo of an unknown block"
        case ("Undo", None):  # a bare id: whichever of our records it names
            follow_uri = object_id(raw)
            if follow_uri is None or not await following.receive_undo_follow(
                    svc, actor, follow_uri):
                return await objects.on_undo(fed, actor, raw, None)
        case ("Undo", "Like" | "Announce" as kind):
            return await objects.on_undo(fed, actor, raw, kind)
        case ("Create", kind) if kind is None or kind in NOTE_TYPES:
            return await group_inbox.on_create(fed, actor, raw)  # else objects.on_create
        case ("Update", kind) if kind in NOTE_TYPES:  # group posts' edits are announced on
            return await group_inbox.relay_after(fed, raw, await objects.on_update_note(
                fed, actor, raw))
        case ("Delete", _) if object_id(raw) != actor.actor_uri:
            return await group_inbox.on_delete(fed, actor, raw)  # author or group moderator
        case ("Remove", _):
            return await group_inbox.on_remove(fed, actor, raw)
        case ("Announce", _) if actor.actor_type == "Group":  # FEP-1b12
            return await group_inbox.on_announce(fed, actor, raw)
        case ("Delete", _):  # the actor deleted itself
            await posting.receive_actor_delete(svc, actor)
        case ("Announce", _):
            return await objects.on_announce(fed, actor, raw)
        case ("Like", _):
            return await group_inbox.relay_after(fed, raw, await objects.on_like(fed, actor, raw))
        case ("Update", kind) if kind in ACTOR_TYPES:
            obj = raw["object"]
            if obj.get("id") != actor.actor_uri:
                return "update of another actor"
            try:
                updated = parse_actor(obj, fetched_from=actor.actor_uri)
            except InvalidActivity as exc:
                return exc.reason
            # An Update never swaps a key: only a refetch from the origin does.
            await accounts.store_remote_actor(svc, updated, from_origin=False)
        case ("Flag", _):
            return await moderation.on_flag(fed, actor, raw)
        case (kind, _):
            return f"{kind} not handled yet"
    return None
