"""The smaller Mastodon endpoints clients call at start-up or in passing: preferences
(https://docs.joinmastodon.org/methods/preferences/), timeline markers (/methods/markers/),
the instance's peers, weekly activity and rules (/methods/instance/), and the features this
instance does not have, answered honestly with empty lists: custom emojis, announcements,
trends and follow suggestions."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain.profiles import Timeline
from fediverse_mu.services import directory, profiles
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import signed_in
from fediverse_mu.web.mastodon.forms import read_nested

_TIMELINES = {t.value: t for t in Timeline}


async def preferences_get(request: web.Request) -> web.Response:
    """``GET /api/v1/preferences``: the caller's posting defaults and reading choices."""
    user, _ = await signed_in(request, "read:accounts")
    defaults = await profiles.posting_defaults(request.app[services_key], user)
    return web.json_response(entities.preferences(defaults))


async def markers_get(request: web.Request) -> web.Response:
    """``GET /api/v1/markers?timeline[]=home&timeline[]=notifications``: saved positions
    (none asked: an empty hash, as Mastodon)."""
    user, _ = await signed_in(request, "read:statuses")
    names = request.query.getall("timeline[]", []) + request.query.getall("timeline", [])
    timelines = [_TIMELINES[n] for n in names if n in _TIMELINES]
    found = await profiles.get_markers(request.app[services_key], user, timelines)
    return web.json_response(entities.markers(found))


async def markers_post(request: web.Request) -> web.Response:
    """``POST /api/v1/markers`` (``home[last_read_id]``, ``notifications[last_read_id]``, as
    form fields or nested JSON): the markers saved."""
    user, _ = await signed_in(request, "write:statuses")
    params = await read_nested(request)
    positions = {timeline: value for name, timeline in _TIMELINES.items()
                 if (value := params.get(f"{name}[last_read_id]")) is not None}
    saved = await profiles.save_markers(request.app[services_key], user, positions)
    return web.json_response(entities.markers(saved))


async def peers_get(request: web.Request) -> web.Response:
    """``GET /api/v1/instance/peers``: the other servers this instance knows."""
    return web.json_response(await directory.peers(request.app[services_key]))


async def activity_get(request: web.Request) -> web.Response:
    """``GET /api/v1/instance/activity``: twelve weeks of posts, sign-ins, registrations."""
    weeks = await directory.weekly_activity(request.app[services_key])
    return web.json_response(entities.instance_activity(weeks))


async def empty_list_get(request: web.Request) -> web.Response:
    """Public endpoints of features this instance does not have: custom emojis, trends,
    rules (until the admin issue)."""
    return web.json_response([])


async def announcements_get(request: web.Request) -> web.Response:
    """``GET /api/v1/announcements``: none (scope ``read``, as Mastodon)."""
    await signed_in(request, "read")
    return web.json_response([])


async def suggestions_get(request: web.Request) -> web.Response:
    """``GET /api/v1/suggestions`` and ``/api/v2/suggestions``: none yet."""
    await signed_in(request, "read:accounts")
    return web.json_response([])
