"""Where the federation policy meets the wire: the inbox refuses a suspended or non-allowed
server's POST from the host its signature's ``keyId`` names, before the body is parsed and
before any key is fetched (403, nothing stored), then checks the actor's host again once the
JSON is read; fetches and deliveries refuse such hosts too (see ``federation/client.py``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from fediverse_mu.activitypub.validate import InvalidActivity, host_of
from fediverse_mu.domain import Forbidden
from fediverse_mu.services import federation_policy
from fediverse_mu.services.context import Services

_KEY_ID = re.compile(r'keyid\s*=\s*"([^"]{1,2048})"', re.IGNORECASE)


def _safe_host(iri: str) -> str | None:
    try:
        return host_of(iri)
    except InvalidActivity:
        return None


def claimed_hosts(headers: Mapping[str, str]) -> list[str]:
    """The hosts the signature headers' key ids point at (cavage ``Signature`` and RFC 9421
    ``Signature-Input``), without verifying anything."""
    hosts: list[str] = []
    for name in ("Signature", "Signature-Input"):
        value = headers.get(name)
        if value:
            hosts.extend(h for h in (_safe_host(k) for k in _KEY_ID.findall(value)) if h)
    return hosts


async def refuse_hosts(svc: Services, hosts: list[str]) -> None:
    """Forbidden when one of ``hosts`` is suspended or, in allowlist mode, not allowed."""
    refused = await federation_policy.first_refused(svc, hosts)
    if refused is not None:
        raise Forbidden(refused.reason())


async def refuse_request(svc: Services, headers: Mapping[str, str]) -> list[str]:
    """Forbidden when the host a signature's key id names is refused; returns those hosts."""
    hosts = claimed_hosts(headers)
    await refuse_hosts(svc, hosts)
    return hosts


async def refused_reason(svc: Services, url: str) -> str | None:
    """Why ``url``'s host must not be contacted (fetch, WebFinger, delivery), or None."""
    host = _safe_host(url)
    if host is None:
        return None
    refused = await federation_policy.first_refused(svc, [host])
    return None if refused is None else refused.reason()
