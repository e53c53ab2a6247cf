"""Mastodon account endpoints (https://docs.joinmastodon.org/methods/accounts/): the caller's
own account (verify and update credentials), looking accounts up and searching them, their
followers and followings, following, blocking and muting, relationships, follow requests, and
the lists of blocks and mutes (https://docs.joinmastodon.org/methods/blocks/, /mutes/,
/follow_requests/)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import federation_key, services_key
from fediverse_mu.domain import Account, DomainError, Invalid, Unauthorized, User
from fediverse_mu.domain.profiles import ProfileField, ProfileUpdate
from fediverse_mu.domain.statuses import Visibility
from fediverse_mu.federation.client import FetchError
from fediverse_mu.services import (
    directory,
    following,
    groups,
    profile_images,
    profiles,
    relationships,
)
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.auth import bearer_token, require_grant
from fediverse_mu.web.mastodon.forms import (
    indexed,
    parse_bool,
    parse_int,
    read_nested,
)
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.params import read_params

SEARCH_LIMIT = 40
SEARCH_MAX = 80
MAX_RELATIONSHIP_IDS = 400


# -- helpers -----------------------------------------------------------------------------------

async def signed_in(request: web.Request, *scopes: str) -> tuple[User, Account]:
    """The caller's user and account; 401 without a user token, 403 without the scope."""
    grant = await require_grant(request, *scopes)
    if grant.user is None or grant.account is None:
        raise Unauthorized("This method requires an authenticated user")
    return grant.user, grant.account


async def optional_viewer(request: web.Request, *scopes: str) -> Account | None:
    """For public endpoints: anonymous callers are welcome, but a token, when sent, must be
    valid and carry the scope (Mastodon's ``authorize_if_got_token!``)."""
    if bearer_token(request) is None:
        return None
    grant = await require_grant(request, *scopes, user=False)
    return grant.account


ENTITY_CACHE_SIZE = 4096


async def render_accounts(svc: Services, accounts: list[Account]) -> list[dict[str, Any]]:
    """Account entities with their counts and profile fields (one read for the whole list).

    A timeline page shows ~40 authors, mostly the same from one request to the next: their
    entities are kept, keyed by everything they are made of (the account row, its counts,
    fields and moderation flags), so a change of any of these makes a new one. Callers get a
    copy to change."""
    details = await directory.entity_details(svc, accounts)
    empty = directory.AccountCounts()
    cache = svc.memo.get("account_entities")
    if not isinstance(cache, dict):
        cache = svc.memo["account_entities"] = {}
    rendered = []
    for acc in accounts:
        numbers = details.counts.get(acc.id, empty)
        own_fields = details.fields.get(acc.id, ())
        suspended, limited = details.flags.get(acc.id, (False, False))
        key = (acc, numbers, own_fields, suspended, limited)
        entity = cache.get(key)
        if entity is None:
            if len(cache) >= ENTITY_CACHE_SIZE:
                cache.clear()
            entity = cache[key] = entities.account(
                svc.config, acc, statuses_count=numbers.statuses,
                followers_count=numbers.followers, following_count=numbers.following,
                fields=own_fields, suspended=suspended, limited=limited)
        rendered.append(dict(entity))
    return rendered


async def render_account(svc: Services, account: Account) -> dict[str, Any]:
    """One Account entity with its counts and fields."""
    return (await render_accounts(svc, [account]))[0]


async def _credential(svc: Services, user: User, account: Account) -> dict[str, Any]:
    counts = (await directory.counts(svc, [account]))[account.id]
    return entities.credential_account(
        svc.config, account, user, statuses_count=counts.statuses,
        followers_count=counts.followers, following_count=counts.following,
        profile=await profiles.get_profile(svc, account),
        follow_requests_count=await following.count_requests(svc, account))


async def _relationship(svc: Services, me: Account, target: Account) -> web.Response:
    return web.json_response(entities.relationship(
        await relationships.relationship(svc, me, target)))


async def _target(request: web.Request) -> Account:
    return await directory.get_account(request.app[services_key], request.match_info["id"])


# -- the caller's own account ------------------------------------------------------------------

async def verify_credentials_get(request: web.Request) -> web.Response:
    """The caller's own account, with ``source`` and ``role``."""
    # Mastodon 4.3 also accepts the narrower "profile" scope here (it reads no one else).
    user, account = await signed_in(request, "read:accounts", "profile")
    return web.json_response(await _credential(request.app[services_key], user, account))


