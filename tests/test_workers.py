"""Several web processes for one instance (``serve --workers N``): the event relay between
their buses, two apps on one database in this process, and real processes sharing a port."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fediverse_mu import eventrelay
from fediverse_mu.app import create_app
from fediverse_mu.appkeys import services_key
from fediverse_mu.events import EventBus
from tests.conftest import init_instance, make_token

Seen = list[tuple[str, Any]]


def recorder(bus: EventBus, topic: str = "status.created") -> Seen:
    seen: Seen = []
    bus.subscribe(topic, lambda t, p: seen.append((t, p)))
    return seen


async def until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A data folder with a short path (a Unix socket path has at most ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="fmu-", dir="/tmp") as folder:
        yield Path(folder)


# -- the relay itself -------------------------------------------------------------------------


async def test_events_reach_every_other_process_once(short_dir: Path) -> None:
    hub_bus, one_bus, two_bus = EventBus(), EventBus(), EventBus()
    seen_hub, seen_one, seen_two = recorder(hub_bus), recorder(one_bus), recorder(two_bus)
    path = eventrelay.socket_path(short_dir)
    hub = eventrelay.RelayHub(hub_bus, path)
    await hub.start()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    one = eventrelay.RelayClient(one_bus, path)
    two = eventrelay.RelayClient(two_bus, path)
    await one.start()
    await two.start()
    await until(lambda: hub.clients == 2)
    try:
        one_bus.publish("status.created", {"status_id": 1})
        await until(lambda: len(seen_hub) == 1 and len(seen_two) == 1)
        hub_bus.publish("status.created", {"status_id": 2})
        await until(lambda: len(seen_one) == 2 and len(seen_two) == 2)
        await asyncio.sleep(0.1)  # nothing comes back to the sender
        assert seen_one == [("status.created", {"status_id": 1}),
                            ("status.created", {"status_id": 2})]
        assert seen_hub == seen_one == seen_two
    finally:
        await one.close()
        await two.close()
        await hub.close()
    assert not path.exists()


async def test_bad_lines_and_payloads_are_not_relayed(short_dir: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    hub_bus, client_bus = EventBus(), EventBus()
    seen_hub, seen_client = recorder(hub_bus), recorder(client_bus)
    path = eventrelay.socket_path(short_dir)
    hub = eventrelay.RelayHub(hub_bus, path)
    await hub.start()
    client = eventrelay.RelayClient(client_bus, path)
    await client.start()
    reader, writer = await asyncio.open_unix_connection(str(path))
    try:
        await until(lambda: hub.clients == 2)
        writer.write(b"not json\n" + b'{"payload": 1}\n' + b"[1, 2]\n")
        await writer.drain()
        client_bus.publish("status.created", {"not": {1, 2}})  # a set is not JSON
        assert seen_client == [("status.created", {"not": {1, 2}})]  # still told locally
        assert "cannot cross processes" in caplog.text
        writer.write(b'{"topic": "status.created", "payload": {"status_id": 3}}\n')
        await writer.drain()
        await until(lambda: len(seen_hub) == 1)
        assert seen_hub == [("status.created", {"status_id": 3})]
        await until(lambda: len(seen_client) == 2)
        writer.write(b"x" * (eventrelay.MAX_LINE + 10) + b"\n")  # dropped, the hub lives on
        await writer.drain()
        assert await reader.read() == b""  # the hub closed that connection
        client_bus.publish("status.created", {"status_id": 4})
        await until(lambda: len(seen_hub) == 2)
    finally:
        writer.close()
        await client.close()
        await hub.close()


async def test_a_client_without_hub_fails_clearly(short_dir: Path) -> None:
    client = eventrelay.RelayClient(EventBus(), eventrelay.socket_path(short_dir))
    with pytest.raises(OSError, match="no event hub"):
        await client.start(wait=0.3)


async def test_a_client_that_loses_the_hub_says_so(short_dir: Path) -> None:
    lost: list[bool] = []
    path = eventrelay.socket_path(short_dir)
    hub = eventrelay.RelayHub(EventBus(), path)
    await hub.start()
    client = eventrelay.RelayClient(EventBus(), path, on_lost=lambda: lost.append(True))
    await client.start()
    await until(lambda: hub.clients == 1)
    await hub.close()
    await until(lambda: lost == [True])
    await client.close()


# -- two apps on one database, in this process ------------------------------------------------


@pytest.fixture
async def two_processes(short_dir: Path) -> AsyncIterator[tuple[str, str, Any]]:
    config = init_instance(short_dir / "data", "localhost:8000")
    hub_app = create_app(config, relay="hub")
    client_app = create_app(config, start_worker=False, relay="client")
    runners = []
    urls = []
    for application in (hub_app, client_app):  # the hub first: the client connects to it
        runner = web.AppRunner(application)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    try:
        yield urls[0], urls[1], hub_app[services_key]
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


async def test_a_post_through_one_process_streams_from_the_other(
        two_processes: tuple[str, str, Any]) -> None:
    hub_url, client_url, svc = two_processes
    token = await make_token(svc, "alice")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{hub_url}/api/v1/streaming/public", headers=headers) as stream:
            assert stream.status == 200
            async with http.post(f"{client_url}/api/v1/statuses", headers=headers,
                                 json={"status": "bonjour d'un autre processus"}) as posted:
                assert posted.status == 200
                status_id = (await posted.json())["id"]
            payload = await asyncio.wait_for(_next_update(stream), 10)
    assert payload["id"] == status_id


async def _next_update(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    event = None
    async for raw in stream.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "update":
            found: dict[str, Any] = json.loads(line[6:])
            return found
    raise AssertionError("stream ended")


# -- real processes ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _cli(data: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "fediverse_mu", *args, "--data", str(data)],
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


async def test_serve_with_two_workers(short_dir: Path) -> None:
    port = _free_port()
    data = short_dir / "data"
    _cli(data, "init", "--domain", f"localhost:{port}", "--dev")
    _cli(data, "user", "create", "alice", "--email", "alice@example.test")
    token = _cli(data, "token", "create", "alice").strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "fediverse_mu", "serve", "--data", str(data), "--port",
         str(port), "--workers", "2"], stderr=subprocess.PIPE, text=True)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):  # wait for both processes
                await asyncio.sleep(0.1)
                if len(_children(server.pid)) == 1 and \
                        eventrelay.socket_path(data).exists():
                    try:
                        async with http.get(f"{base}/healthz") as ready:
                            if ready.status == 200:
                                break
                    except aiohttp.ClientError:
                        continue
            (child,) = _children(server.pid)
            # The first process hands connections out in turn (fediverse_mu/dispatch.py):
            # four keep-alive connections are two per process, never four on one.
            streams = []
            for _ in range(4):
                stream = await http.get(f"{base}/api/v1/streaming/public", headers=headers)
                assert stream.status == 200
                streams.append(stream)
            holders = Counter(_owner(server.pid, child, stream) for stream in streams)
            assert holders == {server.pid: 2, child: 2}
            async with http.post(f"{base}/api/v1/statuses", headers=headers,
                                 json={"status": "deux processus"}) as posted:
                assert posted.status == 200
                status_id = (await posted.json())["id"]
            for stream in streams:
                assert (await asyncio.wait_for(_next_update(stream), 10))["id"] == status_id
                stream.close()
        # kill -9 of the first process: the other one stops too.
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        for _ in range(100):
            if not _alive(child):
                break
            await asyncio.sleep(0.1)
        assert not _alive(child)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(20)
        assert server.stderr is not None
        server.stderr.close()


async def test_connections_go_to_the_first_process_when_another_is_gone(
        short_dir: Path) -> None:
    port = _free_port()
    data = short_dir / "data"
    _cli(data, "init", "--domain", f"localhost:{port}", "--dev")
    server = subprocess.Popen(
        [sys.executable, "-m", "fediverse_mu", "serve", "--data", str(data), "--port",
         str(port), "--workers", "2"], stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):  # wait for the second process, and for the port
            await asyncio.sleep(0.1)
            if len(_children(server.pid)) == 1 and eventrelay.socket_path(data).exists():
                try:
                    async with aiohttp.ClientSession() as http, \
                            http.get(f"{base}/healthz") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientError:
                    continue
        (child,) = _children(server.pid)
        os.kill(child, signal.SIGKILL)
        for _ in range(100):
            if not _alive(child):
                break
            await asyncio.sleep(0.1)
        # Each request on a new connection: its turn would have been the dead process's.
        for _ in range(4):
            async with aiohttp.ClientSession() as http, \
                    http.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=10)) as r:
                assert r.status == 200
        assert server.poll() is None
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)


def _owner(parent: int, child: int, stream: aiohttp.ClientResponse) -> int:
    """Which process holds the server side of a client connection (from /proc)."""
    transport = stream.connection.transport if stream.connection else None
    if transport is None:
        return -1
    local_port = transport.get_extra_info("sockname")[1]
    for pid in (parent, child):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:") and _socket_peer_port(pid, target) == local_port:
                return pid
    return -1


def _socket_peer_port(pid: int, target: str) -> int | None:
    inode = target[8:-1]
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[9] == inode:
            return int(parts[2].split(":")[1], 16)
    return None

