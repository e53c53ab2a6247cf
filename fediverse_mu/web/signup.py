"""Signing up: the sign-up page (French and English, works without JavaScript), the invite
links printed on the place's wall (``/invite/{code}`` opens the page with the code filled in),
and ``POST /api/v1/accounts`` for client apps that offer sign-up
(https://docs.joinmastodon.org/methods/accounts/#create: an app token in, a user Token out,
422 with ``details`` on bad fields). The rules live in :mod:`fediverse_mu.services.registration`."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Forbidden, Invalid
from fediverse_mu.domain.registration import InvalidFields, SignUp
from fediverse_mu.services import invites, registration, rules
from fediverse_mu.web import i18n
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.auth import require_grant
from fediverse_mu.web.pages import page
from fediverse_mu.web.params import client_ip, read_params
from fediverse_mu.web.session import csrf_token, current_login, read_form

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FIELDS = ("username", "email", "reason", "invite_code")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


async def _signup_page(request: web.Request, *, values: dict[str, str],
                       errors: dict[str, tuple[str, str]] | None = None,
                       status: int = 200) -> web.Response:
    svc = request.app[services_key]
    mode = await registration.registration_mode(svc)
    invite_error = None
    code = values.get("invite_code", "")
    if code and errors is None:
        try:
            await invites.find_usable(svc, code)
        except Invalid as exc:
            invite_error = exc.message
    response = page(request, "signup.html", {
        "config": svc.config, "mode": mode.value, "rules": await rules.list_rules(svc),
        "values": values, "errors": errors or {}, "invite_error": invite_error,
        "csrf_token": csrf_token(request), "login": await current_login(request),
    }, status=status)
    response.headers.update(_NO_STORE)
    return response


async def signup_get(request: web.Request) -> web.Response:
    """The sign-up form (``?invite=CODE`` fills the invite code in)."""
    return await _signup_page(request, values={"invite_code": request.query.get("invite", "")})


async def signup_post(request: web.Request) -> web.StreamResponse:
    """Create the account, or show the form again with what to fix (nothing is created)."""
    form = await read_form(request)
    svc = request.app[services_key]
    values = {name: form.get(name, "") for name in _FIELDS}
    try:
        done = await registration.sign_up(svc, SignUp(
            username=values["username"], email=values["email"],
            password=form.get("password", ""), agreement=_truthy(form.get("agreement")),
            reason=values["reason"], invite_code=values["invite_code"],
            locale=i18n.negotiate(request), ip=client_ip(request)))
    except InvalidFields as exc:
        errors = {e.field: (e.code, e.description) for e in reversed(exc.errors)}
        return await _signup_page(request, values=values, errors=errors, status=422)
    where = "pending" if done.pending else "welcome"
    raise web.HTTPSeeOther(f"/signup/{where}?name={quote(done.account.username)}")


async def signup_done_get(request: web.Request) -> web.Response:
    """After signing up: how to log in, or that the application waits for a moderator."""
    svc = request.app[services_key]
    pending = request.match_info["state"] == "pending"
    return page(request, "signup_done.html", {
        "config": svc.config, "pending": pending, "name": request.query.get("name", "")})


async def invite_get(request: web.Request) -> web.Response:
    """An invite link (often from a QR code): the sign-up form with the code filled in."""
    raise web.HTTPSeeOther(f"/signup?invite={quote(request.match_info['code'], safe='')}")


async def accounts_create(request: web.Request) -> web.Response:
    """``POST /api/v1/accounts``: sign up from a client app holding an app token with the
    ``write:accounts`` scope; returns the new user's Token (usable once approved)."""
    grant = await require_grant(request, "write:accounts", user=False)
    if grant.user is not None or grant.token.app_id is None:
        raise Forbidden("This method requires an application token, not a user's")
    params = await read_params(request, with_query=True)
    svc = request.app[services_key]
    try:
        done = await registration.sign_up(svc, SignUp(
            username=params.get("username", ""), email=params.get("email", ""),
            password=params.get("password", ""), agreement=_truthy(params.get("agreement")),
            reason=params.get("reason", ""), invite_code=params.get("invite_code", ""),
            locale=params.get("locale", ""), ip=client_ip(request)),
            app_id=grant.token.app_id, scopes=grant.token.scopes)
    except InvalidFields as exc:
        return web.json_response({"error": exc.message, "details": exc.details()},
                                 status=422, headers=_NO_STORE)
    assert done.token is not None
    return web.json_response(entities.token(done.token), headers=_NO_STORE)


def setup_routes(router: web.UrlDispatcher) -> None:
    """The sign-up page, invite links and the sign-up API."""
    router.add_get("/signup", signup_get)
    router.add_post("/signup", signup_post)
    router.add_get("/signup/{state:welcome|pending}", signup_done_get)
    router.add_get("/invite/{code}", invite_get)
    router.add_post("/api/v1/accounts", accounts_create)
    router.add_post("/api/v1/accounts/", accounts_create)
