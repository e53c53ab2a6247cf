"""Shared fixtures: initialised data folders, apps (also on a hand-moved clock or a real
socket), the multi-instance harness (a.test, b.test, c.test… served in-process and reached
through one fake resolver), factories, and small helpers for Mastodon API requests."""

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
from mastodon import Mastodon

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import services_key, worker_key
from fediverse_mu.config import Config
from fediverse_mu.domain import Role
from fediverse_mu.services import accounts, maintenance, tokens
from fediverse_mu.services.accounts import NewUser
from fediverse_mu.services.context import Services
from fediverse_mu.worker import Worker

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "shared" / "mastodon-openapi.json"
PASSWORD = "correct horse battery"  # make_user's default


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


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock (for the ``clocked`` client)."""
    return FakeClock()


@pytest.fixture
async def clocked(config: Config, clock: FakeClock,
                  aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    """A test client on an app whose services run on the fake clock."""
    return await aiohttp_client(create_app(config, start_worker=False, clock=clock))


async def make_user(svc: Services, username: str = "alice", *, role: Role = Role.RESIDENT,
                    password: str = PASSWORD) -> NewUser:
    """Create a local user."""
    return await accounts.create_user(svc, username, f"{username}@example.test",
                                      password=password, role=role)


async def make_token(svc: Services, username: str = "alice",
                     scopes: str = "read write follow push") -> str:
    """Create a user if needed and mint a bearer token for them."""
    if await accounts.get_local_account(svc, username) is None:
        await make_user(svc, username)
    return await tokens.create_token_for(svc, username, frozenset(scopes.split()))


def auth(token: str) -> dict[str, str]:
    """The ``Authorization`` header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


async def ok(response: Any, status: int = 200) -> Any:
    """Assert a response's status (showing its body otherwise) and return its JSON."""
    assert response.status == status, await response.text()
    return await response.json()


async def post(client: TestClient, token: str, **data: Any) -> dict[str, Any]:
    """Post a status through the Mastodon API and return its entity."""
    body: dict[str, Any] = await ok(await client.post("/api/v1/statuses", json=data,
                                                      headers=auth(token)))
    return body


async def count(svc: Services, sql: str, *args: Any) -> int:
    """The number a ``SELECT count(*)`` query finds in the instance's database."""
    def run(db: Any) -> int:
        return int(db.execute(sql, list(args)).fetchone()[0])
    return await svc.storage.read(run)


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
    runner: web.AppRunner
    stopped: bool = False

    @property
    def svc(self) -> Services:
        return self.app[services_key]

    @property
    def domain(self) -> str:
        """The instance's domain: ``127.0.0.1:<port>``."""
        return self.svc.config.domain

    async def stop(self) -> None:
        """Shut the server down now (ending open streams); the fixture does it otherwise."""
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


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
    server = RealServer(f"http://127.0.0.1:{port}", application, runner)
    try:
        yield server
    finally:
        await server.stop()


def login(base_url: str, name: str) -> Mastodon:
    """Register a Mastodon.py app and log ``name`` in with a password (blocking: use a thread)."""
    scopes = ["read", "write", "follow"]
    client_id, client_secret = Mastodon.create_app("fediverse-mu tests", scopes=scopes,
                                                   api_base_url=base_url)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base_url)
    api.log_in(name, PASSWORD, scopes=scopes, allow_http=True)
    return api
