"""A resident's settings page (``/settings``): the language of the pages (``users.locale``,
which every page then uses unless ``?lang=`` or the ``lang`` cookie says otherwise), with a
link to the posting settings (``/settings/place``). A CSRF-checked form; saving also sets the
``lang`` cookie, so this browser follows the new choice at once."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.services import accounts
from fediverse_mu.web.pages import page
from fediverse_mu.web.session import csrf_token, read_form, require_login

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def settings_get(request: web.Request) -> web.Response:
    """The settings form."""
    login = await require_login(request)
    response = page(request, "settings.html", {
        "config": request.app[services_key].config, "login": login,
        "csrf_token": csrf_token(request), "locale": login.user.locale,
        "saved": request.query.get("saved") == "1"})
    response.headers.update(_NO_STORE)
    return response


async def settings_post(request: web.Request) -> web.Response:
    """Save the language (``locale``: ``fr`` or ``en``); anything else changes nothing."""
    login = await require_login(request)
    form = await read_form(request)
    locale = await accounts.set_locale(request.app[services_key], login.user,
                                       form.get("locale", ""))
    response = web.Response(status=303, headers={"Location": "/settings?saved=1", **_NO_STORE})
    # This browser may have chosen a language before (?lang=): the new setting wins here.
    response.set_cookie("lang", locale, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def setup_routes(router: web.UrlDispatcher) -> None:
    """The resident's settings page."""
    router.add_get("/settings", settings_get)
    router.add_post("/settings", settings_post)
