"""Mastodon poll endpoints (https://docs.joinmastodon.org/methods/polls/): reading a poll and
voting in it, plus reading the ``poll[…]`` parameters of a new status (form, JSON or
multipart alike). Thin handlers over ``services.polls``."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid, NotFound
from fediverse_mu.domain.polls import NewPoll
from fediverse_mu.services import polls
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import optional_viewer, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool, read_nested


def poll_params(params: MultiDict[str]) -> NewPoll | None:
    """``poll[options][]``, ``poll[expires_in]``, ``poll[multiple]``, ``poll[hide_totals]``
    of a new status, checked; None when the status has no poll."""
    options = params.getall("poll[options]", [])
    if not options and params.get("poll[expires_in]") is None:
        return None
    return polls.check_new_poll(
        options, params.get("poll[expires_in]"),
        multiple=parse_bool(params.get("poll[multiple]"), "poll[multiple]") or False,
        hide_totals=parse_bool(params.get("poll[hide_totals]"), "poll[hide_totals]") or False)


def _poll_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("Record not found")
    return int(value)


async def poll_get(request: web.Request) -> web.Response:
    """``GET /api/v1/polls/:id`` (public polls for anyone)."""
    viewer = await optional_viewer(request, "read:statuses")
    found = await polls.get_poll(request.app[services_key], _poll_id(request), viewer)
    return web.json_response(entities.poll(found))


def _choices(params: MultiDict[str]) -> list[int]:
    values = params.getall("choices", [])
    if not values:
        raise Invalid("Validation failed: choices[] is required")
    try:
        return [int(str(v).strip()) for v in values]
    except ValueError:
        raise Invalid("Validation failed: choices must be option indexes") from None


async def poll_votes_post(request: web.Request) -> web.Response:
    """``POST /api/v1/polls/:id/votes`` with ``choices[]``."""
    _, account = await signed_in(request, "write:statuses")
    params = await read_nested(request)
    found = await polls.vote(request.app[services_key], account, _poll_id(request),
                             _choices(params))
    return web.json_response(entities.poll(found))


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the poll endpoints (with and without a trailing slash)."""
    for method, path, handler in (("GET", "/api/v1/polls/{id}", poll_get),
                                  ("POST", "/api/v1/polls/{id}/votes", poll_votes_post)):
        router.add_route(method, path, handler)
        router.add_route(method, path + "/", handler)


