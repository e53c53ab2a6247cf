"""The place's HTML pages and open data: the public place page (barometer, plan of the spots,
latest public ressentis), the directory of known places (page and JSON), the ressenti
timelines as pages (nearby, network of places, per feeling, per spot), the barometer as JSON
and CSV, the Atom feed of public ressentis, the JSON-LD context of the extension terms, the
admin page ``/admin/place`` and the resident's settings page ``/settings/place``.
Thin handlers over ``services.places`` and ``services.ressentis``."""

from __future__ import annotations

import json

from aiohttp import web

from fediverse_mu.activitypub.ressentis import CONTEXT_PATH, context_document
from fediverse_mu.appkeys import federation_key, services_key
from fediverse_mu.config import PLACE_KINDS
from fediverse_mu.domain import DomainError, Invalid, NotFound, Role
from fediverse_mu.domain.pagination import Page
from fediverse_mu.federation.client import FetchError
from fediverse_mu.services import places, ressentis
from fediverse_mu.services.context import Services
from fediverse_mu.web import i18n
from fediverse_mu.web import ressentis as drawing
from fediverse_mu.web.pages import page
from fediverse_mu.web.session import (
    csrf_token,
    current_login,
    read_form,
    require_login,
    require_role,
)

LATEST = 10
PAGE = 20


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


def _weeks(request: web.Request) -> int:
    value = request.query.get("weeks", "").strip()
    if not value:
        return ressentis.DEFAULT_BAROMETER_WEEKS
    if not value.isdigit() or not 1 <= int(value) <= ressentis.MAX_BAROMETER_WEEKS:
        raise Invalid(f"weeks must be a number from 1 to {ressentis.MAX_BAROMETER_WEEKS}")
    return int(value)


async def _context(request: web.Request) -> dict[str, object]:
    return {"config": _svc(request).config, "login": await current_login(request),
            "csrf_token": csrf_token(request)}


async def place_get(request: web.Request) -> web.Response:
    """``/lieu``: how the territory feels (barometer), the plan of its spots, the latest
    public ressentis. No script, no third-party request."""
    svc = _svc(request)
    lang = i18n.negotiate(request)
    _ = i18n.translator(lang)
    settings = await places.get_settings(svc)
    barometer = await ressentis.barometer(svc, _weeks(request))
    spots = await places.list_spots(svc)
    vocabulary = await places.list_feelings(svc)
    return page(request, "place.html", {
        **await _context(request), "place": settings, "spots": spots,
        "feelings": vocabulary, "barometer": barometer,
        "barometer_svg": drawing.barometer_svg(barometer, _, lang),
        "plan_svg": drawing.plan_svg(settings, spots, _),
        "latest": await ressentis.latest_public(svc, LATEST),
        "actor": f"{places.PLACE_USERNAME}@{svc.config.domain}"})


async def barometer_json_get(request: web.Request) -> web.Response:
    """``/lieu/barometre.json``: the aggregated barometer (small counts are null)."""
    svc = _svc(request)
    barometer = await ressentis.barometer(svc, _weeks(request))
    body = drawing.barometer_json(await places.get_settings(svc), barometer,
                                  svc.config.base_url)
    response = web.json_response(body, dumps=lambda v: json.dumps(v, ensure_ascii=False))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def barometer_csv_get(request: web.Request) -> web.Response:
    """``/lieu/barometre.csv``: the same as CSV."""
    barometer = await ressentis.barometer(_svc(request), _weeks(request))
    response = web.Response(text=drawing.barometer_csv(barometer), content_type="text/csv",
                            charset="utf-8")
    response.headers["Content-Disposition"] = 'inline; filename="barometre.csv"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def atom_get(request: web.Request) -> web.Response:
    """``/lieu/ressentis.atom``: the latest public ressentis posted here."""
    svc = _svc(request)
    feed = drawing.atom_feed(await places.get_settings(svc),
                             await ressentis.latest_public(svc, PAGE), svc.config.base_url,
                             svc.now())
    return web.Response(text=feed, content_type="application/atom+xml", charset="utf-8")


