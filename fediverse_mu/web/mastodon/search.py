"""``GET /api/v2/search`` (https://docs.joinmastodon.org/methods/search/): accounts by name or
handle, hashtags by prefix, and statuses or accounts by URL. With ``resolve=true`` an unknown
``user@domain`` is looked up through WebFinger and an unknown URL is fetched from its origin
(signed, checked), which is how residents reach people and posts on other places. Without a
full-text index, statuses are found by URL only (as on a Mastodon without Elasticsearch)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.activitypub.validate import host_of
from fediverse_mu.appkeys import federation_key, services_key
from fediverse_mu.domain import Account, DomainError, Invalid
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.federation.client import FetchError
from fediverse_mu.federation.objects import FetchBudget, resolve_status
from fediverse_mu.services import accounts, directory, posting
from fediverse_mu.web.mastodon.accounts import render_accounts, resolve_account, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool, parse_int
from fediverse_mu.web.mastodon.statuses import render_statuses

TYPES = ("accounts", "statuses", "hashtags")
DEFAULT_LIMIT = 20
MAX_LIMIT = 40


async def _by_url(request: web.Request, url: str, viewer: Account,
                  resolve: bool) -> tuple[Account | None, StatusView | None]:
    svc = request.app[services_key]
    view = await posting.find_by_url(svc, url, viewer)
    if view is not None:
        return None, view
    known = await accounts.get_account_by_uri(svc, url)
    if known is not None:
        return known, None
    if not resolve or host_of(url) == host_of(svc.config.base_url):
        return None, None
    fed = request.app[federation_key]
    status = await resolve_status(fed, url, FetchBudget(remaining=4))
    if status is not None:
        return None, await posting.find_by_url(svc, status.uri, viewer)
    try:
        return await fed.fetch_actor(url), None
    except (FetchError, DomainError):
        return None, None


async def _accounts(request: web.Request, query: str, me: Account, resolve: bool, limit: int,
                    offset: int, following_only: bool) -> list[Account]:
    svc = request.app[services_key]
    found = await directory.search(svc, query, limit=limit, offset=offset,
                                   following_of=me if following_only else None)
    if resolve and offset == 0:
        resolved = await resolve_account(request, query)
        if resolved is not None and directory.is_listable(resolved):
            found = [resolved, *[a for a in found if a.id != resolved.id]][:limit]
    return found


def _tag(base_url: str, name: str) -> dict[str, Any]:
    return {"name": name, "url": posting.tag_url(base_url, name), "history": [],
            "following": False}


async def search_v2_get(request: web.Request) -> web.Response:
    """``GET /api/v2/search?q=&type=&resolve=&limit=&offset=&following=``."""
    _, me = await signed_in(request, "read:search", "read:accounts", "read:statuses")
    svc = request.app[services_key]
    query = request.query.get("q", "").strip()
    if not query:
        raise Invalid("q is required")
    kind = request.query.get("type") or None
    if kind is not None and kind not in TYPES:
        raise Invalid(f"type must be one of {', '.join(TYPES)}")
    resolve = parse_bool(request.query.get("resolve"), "resolve") or False
    limit = min(max(parse_int(request.query.get("limit"), "limit", default=DEFAULT_LIMIT), 1),
                MAX_LIMIT)
    offset = parse_int(request.query.get("offset"), "offset", default=0)
    following_only = parse_bool(request.query.get("following"), "following") or False

    found_accounts: list[Account] = []
    found_statuses: list[StatusView] = []
    tags: list[str] = []
    if query.startswith(("https://", "http://")):
        account, view = await _by_url(request, query, me, resolve and offset == 0)
        if account is not None and kind in (None, "accounts"):
            found_accounts = [account]
        if view is not None and kind in (None, "statuses"):
            found_statuses = [view]
    else:
        if kind in (None, "accounts") and not query.startswith("#"):
            found_accounts = await _accounts(request, query, me, resolve, limit, offset,
                                             following_only)
        if kind in (None, "hashtags") and not query.startswith("@"):
            tags = await posting.search_tags(svc, query, limit, offset)
    return web.json_response({
        "accounts": await render_accounts(svc, found_accounts),
        "statuses": await render_statuses(svc, found_statuses),
        "hashtags": [_tag(svc.config.base_url, t) for t in tags],
    })
