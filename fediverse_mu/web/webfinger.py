"""Discovery: WebFinger (RFC 7033) for ``acct:`` handles and actor URLs, and host-meta (XML
and JSON) pointing to it. Domains may carry a port (``acct:alice@localhost:8000``)."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from fediverse_mu.activitypub import iri
from fediverse_mu.activitypub.vocab import AS2_CONTENT_TYPE
from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid, NotFound
from fediverse_mu.services import moderation

JRD = "application/jrd+json"


async def webfinger_get(request: web.Request) -> web.Response:
    """Describe a local actor named by ``acct:user@domain`` or by its actor URL."""
    svc = request.app[services_key]
    config = svc.config
    resource = request.query.get("resource", "").strip()
    if not resource:
        raise Invalid("the resource parameter is required")
    if resource.startswith("acct:"):
        username, _, domain = unquote(resource[5:]).removeprefix("@").rpartition("@")
        if domain.lower() != config.domain:
            raise NotFound("not a local account")
    elif resource.startswith(config.base_url + "/users/"):
        username = resource[len(config.base_url) + len("/users/"):]
    elif resource in (iri.instance_actor_uri(config.base_url), config.base_url + "/"):
        username = iri.INSTANCE_ACTOR_USERNAME
    else:
        raise NotFound("not a local account")
    standing = await moderation.local_standing(svc, username)
    if standing is None or standing.pending:  # an application not approved yet: nobody
        raise NotFound("not a local account")
    account = standing.account
    links: list[dict[str, str]] = [
        {"rel": "self", "type": AS2_CONTENT_TYPE, "href": account.actor_uri},
    ]
    if account.url:
        links.append({"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                      "href": account.url})
    return web.json_response(
        {"subject": f"acct:{account.username}@{config.domain}",
         "aliases": [account.actor_uri] + ([account.url] if account.url else []),
         "links": links},
        content_type=JRD)


async def host_meta_get(request: web.Request) -> web.Response:
    """host-meta (XRD), pointing to WebFinger."""
    base = request.app[services_key].config.base_url
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
           f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n'
           '</XRD>\n')
    return web.Response(text=xml, content_type="application/xrd+xml")


async def host_meta_json_get(request: web.Request) -> web.Response:
    """host-meta in its JSON form."""
    base = request.app[services_key].config.base_url
    return web.json_response({"links": [
        {"rel": "lrdd", "template": f"{base}/.well-known/webfinger?resource={{uri}}"}]})
