"""The production path over HTTPS: two instances served over TLS with certificates from a local
CA (trustme), ``dev_allow_http`` off, so WebFinger, signed fetches and deliveries all go over
https with certificate checks; a follow goes through and is accepted."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp.test_utils import TestServer

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import FollowState
from fediverse_mu.federation.transport import InvalidURL, TransportConnectionError
from fediverse_mu.services import following
from tests.conftest import FakeResolver, Instance, init_instance, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_instances(tmp_path: Path, resolver: FakeResolver, ca: trustme.CA,
                        aiohttp_server: Callable[..., Awaitable[TestServer]],
                        ) -> AsyncIterator[Start]:
    """Start instances served over TLS, trusting only the test CA, in production mode (https
    only; private addresses stay allowed because every test server is on loopback)."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("a.test", "b.test").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=resolver, ssl=client_context))

    async def start(*names: str) -> list[Instance]:
        started = []
        for name in names:
            config = init_instance(tmp_path / name, name, scheme="https", dev_allow_http=False)
            app = create_app(config, resolver=resolver, start_worker=False,
                             ssl_context=client_context)
            server = await aiohttp_server(app, ssl=server_context)
            assert server.port is not None
            resolver.ports[name] = server.port
            started.append(Instance(name, config, app, server, session))
        return started

    yield start
    await session.close()


async def test_follow_over_https_is_accepted(tls_instances: Start) -> None:
    a, b = await tls_instances("a.test", "b.test")
    assert not a.config.dev_allow_http and a.base_url == "https://a.test"
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    assert remote_bob.actor_uri == "https://b.test/users/bob"
    await following.follow(a.svc, alice, remote_bob)
    assert await settle(a, b) >= 3
    assert await following.follower_uris(b.svc, bob) == ["https://a.test/users/alice"]
    follow = await following.get_follow(a.svc, alice, remote_bob)
    assert follow is not None and follow.state is FollowState.ACCEPTED
    status, collection = await b.get_json("/users/bob/followers")
    assert status == 200 and collection["orderedItems"] == ["https://a.test/users/alice"]


async def test_production_mode_refuses_plain_http_and_unknown_certificates(
        tls_instances: Start, tmp_path: Path, resolver: FakeResolver) -> None:
    (a,) = await tls_instances("a.test")
    fed = a.app[federation_key]
    with pytest.raises(InvalidURL, match="scheme 'http' not allowed"):
        await fed.transport.get("http://b.test/users/bob")
    # An instance trusting only the system store refuses the test CA's certificate.
    config = init_instance(tmp_path / "c.test", "c.test", scheme="https", dev_allow_http=False)
    app = create_app(config, resolver=resolver, start_worker=False)
    transport = app[federation_key].transport
    await transport.start()
    try:
        with pytest.raises(TransportConnectionError):
            await transport.get("https://a.test/actor")
    finally:
        await transport.close()
