"""ActivityPub endpoints: actor documents (with content negotiation: AS2 for servers, the HTML
profile for browsers), the shared and personal inboxes, and actor collections."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.activitypub.actors import render_actor
from fediverse_mu.activitypub.vocab import AS2_CONTENT_TYPE, AS2_CONTEXT, wants_as2
from fediverse_mu.appkeys import federation_key, services_key
from fediverse_mu.domain import Account, NotFound, Unauthorized
from fediverse_mu.domain.moderation import LocalStanding
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import Visibility
from fediverse_mu.federation import inbox
from fediverse_mu.services import (
    accounts,
    following,
    groups,
    moderation,
    places,
    posting,
    profiles,
)
from fediverse_mu.web.pages import page
from fediverse_mu.web.secure_fetch import signed_asker, unauthorized_response

PAGE_SIZE = 40


def as2_response(document: dict[str, Any], status: int = 200) -> web.Response:
    """An ActivityStreams JSON response."""
    response = web.json_response(document, status=status, content_type=AS2_CONTENT_TYPE)
    response.headers["Vary"] = "Accept"
    return response


async def _standing(request: web.Request) -> LocalStanding:
    """The local account of the URL; a pending one (not approved yet) does not exist."""
    standing = await moderation.local_standing(request.app[services_key],
                                               request.match_info["username"])
    if standing is None or standing.pending or standing.account.actor_type == "Application":
        raise NotFound("no such account")
    return standing


async def _local_account(request: web.Request) -> Account:
    return (await _standing(request)).account


async def actor_get(request: web.Request) -> web.StreamResponse:
    """A resident's actor document, or their HTML profile for a browser; a suspended
    account's actor is gone (410 and a Tombstone)."""
    standing = await _standing(request)
    account = standing.account
    svc = request.app[services_key]
    if wants_as2(request.headers.get("Accept", "")):
        if standing.suspended:
            return as2_response({"@context": AS2_CONTEXT, "id": account.actor_uri,
                                 "type": "Tombstone", "formerType": account.actor_type},
                                status=410)
        document = await profiles.get_actor_document(svc, account)
        if account.actor_type == "Organization":  # the place actor: its location and kind
            document = await places.actor_document(svc, document)
        if account.actor_type == "Group":  # a listening group (FEP-1b12)
            document = await groups.actor_document(svc, account, document)
        return as2_response(document)
    raise web.HTTPFound(account.url or "/")


async def profile_get(request: web.Request) -> web.StreamResponse:
    """A resident's public HTML profile (``/@username``); a suspended account's page only
    says so (410)."""
    standing = await _standing(request)
    account = standing.account
    svc = request.app[services_key]
    if wants_as2(request.headers.get("Accept", "")):
        raise web.HTTPFound(account.actor_uri)
    if standing.suspended:
        return page(request, "profile.html", {"config": svc.config, "account": account,
                                              "suspended": True, "followers_count": 0,
                                              "statuses": []}, status=410)
    followers = await following.follower_uris(svc, account)
    # Public posts only (no unlisted, private, direct or local-only ones on a public page).
    recent = [v for v in await posting.account_statuses(svc, account, None, Page(limit=20))
              if v.status.visibility is Visibility.PUBLIC and not v.status.local_only]
    return page(request, "profile.html", {"config": svc.config, "account": account,
                                          "followers_count": len(followers),
                                          "statuses": recent})


async def instance_actor_get(request: web.Request) -> web.Response:
    """The instance actor (always public, even in authorized-fetch mode)."""
    svc = request.app[services_key]
    account = await accounts.instance_actor(svc)
    return as2_response(render_actor(account, base_url=svc.config.base_url))


async def inbox_post(request: web.Request) -> web.Response:
    """Shared or personal inbox: verify, persist, answer 202; the worker does the rest."""
    svc = request.app[services_key]
    if "username" in request.match_info:
        await _local_account(request)
    declared = request.content_length
    if declared is not None and declared > inbox.MAX_BODY:
        raise inbox.PayloadTooLarge("activity too large")
    chunks: list[bytes] = []
    size = 0
    while size <= inbox.MAX_BODY:  # read to EOF, but never more than the cap (+1 to detect it)
        chunk = await request.content.read(inbox.MAX_BODY + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    await inbox.receive(request.app[federation_key], method=request.method,
                        url=svc.config.base_url + request.path_qs, headers=request.headers,
                        body=body)
    return web.Response(status=202)


def _collection(collection_id: str, items: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": AS2_CONTEXT, "id": collection_id,
                           "type": "OrderedCollection", "totalItems": len(items)}
    if len(items) <= PAGE_SIZE:
        doc["orderedItems"] = items
    else:
        doc["first"] = f"{collection_id}?page=1"
    return doc


def _page(collection_id: str, items: list[str], number: int) -> dict[str, Any]:
    start = (number - 1) * PAGE_SIZE
    doc: dict[str, Any] = {
        "@context": AS2_CONTEXT, "id": f"{collection_id}?page={number}",
        "type": "OrderedCollectionPage", "partOf": collection_id, "totalItems": len(items),
        "orderedItems": items[start:start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(items):
        doc["next"] = f"{collection_id}?page={number + 1}"
    if number > 1:
        doc["prev"] = f"{collection_id}?page={number - 1}"
    return doc


async def _paged(request: web.Request, collection_id: str, items: list[str]) -> web.Response:
    number = request.query.get("page")
    if number is None:
        return as2_response(_collection(collection_id, items))
    if not number.isdigit() or int(number) < 1:
        raise NotFound("no such page")
    return as2_response(_page(collection_id, items, int(number)))


async def followers_get(request: web.Request) -> web.Response:
    """An actor's followers collection. A members-only group's members are listed to its
    members and moderators only (identified by a signed fetch); anyone else gets the count
    (``totalItems``) and a 403 for the pages."""
    account = await _local_account(request)
    svc = request.app[services_key]
    items = await following.follower_uris(svc, account)
    collection_id = f"{account.actor_uri}/followers"
    if account.actor_type == "Group":
        try:
            asker = await signed_asker(request)
        except Unauthorized as exc:  # JSON, as the inbox and authorized fetch answer
            return unauthorized_response(f"Bad signature: {exc.message}")
        if not await groups.may_list_members(svc, account, asker):
            if "page" in request.query:
                return web.json_response(
                    {"error": "Only the group's members may list its members"}, status=403)
            return as2_response({"@context": AS2_CONTEXT, "id": collection_id,
                                 "type": "OrderedCollection", "totalItems": len(items)})
    return await _paged(request, collection_id, items)


async def following_get(request: web.Request) -> web.Response:
    """An actor's following collection."""
    account = await _local_account(request)
    items = await following.following_uris(request.app[services_key], account)
    return await _paged(request, f"{account.actor_uri}/following", items)

