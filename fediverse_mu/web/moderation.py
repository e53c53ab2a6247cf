"""The public page of moderated servers (``/about/moderated-servers``), in French and
English: the domain blocks this place announces publicly (obfuscated where asked) and whether
it federates only with allowed servers."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.services import federation_policy
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.pages import page


async def moderated_servers_get(request: web.Request) -> web.Response:
    """The list of moderated servers, with their public comments."""
    svc = request.app[services_key]
    blocks = [entities.public_domain_block(b)
              for b in await federation_policy.public_domain_blocks(svc)]
    return page(request, "moderated_servers.html", {
        "config": svc.config, "blocks": blocks,
        "allowlist": await federation_policy.allowlist_mode(svc)})


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the public moderation page."""
    router.add_get("/about/moderated-servers", moderated_servers_get)
