"""Outgoing HTTP to other servers: the one owner of `aiohttp.ClientSession`, made SSRF-safe.

Every request another server receives from us goes through a `Transport`. Before any byte
leaves, the URL is checked (https only unless `allow_http`, no userinfo, a strictly normalised
IDNA host with no trailing dot, not one of our own hosts, an allowed port); IP-literal hosts are
checked against the address policy on the spot, and named hosts through `CheckingResolver`,
which resolves once and refuses every non-global address, so that aiohttp connects to exactly
the addresses that passed the check (no second lookup to rebind). Redirects are followed by
hand, each hop checked again and signed again through the caller's `sign` callback; bodies are
read in chunks under a byte cap and the whole exchange runs under one deadline. Environment
proxies and cookies are ignored. Signing itself lives elsewhere, and so do retries (the durable
job system owns them). Request headers are never logged: they carry signatures and tokens.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Called with (method, url, headers, body) before each hop; returns headers to add.
SignCallback = Callable[
    [str, str, dict[str, str], bytes | None], Awaitable[dict[str, str]] | dict[str, str]
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Only safe methods follow redirects: re-sending a POST elsewhere is never what a peer meant.
FOLLOW_METHODS = frozenset({"GET", "HEAD"})
# Caller-supplied credentials must not travel to another origin after a redirect.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class TransportError(Exception):
    """Base class of every error raised by the transport."""


class InvalidURL(TransportError):
    """The URL is malformed or breaks the outgoing-request rules (scheme, userinfo, host, port)."""


class OwnHost(TransportError):
    """The URL points at this instance, which is never fetched as a remote."""


class ForbiddenAddress(TransportError):
    """The host is, or resolves to, an address outside the allowed (global) space."""


class TooManyRedirects(TransportError):
    """The redirect chain is longer than `max_redirects`."""


class ResponseTooLarge(TransportError):
    """The response body is larger than `max_bytes`."""


class TransportTimeout(TransportError):
    """The exchange did not complete within the total timeout."""


class TransportConnectionError(TransportError):
    """The connection failed (refused, reset, TLS, DNS…); the aiohttp error is the cause."""


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: status, headers, the whole body and the final URL after redirects."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: str


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address carried by a mapped, NAT64 or 6to4 IPv6 address, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _plainly_global(ip: IPAddress) -> bool:
    # `is_global` alone lets multicast and (IPv6) site-local through, hence the extra tests.
    if not ip.is_global or ip.is_private or ip.is_multicast or ip.is_reserved:
        return False
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)


def is_global_address(ip: IPAddress) -> bool:
    """Tell whether `ip` (and any IPv4 address it embeds) is a globally routable unicast one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not _plainly_global(embedded):
            return False
    return _plainly_global(ip)


class AddressPolicy:
    """Decides which peer IP addresses may be connected to."""

    def __init__(self, *, allow_private: bool, allowed_networks: Collection[IPNetwork] = ()):
        self.allow_private = allow_private
        self.allowed_networks = tuple(allowed_networks)

    def allows(self, ip: IPAddress) -> bool:
        """Tell whether connecting to `ip` is allowed."""
        if self.allow_private:
            return True
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(ip)
            if embedded is not None:
                candidates.append(embedded)
        for net in self.allowed_networks:
            if any(c.version == net.version and c in net for c in candidates):
                return True
        return is_global_address(ip)

    def check(self, host: str, address: str) -> None:
        """Raise `ForbiddenAddress` unless `address` (an IP literal `host` led to) is allowed."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise ForbiddenAddress(f"{host}: unparseable address {address!r}") from None
        if not self.allows(ip):
            raise ForbiddenAddress(f"{host}: address {ip} is not a public address")


class CheckingResolver(AbstractResolver):
    """Resolves through an inner resolver once and refuses any answer the policy forbids.

    aiohttp connects to exactly the addresses returned here, so the address checked is the
    address connected to. One forbidden address refuses the whole host: a name that mixes
    public and private answers is an attack, not a misconfiguration to route around.
    """

    def __init__(self, inner: AbstractResolver, policy: AddressPolicy, *, owns_inner: bool):
        self._inner = inner
        self._policy = policy
        self._owns_inner = owns_inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve `host` and return its addresses if every one of them is allowed."""
        results = await self._inner.resolve(host, port, family)
        if not results:
            # An OSError here becomes aiohttp's ClientConnectorDNSError, like a failed lookup.
            raise OSError(f"no address found for {host}")
        for result in results:
            self._policy.check(host, result["host"])
        return results

    async def close(self) -> None:
        """Close the inner resolver if this object created it."""
        if self._owns_inner:
            await self._inner.close()


