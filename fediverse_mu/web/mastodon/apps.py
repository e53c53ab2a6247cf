"""Mastodon application endpoints (https://docs.joinmastodon.org/methods/apps/): registering
a client and checking an app token."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.services import oauth
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.auth import require_grant
from fediverse_mu.web.params import read_params


async def apps_create(request: web.Request) -> web.Response:
    """``POST /api/v1/apps``: the CredentialApplication entity, secret included (once)."""
    params = await read_params(request, with_query=True)
    scopes = params.getall("scopes", [])
    new = await oauth.register_app(
        request.app[services_key], name=params.get("client_name"),
        redirect_uris=params.getall("redirect_uris", []),
        scopes=" ".join(scopes) if scopes else None, website=params.get("website"))
    return web.json_response(entities.credential_application(new.app, new.client_secret),
                             headers={"Cache-Control": "no-store"})


async def apps_verify_credentials_get(request: web.Request) -> web.Response:
    """``GET /api/v1/apps/verify_credentials``: the Application entity of the token's app
    (since Mastodon 4.3 any valid app token will do, user or not, whatever its scopes)."""
    grant = await require_grant(request, user=False)
    app = await oauth.app_of_token(request.app[services_key], grant.token)
    return web.json_response(entities.application(app))
