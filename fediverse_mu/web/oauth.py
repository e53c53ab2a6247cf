"""The OAuth 2 face (https://docs.joinmastodon.org/methods/oauth/): the authorization page
(login and consent, French first), the token and revocation endpoints with OAuth's own error
format (RFC 6749 §5.2, not the ``{"error": …}`` of the Mastodon API), and the RFC 8414
authorization server metadata. The use cases live in :mod:`fediverse_mu.services.oauth`."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus, urlencode, urlsplit

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import (
    OOB_REDIRECT_URI,
    Account,
    Forbidden,
    OAuthError,
    RateLimited,
    Unauthorized,
)
from fediverse_mu.services import oauth
from fediverse_mu.web import i18n
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.pages import page
from fediverse_mu.web.params import client_ip, read_params
from fediverse_mu.web.session import (
    CSRF_FAILED,
    csrf_matches,
    csrf_token,
    current_login,
    start_session,
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_AUTHORIZE_PARAMS = ("client_id", "redirect_uri", "response_type", "scope", "state",
                     "code_challenge", "code_challenge_method")
_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'")
_NETLOC = re.compile(r"^[A-Za-z0-9.:\[\]-]+$")


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _authorize_args(params: Mapping[str, str]) -> dict[str, str | None]:
    return {name: params.get(name) or None for name in _AUTHORIZE_PARAMS}


def _redirect(uri: str, params: dict[str, str | None]) -> web.Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    location = f"{uri}{'&' if '?' in uri else '?'}{query}"
    return web.Response(status=302, headers={"Location": location, **_NO_STORE})


def _csp(redirect_uri: str) -> str:
    """The page's CSP: browsers apply ``form-action`` to the redirect that follows the form,
    so the client's redirect URI must be allowed too (Mastodon hit the same snag)."""
    parts = urlsplit(redirect_uri)
    scheme = parts.scheme.lower()
    if redirect_uri == OOB_REDIRECT_URI or not scheme:
        target = ""
    elif scheme in ("http", "https") and _NETLOC.match(parts.netloc):
        target = f" {scheme}://{parts.netloc}"
    else:
        target = f" {scheme}:"
    return f"{_CSP}; form-action 'self'{target}"


def _translate(request: web.Request, message: str) -> str:
    return i18n.translator(i18n.negotiate(request))(message)


def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    config = request.app[services_key].config
    response = page(request, "error.html", {"config": config, "status": status,
                                            "message": _translate(request, message)},
                    status=status)
    response.headers.update(_NO_STORE)
    return response


def _authorize_failed(request: web.Request, exc: OAuthError) -> web.Response:
    if exc.redirect_uri is not None:  # client and redirect URI were checked: tell the client
        return _redirect(exc.redirect_uri, {"error": exc.error, "error_description": exc.message,
                                            "state": exc.state})
    return _error_page(request, 400, exc.message)


def _consent_page(request: web.Request, auth: oauth.AuthorizationRequest, *,
                  account: Account | None, force_login: bool, error: str | None = None,
                  username: str = "", status: int = 200) -> web.Response:
    svc = request.app[services_key]
    hidden = [("client_id", auth.app.client_id), ("redirect_uri", auth.redirect_uri),
              ("response_type", "code"), ("scope", " ".join(sorted(auth.scopes))),
              ("state", auth.state), ("code_challenge", auth.code_challenge),
              ("code_challenge_method", auth.code_challenge_method)]
    fields = [(name, value) for name, value in hidden if value]
    switch_url = "/oauth/authorize?" + urlencode([*fields, ("force_login", "true")])
    if force_login:
        fields.append(("force_login", "true"))
    response = page(request, "oauth_authorize.html", {
        "config": svc.config, "app": auth.app, "scopes": sorted(auth.scopes),
        "redirect_uri": auth.redirect_uri, "out_of_band": auth.out_of_band,
        "account": account, "hidden": fields, "csrf_token": csrf_token(request),
        "error": None if error is None else _translate(request, error),
        "username": username, "switch_url": switch_url,
        "other_query": urlencode([(n, v) for n, v in fields if n != "force_login"]),
    }, status=status)
    response.headers.update(_NO_STORE)
    response.headers["Content-Security-Policy"] = _csp(auth.redirect_uri)
    return response


async def authorize_get(request: web.Request) -> web.Response:
    """The login and consent page of an authorization request."""
    svc = request.app[services_key]
    try:
        auth = await oauth.authorization_request(svc, **_authorize_args(request.query))
    except OAuthError as exc:
        return _authorize_failed(request, exc)
    force_login = _truthy(request.query.get("force_login"))
    login = None if force_login else await current_login(request)
    return _consent_page(request, auth, account=None if login is None else login.account,
                         force_login=force_login)


