"""Shared fixtures: initialised data folders, apps, the multi-instance harness (a.test, b.test,
c.test… served in-process and reached through one fake resolver), and factories."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestClient, TestServer

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import services_key, worker_key
from fediverse_mu.config import Config
from fediverse_mu.domain import Role
from fediverse_mu.services import accounts, maintenance, tokens
from fediverse_mu.services.accounts import NewUser
from fediverse_mu.services.context import Services
from fediverse_mu.worker import Worker

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "shared" / "mastodon-openapi.json"


class FakeResolver(AbstractResolver):
    """Maps test host names (``a.test``…) to a loopback port; anything else does not exist."""

    def __init__(self) -> None:
        self.ports: dict[str, int] = {}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.ports:
            raise OSError(f"fake resolver: unknown host {host}")
        return [{"hostname": host, "host": "127.0.0.1", "port": self.ports[host],
                 "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def init_instance(data_dir: Path, domain: str = "a.test", **values: Any) -> Config:
    """Create an instance data folder the way ``fediverse-mu init --dev`` does."""
    dev = {"dev_allow_http": True, "dev_allow_private_addresses": True, "scheme": "http",
           "registration_mode": "open"}
    return maintenance.initialise(data_dir, {"domain": domain, **dev, **values})


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A freshly initialised dev instance for ``a.test``."""
    return init_instance(tmp_path / "data")


@pytest.fixture
async def client(config: Config,
                 aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    """A test client on the instance's app (storage open, background worker off)."""
    return await aiohttp_client(create_app(config, start_worker=False))


@pytest.fixture
def svc(client: TestClient) -> Services:
    """The services behind the ``client`` fixture."""
    return client.server.app[services_key]


async def make_user(svc: Services, username: str = "alice", *, role: Role = Role.RESIDENT,
                    password: str = "correct horse battery") -> NewUser:
    """Create a local user."""
    return await accounts.create_user(svc, username, f"{username}@example.test",
                                      password=password, role=role)


async def make_token(svc: Services, username: str = "alice",
                     scopes: str = "read write follow push") -> str:
    """Create a user if needed and mint a bearer token for them."""
    if await accounts.get_local_account(svc, username) is None:
        await make_user(svc, username)
    return await tokens.create_token_for(svc, username, frozenset(scopes.split()))


@dataclass
class Instance:
    """One in-process instance of the harness."""

    name: str
    config: Config
    app: web.Application
    server: TestServer
    http: aiohttp.ClientSession

    @property
    def svc(self) -> Services:
        return self.app[services_key]

    @property
    def worker(self) -> Worker:
        return self.app[worker_key]

    @property
    def base_url(self) -> str:
        return self.config.base_url

    async def get_json(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        """GET a path of this instance over real HTTP through the fake resolver."""
        async with self.http.get(self.base_url + path, **kwargs) as response:
            return response.status, json.loads(await response.read() or b"null")


@pytest.fixture
def resolver() -> FakeResolver:
    """The one fake DNS shared by every instance of a test."""
    return FakeResolver()


@pytest.fixture
async def instances(
    tmp_path: Path, resolver: FakeResolver,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[Callable[..., Awaitable[list[Instance]]]]:
    """Start N instances (``await instances("a.test", "b.test")``) over real HTTP."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))

    async def start(*names: str, **values: Any) -> list[Instance]:
        started = []
        for name in names:
            config = init_instance(tmp_path / name, name, **values)
            application = create_app(config, resolver=resolver, start_worker=False)
            server = await aiohttp_server(application)
            resolver.ports[name] = server.port
            started.append(Instance(name, config, application, server, session))
        return started

    yield start
    await session.close()


async def settle(*running: Instance, max_rounds: int = 100) -> int:
    """Run every instance's worker until a whole round finds nothing to do."""
    total = 0
    for _ in range(max_rounds):
        done = 0
        for inst in running:
            done += await inst.worker.run_until_idle()
        total += done
        if done == 0:
            return total
    raise AssertionError(f"instances did not settle in {max_rounds} rounds")


@pytest.fixture(scope="session")
def openapi() -> dict[str, Any]:
    """The community OpenAPI description of the Mastodon API (from ../shared)."""
    if not OPENAPI_PATH.exists():
        pytest.skip(f"Mastodon OpenAPI description not found at {OPENAPI_PATH}")
    with OPENAPI_PATH.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


@pytest.fixture
def assert_schema(openapi: dict[str, Any]) -> Iterator[Callable[[Any, str], None]]:
    """Check a JSON value against a component schema of the Mastodon OpenAPI description."""
    import jsonschema

    def check(value: Any, component: str) -> None:
        schema = {"$ref": f"#/components/schemas/{component}",
                  "components": openapi["components"]}
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    yield check


@dataclass
class RealServer:
    """An instance listening on a real loopback socket (for client libraries in threads)."""

    base_url: str
    app: web.Application

    @property
    def svc(self) -> Services:
        return self.app[services_key]


@pytest.fixture
async def real_server(tmp_path: Path) -> AsyncIterator[RealServer]:
    """One instance on ``127.0.0.1:<port>``, its domain carrying the port, as in dev setups."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = init_instance(tmp_path / "real", f"127.0.0.1:{port}")
    application = create_app(config, start_worker=False)
    runner = web.AppRunner(application)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield RealServer(f"http://127.0.0.1:{port}", application)
    finally:
        await runner.cleanup()
