"""Carries the event bus across the processes of one instance (``serve --workers N``).

With several web processes sharing the listening port, a status posted through one process
must reach the streaming clients connected to the others, and a job queued by any process must
wake the job worker, which runs in the first process only. The first process runs a
:class:`RelayHub` on a Unix socket in the data folder (``run/events.sock``, in a folder only the
instance's user may enter); the other processes connect a :class:`RelayClient`. Every event
published on a process's bus is sent, as one JSON line, to the hub, which publishes it on its own
bus and passes it on to the other clients, which publish it on theirs. Event payloads are small
JSON-serialisable dicts of ids (see ``events.py``), so each process reloads what it shows.

Losing the relay loses no data (the database has it all): a client that loses the hub exits, so
that the service manager restarts the instance whole."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from fediverse_mu.events import EventBus

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024  # an event is a few ids; anything longer is a bug, not an event
SOCKET_NAME = "events.sock"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, with room for the terminator


def socket_path(data_dir: Path) -> Path:
    """Where the hub of an instance listens."""
    return data_dir / "run" / SOCKET_NAME


def _encode(topic: str, payload: Any) -> bytes | None:
    try:
        return json.dumps({"topic": topic, "payload": payload},
                          separators=(",", ":")).encode() + b"\n"
    except (TypeError, ValueError):
        log.error("event %s has a payload that cannot cross processes; not relayed", topic)
        return None


def _decode(line: bytes) -> tuple[str, Any] | None:
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("topic"), str):
        return None
    return message["topic"], message.get("payload")


class _Relay:
    """What hub and client share: forwarding local events, publishing remote ones."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._from_peer = False
        self._unsubscribe = bus.subscribe_all(self._local_event)

    def _local_event(self, topic: str, payload: Any) -> None:
        if self._from_peer:  # an event we are re-publishing: it came from the relay
            return
        line = _encode(topic, payload)
        if line is not None:
            self._send(line, exclude=None)

    def _publish_from_peer(self, topic: str, payload: Any) -> None:
        self._from_peer = True
        try:
            self.bus.publish(topic, payload)
        finally:
            self._from_peer = False

    def _send(self, line: bytes, exclude: asyncio.StreamWriter | None) -> None:
        raise NotImplementedError

    def detach(self) -> None:
        """Stop forwarding this process's events."""
        self._unsubscribe()


class RelayHub(_Relay):
    """The first process's end: accepts the other processes and relays between all."""

    def __init__(self, bus: EventBus, path: Path) -> None:
        super().__init__(bus)
        self.path = path
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on the socket (replacing a stale one left by a crash)."""
        if len(str(self.path)) > MAX_SOCKET_PATH:
            raise OSError(f"the data folder path is too long for the event socket {self.path}; "
                          "use a shorter data folder path to run several workers")
        self.path.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path),
                                                       limit=MAX_LINE)
        os.chmod(self.path, 0o600)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, ConnectionError):  # an over-long line: drop the peer
                    break
                if not line:
                    break
                message = _decode(line)
                if message is None:
                    log.warning("ignored a malformed event from a worker process")
                    continue
                self._send(line, exclude=writer)
                self._publish_from_peer(*message)
        finally:
            self._clients.discard(writer)
            writer.close()

    def _send(self, line: bytes, exclude: asyncio.StreamWriter | None) -> None:
        for writer in list(self._clients):
            if writer is not exclude and not writer.is_closing():
                writer.write(line)

    @property
    def clients(self) -> int:
        """How many other processes are connected."""
        return len(self._clients)

    async def close(self) -> None:
        """Stop listening and drop the clients."""
        self.detach()
        if self._server is not None:
            self._server.close()
            for writer in list(self._clients):
                writer.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class RelayClient(_Relay):
    """Another process's end: sends its events to the hub and publishes the others'."""

    def __init__(self, bus: EventBus, path: Path, *, on_lost: Any = None) -> None:
        super().__init__(bus)
        self.path = path
        self.on_lost = on_lost  # called when the hub goes away (the process should exit)
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, wait: float = 15.0) -> None:
        """Connect to the hub, retrying while the first process starts."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.path),
                                                                    limit=MAX_LINE)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if asyncio.get_running_loop().time() > deadline:
                    raise OSError(f"no event hub at {self.path}: is the first process "
                                  "running?") from None
                await asyncio.sleep(0.1)
        self._writer = writer
        self._task = asyncio.create_task(self._listen(reader))

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, ConnectionError):
                    break
                if not line:
                    break
                message = _decode(line)
                if message is not None:
                    self._publish_from_peer(*message)
        finally:
            if self._writer is not None:
                log.warning("lost the event hub of the first process")
                if self.on_lost is not None:
                    self.on_lost()

    def _send(self, line: bytes, exclude: asyncio.StreamWriter | None) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(line)

    async def close(self) -> None:
        """Disconnect."""
        self.detach()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
