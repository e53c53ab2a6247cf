"""Mastodon 4.3's grouped notifications (https://docs.joinmastodon.org/methods/grouped_notifications/):
``GET /api/v2/notifications`` (``grouped_types[]``, ``types[]``, ``exclude_types[]``,
``account_id``, ``expand_accounts``, paged by the ids of the notifications standing for the
groups, with a ``Link`` header), one group, its accounts, dismissing it, the unread group
count, clearing all (the notification policy and requests are in
``web.mastodon.notification_requests``, whose routes are registered from here). Thin
handlers: the rules live in ``services.notification_groups``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Invalid
from fediverse_mu.domain.filters import FilterContext, FilterMatch
from fediverse_mu.domain.notification_groups import NotificationGroupView
from fediverse_mu.domain.notifications import NotificationType
from fediverse_mu.services import filters, notifications
from fediverse_mu.services import notification_groups as groups
from fediverse_mu.services.context import Services
from fediverse_mu.web.jsonbody import fast_json_response
from fediverse_mu.web.mastodon import entities, notification_requests
from fediverse_mu.web.mastodon.accounts import render_accounts, signed_in
from fediverse_mu.web.mastodon.notifications import _filter, _list_param
from fediverse_mu.web.mastodon.pagination import link_header, page_params, paged_response
from fediverse_mu.web.mastodon.statuses import render_statuses

_EXPAND = ("full", "partial_avatars")
AddRoute = Callable[[web.UrlDispatcher, str, str,
                     Callable[[web.Request], Awaitable[web.StreamResponse]]], None]
_READ, _WRITE = "read:notifications", "write:notifications"


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


def _grouped(request: web.Request) -> frozenset[NotificationType]:
    return groups.grouped_types(_list_param(request, "grouped_types"))


def _partial_avatars(request: web.Request) -> bool:
    value = request.query.get("expand_accounts", "").strip() or "full"
    if value not in _EXPAND:
        raise Invalid("expand_accounts must be full or partial_avatars")
    return value == "partial_avatars"


async def _results(svc: Services, views: list[NotificationGroupView], *,
                   partial_avatars: bool = False,
                   matches: Mapping[int, Sequence[FilterMatch]] | None = None) -> dict[str, Any]:
    """GroupedNotificationsResults: every account and status once (``matches``: the owner's
    filters each status matched). With partial avatars, the newest account of each group in
    full and the others in ``partial_accounts``."""
    full: dict[int, Account] = {}
    partial: dict[int, Account] = {}
    for view in views:
        for index, acc in enumerate(view.accounts):
            (partial if partial_avatars and index else full).setdefault(acc.id, acc)
    partial = {i: a for i, a in partial.items() if i not in full}
    statuses = list({v.status.status.id: v.status for v in views
                     if v.status is not None}.values())
    accounts = await render_accounts(svc, list(full.values()))
    by_id = {entity["id"]: entity for entity in accounts}
    return entities.grouped_notifications(
        [v.group for v in views], accounts,
        await render_statuses(svc, statuses, matches=matches),
        [entities.partial_account(svc.config, a) for a in partial.values()]
        if partial_avatars else None,
        # A moderation warning's target is the group's (only) account: the resident.
        warnings={v.group.key: entities.account_warning(v.warning, by_id[str(v.accounts[0].id)])
                  for v in views if v.warning is not None})


async def notifications_v2_get(request: web.Request) -> web.Response:
    """``GET /api/v2/notifications``: 40 groups by default (80 at most), newest first; the
    ``Link`` header pages by the notification standing for each group, as Mastodon does.
    Groups whose status a ``hide`` filter for ``notifications`` matches are left out."""
    _, account = await signed_in(request, _READ)
    page = page_params(request, default=40, maximum=80)
    partial_avatars = _partial_avatars(request)
    svc = _svc(request)
    views = await groups.list_groups(svc, account, page, _filter(request), _grouped(request))
    kept, matches = await filters.screen_items(svc, account, views, lambda v: v.status,
                                               FilterContext.NOTIFICATIONS)
    response = fast_json_response(await _results(svc, kept, partial_avatars=partial_avatars,
                                                 matches=matches))
    link = link_header(request, [v.group.head.id for v in views], page)
    if link is not None:
        response.headers["Link"] = link
    return response


async def notification_group_get(request: web.Request) -> web.Response:
    """``GET /api/v2/notifications/:group_key``: a GroupedNotificationsResults of one group."""
    _, account = await signed_in(request, _READ)
    svc = _svc(request)
    view = await groups.get_group(svc, account, request.match_info["group_key"])
    _, matches = await filters.screen_items(svc, account, [view], lambda v: v.status)
    return fast_json_response(await _results(svc, [view], matches=matches))


async def notification_group_dismiss_post(request: web.Request) -> web.Response:
    """``POST /api/v2/notifications/:group_key/dismiss``: an empty hash."""
    _, account = await signed_in(request, _WRITE)
    await groups.dismiss_group(_svc(request), account, request.match_info["group_key"])
    return web.json_response({})


async def notification_group_accounts_get(request: web.Request) -> web.Response:
    """``GET /api/v2/notifications/:group_key/accounts``: the accounts of the group's
    notifications, newest first (40 by default, 80 at most, with a ``Link`` header)."""
    _, account = await signed_in(request, _READ)
    page = page_params(request, default=40, maximum=80)
    svc = _svc(request)
    found = await groups.group_accounts(svc, account, request.match_info["group_key"], page)
    return paged_response(request, await render_accounts(svc, [a for _, a in found]),
                          [i for i, _ in found], page)


async def notifications_v2_unread_count_get(request: web.Request) -> web.Response:
    """``GET /api/v2/notifications/unread_count``: ``{"count": n}`` groups after the
    notifications marker, capped at ``limit`` (100 by default, 1000 at most)."""
    user, account = await signed_in(request, _READ)
    raw = request.query.get("limit", "").strip()
    if raw and (not raw.isdigit() or len(raw) > 9):
        raise Invalid("limit must be a number")
    limit = int(raw) if raw else notifications.UNREAD_DEFAULT
    count = await groups.unread_group_count(_svc(request), user, account, _filter(request),
                                            _grouped(request), limit)
    return web.json_response({"count": count})


async def notifications_v2_clear_post(request: web.Request) -> web.Response:
    """``POST /api/v2/notifications/clear``: as v1's, an empty hash."""
    _, account = await signed_in(request, _WRITE)
    await notifications.clear(_svc(request), account)
    return web.json_response({})


def setup_routes(app: web.Application, api: AddRoute) -> None:
    """Register the routes (``api(router, method, path, handler)`` adds the trailing-slash
    twin); the fixed paths (the policy's and the requests' among them) come before
    ``{group_key}`` and v1's ``{id}``."""
    r = app.router
    notification_requests.setup_routes(app, api)
    api(r, "GET", "/api/v2/notifications", notifications_v2_get)
    api(r, "GET", "/api/v2/notifications/unread_count", notifications_v2_unread_count_get)
    api(r, "POST", "/api/v2/notifications/clear", notifications_v2_clear_post)
    api(r, "GET", "/api/v2/notifications/{group_key}", notification_group_get)
    api(r, "GET", "/api/v2/notifications/{group_key}/accounts",
        notification_group_accounts_get)
    api(r, "POST", "/api/v2/notifications/{group_key}/dismiss",
        notification_group_dismiss_post)