async def authorize_post(request: web.Request) -> web.Response:
    """The user's decision: log in (or use the session) and approve, or deny."""
    svc = request.app[services_key]
    form = await read_params(request)
    if not csrf_matches(request, form.get("csrf_token")):
        return _error_page(request, 403, CSRF_FAILED)
    try:
        auth = await oauth.authorization_request(svc, **_authorize_args(form))
    except OAuthError as exc:
        return _authorize_failed(request, exc)
    if form.get("decision") != "approve":
        if auth.out_of_band:
            response = page(request, "oauth_code.html", {"config": svc.config, "code": None})
            response.headers.update(_NO_STORE)
            return response
        return _redirect(auth.redirect_uri, {"error": "access_denied", "error_description":
                                             "The resource owner denied the request.",
                                             "state": auth.state})
    force_login = _truthy(form.get("force_login"))
    login = None if force_login else await current_login(request)
    if login is not None:
        user, new_session = login.user, False
    else:
        username = form.get("username", "")
        try:
            user = await oauth.check_login(svc, username, form.get("password", ""),
                                           ip=client_ip(request))
        except RateLimited as exc:
            response = _consent_page(request, auth, account=None, force_login=force_login,
                                     error=exc.message, username=username, status=429)
            if exc.retry_after:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except (Unauthorized, Forbidden) as exc:
            return _consent_page(request, auth, account=None, force_login=force_login,
                                 error=exc.message, username=username, status=422)
        new_session = True
    code = await oauth.issue_code(svc, auth, user)
    if auth.out_of_band:
        response = page(request, "oauth_code.html", {"config": svc.config, "code": code})
        response.headers.update(_NO_STORE)
    else:
        response = _redirect(auth.redirect_uri, {"code": code, "state": auth.state})
    if new_session:
        start_session(request, response, user)
    return response


# -- token and revocation endpoints: OAuth's JSON errors ------------------------------------------

def _oauth_error(exc: OAuthError, *, basic_auth: bool) -> web.Response:
    headers = dict(_NO_STORE)
    if exc.status == 401 and basic_auth:  # RFC 6749 §5.2
        headers["WWW-Authenticate"] = 'Basic realm="fediverse-mu"'
    return web.json_response({"error": exc.error, "error_description": exc.message},
                             status=exc.status, headers=headers)


def _rate_limited(exc: RateLimited) -> web.Response:
    headers = dict(_NO_STORE)
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    return web.json_response({"error": exc.message}, status=429, headers=headers)


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """Client credentials from ``Authorization: Basic`` (each part form-urlencoded first,
    RFC 6749 §2.3.1)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "Malformed HTTP Basic client credentials",
                         status=401)
    return unquote_plus(client_id), unquote_plus(secret)


async def _client_params(request: web.Request) -> tuple[Mapping[str, str], str | None,
                                                        str | None]:
    """The body's parameters and the client's credentials (HTTP Basic or in the body, not
    two different ones)."""
    try:
        params = await read_params(request)
    except web.HTTPBadRequest as exc:
        raise OAuthError("invalid_request", exc.text or "Malformed request body") from None
    basic = _basic_credentials(request)
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    if basic is not None:
        if (client_id and client_id != basic[0]) or (client_secret
                                                      and client_secret != basic[1]):
            raise OAuthError("invalid_request", "Use one client authentication method only")
        client_id, client_secret = basic
    return params, client_id, client_secret


def _uses_basic(request: web.Request) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("basic ")


async def token_post(request: web.Request) -> web.Response:
    """``POST /oauth/token``: the Token entity, or an RFC 6749 error."""
    svc = request.app[services_key]
    try:
        params, client_id, client_secret = await _client_params(request)
        issued = await oauth.obtain_token(svc, oauth.TokenRequest(
            grant_type=params.get("grant_type"), client_id=client_id,
            client_secret=client_secret, code=params.get("code"),
            redirect_uri=params.get("redirect_uri"), code_verifier=params.get("code_verifier"),
            username=params.get("username"), password=params.get("password"),
            scope=params.get("scope"), ip=client_ip(request),
            refresh_token=params.get("refresh_token")))
    except OAuthError as exc:
        return _oauth_error(exc, basic_auth=_uses_basic(request))
    except RateLimited as exc:
        return _rate_limited(exc)
    return web.json_response(entities.token(issued), headers=_NO_STORE)


async def revoke_post(request: web.Request) -> web.Response:
    """``POST /oauth/revoke``: ``{}`` once the token no longer works."""
    svc = request.app[services_key]
    try:
        params, client_id, client_secret = await _client_params(request)
        await oauth.revoke_token(svc, client_id=client_id, client_secret=client_secret,
                                 token=params.get("token"))
    except OAuthError as exc:
        return _oauth_error(exc, basic_auth=_uses_basic(request))
    return web.json_response({}, headers=_NO_STORE)


async def server_metadata_get(request: web.Request) -> web.Response:
    """``/.well-known/oauth-authorization-server`` (RFC 8414)."""
    return web.json_response(entities.oauth_server_metadata(request.app[services_key].config))
