"""Mastodon 4.3's notification policy and notification requests
(https://docs.joinmastodon.org/methods/notifications/#requests): the v2 policy
(``GET``/``PATCH``/``PUT /api/v2/notifications/policy``) and the deprecated v1 one with its
``filter_*`` booleans (``/api/v1/notifications/policy``), both with the summary of what is
pending; the requests (paged with a ``Link`` header), one request, accepting and dismissing
one or several (``id[]``), and ``merged`` (always true: accepting is done at once). Thin
handlers: the rules live in ``services.notification_requests`` and
``services.notification_groups``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDict

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.notification_groups import PolicyValue
from fediverse_mu.domain.notification_requests import NotificationRequestView
from fediverse_mu.services import notification_groups as groups
from fediverse_mu.services import notification_requests as requests
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import render_accounts, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.mastodon.statuses import render_statuses
from fediverse_mu.web.params import read_params

AddRoute = Callable[[web.UrlDispatcher, str, str,
                     Callable[[web.Request], Awaitable[web.StreamResponse]]], None]
_READ, _WRITE = "read:notifications", "write:notifications"
# The v1 booleans and the v2 fields they stand for (Mastodon's V1 policies controller).
_V1_FIELDS = {"filter_not_following": "for_not_following",
              "filter_not_followers": "for_not_followers",
              "filter_new_accounts": "for_new_accounts",
              "filter_private_mentions": "for_private_mentions"}


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


# -- the policy ---------------------------------------------------------------------------------


async def _policy_entity(svc: Services, account: Account, *, v1: bool = False,
                         ) -> dict[str, Any]:
    policy = await groups.get_policy(svc, account)
    summary = await requests.summarize(svc, account)
    if v1:
        return entities.v1_notification_policy(policy, summary)
    return entities.notification_policy(policy, summary)


async def notification_policy_get(request: web.Request) -> web.Response:
    """``GET /api/v2/notifications/policy``."""
    _, account = await signed_in(request, _READ)
    return web.json_response(await _policy_entity(_svc(request), account))


async def notification_policy_patch(request: web.Request) -> web.Response:
    """``PATCH`` (or ``PUT``) ``/api/v2/notifications/policy``: any of the five fields,
    each ``accept``, ``filter`` or ``drop``; 422 with nothing changed for any other value."""
    _, account = await signed_in(request, _WRITE)
    params = await read_params(request, with_query=True)
    svc = _svc(request)
    await groups.update_policy(svc, account, params)
    return web.json_response(await _policy_entity(svc, account))


async def v1_notification_policy_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications/policy`` (deprecated in 4.3): the ``filter_*`` booleans."""
    _, account = await signed_in(request, _READ)
    return web.json_response(await _policy_entity(_svc(request), account, v1=True))


async def v1_notification_policy_put(request: web.Request) -> web.Response:
    """``PUT`` (or ``PATCH``) ``/api/v1/notifications/policy``: a ``filter_*`` boolean true
    sets its v2 field to ``filter``, false to ``accept``; 422 with nothing changed when one
    is not a boolean."""
    _, account = await signed_in(request, _WRITE)
    params = await read_params(request, with_query=True)
    changes: dict[str, str] = {}
    for name, field in _V1_FIELDS.items():
        value = parse_bool(params.get(name), name)
        if value is not None:
            changes[field] = (PolicyValue.FILTER if value else PolicyValue.ACCEPT).value
    svc = _svc(request)
    await groups.update_policy(svc, account, changes)
    return web.json_response(await _policy_entity(svc, account, v1=True))


# -- the requests -------------------------------------------------------------------------------


def _request_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("Record not found")
    return int(value)


def _request_ids(params: MultiDict[str]) -> list[int]:
    values = params.getall("id", [])
    for value in values:
        if not value.isdigit() or len(value) > 20:
            raise Invalid("id[] must be request ids")
    return [int(v) for v in values]