def _parse_url(raw: str) -> URL:
    """Parse `raw` (absolute or relative), refusing userinfo even when empty."""
    # yarl silently drops an empty userinfo ("https://@host/"): look at the raw text too.
    try:
        netloc = urlsplit(raw).netloc
        url = URL(raw)
    except (ValueError, UnicodeError) as exc:
        raise InvalidURL(f"malformed URL: {exc}") from None
    if "@" in netloc or url.user is not None or url.password is not None:
        raise InvalidURL("URL must not contain userinfo")
    return url


def _parse_host_port(netloc: str) -> tuple[str, int | None]:
    """Parse an `own_hosts` entry ("host" or "host:port") into its normalised parts."""
    url = URL(f"//{netloc}")
    if url.raw_host is None or url.user is not None or url.raw_path not in ("", "/"):
        raise ValueError(f"not a host[:port]: {netloc!r}")
    return url.raw_host, url.explicit_port


class Transport:
    """The SSRF-safe HTTP client every outgoing request to another server goes through."""

    def __init__(
        self,
        *,
        allow_http: bool,
        allow_private: bool,
        resolver: AbstractResolver | None,
        user_agent: str,
        timeout: float = 10.0,
        max_bytes: int = 1_048_576,
        max_redirects: int = 3,
        own_hosts: frozenset[str] = frozenset(),
        allowed_ports: frozenset[int] | None = None,
        allowed_networks: Collection[IPNetwork] = (),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_http = allow_http
        self.policy = AddressPolicy(allow_private=allow_private, allowed_networks=allowed_networks)
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.own_hosts = frozenset(_parse_host_port(h) for h in own_hosts)
        self.allowed_ports = allowed_ports
        self._resolver = resolver
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None
        self._checking_resolver: CheckingResolver | None = None

    async def start(self) -> None:
        """Create the one client session (connection pool, checking resolver)."""
        if self._session is not None:
            raise RuntimeError("transport already started")
        inner = self._resolver if self._resolver is not None else aiohttp.ThreadedResolver()
        checking = CheckingResolver(inner, self.policy, owns_inner=self._resolver is None)
        connector = aiohttp.TCPConnector(
            resolver=checking, limit=100, limit_per_host=8, ssl=self._ssl
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # never pick a proxy (or netrc credentials) from the environment
            cookie_jar=aiohttp.DummyCookieJar(),  # peers must not be able to plant state
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        )
        self._checking_resolver = checking

    def clear_dns_cache(self) -> None:
        """Forget cached name resolutions (aiohttp keeps them for 10 s), e.g. after a peer
        moved; the next request resolves, and is checked, again."""
        if self._session is not None:
            connector = self._session.connector
            if isinstance(connector, aiohttp.TCPConnector):
                connector.clear_dns_cache()

    async def close(self) -> None:
        """Close the session and its connections; the transport can then be started again."""
        if self._session is None:
            return
        session, self._session = self._session, None
        await session.close()
        if self._checking_resolver is not None:
            await self._checking_resolver.close()
            self._checking_resolver = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def check_url(self, url: str) -> str:
        """Return the normalised form of `url`, or raise why it may not be requested."""
        return str(self._check_url(url))

    def _check_url(self, raw: str | URL) -> URL:
        url = _parse_url(raw) if isinstance(raw, str) else raw
        if url.user is not None or url.password is not None:
            raise InvalidURL("URL must not contain userinfo")
        allowed_schemes = ("https", "http") if self.allow_http else ("https",)
        if url.scheme not in allowed_schemes:
            raise InvalidURL(f"scheme {url.scheme!r} not allowed in {url}")
        host = url.raw_host
        if not host:
            raise InvalidURL(f"no host in {url}")
        ip = self._check_host(host, url)
        port = url.port
        if port is None or not 0 < port < 65536:
            raise InvalidURL(f"port {port} not allowed in {url}")
        if self.allowed_ports is not None and port not in self.allowed_ports:
            raise InvalidURL(f"port {port} not allowed in {url}")
        for own_host, own_port in self.own_hosts:
            if host == own_host and own_port in (None, port):
                raise OwnHost(f"{url} is this instance ({host})")
        if ip is not None:
            # aiohttp does not call the resolver for IP literals: apply the policy here.
            self.policy.check(host, str(ip))
        return url.with_fragment(None)

    def _check_host(self, host: str, url: URL) -> IPAddress | None:
        """Validate the (already IDNA-encoded, lowercased) host; return it as an IP if literal."""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id is not None:
                raise InvalidURL(f"zone identifier not allowed in {url}")
            return ip
        if host.endswith("."):
            raise InvalidURL(f"host {host!r} has a trailing dot: {url}")
        labels = host.split(".")
        if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
            raise InvalidURL(f"invalid host {host!r} in {url}")
        if _NUMERIC_LABEL.fullmatch(labels[-1]):
            # "127.1", "2130706433", "0x7f.1": legacy IPv4 spellings, never a real domain.
            raise InvalidURL(f"non-canonical IP address {host!r} in {url}")
        return None

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        sign: SignCallback | None = None,
    ) -> Response:
        """GET `url`, following up to `max_redirects` checked redirects."""
        return await self.request("GET", url, headers=headers, sign=sign)

    async def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        sign: SignCallback | None = None,
    ) -> Response:
        """POST `body` to `url`; a redirect answer is returned as is, never followed."""
        return await self.request("POST", url, headers=headers, body=body, sign=sign)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        sign: SignCallback | None = None,
    ) -> Response:
        """Send one request (GET and HEAD follow redirects) and return the complete response."""
        if self._session is None:
            raise RuntimeError("transport not started")
        method = method.upper()
        start = self._check_url(url)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(self._session, method, start, headers, body, sign)
        except TimeoutError as exc:
            raise TransportTimeout(
                f"{method} {start}: no response within {self.timeout} s"
            ) from exc

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        method: str,
        start: URL,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        sign: SignCallback | None,
    ) -> Response:
        url = start
        hops = 0
        same_origin = True  # until a redirect leaves the first origin, for good
        while True:
            same_origin = same_origin and url.origin() == start.origin()
            hop_headers = self._hop_headers(headers, same_origin=same_origin)
            if sign is not None:
                result = sign(method, str(url), dict(hop_headers), body)
                extra = await result if isinstance(result, Awaitable) else result
                hop_headers = _merge(hop_headers, extra)
            response = await self._send(session, method, url, hop_headers, body)
            location = response.headers.get("Location")
            if (
                method not in FOLLOW_METHODS
                or response.status not in REDIRECT_STATUSES
                or location is None
            ):
                return response
            if hops >= self.max_redirects:
                raise TooManyRedirects(
                    f"{method} {start}: more than {self.max_redirects} redirects"
                )
            hops += 1
            try:
                target = url.join(_parse_url(location))
            except InvalidURL as exc:
                raise InvalidURL(f"redirect from {url}: {exc}") from None
            except (ValueError, UnicodeError) as exc:
                raise InvalidURL(f"redirect from {url}: malformed location: {exc}") from None
            log.debug("%s %s redirected (%d) to %s", method, url, response.status, target)
            url = self._check_url(target)

    def _hop_headers(
        self, headers: Mapping[str, str] | None, *, same_origin: bool
    ) -> dict[str, str]:
        result = {"User-Agent": self.user_agent}
        for name, value in (headers or {}).items():
            if not same_origin and name.lower() in CREDENTIAL_HEADERS:
                continue
            result = _merge(result, {name: value})
        return result

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Response:
        try:
            async with session.request(
                method, url, headers=headers, data=body, allow_redirects=False
            ) as resp:
                if resp.content_length is not None and resp.content_length > self.max_bytes:
                    resp.close()
                    raise ResponseTooLarge(
                        f"{method} {url}: Content-Length {resp.content_length}"
                        f" exceeds {self.max_bytes} bytes"
                    )
                data = bytearray()
                async for chunk in resp.content.iter_any():
                    data += chunk
                    if len(data) > self.max_bytes:
                        resp.close()
                        raise ResponseTooLarge(
                            f"{method} {url}: body exceeds {self.max_bytes} bytes"
                        )
                log.debug("%s %s -> %d (%d bytes)", method, url, resp.status, len(data))
                return Response(
                    status=resp.status,
                    headers=CIMultiDictProxy(CIMultiDict(resp.headers)),
                    body=bytes(data),
                    url=str(url),
                )
        except TimeoutError:
            raise  # aiohttp's own timeouts are TimeoutErrors too: request() reports them
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportConnectionError(f"{method} {url}: {exc}") from exc


def _merge(headers: dict[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Return `headers` updated with `extra`, names compared case-insensitively."""
    replaced = {name.lower() for name in extra}
    merged = {name: value for name, value in headers.items() if name.lower() not in replaced}
    merged.update(extra)
    return merged