async def context_get(request: web.Request) -> web.Response:
    """``/ns/mu``: the JSON-LD context of fediverse-mu's extension terms."""
    response = web.json_response(context_document(), content_type="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def directory_get(request: web.Request) -> web.Response:
    """``/lieu/annuaire``: every place this instance has seen, nearest first."""
    return page(request, "place_directory.html", {
        **await _context(request), "places": await places.directory(_svc(request))})


async def directory_json_get(request: web.Request) -> web.Response:
    """``/lieu/annuaire.json``: the directory as JSON."""
    from fediverse_mu.web.mastodon.entities import known_place

    found = await places.directory(_svc(request))
    response = web.json_response([known_place(p) for p in found],
                                 dumps=lambda v: json.dumps(v, ensure_ascii=False))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _max_id(request: web.Request) -> Page:
    value = request.query.get("max_id", "").strip()
    if value and (not value.isdigit() or len(value) > 20):
        raise Invalid("max_id must be an id")
    return Page(max_id=int(value) if value else None, limit=PAGE)


async def _timeline_page(request: web.Request, title: str, views: list[object],
                         distances: dict[int, float] | None = None,
                         subtitle: str = "") -> web.Response:
    return page(request, "place_timeline.html", {
        **await _context(request), "title": title, "subtitle": subtitle, "views": views,
        "distances": distances or {}})


async def nearby_page_get(request: web.Request) -> web.Response:
    """``/lieu/autour?km=10``: ressentis made near here, from every place known."""
    svc = _svc(request)
    login = await current_login(request)
    radius = ressentis.check_radius(request.query.get("km"))
    found = await ressentis.nearby_timeline(svc, None if login is None else login.account,
                                            radius, _max_id(request))
    _ = i18n.translator(i18n.negotiate(request))
    return await _timeline_page(request, _("Around us"), [v for v, _d in found],
                                {v.status.id: d for v, d in found},
                                f"{radius:g} km")


async def network_page_get(request: web.Request) -> web.Response:
    """``/lieu/reseau``: the network of places (allied places and their residents)."""
    svc = _svc(request)
    login = await current_login(request)
    views = await ressentis.network_timeline(svc, None if login is None else login.account,
                                             _max_id(request))
    _ = i18n.translator(i18n.negotiate(request))
    return await _timeline_page(request, _("Network of places"), list(views))


async def feeling_page_get(request: web.Request) -> web.Response:
    """``/lieu/ressentis/{feeling}``: ressentis with one feeling."""
    svc = _svc(request)
    login = await current_login(request)
    term = request.match_info["feeling"]
    views = await ressentis.feeling_timeline(svc, None if login is None else login.account,
                                             term, _max_id(request))
    return await _timeline_page(request, term, list(views))


async def spot_page_get(request: web.Request) -> web.Response:
    """``/lieu/spots/{spot}``: ressentis at one spot of the territory."""
    svc = _svc(request)
    login = await current_login(request)
    spot = request.match_info["spot"]
    views = await ressentis.spot_timeline(svc, None if login is None else login.account,
                                          spot, _max_id(request))
    return await _timeline_page(request, f"#{spot}", list(views))


# -- admin ----------------------------------------------------------------------------------------


async def _admin_page(request: web.Request, error: str = "", done: str = "",
                      status: int = 200) -> web.Response:
    svc = _svc(request)
    settings = await places.get_settings(svc)
    return page(request, "place_admin.html", {
        **await _context(request), "place": settings, "kinds": PLACE_KINDS,
        "spots": await places.list_spots(svc), "feelings": await places.list_feelings(svc),
        "allied": await places.allied_places(svc), "error": error, "done": done},
        status=status)


async def admin_place_get(request: web.Request) -> web.Response:
    """``/admin/place``: edit the place, its territory, spots, feelings and allied places."""
    await require_role(request, Role.ADMIN)
    return await _admin_page(request)


async def admin_place_post(request: web.Request) -> web.Response:
    """One form of ``/admin/place`` (``action`` says which); errors show on the page and
    change nothing."""
    await require_role(request, Role.ADMIN)
    form = await read_form(request)
    svc = _svc(request)
    action = form.get("action", "")
    try:
        if action == "settings":
            fields = ("name", "kind", "description", "address", "coordinates",
                      "territory_name", "communes", "radius_km", "polygon", "min_group_size")
            await places.update_settings(svc, {k: form.get(k, "") for k in fields})
        elif action == "add_spot":
            await places.add_spot(svc, form.get("spot_name", ""), form.get("spot_hashtag", ""),
                                  form.get("spot_coordinates", ""))
        elif action == "remove_spot":
            spot_id = form.get("spot_id", "")
            if not spot_id.isdigit():
                raise NotFound("no such spot")
            await places.remove_spot(svc, int(spot_id))
        elif action == "add_feeling":
            await places.add_feeling(svc, form.get("term", ""), form.get("emoji", ""),
                                     form.get("hashtag", ""), form.get("label_fr", ""),
                                     form.get("label_en", ""))
        elif action == "remove_feeling":
            await places.remove_feeling(svc, form.get("term", ""))
        elif action == "ally":
            handle = form.get("handle", "").strip().removeprefix("@")
            try:
                target = await request.app[federation_key].resolve_handle(handle)
            except FetchError as exc:
                raise Invalid(f"cannot find {handle}: {exc}") from None
            await places.ally(svc, target)
        elif action == "unally":
            await places.unally(svc, form.get("actor", ""))
        else:
            raise Invalid("unknown action")
    except DomainError as exc:
        return await _admin_page(request, error=exc.message, status=exc.status)
    raise web.HTTPSeeOther("/admin/place?saved=1")


# -- residents ------------------------------------------------------------------------------------


async def settings_place_get(request: web.Request) -> web.Response:
    """``/settings/place``: a resident's posting defaults for hyperlocal life."""
    login = await require_login(request)
    return page(request, "place_settings.html", {
        **await _context(request),
        "local_only": await places.local_only_default(_svc(request), login.account),
        "feelings": await places.list_feelings(_svc(request)),
        "spots": await places.list_spots(_svc(request))})


async def settings_place_post(request: web.Request) -> web.Response:
    """Save the resident's local-only default."""
    login = await require_login(request)
    form = await read_form(request)
    await places.set_local_only_default(_svc(request), login.account,
                                        form.get("local_only") == "on")
    raise web.HTTPSeeOther("/settings/place?saved=1")


async def on_startup(app: web.Application) -> None:
    """Create the place's settings and actor when missing (after the storage opened)."""
    await places.ensure_place(app[services_key])


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the place's pages, open data and admin routes."""
    router.add_get("/lieu", place_get)
    router.add_get("/lieu/barometre.json", barometer_json_get)
    router.add_get("/lieu/barometre.csv", barometer_csv_get)
    router.add_get("/lieu/ressentis.atom", atom_get)
    router.add_get("/lieu/annuaire", directory_get)
    router.add_get("/lieu/annuaire.json", directory_json_get)
    router.add_get("/lieu/autour", nearby_page_get)
    router.add_get("/lieu/reseau", network_page_get)
    router.add_get("/lieu/ressentis/{feeling}", feeling_page_get)
    router.add_get("/lieu/spots/{spot}", spot_page_get)
    router.add_get(CONTEXT_PATH, context_get)
    router.add_get("/admin/place", admin_place_get)
    router.add_post("/admin/place", admin_place_post)
    router.add_get("/settings/place", settings_place_get)
    router.add_post("/settings/place", settings_place_post)
