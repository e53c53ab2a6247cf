"""fediverse-mu's own client API for places and ressentis (beside Mastodon's): the place with
its feelings vocabulary and spots, the directory of places, the barometer, and the ressenti
timelines (nearby, network of places, per feeling, per spot). Timelines answer Status entities
(each with its ``ressenti``) and Mastodon's Link pagination, so a client reads them like any
other timeline. Stock clients get the same through server-managed lists."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid
from fediverse_mu.domain.filters import FilterContext
from fediverse_mu.services import places, ressentis
from fediverse_mu.services.context import Services
from fediverse_mu.web import ressentis as drawing
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import optional_viewer
from fediverse_mu.web.mastodon.pagination import page_params
from fediverse_mu.web.mastodon.statuses import render_statuses, timeline_response


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


async def place_get(request: web.Request) -> web.Response:
    """``GET /api/v1/place``: the place, its territory, feelings vocabulary and spots."""
    svc = _svc(request)
    settings = await places.get_settings(svc)
    actor = await places.place_actor(svc)
    t = settings.territory
    return web.json_response({
        "name": settings.name, "kind": settings.kind, "description": settings.description,
        "address": settings.address, "latitude": settings.latitude,
        "longitude": settings.longitude, "actor": actor.actor_uri,
        "acct": f"{actor.username}@{svc.config.domain}",
        "territory": {"name": t.name, "communes": list(t.communes), "radius_km": t.radius_km,
                      "polygon": [list(v) for v in t.polygon]},
        "min_group_size": settings.min_group_size,
        "feelings": [entities.feeling(f) for f in await places.list_feelings(svc)],
        "spots": [entities.spot(s) for s in await places.list_spots(svc)],
    })


async def places_get(request: web.Request) -> web.Response:
    """``GET /api/v1/places``: the directory of known places, nearest first."""
    return web.json_response([entities.known_place(p)
                              for p in await places.directory(_svc(request))])


async def barometer_get(request: web.Request) -> web.Response:
    """``GET /api/v1/place/barometer``: the barometer (small counts are null)."""
    svc = _svc(request)
    weeks = request.query.get("weeks", "").strip()
    if weeks and (not weeks.isdigit() or not 1 <= int(weeks) <= 104):
        raise Invalid("weeks must be a number from 1 to 104")
    barometer = await ressentis.barometer(svc, int(weeks) if weeks else 12)
    return web.json_response(drawing.barometer_json(await places.get_settings(svc), barometer,
                                                    svc.config.base_url))


async def nearby_get(request: web.Request) -> web.Response:
    """``GET /api/v1/timelines/nearby``: ressentis within ``radius_km`` (default 10) of this
    place, from every place known; newest first, or nearest first with ``order=distance``
    (paged with ``offset``). Each ressenti carries its ``distance_km``."""
    svc = _svc(request)
    viewer = await optional_viewer(request, "read:statuses")
    radius = ressentis.check_radius(request.query.get("radius_km"))
    if request.query.get("order", "recent") == "distance":
        offset = request.query.get("offset", "0").strip() or "0"
        limit = request.query.get("limit", "20").strip() or "20"
        if not offset.isdigit() or not limit.isdigit():
            raise Invalid("offset and limit must be numbers")
        found = await ressentis.nearby_by_distance(svc, viewer, radius, int(limit),
                                                   int(offset))
        body = await render_statuses(svc, [v for v, _ in found], viewer=viewer)
        for entity, (_, distance) in zip(body, found, strict=True):
            entity["ressenti"]["distance_km"] = distance
        return web.json_response(body)
    page = page_params(request, default=20, maximum=40)
    found = await ressentis.nearby_timeline(svc, viewer, radius, page)
    response = await timeline_response(request, [v for v, _ in found], page, viewer=viewer,
                                       context=FilterContext.PUBLIC)
    return response


async def network_get(request: web.Request) -> web.Response:
    """``GET /api/v1/timelines/places``: the network of places (allied places, their
    residents; network-only posts for residents here)."""
    viewer = await optional_viewer(request, "read:statuses")
    page = page_params(request, default=20, maximum=40)
    views = await ressentis.network_timeline(_svc(request), viewer, page)
    return await timeline_response(request, views, page, viewer=viewer,
                                   context=FilterContext.PUBLIC)


async def feeling_get(request: web.Request) -> web.Response:
    """``GET /api/v1/timelines/feeling/:feeling`` (term, hashtag or label)."""
    viewer = await optional_viewer(request, "read:statuses")
    page = page_params(request, default=20, maximum=40)
    views = await ressentis.feeling_timeline(_svc(request), viewer,
                                             request.match_info["feeling"], page)
    return await timeline_response(request, views, page, viewer=viewer,
                                   context=FilterContext.PUBLIC)


async def spot_get(request: web.Request) -> web.Response:
    """``GET /api/v1/timelines/spot/:hashtag``: ressentis at one spot of the territory."""
    viewer = await optional_viewer(request, "read:statuses")
    page = page_params(request, default=20, maximum=40)
    views = await ressentis.spot_timeline(_svc(request), viewer, request.match_info["spot"],
                                          page)
    return await timeline_response(request, views, page, viewer=viewer,
                                   context=FilterContext.PUBLIC)


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the place API (each path also with a trailing slash)."""
    for method, path, handler in (
            ("GET", "/api/v1/place", place_get),
            ("GET", "/api/v1/place/barometer", barometer_get),
            ("GET", "/api/v1/places", places_get),
            ("GET", "/api/v1/timelines/nearby", nearby_get),
            ("GET", "/api/v1/timelines/places", network_get),
            ("GET", "/api/v1/timelines/feeling/{feeling}", feeling_get),
            ("GET", "/api/v1/timelines/spot/{spot}", spot_get)):
        router.add_route(method, path, handler)
        router.add_route(method, path + "/", handler)
