"""Mastodon notification endpoints (https://docs.joinmastodon.org/methods/notifications/):
listing (``types[]``, ``exclude_types[]``, ``account_id``, ``include_filtered``, paged with a
``Link`` header), reading one, dismissing one, clearing all and the unread count. Thin
handlers: the rules live in ``services.notifications``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid, NotFound
from fediverse_mu.domain.filters import FilterContext, FilterMatch
from fediverse_mu.domain.notifications import NotificationFilter, NotificationView
from fediverse_mu.services import filters, notifications
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import render_accounts, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.mastodon.statuses import render_statuses


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


async def render_notifications(svc: Services, views: list[NotificationView], *,
                               matches: Mapping[int, Sequence[FilterMatch]] | None = None,
                               ) -> list[dict[str, Any]]:
    """Notification entities whose accounts and statuses carry their counts (two batches for
    the whole page); ``matches``: the owner's filters each status matched, by status id."""
    accounts = await render_accounts(svc, [v.account for v in views])
    with_status = [v.status for v in views if v.status is not None]
    statuses = iter(await render_statuses(svc, with_status, matches=matches))
    return [entities.notification(svc.config, view, account_entity=account,
                                  status_entity=None if view.status is None else next(statuses))
            for view, account in zip(views, accounts, strict=True)]


def _list_param(request: web.Request, name: str) -> list[str]:
    return request.query.getall(f"{name}[]", []) + request.query.getall(name, [])


def _filter(request: web.Request) -> NotificationFilter:
    account_id = request.query.get("account_id", "").strip()
    if account_id and (not account_id.isdigit() or len(account_id) > 20):
        raise Invalid("account_id must be an id")
    include_filtered = parse_bool(request.query.get("include_filtered"), "include_filtered")
    return notifications.make_filter(_list_param(request, "types"),
                                     _list_param(request, "exclude_types"),
                                     int(account_id) if account_id else None,
                                     include_filtered=bool(include_filtered))


def _notification_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("Record not found")
    return int(value)


async def notifications_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications``: newest first, 40 by default (80 at most); those whose
    status a ``hide`` filter for ``notifications`` matches are left out (``Link`` still
    follows the ids read)."""
    _, account = await signed_in(request, "read:notifications")
    page = page_params(request, default=40, maximum=80)
    svc = _svc(request)
    views = await notifications.list_notifications(svc, account, page, _filter(request))
    kept, matches = await filters.screen_items(svc, account, views, lambda v: v.status,
                                               FilterContext.NOTIFICATIONS)
    return paged_response(request, await render_notifications(svc, kept, matches=matches),
                          [v.notification.id for v in views], page)


async def notification_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications/:id``."""
    _, account = await signed_in(request, "read:notifications")
    svc = _svc(request)
    view = await notifications.get_notification(svc, account, _notification_id(request))
    _, matches = await filters.screen_items(svc, account, [view], lambda v: v.status)
    return web.json_response((await render_notifications(svc, [view], matches=matches))[0])


async def notification_dismiss_post(request: web.Request) -> web.Response:
    """``POST /api/v1/notifications/:id/dismiss``: an empty hash."""
    _, account = await signed_in(request, "write:notifications")
    await notifications.dismiss(_svc(request), account, _notification_id(request))
    return web.json_response({})


async def notifications_clear_post(request: web.Request) -> web.Response:
    """``POST /api/v1/notifications/clear``: an empty hash."""
    _, account = await signed_in(request, "write:notifications")
    await notifications.clear(_svc(request), account)
    return web.json_response({})


async def notifications_unread_count_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications/unread_count``: ``{"count": n}``, counted after the
    notifications marker, capped at ``limit`` (100 by default, 1000 at most)."""
    user, account = await signed_in(request, "read:notifications")
    raw = request.query.get("limit", "").strip()
    if raw and (not raw.isdigit() or len(raw) > 9):
        raise Invalid("limit must be a number")
    limit = int(raw) if raw else notifications.UNREAD_DEFAULT
    count = await notifications.unread_count(_svc(request), user, account, _filter(request),
                                             limit)
    return web.json_response({"count": count})
