"""Mastodon scheduled-status endpoints
(https://docs.joinmastodon.org/methods/scheduled_statuses/): listing, reading, moving and
cancelling the caller's statuses scheduled with ``POST /api/v1/statuses`` and
``scheduled_at``. Thin handlers over ``services.scheduled``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid, NotFound
from fediverse_mu.domain.scheduled import ScheduledStatus
from fediverse_mu.services import scheduled
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import signed_in
from fediverse_mu.web.mastodon.forms import read_nested
from fediverse_mu.web.mastodon.pagination import page_params, paged_response

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


async def render_scheduled(svc: Services, items: list[ScheduledStatus]) -> list[dict[str, Any]]:
    """ScheduledStatus entities with their media attachments."""
    media = await scheduled.media_of(svc, items)
    return [entities.scheduled_status(svc.config, item, media.get(item.id, []))
            for item in items]


def _scheduled_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("Record not found")
    return int(value)


async def scheduled_list_get(request: web.Request) -> web.Response:
    """``GET /api/v1/scheduled_statuses``."""
    _, account = await signed_in(request, "read:statuses")
    svc = request.app[services_key]
    page = page_params(request, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    items = await scheduled.list_scheduled(svc, account, page)
    return paged_response(request, await render_scheduled(svc, items),
                          [i.id for i in items], page)


async def scheduled_get(request: web.Request) -> web.Response:
    """``GET /api/v1/scheduled_statuses/:id``."""
    _, account = await signed_in(request, "read:statuses")
    svc = request.app[services_key]
    item = await scheduled.get_scheduled(svc, account, _scheduled_id(request))
    return web.json_response((await render_scheduled(svc, [item]))[0])


async def scheduled_put(request: web.Request) -> web.Response:
    """``PUT /api/v1/scheduled_statuses/:id`` with a new ``scheduled_at``."""
    _, account = await signed_in(request, "write:statuses")
    svc = request.app[services_key]
    params = await read_nested(request)
    when = params.get("scheduled_at")
    if not when:
        raise Invalid("Validation failed: scheduled_at is required")
    item = await scheduled.reschedule(svc, account, _scheduled_id(request), str(when))
    return web.json_response((await render_scheduled(svc, [item]))[0])


async def scheduled_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/scheduled_statuses/:id``: cancelled, never posted."""
    _, account = await signed_in(request, "write:statuses")
    await scheduled.cancel(request.app[services_key], account, _scheduled_id(request))
    return web.json_response({})


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the scheduled-status endpoints (with and without a trailing slash)."""
    for method, path, handler in (
            ("GET", "/api/v1/scheduled_statuses", scheduled_list_get),
            ("GET", "/api/v1/scheduled_statuses/{id}", scheduled_get),
            ("PUT", "/api/v1/scheduled_statuses/{id}", scheduled_put),
            ("DELETE", "/api/v1/scheduled_statuses/{id}", scheduled_delete)):
        router.add_route(method, path, handler)
        router.add_route(method, path + "/", handler)
