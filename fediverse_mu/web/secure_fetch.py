"""Authorized fetch ("secure mode", config ``authorized_fetch``): ActivityStreams documents are
only served to requests carrying a valid HTTP signature (draft-cavage or RFC 9421) from a key
we can fetch, so that a server we cannot identify learns nothing. As a middleware, it covers
every AS2 route, present and future: a GET asking for AS2 is checked before its handler runs,
and any other GET whose answer turns out to be AS2 (collections ignore ``Accept``) is checked
before that answer leaves. Discovery stays public (WebFinger, host-meta, NodeInfo), and so do
the instance actor, whose key other servers need to check our own signed fetches, and every
HTML page. Like Mastodon, a failure is a 401 with a JSON ``{"error": …}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from fediverse_mu.activitypub.vocab import is_as2_media_type, wants_as2
from fediverse_mu.appkeys import config_key, federation_key
from fediverse_mu.domain import Account, Unauthorized
from fediverse_mu.federation.inbox import verified_signer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PUBLIC_PATHS = frozenset({"/actor", "/healthz"})
PUBLIC_PREFIXES = ("/.well-known/", "/nodeinfo/", "/static/")
GUARDED_METHODS = frozenset({"GET", "HEAD"})


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


_SIGNER_KEY = web.RequestKey("fmu_signer", object)  # Account, or None when unsigned


async def signed_asker(request: web.Request) -> Account | None:
    """Who signed this fetch (checked once per request), None when it carries no signature;
    raises Unauthorized when a signature is there but does not verify."""
    if _SIGNER_KEY in request:
        found = request[_SIGNER_KEY]
        return found if isinstance(found, Account) else None
    signer = None
    if "Signature" in request.headers or "Signature-Input" in request.headers:
        config = request.app[config_key]
        signer = await verified_signer(request.app[federation_key], request.method,
                                       config.base_url + request.path_qs, request.headers, b"")
    request[_SIGNER_KEY] = signer
    return signer


def unauthorized_response(message: str) -> web.Response:
    """The 401 of a fetch whose signature is missing or wrong (JSON, as Mastodon's)."""
    response = web.json_response({"error": message}, status=401)
    response.headers["WWW-Authenticate"] = 'Signature realm="ActivityPub"'
    response.headers["Vary"] = "Accept, Signature, Signature-Input"
    return response


async def _unauthorized(request: web.Request) -> web.Response | None:
    """None when the request is signed by a key we could fetch, else the 401 to send."""
    try:
        if await signed_asker(request) is None:
            return unauthorized_response("Request not signed: no signature")
    except Unauthorized as exc:
        return unauthorized_response(f"Request not signed: {exc.message}")
    return None


@web.middleware
async def secure_fetch_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """In authorized-fetch mode, refuse unsigned or badly signed fetches of AS2 documents."""
    if not request.app[config_key].authorized_fetch or \
            request.method not in GUARDED_METHODS or _is_public(request.path):
        return await handler(request)
    if wants_as2(request.headers.get("Accept", "")):
        refused = await _unauthorized(request)
        return refused if refused is not None else await handler(request)
    response = await handler(request)
    if is_as2_media_type(response.content_type or ""):
        refused = await _unauthorized(request)
        if refused is not None:
            return refused
    return response
