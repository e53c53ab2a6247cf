"""Tests for the SSRF-safe outgoing transport, against real in-process HTTP(S) servers.

Host names (`a.test`, `b.test`…) reach local servers through `FakeResolver`; every server
records the requests it receives so that a refusal can be shown to have sent nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer, unused_port
from multidict import CIMultiDictProxy

from fediverse_mu.federation.transport import (
    ForbiddenAddress,
    InvalidURL,
    OwnHost,
    ResponseTooLarge,
    TooManyRedirects,
    Transport,
    TransportConnectionError,
    TransportError,
    TransportTimeout,
    is_global_address,
)

USER_AGENT = "fediverse-mu-test/0.1 (+http://a.test/)"
LOOPBACK_ONLY = [ipaddress.ip_network("127.0.0.1/32")]


class FakeResolver(AbstractResolver):
    """Maps test host names to (address, port) pairs, like DNS plus a port override."""

    def __init__(self) -> None:
        self.hosts: dict[str, list[tuple[str, int]]] = {}
        self.calls: list[str] = []

    def add(self, name: str, address: str, port: int) -> None:
        self.hosts.setdefault(name, []).append((address, port))

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        if host not in self.hosts:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown test host {host}")
        return [
            {
                "hostname": host,
                "host": address,
                "port": mapped_port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address, mapped_port in self.hosts[host]
        ]

    async def close(self) -> None:
        pass


@dataclass
class Seen:
    method: str
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass
class Peer:
    server: TestServer
    seen: list[Seen] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port


Serve = Callable[..., Awaitable[Peer]]
MakeTransport = Callable[..., Awaitable[Transport]]


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver()


@pytest.fixture
def serve(aiohttp_server: Any, resolver: FakeResolver) -> Serve:
    """Start a recording server for `routes`, reachable as `name` through the fake resolver."""

    async def go(
        name: str | None, routes: list[web.RouteDef], *, host: str = "127.0.0.1", **kwargs: Any
    ) -> Peer:
        seen: list[Seen] = []

        @web.middleware
        async def record(request: web.Request, handler: Any) -> web.StreamResponse:
            body = await request.read()
            seen.append(Seen(request.method, request.path_qs, request.headers, body))
            response: web.StreamResponse = await handler(request)
            return response

        app = web.Application(middlewares=[record])
        app.add_routes(routes)
        server = await aiohttp_server(app, host=host, **kwargs)
        if name is not None:
            resolver.add(name, host, server.port)
        return Peer(server, seen)

    return go


@pytest.fixture
async def make_transport(resolver: FakeResolver) -> AsyncIterator[MakeTransport]:
    """Build started transports (dev flags on unless overridden); close them afterwards."""
    started: list[Transport] = []

    async def go(**overrides: Any) -> Transport:
        options: dict[str, Any] = {
            "allow_http": True,
            "allow_private": True,
            "resolver": resolver,
            "user_agent": USER_AGENT,
            "timeout": 5.0,
        }
        options.update(overrides)
        transport = Transport(**options)
        await transport.start()
        started.append(transport)
        return transport

    yield go
    for transport in started:
        await transport.close()


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello", headers={"X-Peer": "yes"})


# --- basic fetching -----------------------------------------------------------------------


async def test_get_through_resolver(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    peer = await serve("a.test", [web.get("/hello", hello)])
    transport = await make_transport()

    response = await transport.get("http://a.test/hello?x=1#frag")

    assert response.status == 200
    assert response.body == b"hello"
    assert response.headers["X-Peer"] == "yes"
    assert response.url == "http://a.test/hello?x=1"
    assert resolver.calls == ["a.test"]
    assert [(s.method, s.path) for s in peer.seen] == [("GET", "/hello?x=1")]
    assert peer.seen[0].headers["User-Agent"] == USER_AGENT
    assert peer.seen[0].headers["Host"] == "a.test"
    with pytest.raises(FrozenInstanceError):
        response.status = 500  # type: ignore[misc]


async def test_host_is_lowercased(serve: Serve, make_transport: MakeTransport) -> None:
    peer = await serve("a.test", [web.get("/hello", hello)])
    transport = await make_transport()

    response = await transport.get("http://A.Test/hello")

    assert response.url == "http://a.test/hello"
    assert len(peer.seen) == 1


async def test_post_sends_body_and_headers(serve: Serve, make_transport: MakeTransport) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=202)

    peer = await serve("a.test", [web.post("/inbox", inbox)])
    transport = await make_transport()

    response = await transport.post(
        "http://a.test/inbox",
        b'{"type": "Follow"}',
        headers={"Content-Type": "application/activity+json", "User-Agent": "override/1"},
    )

    assert response.status == 202
    assert peer.seen[0].body == b'{"type": "Follow"}'
    assert peer.seen[0].headers["Content-Type"] == "application/activity+json"
    assert peer.seen[0].headers.getall("User-Agent") == ["override/1"]


async def test_lifecycle(resolver: FakeResolver, serve: Serve) -> None:
    await serve("a.test", [web.get("/hello", hello)])
    transport = Transport(
        allow_http=True, allow_private=True, resolver=resolver, user_agent=USER_AGENT
    )
    with pytest.raises(RuntimeError, match="not started"):
        await transport.get("http://a.test/hello")

    async with transport:
        assert (await transport.get("http://a.test/hello")).body == b"hello"
        with pytest.raises(RuntimeError, match="already started"):
            await transport.start()

    with pytest.raises(RuntimeError, match="not started"):
        await transport.get("http://a.test/hello")
    await transport.close()  # idempotent


async def test_cookies_are_not_kept(serve: Serve, make_transport: MakeTransport) -> None:
    async def cookie(request: web.Request) -> web.Response:
        response = web.Response(text="ok")
        response.set_cookie("session", "planted")
        return response

    peer = await serve("a.test", [web.get("/", cookie)])
    transport = await make_transport()

    await transport.get("http://a.test/")
    await transport.get("http://a.test/")

    assert len(peer.seen) == 2
    assert "Cookie" not in peer.seen[1].headers


# --- address policy -----------------------------------------------------------------------


async def test_loopback_name_refused_without_allow_private(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    peer = await serve("a.test", [web.get("/hello", hello)])
    transport = await make_transport(allow_private=False)

    with pytest.raises(ForbiddenAddress, match=r"a\.test.*127\.0\.0\.1"):
        await transport.get("http://a.test/hello")

    assert resolver.calls == ["a.test"]
    assert peer.seen == []


async def test_literal_loopback_refused_without_allow_private(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    peer = await serve(None, [web.get("/hello", hello)])
    url = f"http://127.0.0.1:{peer.port}/hello"
    strict = await make_transport(allow_private=False)

    with pytest.raises(ForbiddenAddress, match=r"127\.0\.0\.1"):
        await strict.get(url)
    assert peer.seen == []

    # The same URL is otherwise reachable: only the address policy stopped it.
    relaxed = await make_transport(allow_private=True)
    assert (await relaxed.get(url)).body == b"hello"
    assert len(peer.seen) == 1
    assert resolver.calls == []


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[fe80::1]",
        "[fc00::1]",
        "[2002:7f00:1::]",
        "[64:ff9b::a00:1]",
    ],
)
async def test_non_global_literals_refused(make_transport: MakeTransport, host: str) -> None:
    # Were the check missing, these would fail later, as connection errors or timeouts.
    transport = await make_transport(allow_private=False, timeout=1.0)

    with pytest.raises(ForbiddenAddress):
        await transport.get(f"http://{host}:{unused_port()}/")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("1.1.1.1", True),
        ("2606:4700::1111", True),
        ("2002:101:101::", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),
        ("2002:a00:1::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
    ],
)
def test_is_global_address(address: str, expected: bool) -> None:
    assert is_global_address(ipaddress.ip_address(address)) is expected


async def test_mixed_answers_refused_whole(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    peer = await serve("mixed.test", [web.get("/", hello)])
    resolver.add("mixed.test", "10.0.0.1", peer.port)
    transport = await make_transport(allow_private=False, allowed_networks=LOOPBACK_ONLY)

    with pytest.raises(ForbiddenAddress, match=r"10\.0\.0\.1"):
        await transport.get("http://mixed.test/")

    assert peer.seen == []


async def test_allowed_networks_admit_a_private_peer(
    serve: Serve, make_transport: MakeTransport
) -> None:
    peer = await serve("a.test", [web.get("/hello", hello)])
    transport = await make_transport(allow_private=False, allowed_networks=LOOPBACK_ONLY)

    assert (await transport.get("http://a.test/hello")).status == 200
    assert len(peer.seen) == 1


async def test_unknown_host_is_a_connection_error(make_transport: MakeTransport) -> None:
    transport = await make_transport()

    with pytest.raises(TransportConnectionError) as info:
        await transport.get("http://nowhere.test/")

    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorDNSError)


# --- URL rules ----------------------------------------------------------------------------


async def test_http_refused_without_allow_http(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    peer = await serve("a.test", [web.get("/hello", hello)])
    transport = await make_transport(allow_http=False)

    with pytest.raises(InvalidURL, match="scheme 'http'"):
        await transport.get("http://a.test/hello")

    assert peer.seen == []
    assert resolver.calls == []


@pytest.mark.parametrize("url", ["ftp://a.test/", "file:///etc/passwd", "/relative", "a.test"])
async def test_other_schemes_refused(make_transport: MakeTransport, url: str) -> None:
    transport = await make_transport(allow_http=True)

    with pytest.raises(InvalidURL):
        await transport.get(url)


@pytest.mark.parametrize(
    "url", ["http://user:hunter2@a.test/", "http://user@a.test/", "http://@a.test/"]
)
async def test_userinfo_refused(serve: Serve, make_transport: MakeTransport, url: str) -> None:
    peer = await serve("a.test", [web.get("/", hello)])
    transport = await make_transport()

    with pytest.raises(InvalidURL, match="userinfo") as info:
        await transport.get(url)

    assert "hunter2" not in str(info.value)
    assert peer.seen == []


async def test_trailing_dot_refused(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    peer = await serve("a.test", [web.get("/", hello)])
    resolver.add("a.test.", "127.0.0.1", peer.port)
    transport = await make_transport()

    with pytest.raises(InvalidURL, match="trailing dot"):
        await transport.get("http://a.test./")

    assert peer.seen == []
    assert resolver.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://a..test/",
        "http://-a.test/",
        "http://a b.test/",
        "http://a%2etest/",
        "http://[fe80::1%25eth0]/",
        "http://a.test:0/",
        "http://a.test:99999/",
        "http:///path",
    ],
)
async def test_malformed_hosts_and_ports_refused(make_transport: MakeTransport, url: str) -> None:
    transport = await make_transport()

    with pytest.raises(InvalidURL):
        await transport.get(url)


def test_check_url_normalises_idna(resolver: FakeResolver) -> None:
    transport = Transport(
        allow_http=False, allow_private=False, resolver=resolver, user_agent=USER_AGENT
    )

    assert transport.check_url("https://Bücher.Example/a b#x") == (
        "https://xn--bcher-kva.example/a%20b"
    )
    assert transport.check_url("https://a.test:443/") == "https://a.test/"


async def test_allowed_ports(serve: Serve, make_transport: MakeTransport) -> None:
    peer = await serve("a.test", [web.get("/", hello)])
    transport = await make_transport(allowed_ports=frozenset({80, 443}))

    assert (await transport.get("http://a.test/")).status == 200
    with pytest.raises(InvalidURL, match="port 8080"):
        await transport.get("http://a.test:8080/")
    assert len(peer.seen) == 1


async def test_own_host_refused(serve: Serve, make_transport: MakeTransport) -> None:
    peer = await serve("a.test", [web.get("/", hello)])
    transport = await make_transport(own_hosts=frozenset({"A.Test"}))

    for url in ("http://a.test/", "http://a.test:8080/", "https://a.test/"):
        with pytest.raises(OwnHost):
            await transport.get(url)

    assert peer.seen == []


async def test_own_host_with_port_only_matches_that_port(
    serve: Serve, make_transport: MakeTransport
) -> None:
    peer = await serve("a.test", [web.get("/", hello)])
    transport = await make_transport(own_hosts=frozenset({"a.test:8080"}))

    with pytest.raises(OwnHost):
        await transport.get("http://a.test:8080/")
    assert (await transport.get("http://a.test/")).status == 200
    assert len(peer.seen) == 1


# --- redirects ----------------------------------------------------------------------------


async def countdown(request: web.Request) -> web.Response:
    left = int(request.match_info["n"])
    if left == 0:
        return web.Response(text="done")
    raise web.HTTPFound(f"/r/{left - 1}")


async def test_three_redirects_followed(serve: Serve, make_transport: MakeTransport) -> None:
    peer = await serve("a.test", [web.get("/r/{n}", countdown)])
    transport = await make_transport()

    response = await transport.get("http://a.test/r/3")

    assert (response.status, response.body) == (200, b"done")
    assert response.url == "http://a.test/r/0"
    assert [s.path for s in peer.seen] == ["/r/3", "/r/2", "/r/1", "/r/0"]


async def test_fourth_redirect_refused(serve: Serve, make_transport: MakeTransport) -> None:
    peer = await serve("a.test", [web.get("/r/{n}", countdown)])
    transport = await make_transport()

    with pytest.raises(TooManyRedirects):
        await transport.get("http://a.test/r/4")

    assert [s.path for s in peer.seen] == ["/r/4", "/r/3", "/r/2", "/r/1"]


async def test_max_redirects_zero(serve: Serve, make_transport: MakeTransport) -> None:
    peer = await serve("a.test", [web.get("/r/{n}", countdown)])
    transport = await make_transport(max_redirects=0)

    assert (await transport.get("http://a.test/r/0")).status == 200
    with pytest.raises(TooManyRedirects):
        await transport.get("http://a.test/r/1")
    assert len(peer.seen) == 2


async def test_redirects_to_forbidden_addresses_refused(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver
) -> None:
    targets = {
        "private": "http://evil.test/secret",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "loopback2": "http://sneaky.test/admin",
        "scheme": "file:///etc/passwd",
        "userinfo": "http://user:pw@b.test/",
        "good": "http://b.test/hello",
    }

    async def jump(request: web.Request) -> web.Response:
        raise web.HTTPFound(targets[request.match_info["to"]])

    await serve("a.test", [web.get("/to/{to}", jump)])
    b = await serve("b.test", [web.get("/hello", hello)])
    resolver.add("evil.test", "10.0.0.1", unused_port())
    try:
        sneaky = await serve("sneaky.test", [web.get("/admin", hello)], host="127.0.0.2")
    except OSError:  # pragma: no cover - 127.0.0.2 is not bindable everywhere (macOS)
        sneaky = None
    # Loopback 127.0.0.1 is allowed (that is where a.test and b.test live); nothing else is.
    transport = await make_transport(
        allow_private=False, allowed_networks=LOOPBACK_ONLY, timeout=2.0
    )

    assert (await transport.get("http://a.test/to/good")).body == b"hello"
    for name in ("private", "metadata", "loopback2"):
        if name == "loopback2" and sneaky is None:
            continue
        with pytest.raises(ForbiddenAddress):
            await transport.get(f"http://a.test/to/{name}")
    for name in ("scheme", "userinfo"):
        with pytest.raises(InvalidURL):
            await transport.get(f"http://a.test/to/{name}")

    assert len(b.seen) == 1
    if sneaky is not None:
        assert sneaky.seen == []


async def test_redirect_to_own_host_refused(serve: Serve, make_transport: MakeTransport) -> None:
    async def jump(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://b.test/")

    await serve("a.test", [web.get("/", jump)])
    b = await serve("b.test", [web.get("/", hello)])
    transport = await make_transport(own_hosts=frozenset({"b.test"}))

    with pytest.raises(OwnHost):
        await transport.get("http://a.test/")
    assert b.seen == []


async def test_post_redirect_returned_not_followed(
    serve: Serve, make_transport: MakeTransport
) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("http://b.test/inbox")

    a = await serve("a.test", [web.post("/inbox", moved)])
    b = await serve("b.test", [web.post("/inbox", hello)])
    transport = await make_transport()

    response = await transport.post("http://a.test/inbox", b"{}")

    assert response.status == 307
    assert response.headers["Location"] == "http://b.test/inbox"
    assert response.url == "http://a.test/inbox"
    assert len(a.seen) == 1
    assert b.seen == []


# --- signing hook -------------------------------------------------------------------------


async def test_sign_called_per_hop(serve: Serve, make_transport: MakeTransport) -> None:
    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://b.test/next")

    async def next_hop(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/end")

    a = await serve("a.test", [web.get("/start", start)])
    b = await serve("b.test", [web.get("/next", next_hop), web.get("/end", hello)])
    transport = await make_transport()
    calls: list[tuple[str, str, dict[str, str], bytes | None]] = []

    async def sign(
        method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        calls.append((method, url, headers, body))
        return {"Signature": f"hop-{len(calls)}", "Date": "Tue, 07 Jun 2022 20:51:35 GMT"}

    response = await transport.get(
        "http://a.test/start",
        headers={"Accept": "application/activity+json", "Authorization": "Bearer t0ken"},
        sign=sign,
    )

    assert response.body == b"hello"
    assert response.url == "http://b.test/end"
    assert [(m, u, b) for m, u, _, b in calls] == [
        ("GET", "http://a.test/start", None),
        ("GET", "http://b.test/next", None),
        ("GET", "http://b.test/end", None),
    ]
    assert calls[0][2]["Accept"] == "application/activity+json"
    assert calls[0][2]["User-Agent"] == USER_AGENT
    seen = a.seen + b.seen
    assert [s.headers["Signature"] for s in seen] == ["hop-1", "hop-2", "hop-3"]
    assert all(s.headers["Accept"] == "application/activity+json" for s in seen)
    assert all(s.headers["Date"] == "Tue, 07 Jun 2022 20:51:35 GMT" for s in seen)
    # A caller's credentials stay with the origin they were meant for.
    assert a.seen[0].headers["Authorization"] == "Bearer t0ken"
    assert all("Authorization" not in s.headers for s in b.seen)


async def test_sync_sign_on_post(serve: Serve, make_transport: MakeTransport) -> None:
    async def inbox(request: web.Request) -> web.Response:
        return web.Response(status=202)

    peer = await serve("a.test", [web.post("/inbox", inbox)])
    transport = await make_transport()
    calls: list[tuple[str, str, bytes | None]] = []

    def sign(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        calls.append((method, url, body))
        headers["X-Mutated"] = "by signer"  # a copy: must not leak into the request
        return {"signature": "sig"}

    await transport.post("http://a.test/inbox", b"payload", sign=sign)

    assert calls == [("POST", "http://a.test/inbox", b"payload")]
    assert peer.seen[0].headers["Signature"] == "sig"
    assert "X-Mutated" not in peer.seen[0].headers


async def test_request_headers_never_logged(
    serve: Serve, make_transport: MakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    await serve("a.test", [web.get("/r/{n}", countdown)])
    transport = await make_transport()

    def sign(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        return {"Signature": "secret-signature"}

    with caplog.at_level(logging.DEBUG, logger="fediverse_mu.federation.transport"):
        await transport.get(
            "http://a.test/r/1", headers={"Authorization": "Bearer secret-token"}, sign=sign
        )

    assert caplog.records  # the exchange was logged…
    assert "secret" not in caplog.text  # …without its headers


# --- limits and failures ------------------------------------------------------------------


async def test_body_over_max_bytes_with_content_length(
    serve: Serve, make_transport: MakeTransport
) -> None:
    release = asyncio.Event()

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 10_000_000
        await response.prepare(request)
        await response.write(b"x" * 100)
        await release.wait()  # the rest never comes: only an up-front check answers in time
        return response

    await serve("a.test", [web.get("/", huge)])
    transport = await make_transport(max_bytes=1000, timeout=2.0)
    try:
        with pytest.raises(ResponseTooLarge, match="Content-Length"):
            await transport.get("http://a.test/")
    finally:
        release.set()


async def test_body_over_max_bytes_streamed(serve: Serve, make_transport: MakeTransport) -> None:
    release = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(3):
            await response.write(b"y" * 500)
        await release.wait()  # never finishes: only a chunked reader can notice the excess
        return response

    await serve("a.test", [web.get("/", endless)])
    transport = await make_transport(max_bytes=1000, timeout=2.0)
    try:
        with pytest.raises(ResponseTooLarge, match="1000 bytes"):
            await transport.get("http://a.test/")
    finally:
        release.set()


async def test_body_of_exactly_max_bytes_accepted(
    serve: Serve, make_transport: MakeTransport
) -> None:
    async def exact(request: web.Request) -> web.Response:
        return web.Response(body=b"z" * 1000)

    await serve("a.test", [web.get("/", exact)])
    transport = await make_transport(max_bytes=1000)

    assert len((await transport.get("http://a.test/")).body) == 1000


async def test_slow_peer_times_out(serve: Serve, make_transport: MakeTransport) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="too late")

    await serve("a.test", [web.get("/", slow)])
    transport = await make_transport(timeout=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(TransportTimeout):
            # The outer bound only turns a missing timeout into a failure instead of a hang.
            await asyncio.wait_for(transport.get("http://a.test/"), 3.0)
    finally:
        release.set()
    assert loop.time() - started < 2.0


async def test_connection_refused(make_transport: MakeTransport, resolver: FakeResolver) -> None:
    resolver.add("closed.test", "127.0.0.1", unused_port())
    transport = await make_transport()

    with pytest.raises(TransportConnectionError) as info:
        await transport.get("http://closed.test/")

    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)
    assert isinstance(info.value, TransportError)


async def test_environment_proxy_ignored(
    serve: Serve, make_transport: MakeTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def proxied(request: web.Request) -> web.Response:
        return web.Response(text="via proxy")

    proxy = await serve(None, [web.route("*", "/{tail:.*}", proxied)])
    target = await serve("a.test", [web.get("/hello", hello)])
    proxy_url = f"http://127.0.0.1:{proxy.port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = await make_transport()

    response = await transport.get("http://a.test/hello")

    assert response.body == b"hello"
    assert proxy.seen == []
    assert len(target.seen) == 1


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def start_tls_peer(serve: Serve, ca: trustme.CA, resolver: FakeResolver) -> Peer:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("a.test").configure_cert(server_context)
    peer = await serve("a.test", [web.get("/hello", hello)], ssl=server_context)
    resolver.add("b.test", "127.0.0.1", peer.port)  # same server, name not in its certificate
    return peer


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_https_with_local_ca(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver, ca: trustme.CA
) -> None:
    peer = await start_tls_peer(serve, ca, resolver)
    transport = await make_transport(allow_http=False, ssl_context=client_context(ca))

    response = await transport.get("https://a.test/hello")

    assert (response.status, response.body) == (200, b"hello")
    assert response.url == "https://a.test/hello"
    assert len(peer.seen) == 1


async def test_https_verifies_certificates(
    serve: Serve, make_transport: MakeTransport, resolver: FakeResolver, ca: trustme.CA
) -> None:
    peer = await start_tls_peer(serve, ca, resolver)
    default_trust = await make_transport(allow_http=False)
    local_trust = await make_transport(allow_http=False, ssl_context=client_context(ca))

    with pytest.raises(TransportConnectionError) as unknown_ca:
        await default_trust.get("https://a.test/hello")
    with pytest.raises(TransportConnectionError) as wrong_name:
        await local_trust.get("https://b.test/hello")

    assert isinstance(unknown_ca.value.__cause__, aiohttp.ClientConnectorCertificateError)
    assert isinstance(wrong_name.value.__cause__, aiohttp.ClientConnectorCertificateError)
    assert peer.seen == []