def _profile_update(params: Any) -> ProfileUpdate:
    rows = indexed(params, "fields_attributes")
    fields = None if rows is None else tuple(
        ProfileField(row.get("name", ""), row.get("value", "")) for row in rows)
    privacy = params.get("source[privacy]")
    if privacy is not None and privacy not in {v.value for v in Visibility}:
        raise Invalid("source[privacy] must be public, unlisted or private")
    return ProfileUpdate(
        display_name=params.get("display_name"), note=params.get("note"),
        locked=parse_bool(params.get("locked"), "locked"),
        bot=parse_bool(params.get("bot"), "bot"),
        discoverable=parse_bool(params.get("discoverable"), "discoverable"),
        fields=fields, privacy=None if privacy is None else Visibility(privacy),
        sensitive=parse_bool(params.get("source[sensitive]"), "source[sensitive]"),
        language=params.get("source[language]"))


async def _images(request: web.Request) -> dict[str, bytes]:
    """The ``avatar`` and ``header`` files of a multipart body (the profile-image pipeline
    checks what they really are; an empty or too large file is refused there)."""
    if request.content_type != "multipart/form-data":
        return {}
    form = await request.post()
    found: dict[str, bytes] = {}
    for name in ("avatar", "header"):
        item = form.get(name)
        if isinstance(item, web.FileField):
            data = item.file.read(profile_images.SIZE_LIMIT + 1)
            if len(data) > profile_images.SIZE_LIMIT:
                raise Invalid(f"{name}: file size must be at most "
                              f"{profile_images.SIZE_LIMIT // (1024 * 1024)} MB")
            found[name] = data
    return found


async def update_credentials_patch(request: web.Request) -> web.Response:
    """``PATCH /api/v1/accounts/update_credentials``: change the profile, posting defaults,
    avatar and header (multipart ``avatar``/``header``); followers' servers get an Update of
    the actor."""
    user, account = await signed_in(request, "write:accounts")
    svc = request.app[services_key]
    images = await _images(request)
    update = _profile_update(await read_nested(request))
    updated, _ = await profiles.update_profile(svc, account, update, images)
    return web.json_response(await _credential(svc, user, updated))


# -- finding accounts --------------------------------------------------------------------------

async def account_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/:id`` (public)."""
    await optional_viewer(request, "read:accounts")
    svc = request.app[services_key]
    return web.json_response(await render_account(svc, await _target(request)))


async def lookup_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/lookup?acct=``: a known account by handle, no remote lookup."""
    await optional_viewer(request, "read:accounts")
    svc = request.app[services_key]
    acct = request.query.get("acct", "").strip()
    if not acct:
        raise Invalid("acct is required")
    return web.json_response(await render_account(svc, await directory.lookup(svc, acct)))


async def resolve_account(request: web.Request, query: str) -> Account | None:
    """A remote account by exact ``user@domain``, fetched through WebFinger if unknown."""
    username, domain = directory.split_handle(request.app[services_key], query)
    if not username or domain is None:
        return None
    try:
        return await request.app[federation_key].resolve_handle(f"{username}@{domain}")
    except (FetchError, DomainError):
        return None  # Mastodon answers an unresolvable address with no result, not an error


async def search_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/search?q=&resolve=&following=&limit=&offset=``."""
    _, me = await signed_in(request, "read:accounts")
    svc = request.app[services_key]
    query = request.query.get("q", "").strip()
    if not query:
        raise Invalid("q is required")
    limit = min(max(parse_int(request.query.get("limit"), "limit", default=SEARCH_LIMIT), 1),
                SEARCH_MAX)
    offset = parse_int(request.query.get("offset"), "offset", default=0)
    only_following = parse_bool(request.query.get("following"), "following") or False
    found = await directory.search(svc, query, limit=limit, offset=offset,
                                   following_of=me if only_following else None)
    if parse_bool(request.query.get("resolve"), "resolve") and offset == 0 and \
            not only_following:
        resolved = await resolve_account(request, query)
        if resolved is not None and directory.is_listable(resolved):
            found = [resolved, *[a for a in found if a.id != resolved.id][:limit - 1]]
    return web.json_response(await render_accounts(svc, found))


async def followers_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/:id/followers`` (public, paged by follow)."""
    viewer = await optional_viewer(request, "read:accounts")
    svc = request.app[services_key]
    target = await _target(request)
    page = page_params(request)
    if not await groups.may_list_members(svc, target, viewer):  # a members-only group
        return paged_response(request, [], [], page)
    rows = await following.list_followers(svc, target, page, viewer=viewer)
    return paged_response(request, await render_accounts(svc, [a for _, a in rows]),
                          [i for i, _ in rows], page)


async def following_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/:id/following`` (public, paged by follow)."""
    viewer = await optional_viewer(request, "read:accounts")
    svc = request.app[services_key]
    target = await _target(request)
    page = page_params(request)
    rows = await following.list_following(svc, target, page, viewer=viewer)
    return paged_response(request, await render_accounts(svc, [a for _, a in rows]),
                          [i for i, _ in rows], page)


async def relationships_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/relationships?id[]=…``: in the order asked, unknown ids left
    out."""
    _, me = await signed_in(request, "read:follows")
    svc = request.app[services_key]
    ids = request.query.getall("id[]", []) + request.query.getall("id", [])
    if len(ids) > MAX_RELATIONSHIP_IDS:
        raise Invalid(f"at most {MAX_RELATIONSHIP_IDS} ids at once")
    targets = await directory.get_accounts(svc, ids)
    found = await relationships.relationships(svc, me, targets)
    return web.json_response([entities.relationship(r) for r in found])


