"""The first process of ``serve --workers N`` restarts another web process that dies
(fediverse_mu/supervise.py): the back-off, a crash loop with stand-in processes, and real
processes killed with SIGKILL or stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from fediverse_mu import eventrelay, supervise
from tests.test_workers import (
    _alive,
    _children,
    _cli,
    _free_port,
    _next_update,
    _owner,
    _socket_peer_port,
)

GUARD = 60.0  # seconds: generous, the machine may be busy; never a timing assertion


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A data folder with a short path (a Unix socket path has at most ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="fmu-", dir="/tmp") as folder:
        yield Path(folder)


async def _until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {GUARD:g} s: {what}")
        await asyncio.sleep(0.05)


# -- the back-off, a pure function ------------------------------------------------------------


def test_the_restart_delay_doubles_while_a_process_keeps_dying() -> None:
    delays: list[float] = []
    delay = None
    for _ in range(9):
        delay = supervise.restart_delay(delay, uptime=0.5)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert supervise.restart_delay(8.0, uptime=59.9) == 16
    assert supervise.restart_delay(60.0, uptime=60.0) == 1  # it stayed up a minute: reset
    assert supervise.restart_delay(None, uptime=3600.0) == 1


def test_an_exit_is_told_by_its_code_or_signal() -> None:
    assert supervise.describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert supervise.describe_exit(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert supervise.describe_exit(3) == "exit code 3"
    assert supervise.describe_exit(0) == "exit code 0"


# -- stand-in processes, in this process's event loop -----------------------------------------


def _deaths(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "fediverse_mu.supervise" and " died " in r.getMessage()]


async def test_a_process_that_keeps_dying_is_restarted_ever_later(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(supervise, "FIRST_DELAY", 0.05)
    monkeypatch.setattr(supervise, "MAX_DELAY", 0.2)
    others = supervise.WebProcesses(
        1, lambda fd: [sys.executable, "-c", "raise SystemExit(3)"])
    ctx = others.cleanup_ctx(web.Application())
    await anext(ctx)
    await _until(lambda: others.restarts >= 4, "four restarts")
    deaths = _deaths(caplog)
    assert all(re.fullmatch(r"web process 1 \(pid \d+\) died \(exit code 3\) after \d+ s; "
                            r"restarting it in [\d.]+ s", death) for death in deaths), deaths
    assert [float(death.rsplit(" ", 2)[1]) for death in deaths][:4] == [0.05, 0.1, 0.2, 0.2]
    assert all(r.levelname == "WARNING" for r in caplog.records if r.name.endswith("supervise"))
    restarts_before_stop = others.restarts
    with pytest.raises(StopAsyncIteration):  # the app stops, here during a back-off or a start
        await asyncio.wait_for(anext(ctx), GUARD)
    assert others.restarts <= restarts_before_stop + 1  # at most the one being started
    assert _children(os.getpid()) == []


async def test_a_process_gets_connections_only_once_it_says_it_serves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Each stand-in lives a moment without ever serving, then exits: had its channel been
    # handed to the site at once, the connections of its turns would hang, then be dropped.
    monkeypatch.setattr(supervise, "FIRST_DELAY", 0.05)
    monkeypatch.setattr(supervise, "MAX_DELAY", 0.05)
    others = supervise.WebProcesses(
        1, lambda fd: [sys.executable, "-c", "import time; time.sleep(0.5)"])

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(others.cleanup_ctx)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    site = others.site(runner, "127.0.0.1", port)
    await site.start()
    try:
        await _until(lambda: others.restarts >= 1, "a restart")  # the first one is gone
        served = 0
        while others.restarts < 4:
            # A bare connection: aiohttp's client would quietly retry a dropped GET.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
                         b"Connection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(), GUARD)
            writer.close()
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
            served += 1
        assert served >= 2  # both turns, the first process's and the empty slot's
    finally:
        await runner.cleanup()
    assert site.stopped
    assert _children(os.getpid()) == []


# -- real processes ---------------------------------------------------------------------------


def _serve(data: Path, port: int, log: Path, **popen: object) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            [sys.executable, "-m", "fediverse_mu", "serve", "--data", str(data), "--port",
             str(port), "--workers", "2"], stderr=out, **popen)


async def _one_child_serving(server: subprocess.Popen[bytes], data: Path, base: str) -> int:
    """Wait until the first process answers and has one other process; its pid."""
    deadline = time.monotonic() + GUARD
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            assert server.poll() is None, "the server stopped"
            if len(_children(server.pid)) == 1 and eventrelay.socket_path(data).exists():
                try:
                    async with http.get(f"{base}/healthz") as ready:
                        if ready.status == 200:
                            (child,) = _children(server.pid)
                            return child
                except aiohttp.ClientError:
                    continue
    raise AssertionError("the server did not start")


def _holder(pids: tuple[int, ...], port: int) -> int | None:
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:") and _socket_peer_port(pid, target) == port:
                    return pid
    return None


async def _held_by(parent: int, child: int, writer: asyncio.StreamWriter) -> int:
    """Which process holds the server side of a raw client connection, once one does."""
    port = writer.get_extra_info("sockname")[1]
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        holder = _holder((parent, child), port)
        if holder is not None:
            return holder
        await asyncio.sleep(0.05)
    raise AssertionError("no process holds the connection")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        server.wait(GUARD)


async def test_a_killed_process_is_replaced_and_serves(short_dir: Path) -> None:
    port = _free_port()
    data = short_dir / "data"
    log = short_dir / "serve.log"
    _cli(data, "init", "--domain", f"localhost:{port}", "--dev")
    _cli(data, "user", "create", "alice", "--email", "alice@example.test")
    token = _cli(data, "token", "create", "alice").strip()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    server = _serve(data, port, log)
    streams: list[aiohttp.ClientResponse] = []
    try:
        old = await _one_child_serving(server, data, base)
        os.kill(old, signal.SIGKILL)
        await _until(lambda: not _alive(old) and any(
            pid != old and _alive(pid) for pid in _children(server.pid)), "a new process")
        (new,) = _children(server.pid)
        async with aiohttp.ClientSession() as http:
            # It takes its turns back once it says it serves: until then all four are here.
            deadline = time.monotonic() + GUARD
            while True:
                for stream in streams:
                    stream.close()
                streams = []
                for _ in range(4):
                    stream = await http.get(f"{base}/api/v1/streaming/public", headers=headers)
                    assert stream.status == 200
                    streams.append(stream)
                holders = Counter(_owner(server.pid, new, stream) for stream in streams)
                if new in holders or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert holders == {server.pid: 2, new: 2}
            # Two posts on two new connections (one through each process, turn by turn):
            # every stream gets both, so events cross from the new process and to it.
            posted = []
            for text in ("après le redémarrage", "et encore"):
                async with aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(force_close=True)) as poster, \
                        poster.post(f"{base}/api/v1/statuses", headers=headers,
                                    json={"status": text}) as answer:
                    assert answer.status == 200
                    posted.append((await answer.json())["id"])
            for stream in streams:
                received = [(await asyncio.wait_for(_next_update(stream), GUARD))["id"]
                            for _ in posted]
                assert sorted(received) == sorted(posted)
        assert server.poll() is None
    finally:
        for stream in streams:
            stream.close()
        _stop(server)
    assert server.returncode == 0
    assert not _alive(new)
    text = log.read_text()
    assert re.search(rf"WARNING fediverse_mu\.supervise: web process 1 \(pid {old}\) died "
                     r"\(killed by SIGKILL\) after \d+ s; restarting it in 1 s", text), text
    assert f"WARNING fediverse_mu.supervise: web process 1 restarted (pid {new})" in text
    assert token not in text


@pytest.mark.parametrize("whom", ["first", "group"])
async def test_sigterm_stops_every_process_and_restarts_none(short_dir: Path,
                                                             whom: str) -> None:
    # "first": only the first process gets the signal; it stops the others at the end of its
    # graceful stop. "group": as systemd (KillMode=control-group) or Ctrl-C do, every process
    # gets it at once, so the others end while the first is still stopping.
    port = _free_port()
    data = short_dir / "data"
    log = short_dir / "serve.log"
    _cli(data, "init", "--domain", f"localhost:{port}", "--dev")
    server = _serve(data, port, log, start_new_session=True)
    slow: list[asyncio.StreamWriter] = []
    try:
        child = await _one_child_serving(server, data, f"http://127.0.0.1:{port}")
        # A request whose body never comes, held by the first process: its graceful stop
        # waits for it while the other process ends: that death must not be taken for a crash.
        while whom == "group" and not slow:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /api/v1/apps HTTP/1.1\r\nHost: localhost\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            await writer.drain()
            if await _held_by(server.pid, child, writer) == server.pid:
                slow.append(writer)
            else:
                writer.close()
        if whom == "group":
            os.killpg(server.pid, signal.SIGTERM)
        else:
            server.send_signal(signal.SIGTERM)
        seen = {child}

        def look() -> bool:
            with contextlib.suppress(FileNotFoundError):  # the first process just ended
                seen.update(_children(server.pid))
            return server.poll() is not None or not _alive(child)

        await _until(look, "the other process gone")
        if slow:  # room for a wrongful restart (1 s after the death) to show, then let go
            for _ in range(40):
                look()
                await asyncio.sleep(0.05)
            for writer in slow:
                writer.close()
        await _until(lambda: look() and server.poll() is not None, "the first process gone")
        assert server.wait(GUARD) == 0
    finally:
        for writer in slow:
            writer.close()
        _stop(server)
    assert seen == {child}
    await _until(lambda: not _alive(child), "the other process gone")
    assert "fediverse_mu.supervise" not in log.read_text()
