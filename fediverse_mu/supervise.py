"""Keeps the other web processes of ``serve --workers N`` running, as gunicorn's arbiter or
Node's cluster module do.

The first process starts one process per slot of its :class:`~fediverse_mu.dispatch.DispatchSite`
and watches each. When one dies while the server runs (a crash, the OOM killer, ``kill -9``),
its share of the connections is served by the first process, and a replacement is started with
a fresh channel pair; the replacement gets the slot back only once it says it serves (its
``ReceiveSite`` sends ``dispatch.READY``), so a process that dies while starting never swallows
connections. A process that keeps dying at once (a broken install) is restarted after 1 s,
then 2 s, 4 s… at most 60 s, and back to 1 s once one stayed up a minute
(:func:`restart_delay`). Nothing is restarted once the first process is stopping (its site
stopped: a service manager's SIGTERM may reach every process at once, so the others can end
while the first still finishes its requests); the cleanup context then stops every process
left (SIGTERM, then SIGKILL after 20 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from fediverse_mu import dispatch

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0  # seconds before restarting a process that had been up a while
MAX_DELAY = 60.0
STABLE_AFTER = 60.0  # a process up this long resets the back-off
STOP_TIMEOUT = 20.0  # SIGTERM, then SIGKILL after this long

Command = Callable[[int], list[str]]  # the command line of a process given its channel's fd


def restart_delay(previous: float | None, uptime: float) -> float:
    """Seconds to wait before restarting a process that died after ``uptime`` seconds, given
    the wait before its own start (``None`` for a first start): 1 s, doubled each time it dies
    within ``STABLE_AFTER``, capped at ``MAX_DELAY``."""
    if previous is None or uptime >= STABLE_AFTER:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


def describe_exit(returncode: int | None) -> str:
    """How a process ended, for the log: its exit code or the signal that killed it."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


async def _first(*waits: Awaitable[object]) -> set[asyncio.Future[object]]:
    """Wait until one of ``waits`` is done, cancel the others, return the done ones."""
    futures: list[asyncio.Future[object]] = [asyncio.ensure_future(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in futures:
            future.cancel()
    return done


class WebProcesses:
    """The other web processes of the first process, one per slot of its DispatchSite, each
    started as ``command(fd)`` with its end of the channel as descriptor ``fd``."""

    def __init__(self, count: int, command: Command) -> None:
        self._command = command
        pairs = [dispatch.channel_pair() for _ in range(count)]
        self._channels: list[socket.socket | None] = [ours for ours, _ in pairs]
        self._theirs = [theirs for _, theirs in pairs]
        self._site: dispatch.DispatchSite | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.restarts = 0  # how many replacements were started

    def site(self, runner: web.BaseRunner, host: str, port: int) -> dispatch.DispatchSite:
        """The first process's site, handing connections out to these processes."""
        self._site = dispatch.DispatchSite(runner, host, port, list(self._channels))
        return self._site

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Start the processes (after the event hub), keep them running while the app runs,
        stop them when it stops."""
        theirs, self._theirs = self._theirs, []
        for slot, channel in enumerate(theirs):
            child = await self._spawn(channel)
            task = asyncio.create_task(self._keep(slot, child, None),
                                       name=f"web-process-{slot + 1}")
            task.add_done_callback(_log_failure)
            self._tasks.append(task)
        yield
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _stopping(self) -> bool:
        return self._stop.is_set() or (self._site is not None and self._site.stopped)

    async def _spawn(self, theirs: socket.socket) -> asyncio.subprocess.Process:
        try:
            return await asyncio.create_subprocess_exec(
                *self._command(theirs.fileno()), stdin=subprocess.PIPE,
                pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()  # the child has it now

    async def _start(self) -> tuple[asyncio.subprocess.Process, socket.socket]:
        """Start a replacement on a fresh channel pair: the process and the first's end."""
        ours, theirs = dispatch.channel_pair()
        try:
            return await self._spawn(theirs), ours
        except BaseException:
            ours.close()
            raise

    def _set_channel(self, slot: int, channel: socket.socket | None) -> None:
        if self._site is not None:
            self._site.replace_channel(slot, channel)
            return
        old, self._channels[slot] = self._channels[slot], channel  # before the site exists
        if old is not None:
            old.close()

    async def _keep(self, slot: int, child: asyncio.subprocess.Process,
                    channel: socket.socket | None) -> None:
        """Watch one slot's process and restart it whenever it dies while the app runs;
        ``channel`` is a replacement's end, handed to the site once it serves."""
        number = slot + 1  # as dispatch.py numbers them in its log
        delay: float | None = None
        while True:
            started = time.monotonic()
            if channel is not None:
                if await self._serving(child, channel):
                    self._set_channel(slot, channel)
                else:
                    channel.close()
            if not await self._exits(child):
                await _end(child)
                return
            if child.stdin is not None:
                child.stdin.close()
            if self._stopping():
                return
            self._set_channel(slot, None)  # its share is served here meanwhile
            uptime = time.monotonic() - started
            delay = restart_delay(delay, uptime)
            log.warning("web process %d (pid %d) died (%s) after %.0f s; restarting it in %g s",
                        number, child.pid, describe_exit(child.returncode), uptime, delay)
            while True:
                if await self._stopped_within(delay):
                    return
                try:
                    child, channel = await self._start()
                    break
                except OSError as exc:  # out of memory, processes or descriptors
                    delay = restart_delay(delay, 0.0)
                    log.warning("could not restart web process %d (%s); trying again in %g s",
                                number, exc, delay)
            self.restarts += 1
            log.warning("web process %d restarted (pid %d)", number, child.pid)
            if self._stopping():
                channel.close()
                await _end(child)
                return

    async def _serving(self, child: asyncio.subprocess.Process, channel: socket.socket) -> bool:
        """Wait until a new process says it serves (True), dies or the app stops (False)."""
        said = asyncio.ensure_future(asyncio.get_running_loop().sock_recv(channel, 16))
        done = await _first(said, child.wait(), self._stop.wait())
        return said in done and not said.cancelled() and said.exception() is None \
            and said.result() == dispatch.READY

    async def _exits(self, child: asyncio.subprocess.Process) -> bool:
        """Wait until the process exits (True) or the app stops (False)."""
        exited = asyncio.ensure_future(child.wait())
        return exited in await _first(exited, self._stop.wait())

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait ``seconds``, or less if the app stops; whether it is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stopping()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("stopped watching %s: %r", task.get_name(), task.exception())


async def _end(child: asyncio.subprocess.Process) -> None:
    """Stop a process: SIGTERM, then SIGKILL if it is still there after ``STOP_TIMEOUT``."""
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
    try:
        await asyncio.wait_for(child.wait(), STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