# -- following ---------------------------------------------------------------------------------

async def follow_post(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts/:id/follow`` (``reblogs``, ``notify``): the Relationship."""
    _, me = await signed_in(request, "write:follows")
    svc = request.app[services_key]
    target = await _target(request)
    params = await read_params(request, with_query=True)
    await following.follow(svc, me, target,
                           reblogs=parse_bool(params.get("reblogs"), "reblogs"),
                           notify=parse_bool(params.get("notify"), "notify"))
    return await _relationship(svc, me, target)


async def unfollow_post(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts/:id/unfollow`` (also withdraws a pending request)."""
    _, me = await signed_in(request, "write:follows")
    svc = request.app[services_key]
    target = await _target(request)
    await following.unfollow(svc, me, target)
    return await _relationship(svc, me, target)


async def follow_requests_get(request: web.Request) -> web.Response:
    """``GET /api/v1/follow_requests``: accounts waiting for the caller's answer."""
    _, me = await signed_in(request, "read:follows")
    svc = request.app[services_key]
    page = page_params(request)
    rows = await following.list_requests(svc, me, page)
    return paged_response(request, await render_accounts(svc, [a for _, a in rows]),
                          [i for i, _ in rows], page)


async def follow_request_authorize_post(request: web.Request) -> web.Response:
    """``POST /api/v1/follow_requests/:id/authorize``: 404 without a pending request."""
    _, me = await signed_in(request, "write:follows")
    svc = request.app[services_key]
    requester = await _target(request)
    await following.authorize_request(svc, me, requester)
    return await _relationship(svc, me, requester)


async def follow_request_reject_post(request: web.Request) -> web.Response:
    """``POST /api/v1/follow_requests/:id/reject``: 404 without a pending request."""
    _, me = await signed_in(request, "write:follows")
    svc = request.app[services_key]
    requester = await _target(request)
    await following.reject_request(svc, me, requester)
    return await _relationship(svc, me, requester)


# -- blocks and mutes --------------------------------------------------------------------------

async def block_post(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts/:id/block``: follows both ways end; federated."""
    _, me = await signed_in(request, "write:blocks")
    svc = request.app[services_key]
    target = await _target(request)
    await relationships.block(svc, me, target)
    return await _relationship(svc, me, target)


async def unblock_post(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts/:id/unblock``."""
    _, me = await signed_in(request, "write:blocks")
    svc = request.app[services_key]
    target = await _target(request)
    await relationships.unblock(svc, me, target)
    return await _relationship(svc, me, target)


async def mute_post(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts/:id/mute`` (``notifications``, ``duration`` in seconds)."""
    _, me = await signed_in(request, "write:mutes")
    svc = request.app[services_key]
    target = await _target(request)
    params = await read_params(request, with_query=True)
    notifications = parse_bool(params.get("notifications"), "notifications")
    duration = parse_int(params.get("duration"), "duration", default=0)
    await relationships.mute(svc, me, target,
                             notifications=True if notifications is None else notifications,
                             duration=duration)
    return await _relationship(svc, me, target)


async def unmute_post(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts/:id/unmute``."""
    _, me = await signed_in(request, "write:mutes")
    svc = request.app[services_key]
    target = await _target(request)
    await relationships.unmute(svc, me, target)
    return await _relationship(svc, me, target)


async def blocks_get(request: web.Request) -> web.Response:
    """``GET /api/v1/blocks``: accounts the caller blocks, paged by block."""
    _, me = await signed_in(request, "read:blocks")
    svc = request.app[services_key]
    page = page_params(request)
    rows = await relationships.list_blocks(svc, me, page)
    return paged_response(request, await render_accounts(svc, [a for _, a in rows]),
                          [i for i, _ in rows], page)


async def mutes_get(request: web.Request) -> web.Response:
    """``GET /api/v1/mutes``: accounts the caller mutes, with ``mute_expires_at``."""
    _, me = await signed_in(request, "read:mutes")
    svc = request.app[services_key]
    page = page_params(request)
    rows = await relationships.list_mutes(svc, me, page)
    rendered = await render_accounts(svc, [a for _, a in rows])
    body = [entities.muted_account(entity, mute) for entity, (mute, _) in zip(rendered, rows,
                                                                              strict=True)]
    return paged_response(request, body, [m.id for m, _ in rows], page)