async def _render(svc: Services, views: list[NotificationRequestView]) -> list[dict[str, Any]]:
    """NotificationRequest entities (two batches for the page: accounts, last statuses)."""
    accounts = await render_accounts(svc, [v.account for v in views])
    with_status = [v.last_status for v in views if v.last_status is not None]
    statuses = iter(await render_statuses(svc, with_status))
    return [entities.notification_request(v.request, account,
                                          None if v.last_status is None else next(statuses))
            for v, account in zip(views, accounts, strict=True)]


async def notification_requests_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications/requests``: the pending requests, newest first, 40 by
    default (80 at most), with a ``Link`` header."""
    _, account = await signed_in(request, _READ)
    page = page_params(request, default=40, maximum=80)
    svc = _svc(request)
    views = await requests.list_requests(svc, account, page)
    return paged_response(request, await _render(svc, views),
                          [v.request.id for v in views], page)


async def notification_request_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications/requests/:id``."""
    _, account = await signed_in(request, _READ)
    svc = _svc(request)
    view = await requests.get_request(svc, account, _request_id(request))
    return web.json_response((await _render(svc, [view]))[0])


async def notification_request_accept_post(request: web.Request) -> web.Response:
    """``POST /api/v1/notifications/requests/:id/accept``: an empty hash."""
    _, account = await signed_in(request, _WRITE)
    await requests.accept(_svc(request), account, _request_id(request))
    return web.json_response({})


async def notification_request_dismiss_post(request: web.Request) -> web.Response:
    """``POST /api/v1/notifications/requests/:id/dismiss``: an empty hash."""
    _, account = await signed_in(request, _WRITE)
    await requests.dismiss(_svc(request), account, _request_id(request))
    return web.json_response({})


async def notification_requests_accept_post(request: web.Request) -> web.Response:
    """``POST /api/v1/notifications/requests/accept`` with ``id[]``: an empty hash (ids that
    are not the resident's requests are ignored, as on Mastodon)."""
    _, account = await signed_in(request, _WRITE)
    ids = _request_ids(await read_params(request, with_query=True))
    await requests.accept_many(_svc(request), account, ids)
    return web.json_response({})


async def notification_requests_dismiss_post(request: web.Request) -> web.Response:
    """``POST /api/v1/notifications/requests/dismiss`` with ``id[]``: an empty hash."""
    _, account = await signed_in(request, _WRITE)
    ids = _request_ids(await read_params(request, with_query=True))
    await requests.dismiss_many(_svc(request), account, ids)
    return web.json_response({})


async def notification_requests_merged_get(request: web.Request) -> web.Response:
    """``GET /api/v1/notifications/requests/merged``: ``{"merged": true}``, accepted requests
    being merged in the same transaction."""
    await signed_in(request, _READ)
    return web.json_response({"merged": True})


def setup_routes(app: web.Application, api: AddRoute) -> None:
    """Register the routes; called before ``/api/v1/notifications/{id}`` is, and the fixed
    request paths come before ``requests/{id}``."""
    r = app.router
    api(r, "GET", "/api/v2/notifications/policy", notification_policy_get)
    api(r, "PATCH", "/api/v2/notifications/policy", notification_policy_patch)
    api(r, "PUT", "/api/v2/notifications/policy", notification_policy_patch)
    api(r, "GET", "/api/v1/notifications/policy", v1_notification_policy_get)
    api(r, "PUT", "/api/v1/notifications/policy", v1_notification_policy_put)
    api(r, "PATCH", "/api/v1/notifications/policy", v1_notification_policy_put)
    api(r, "GET", "/api/v1/notifications/requests", notification_requests_get)
    api(r, "GET", "/api/v1/notifications/requests/merged", notification_requests_merged_get)
    api(r, "POST", "/api/v1/notifications/requests/accept", notification_requests_accept_post)
    api(r, "POST", "/api/v1/notifications/requests/dismiss",
        notification_requests_dismiss_post)
    api(r, "GET", "/api/v1/notifications/requests/{id}", notification_request_get)
    api(r, "POST", "/api/v1/notifications/requests/{id}/accept",
        notification_request_accept_post)
    api(r, "POST", "/api/v1/notifications/requests/{id}/dismiss",
        notification_request_dismiss_post)
