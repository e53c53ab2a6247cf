"""Connections of ``serve --workers N`` spread evenly over the processes.

With ``SO_REUSEPORT`` each process would accept on its own socket and the kernel would pick
one per connection by a hash of its addresses: with a handful of keep-alive clients it often
put all of them on one process while the others idled (bench/api.py, 4 clients: 531/s on one
process against 973/s when spread). So the first process alone listens; it accepts each
connection and hands them out in turn — to itself, then to each other process — passing the
socket over a Unix socket pair (``SCM_RIGHTS``), as Node's cluster module does. A process then
serves its connections directly; the first process only sees the accept, never the requests.
If a process is gone or its channel is full, the first process serves the connection itself,
until ``supervise.WebProcesses`` puts a restarted process in its slot (``replace_channel``).
A process says it serves with one message back on its channel (``READY``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Sequence

from aiohttp import web
from aiohttp.web_runner import GracefulExit

log = logging.getLogger(__name__)

ACCEPTS_PER_WAKE = 64  # connections accepted per readiness event before serving the loop again
BACKLOG = 1024
READY = b"r"  # sent back by another process once it serves the connections it is handed


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """A Unix socket pair for handing connections to one process: (first's end, other's end).
    Sequenced packets: each connection is one message with one descriptor, and, unlike
    datagrams, closing one end is seen at the other (an empty read)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    return ours, theirs


def _serve_here(runner: web.BaseRunner, conn: socket.socket) -> None:
    """Serve an accepted connection in this process with the runner's HTTP server."""
    server = runner.server
    assert server is not None
    conn.setblocking(False)
    loop = asyncio.get_running_loop()
    task = loop.create_task(loop.connect_accepted_socket(server, conn))
    task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not serve a connection: %s", task.exception())


class DispatchSite(web.BaseSite):
    """The first process's site: listens on ``host:port`` and hands the accepted connections
    in turn to this process and to each of ``channels`` (one per other process; ``None``
    while it is being restarted, its share then served here)."""

    __slots__ = ("_channels", "_host", "_listener", "_port", "_stopped", "_turn")

    def __init__(self, runner: web.BaseRunner, host: str, port: int,
                 channels: Sequence[socket.socket | None]) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._host, self._port = host, port
        self._channels: list[socket.socket | None] = list(channels)
        self._listener: socket.socket | None = None
        self._turn = 0
        self._stopped = False

    @property
    def name(self) -> str:
        """The address, as aiohttp names its sites."""
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        """Listen, then accept whenever a connection is waiting."""
        await super().start()
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        self._listener = socket.create_server((self._host, self._port), family=family,
                                              backlog=BACKLOG)
        self._listener.setblocking(False)
        asyncio.get_running_loop().add_reader(self._listener.fileno(), self._accept)

    @property
    def stopped(self) -> bool:
        """Whether the site has begun stopping (the other processes then stop too)."""
        return self._stopped

    def replace_channel(self, index: int, channel: socket.socket | None) -> None:
        """Hand the share of process ``index`` (0 for the first other process) to ``channel``,
        a restarted process's end, closing the old one; ``None`` serves that share here.
        Once the site is stopping, ``channel`` is closed instead."""
        if self._stopped:
            if channel is not None:
                channel.close()
            return
        old, self._channels[index] = self._channels[index], channel
        if old is not None and old is not channel:
            old.close()

    async def stop(self) -> None:
        """Stop accepting (connections already handed out stay with their process)."""
        self._stopped = True
        if self._listener is not None:
            asyncio.get_running_loop().remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        for channel in self._channels:
            if channel is not None:
                channel.close()
        self._channels = [None] * len(self._channels)
        await super().stop()

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: try again on the next wake
                log.warning("could not accept a connection: %s", exc)
                return
            self._hand_out(conn)

    def _hand_out(self, conn: socket.socket) -> None:
        self._turn = (self._turn + 1) % (len(self._channels) + 1)
        channel = self._channels[self._turn - 1] if self._turn else None
        if channel is not None:
            try:
                socket.send_fds(channel, [b"c"], [conn.fileno()])
            except (BlockingIOError, InterruptedError):
                pass  # that process is behind: serve this one here
            except OSError as exc:  # that process is gone: stop handing it connections
                log.warning("web process %d is gone (%s); serving its share here until it "
                            "is restarted", self._turn, exc)
                channel.close()
                self._channels[self._turn - 1] = None
            else:
                conn.close()  # that process has its own descriptor now
                return
        _serve_here(self._runner, conn)


class ReceiveSite(web.BaseSite):
    """Another process's site: serves the connections the first process hands it over
    ``channel``; ``on_closed`` is called if the first process closes its end."""

    __slots__ = ("_channel", "_on_closed")

    def __init__(self, runner: web.BaseRunner, channel: socket.socket,
                 on_closed: Callable[[], None]) -> None:
        super().__init__(runner)
        self._channel = channel
        self._on_closed = on_closed

    @property
    def name(self) -> str:
        """What aiohttp prints for it."""
        return "connections handed over by the first process"

    async def start(self) -> None:
        """Wait for connections on the channel, and tell the first process."""
        await super().start()
        self._channel.setblocking(False)
        asyncio.get_running_loop().add_reader(self._channel.fileno(), self._receive)
        with contextlib.suppress(OSError):  # the first process is gone: _receive will see it
            self._channel.send(READY)

    async def stop(self) -> None:
        """Take no more connections."""
        with contextlib.suppress(ValueError, OSError):  # already closed
            asyncio.get_running_loop().remove_reader(self._channel.fileno())
        self._channel.close()
        await super().stop()

    def _receive(self) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                message, fds, _, _ = socket.recv_fds(self._channel, 16, 4)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionResetError:  # the first process closed its end (shutdown)
                message, fds = b"", []
            except OSError as exc:
                log.warning("connection channel failed: %s", exc)
                message, fds = b"", []
            if not message and not fds:  # the first process closed its end
                asyncio.get_running_loop().remove_reader(self._channel.fileno())
                self._on_closed()
                return
            for fd in fds:
                _serve_here(self._runner, socket.socket(fileno=fd))


def run(app: web.Application, make_site: Callable[[web.AppRunner], web.BaseSite],
        **runner_options: object) -> None:
    """Run ``app`` on the site ``make_site`` builds, until SIGINT/SIGTERM; then shut down
    gracefully as ``aiohttp.web.run_app`` does (which only knows its own kinds of sites)."""
    loop = asyncio.new_event_loop()

    async def main() -> None:
        runner = web.AppRunner(app, handle_signals=True, **runner_options)  # type: ignore[arg-type]
        await runner.setup()
        try:
            await make_site(runner).start()
            await asyncio.Event().wait()  # until a signal ends the loop (GracefulExit)
        finally:
            await runner.cleanup()

    task = loop.create_task(main())
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(task)
        remaining = asyncio.all_tasks(loop)
        for left in remaining:
            left.cancel()
        loop.run_until_complete(asyncio.gather(*remaining, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
