"""The browser session of the HTML pages: one signed cookie for the whole site (the OAuth
consent page uses it too), the ``/login`` and ``/logout`` pages, and CSRF protection for every
state-changing form.

Handlers call :func:`current_login` / :func:`require_login` / :func:`require_role`, put
:func:`csrf_token` in each POST form as ``<input type="hidden" name="csrf_token">`` and read the
form with :func:`read_form`, which refuses a missing or wrong token with a 403 page. The token is
an HMAC of a per-browser nonce kept in an HttpOnly cookie (set on the first page that needs it),
so it works before login too (sign-up, login). The session value itself is signed and expires
after seven days; a disabled or unapproved user is logged out at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Forbidden, RateLimited, Role, Unauthorized, User
from fediverse_mu.services import oauth
from fediverse_mu.web import i18n
from fediverse_mu.web.pages import page
from fediverse_mu.web.params import client_ip

SESSION_COOKIE = "fmu_session"
NONCE_COOKIE = "fmu_csrf"
COOKIE_PATH = "/"
CSRF_FAILED = "The form has expired. Please reload the page and try again."
NOT_ALLOWED = "You are not allowed to see this page."
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Login:
    """Who is logged in on this browser."""

    user: User
    account: Account


_LOGIN_KEY = web.RequestKey("fmu_login", object)  # Login | None once looked up
_NEW_NONCE_KEY = web.RequestKey("fmu_new_nonce", str)


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str,
               max_age: int | None = None) -> None:
    """Set one of the session cookies: HttpOnly, SameSite=Lax, Secure over https."""
    secure = request.app[services_key].config.scheme == "https"
    response.set_cookie(name, value, path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=secure, max_age=max_age)


def start_session(request: web.Request, response: web.StreamResponse, user: User) -> None:
    """Log ``user`` in on this browser (the response carries the signed cookie)."""
    svc = request.app[services_key]
    set_cookie(request, response, SESSION_COOKIE, oauth.session_value(svc, user),
               max_age=int(oauth.SESSION_LIFETIME.total_seconds()))


async def current_login(request: web.Request) -> Login | None:
    """The logged-in user of this request, if any (looked up once per request)."""
    if _LOGIN_KEY in request:
        cached = request[_LOGIN_KEY]
        return cached if isinstance(cached, Login) else None
    found = await oauth.session_login(request.app[services_key],
                                      request.cookies.get(SESSION_COOKIE))
    login = None if found is None else Login(user=found[0], account=found[1])
    request[_LOGIN_KEY] = login
    if login is not None:  # the pages then speak the resident's language (i18n.negotiate)
        request[i18n.USER_LOCALE_KEY] = login.user.locale
    return login


async def require_login(request: web.Request) -> Login:
    """The logged-in user, or a redirect to the login page that comes back here."""
    login = await current_login(request)
    if login is None:
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
    return login


async def require_role(request: web.Request, *roles: Role) -> Login:
    """The logged-in user if their role is one of ``roles``; else login or a 403 page."""
    login = await require_login(request)
    if login.user.role not in roles:
        raise Forbidden(NOT_ALLOWED)
    return login


def csrf_token(request: web.Request) -> str:
    """The CSRF token to put in this page's forms (sets the nonce cookie when missing)."""
    nonce = request.cookies.get(NONCE_COOKIE) or request.get(_NEW_NONCE_KEY)
    if not nonce:
        nonce = oauth.new_csrf_nonce()
        request[_NEW_NONCE_KEY] = nonce
    return oauth.csrf_token(request.app[services_key], nonce)


def csrf_matches(request: web.Request, token: str | None) -> bool:
    """True when ``token`` is this browser's CSRF token."""
    return oauth.csrf_token_matches(request.app[services_key],
                                    request.cookies.get(NONCE_COOKIE), token)


async def read_form(request: web.Request) -> dict[str, str]:
    """The POSTed form as text fields, after checking its CSRF token (else a 403 page)."""
    data = await request.post()
    if not csrf_matches(request, _text(data.get("csrf_token"))):
        raise Forbidden(CSRF_FAILED)
    return {key: value for key, value in data.items() if isinstance(value, str)}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@web.middleware
async def session_middleware(request: web.Request,
                             handler: Handler) -> web.StreamResponse:
    """Look the browser's login up once for the pages (API clients send no cookie), and send
    the CSRF nonce cookie made while rendering the page."""
    # The raw header first: parsing cookies costs ~10 µs, and inbox POSTs and API calls (most
    # of the traffic) carry none.
    if SESSION_COOKIE in request.headers.get("Cookie", "") and \
            not request.path.startswith("/api/"):
        await current_login(request)
    response = await handler(request)
    nonce = request.get(_NEW_NONCE_KEY)
    if nonce and NONCE_COOKIE not in request.cookies and not response.prepared:
        set_cookie(request, response, NONCE_COOKIE, nonce)
    return response


def page_context(request: web.Request) -> dict[str, object]:
    """What every page's layout needs: who is logged in and the logout form's token."""
    found = request.get(_LOGIN_KEY)
    login = found if isinstance(found, Login) else None
    return {"login": login, "csrf_token": csrf_token(request) if login else ""}


def setup_session(app: web.Application) -> None:
    """Install the login lookup and the nonce cookie on the application."""
    app.middlewares.append(session_middleware)


# -- the login and logout pages ---------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """A local path to go back to after login (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or value.startswith(("/login", "/logout")):
        return "/"
    return value


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, **_NO_STORE})


def _translate(request: web.Request, message: str) -> str:
    return i18n.translator(i18n.negotiate(request))(message)


def _login_page(request: web.Request, *, next_path: str, username: str = "",
                error: str | None = None, status: int = 200) -> web.Response:
    svc = request.app[services_key]
    response = page(request, "login.html", {
        "config": svc.config, "csrf_token": csrf_token(request), "next": next_path,
        "username": username, "login": None,
        "error": None if error is None else _translate(request, error)}, status=status)
    response.headers.update(_NO_STORE)
    return response


async def login_get(request: web.Request) -> web.Response:
    """The login form (or straight back when already logged in)."""
    next_path = safe_next(request.query.get("next"))
    if await current_login(request) is not None:
        raise web.HTTPSeeOther(next_path)
    return _login_page(request, next_path=next_path)


async def login_post(request: web.Request) -> web.Response:
    """Check the credentials (rate-limited per IP and name) and start a session."""
    form = await read_form(request)
    next_path = safe_next(form.get("next"))
    username = form.get("username", "")
    svc = request.app[services_key]
    try:
        user = await oauth.check_login(svc, username, form.get("password", ""),
                                       ip=client_ip(request))
    except RateLimited as exc:
        response = _login_page(request, next_path=next_path, username=username,
                               error=exc.message, status=429)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except (Unauthorized, Forbidden) as exc:
        return _login_page(request, next_path=next_path, username=username, error=exc.message,
                           status=422)
    response = _see_other(next_path)
    start_session(request, response, user)
    return response


async def logout_post(request: web.Request) -> web.Response:
    """End the session on this browser."""
    await read_form(request)
    response = _see_other("/")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def setup_routes(router: web.UrlDispatcher) -> None:
    """The login and logout routes."""
    router.add_get("/login", login_get)
    router.add_post("/login", login_post)
    router.add_post("/logout", logout_post)
