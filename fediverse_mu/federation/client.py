"""Talking to other servers as this instance: signed GETs of remote documents (checked: AS2
content type, the document's id is the URL it came from), WebFinger, remote actors and their
keys (cached, refetched from their origin at most once a minute per host), and the delivery
job that signs and POSTs our activities to remote inboxes.

Signed requests "double-knock": they are signed draft-cavage (what Mastodon emits) unless the
host is known to want RFC 9421; a 401 gets one retry with the other scheme, and the scheme that
got through is remembered per host (``peers`` table). Deliveries go through the host's circuit
breaker and a per-host concurrency limit (federation/peers.py); see docs/development.md,
"Delivery"."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fediverse_mu.activitypub.actors import parse_actor
from fediverse_mu.activitypub.validate import InvalidActivity, host_of, load_json
from fediverse_mu.activitypub.vocab import ACCEPT_AS2, AS2_CONTENT_TYPE, is_as2_media_type
from fediverse_mu.domain import Account, GiveUp, Job, NotFound, RetryLater
from fediverse_mu.domain.peers import SignatureScheme
from fediverse_mu.federation import federation_policy, httpsig
from fediverse_mu.federation.peers import MAX_IN_FLIGHT_PER_HOST, PeerTracker
from fediverse_mu.federation.transport import (
    ForbiddenAddress,
    InvalidURL,
    OwnHost,
    Response,
    SignCallback,
    Transport,
    TransportError,
)
from fediverse_mu.services import accounts, places
from fediverse_mu.services.context import Services

log = logging.getLogger(__name__)

RawObject = dict[str, Any]
KEY_REFETCH_INTERVAL = 60.0  # seconds between forced key refetches for one host
ACTOR_REFRESH_AFTER = 24 * 3600.0
DEFAULT_SCHEME: SignatureScheme = "cavage"
_OTHER_SCHEME: dict[SignatureScheme, SignatureScheme] = {"cavage": "rfc9421",
                                                         "rfc9421": "cavage"}


class FetchError(Exception):
    """A remote document could not be fetched or failed the checks."""


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class Federation:
    """This instance's outgoing side: fetches, key lookups and deliveries."""

    def __init__(self, svc: Services, transport: Transport,
                 clock: Callable[[], float] = time.monotonic, *,
                 max_in_flight_per_host: int = MAX_IN_FLIGHT_PER_HOST) -> None:
        self.svc = svc
        self.transport = transport
        self.peers = PeerTracker(svc, max_in_flight=max_in_flight_per_host)
        self._clock = clock
        self._private_keys: dict[int, RSAPrivateKey] = {}
        self._key_locks: dict[int, asyncio.Lock] = {}
        self._last_key_refetch: dict[str, float] = {}

    # -- signing ----------------------------------------------------------------------------------

    async def _private_key(self, account: Account) -> RSAPrivateKey:
        key = self._private_keys.get(account.id)
        if key is not None:
            return key
        # Single flight: the deliveries of one post start together, and parsing an RSA key
        # takes ~40 ms under the GIL; only the first of them loads it.
        async with self._key_locks.setdefault(account.id, asyncio.Lock()):
            key = self._private_keys.get(account.id)
            if key is None:
                pem = await accounts.get_private_key_pem(self.svc, account.id)
                loaded = serialization.load_pem_private_key(pem.encode(), password=None)
                if not isinstance(loaded, RSAPrivateKey):
                    raise TypeError("local keys are RSA")
                key = self._private_keys[account.id] = loaded
        return key

    async def signer(self, account: Account,
                     scheme: SignatureScheme = DEFAULT_SCHEME) -> SignCallback:
        """A transport ``sign`` callback signing as ``account`` (draft-cavage by default, like
        Mastodon; or RFC 9421)."""
        key = await self._private_key(account)
        key_id = f"{account.actor_uri}#main-key"
        sign_with = httpsig.sign_rfc9421 if scheme == "rfc9421" else httpsig.sign_cavage

        def sign(method: str, url: str, headers: dict[str, str],
                 body: bytes | None) -> dict[str, str]:
            return sign_with(method, url, headers, body, key_id=key_id, private_key=key)

        return sign

    async def signed_request(self, method: str, url: str, *, account: Account,
                             headers: dict[str, str], body: bytes | None = None) -> Response:
        """Send a request signed as ``account`` with the scheme its host accepts; on a 401,
        knock once more with the other scheme and remember it if it gets through."""
        host = _host(url)
        known = await self.peers.signature_scheme(host) if host else None
        first = known or DEFAULT_SCHEME
        response = await self.transport.request(method, url, headers=headers, body=body,
                                                sign=await self.signer(account, first))
        if host is None:
            return response
        if response.status != 401:
            if known is None and 200 <= response.status < 300:
                await self.peers.remember_scheme(host, first)
            return response
        # RFC 9421 servers may refuse draft-cavage (and the reverse): "double-knocking", as
        # described in https://swicg.github.io/activitypub-http-signature/ (SWICG report).
        other = _OTHER_SCHEME[first]
        retry = await self.transport.request(method, url, headers=headers, body=body,
                                             sign=await self.signer(account, other))
        if retry.status != 401 and retry.status < 500:
            log.info("%s accepts %s signatures, not %s", host, other, first)
            await self.peers.remember_scheme(host, other)
        return retry

    # -- fetching ---------------------------------------------------------------------------------

    async def fetch(self, url: str, *, signer: Account | None = None) -> RawObject:
        """GET an AS2 document, signed by ``signer`` (the instance actor by default)."""
        refused = await federation_policy.refused_reason(self.svc, url)
        if refused is not None:  # a suspended or non-allowed server's content is never fetched
            raise FetchError(f"not fetching {url}: {refused}")
        account = signer or await accounts.instance_actor(self.svc)
        try:
            response = await self.signed_request("GET", url, account=account,
                                                 headers={"Accept": ACCEPT_AS2})
        except TransportError as exc:
            raise FetchError(f"cannot fetch {url}: {exc}") from exc
        host = _host(url)
        if host is not None and response.status < 500:
            await self.peers.answered(host)  # alive: an unavailable host is available again
        if response.status != 200:
            raise FetchError(f"{url} answered {response.status}")
        if not is_as2_media_type(response.headers.get("Content-Type", "")):
            raise FetchError(f"{url} is not ActivityStreams JSON")
        if host_of(response.url) != host_of(url):
            raise FetchError(f"{url} redirected to another host")
        try:
            raw = load_json(response.body)
        except InvalidActivity as exc:
            raise FetchError(f"{url}: {exc.reason}") from exc
        if raw.get("id") not in (url, response.url):
            raise FetchError(f"the document at {url} claims to be {raw.get('id')!r}")
        return raw

    async def fetch_actor(self, actor_uri: str, *, refresh: bool = False) -> Account:
        """A remote actor, from the database or fetched from its origin."""
        known = await accounts.get_account_by_uri(self.svc, actor_uri)
        if known is not None and (known.is_local or not refresh):
            return known
        if host_of(actor_uri) == host_of(self.svc.config.base_url):
            raise NotFound(f"{actor_uri} is not a known local actor")
        raw = await self.fetch(actor_uri)
        try:
            actor = parse_actor(raw, fetched_from=actor_uri)
        except InvalidActivity as exc:
            raise FetchError(f"{actor_uri}: {exc.reason}") from exc
        account = await accounts.store_remote_actor(self.svc, actor, from_origin=True)
        await places.remember_place_actor(self.svc, account, raw)  # the directory of places
        return account

    def _peer_scheme(self) -> str:
        config = self.svc.config
        return "http" if config.dev_allow_http and config.scheme == "http" else "https"

    async def webfinger(self, handle: str) -> str:
        """The actor id behind ``user@domain`` (``@`` prefix allowed), via WebFinger."""
        username, _, domain = handle.removeprefix("@").partition("@")
        if not username or not domain:
            raise FetchError(f"{handle!r} is not of the form user@domain")
        refused = await federation_policy.refused_reason(self.svc, f"https://{domain}/")
        if refused is not None:
            raise FetchError(f"not looking up {handle}: {refused}")
        resource = f"acct:{username}@{domain}"
        url = (f"{self._peer_scheme()}://{domain}/.well-known/webfinger?resource="
               f"{quote(resource, safe=':@')}")
        try:
            response = await self.transport.get(url, headers={"Accept": "application/jrd+json"})
        except TransportError as exc:
            raise FetchError(f"WebFinger for {handle} failed: {exc}") from exc
        if response.status != 200:
            raise FetchError(f"WebFinger for {handle} answered {response.status}")
        try:
            jrd = json.loads(response.body)
        except ValueError as exc:
            raise FetchError(f"WebFinger for {handle} is not JSON") from exc
        for link in jrd.get("links", []) if isinstance(jrd, dict) else []:
            if isinstance(link, dict) and link.get("rel") == "self" and \
                    is_as2_media_type(str(link.get("type", ""))) and \
                    isinstance(link.get("href"), str):
                return str(link["href"])
        raise FetchError(f"WebFinger for {handle} names no ActivityPub actor")

    async def resolve_handle(self, handle: str) -> Account:
        """A remote (or local) account from ``user@domain``."""
        username, _, domain = handle.removeprefix("@").partition("@")
        if domain == self.svc.config.domain:
            local = await accounts.get_local_account(self.svc, username)
            if local is None:
                raise NotFound(f"no local account {username}")
            return local
        known = await accounts.get_remote_account(self.svc, username, domain)
        if known is not None:
            return known
        return await self.fetch_actor(await self.webfinger(handle))

    # -- keys -------------------------------------------------------------------------------------

    async def key_owner(self, key_id: str, *, refetch: bool = False) -> Account | None:
        """The account owning ``key_id``: cached, else (or when ``refetch``) fetched from the
        key's origin. Refetches are rate-limited per host; returns None when not allowed now."""
        if not refetch:
            known = await accounts.get_account_by_key_id(self.svc, key_id)
            if known is not None:
                return known
        host = host_of(key_id)
        now = self._clock()
        if refetch:
            last = self._last_key_refetch.get(host)
            if last is not None and now - last < KEY_REFETCH_INTERVAL:
                return None
            self._last_key_refetch[host] = now
        actor_uri = httpsig.key_id_to_actor_hint(key_id)
        raw = await self.fetch(actor_uri)
        if raw.get("type") in ("Key", "CryptographicKey") and isinstance(raw.get("owner"), str):
            actor_uri = raw["owner"]  # a separate key document: follow it to its owner
            if host_of(actor_uri) != host:
                raise FetchError("key owner is on another host")
            raw = await self.fetch(actor_uri)
        try:
            actor = parse_actor(raw, fetched_from=actor_uri)
        except InvalidActivity as exc:
            raise FetchError(f"{actor_uri}: {exc.reason}") from exc
        if actor.public_key_id != key_id:
            raise FetchError(f"{actor_uri} does not list the key {key_id}")
        return await accounts.store_remote_actor(self.svc, actor, from_origin=True)

    # -- delivery ---------------------------------------------------------------------------------

    async def deliver(self, job: Job) -> int:
        """Job handler: sign and POST one activity to one inbox, through the host's circuit
        breaker and concurrency limit."""
        inbox = str(job.payload["inbox"])
        host = _host(inbox)
        if host is None:
            raise GiveUp(f"refused destination {inbox!r}")
        refused = await federation_policy.refused_reason(self.svc, inbox)
        if refused is not None:  # nothing is delivered to a suspended or non-allowed server
            raise GiveUp(f"not delivering to {inbox}: {refused}")
        account = await accounts.get_account(self.svc, int(job.payload["signer"]))
        if account is None or not account.is_local:
            raise GiveUp(f"the signing account {job.payload['signer']} is gone")
        body = json.dumps(job.payload["activity"], separators=(",", ":")).encode()
        async with self.peers.slot(host):
            probe = await self.peers.admit(host)  # may Postpone (circuit open) or GiveUp
            try:
                return await self._post(host, inbox, account, body)
            finally:
                if probe:
                    self.peers.probe_done(host)

    async def _post(self, host: str, inbox: str, account: Account, body: bytes) -> int:
        try:
            response = await self.signed_request(
                "POST", inbox, account=account, body=body,
                headers={"Content-Type": AS2_CONTENT_TYPE, "Accept": ACCEPT_AS2})
        except (InvalidURL, OwnHost, ForbiddenAddress) as exc:
            raise GiveUp(f"refused destination: {exc}") from exc
        except TransportError as exc:
            await self.peers.failed(host)
            raise RetryLater(f"{type(exc).__name__}: {exc}") from exc
        status = response.status
        if status >= 500 or status == 408:
            await self.peers.failed(host)
            raise RetryLater(f"{inbox} answered {status}", status=status,
                             retry_after=_retry_after(response))
        await self.peers.answered(host)  # any other answer: the host is up
        if 200 <= status < 300:
            return status
        if status == 429:
            raise RetryLater(f"{inbox} answered {status}", status=status,
                             retry_after=_retry_after(response))
        raise GiveUp(f"{inbox} answered {status}", status=status)


def _host(url: str) -> str | None:
    """The ``host[:port]`` of an http(s) URL, None when it has none worth tracking."""
    try:
        return host_of(url)
    except InvalidActivity:
        return None
