"""Mastodon account endpoints (more come with the Mastodon-API issue)."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Unauthorized
from fediverse_mu.services import accounts
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.auth import require_grant


async def verify_credentials_get(request: web.Request) -> web.Response:
    """The caller's own account, with ``source`` and ``role``."""
    # Mastodon 4.3 also accepts the narrower "profile" scope here (it reads no one else).
    grant = await require_grant(request, "read:accounts", "profile")
    if grant.account is None or grant.user is None:
        raise Unauthorized("This method requires an authenticated user")
    svc = request.app[services_key]
    count = await accounts.count_statuses(svc, grant.account.id)
    return web.json_response(entities.credential_account(svc.config, grant.account, grant.user,
                                                         statuses_count=count))
