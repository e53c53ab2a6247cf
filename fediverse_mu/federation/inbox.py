"""The inbox, in two halves. ``receive`` runs in the request: size, content type, JSON,
schema, HTTP signature (key fetched or refetched from its origin), origin checks, then the
activity is persisted with its processing job **before** the 202. ``process`` runs in the
worker: the one dispatch point from activity types to services."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fediverse_mu.activitypub.actors import parse_actor
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
from fediverse_mu.domain import Account, DomainError, GiveUp, Job, Unauthorized
from fediverse_mu.federation import httpsig
from fediverse_mu.federation.client import Federation, FetchError
from fediverse_mu.services import accounts, following
from fediverse_mu.services.jobs import announce_jobs
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
    fetched from its own origin, never trusted as relayed."""
    obj = raw.get("object")
    if isinstance(obj, dict) and isinstance(obj.get("id"), str) and \
            host_of(obj["id"]) != host_of(actor) and activity_type(raw) not in (
                "Accept", "Reject", "Undo"):
        return {**raw, "object": obj["id"]}
    if isinstance(obj, dict) and activity_type(raw) in ("Create", "Update") and \
            obj.get("type") not in ACTOR_TYPES:
        attributed = obj.get("attributedTo")
        owner = attributed.get("id") if isinstance(attributed, dict) else attributed
        if owner is not None and owner != actor:
            raise BadActivity("the object's attributedTo is not the activity's actor")
    return raw


async def _verified_signer(fed: Federation, method: str, url: str,
                           headers: Mapping[str, str], body: bytes) -> Account:
    try:
        parsed = httpsig.parse_signature(method, url, headers, body)
    except httpsig.SignatureError as exc:
        raise Unauthorized(f"bad signature: {exc.reason}") from exc
    try:
        signer = await fed.key_owner(parsed.key_id)
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
    deliberately ignored). Raises a DomainError mapped to 400/401/413/415."""
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
    if _is_self_delete(raw) and await accounts.get_account_by_uri(fed.svc, actor) is None:
        return False  # an unknown actor's goodbye: nothing to do, nothing to fetch (Mastodon)
    signer = await _verified_signer(fed, method, url, headers, body)
    if host_of(signer.actor_uri) != host_of(actor):
        raise Unauthorized(f"signed by {signer.actor_uri}, claims to be from {actor}")
    try:
        raw = _distrust_foreign_objects(raw, actor)
    except InvalidActivity as exc:
        raise BadActivity(exc.reason) from exc
    now = fed.svc.clock()
    stored = await fed.svc.storage.write(
        inbox_store.put_inbox_item_if_new, activity_id=str(raw["id"]),
        activity_type=activity_type(raw), actor_uri=actor, raw=raw,
        now=datetime.fromtimestamp(now, UTC), now_ts=now)
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
        error = await _dispatch(fed, actor, raw)
    except (FetchError, InvalidActivity) as exc:
        error = str(exc)
    await fed.svc.storage.write(inbox_store.mark_inbox_item, item_id,
                                datetime.fromtimestamp(fed.svc.clock(), UTC), error)
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
        case ("Undo", "Follow" | None):
            follow_uri = object_id(raw)
            if follow_uri is None or not await following.receive_undo_follow(
                    svc, actor, follow_uri):
                return "undo of an unknown follow"
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
        case (kind, _):
            return f"{kind} not handled yet"
    return None
