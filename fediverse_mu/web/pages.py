"""Public HTML pages (the place's home page) and the health check."""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from fediverse_mu import __version__
from fediverse_mu.appkeys import services_key
from fediverse_mu.services import instance
from fediverse_mu.web import i18n


def page(request: web.Request, template: str, context: dict[str, object],
         status: int = 200) -> web.Response:
    """Render a page in the visitor's language."""
    from fediverse_mu.web.session import page_context  # the session module renders pages too

    lang = i18n.negotiate(request)
    # The language links keep the page's other query parameters (/oauth/authorize needs them).
    other_query = urlencode([(k, v) for k, v in request.query.items() if k != "lang"])
    response = aiohttp_jinja2.render_template(
        template, request, {"other_query": other_query, **page_context(request), **context,
                            "lang": lang, "_": i18n.translator(lang), "languages": i18n.LANGUAGES,
                            "path": request.path},
        status=status)
    if request.query.get("lang") in i18n.LANGUAGES:
        response.set_cookie("lang", request.query["lang"], max_age=365 * 86400,
                            samesite="Lax", httponly=True)
    return response


async def home_get(request: web.Request) -> web.Response:
    """The place's public home page."""
    svc = request.app[services_key]
    stats = await instance.instance_stats(svc)
    return page(request, "home.html", {"config": svc.config, "stats": stats,
                                       "version": __version__})


async def healthz_get(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise."""
    try:
        ok = await instance.database_answers(request.app[services_key])
    except Exception:
        ok = False
    if not ok:
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})
