"""Bearer-token authentication and per-endpoint scope checks for the Mastodon API."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Forbidden, Unauthorized
from fediverse_mu.services import tokens


def bearer_token(request: web.Request) -> str | None:
    """The token from ``Authorization: Bearer …`` (or ``access_token`` in the query, which
    Mastodon accepts for streaming)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("access_token") or None


async def require_grant(request: web.Request, *scopes: str,
                        user: bool = True) -> tokens.Grant:
    """The caller's grant; 401 without a valid token, 403 without one of ``scopes`` (none
    named: any valid token will do) or, unless ``user=False``, without a user."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("The access token is invalid")
    grant = await tokens.authenticate(request.app[services_key], token)
    if scopes and not any(grant.token.allows(scope) for scope in scopes):
        raise Forbidden("This action is outside the authorized scopes")
    if user and grant.user is None:
        raise Unauthorized("This method requires an authenticated user")
    return grant
