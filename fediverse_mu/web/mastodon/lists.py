"""Mastodon list endpoints (https://docs.joinmastodon.org/methods/lists/ and
/timelines/#list): the resident's lists, their members, the lists an account is in, and a
list's timeline. Thin handlers: every rule lives in ``services.lists``."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import NotFound
from fediverse_mu.domain.filters import FilterContext
from fediverse_mu.services import directory, lists, places
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import render_accounts, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool, read_nested
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.mastodon.statuses import timeline_response


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


def _id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise NotFound("Record not found")
    return int(value)


def _account_ids(values: list[str]) -> list[int]:
    # Mastodon looks every id up (Account.find): a malformed one is "not found" too.
    return [_id(v.strip()) for v in values if v.strip()]


async def lists_get(request: web.Request) -> web.Response:
    """``GET /api/v1/lists``."""
    user, account = await signed_in(request, "read:lists")
    # The server-managed "Réseau des lieux" and "Autour de nous — 10 km" (issue 6).
    await places.ensure_lists(_svc(request), account, user)
    found = await lists.lists_of(_svc(request), account)
    return web.json_response([entities.list_entity(lst) for lst in found])


async def lists_create(request: web.Request) -> web.Response:
    """``POST /api/v1/lists`` (``title``, ``replies_policy``, ``exclusive``)."""
    _, account = await signed_in(request, "write:lists")
    params = await read_nested(request)
    created = await lists.create_list(
        _svc(request), account, title=params.get("title", ""),
        replies_policy=params.get("replies_policy") or None,
        exclusive=parse_bool(params.get("exclusive"), "exclusive") or False)
    return web.json_response(entities.list_entity(created))


async def list_get(request: web.Request) -> web.Response:
    """``GET /api/v1/lists/:id``."""
    _, account = await signed_in(request, "read:lists")
    found = await lists.get_list(_svc(request), account, _id(request.match_info["id"]))
    return web.json_response(entities.list_entity(found))


async def list_update(request: web.Request) -> web.Response:
    """``PUT /api/v1/lists/:id`` (what is sent changes, the rest stays)."""
    _, account = await signed_in(request, "write:lists")
    list_id = _id(request.match_info["id"])
    params = await read_nested(request)
    updated = await lists.update_list(
        _svc(request), account, list_id, title=params.get("title"),
        replies_policy=params.get("replies_policy") or None,
        exclusive=parse_bool(params.get("exclusive"), "exclusive"))
    return web.json_response(entities.list_entity(updated))


async def list_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/lists/:id``."""
    _, account = await signed_in(request, "write:lists")
    await lists.delete_list(_svc(request), account, _id(request.match_info["id"]))
    return web.json_response({})


async def list_accounts_get(request: web.Request) -> web.Response:
    """``GET /api/v1/lists/:id/accounts`` (paged; ``limit=0``: every member at once)."""
    _, account = await signed_in(request, "read:lists")
    svc = _svc(request)
    list_id = _id(request.match_info["id"])
    if request.query.get("limit", "").strip() == "0":
        rows = await lists.members(svc, account, list_id, None)
        return web.json_response(await render_accounts(svc, [a for _, a in rows]))
    page = page_params(request, default=40, maximum=80)
    rows = await lists.members(svc, account, list_id, page)
    return paged_response(request, await render_accounts(svc, [a for _, a in rows]),
                          [i for i, _ in rows], page)


async def list_accounts_post(request: web.Request) -> web.Response:
    """``POST /api/v1/lists/:id/accounts`` (``account_ids[]``: accounts you follow)."""
    _, account = await signed_in(request, "write:lists")
    list_id = _id(request.match_info["id"])
    params = await read_nested(request)
    await lists.add_accounts(_svc(request), account, list_id,
                             _account_ids(params.getall("account_ids", [])))
    return web.json_response({})


async def list_accounts_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/lists/:id/accounts`` (``account_ids[]``)."""
    _, account = await signed_in(request, "write:lists")
    list_id = _id(request.match_info["id"])
    params = await read_nested(request)
    await lists.remove_accounts(_svc(request), account, list_id,
                                _account_ids(params.getall("account_ids", [])))
    return web.json_response({})


async def account_lists_get(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/:id/lists``: the caller's lists that include this account."""
    _, account = await signed_in(request, "read:lists")
    svc = _svc(request)
    member = await directory.get_account(svc, request.match_info["id"])
    found = await lists.lists_with(svc, account, member)
    return web.json_response([entities.list_entity(lst) for lst in found])


async def timelines_list_get(request: web.Request) -> web.Response:
    """``GET /api/v1/timelines/list/:list_id`` (the home context of filters applies)."""
    _, account = await signed_in(request, "read:lists")
    page = page_params(request, default=20, maximum=40)
    views = await lists.timeline(_svc(request), account, _id(request.match_info["list_id"]),
                                 page)
    return await timeline_response(request, views, page, viewer=account,
                                   context=FilterContext.HOME)
