"""The Mastodon streaming face (https://docs.joinmastodon.org/methods/streaming/): the health
check, one multiplexed WebSocket at ``/api/v1/streaming`` (``stream=`` for a first
subscription, then ``{"type": "subscribe" | "unsubscribe", "stream": …, "tag": …}`` messages;
events arrive as ``{"stream": […], "event": …, "payload": "<json>"}``) and server-sent events
at ``/api/v1/streaming/<stream>`` (``event: update`` / ``data: …`` and a heartbeat comment).
The token comes from ``Authorization``, ``access_token`` or, for browsers' WebSockets,
``Sec-WebSocket-Protocol``. The fan-out itself is ``services.streaming.Hub``; this module
renders entities for it, and writes what each connection's queue holds."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from aiohttp import WSMsgType, web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, DomainError, Invalid
from fediverse_mu.domain.conversations import ConversationView
from fediverse_mu.domain.filters import FilterMatch
from fediverse_mu.domain.notifications import NotificationView
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.services import tokens
from fediverse_mu.services.context import Services
from fediverse_mu.services.streaming import (
    Connection,
    Hub,
    Message,
    Refusal,
    Stream,
    parse_stream,
)
from fediverse_mu.web.mastodon.auth import bearer_token
from fediverse_mu.web.mastodon.conversations import render_conversations
from fediverse_mu.web.mastodon.forms import parse_bool
from fediverse_mu.web.mastodon.notifications import render_notifications
from fediverse_mu.web.mastodon.statuses import render_statuses, set_filtered

HEARTBEAT_SECONDS = 30.0  # SSE comment / WebSocket ping interval
MAX_CLIENT_MESSAGE = 64 * 1024

hub_key = web.AppKey("streaming_hub", Hub)


class _Renderer:
    """Entities for the hub, rendered as the REST endpoints render them."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def statuses(self, views: list[StatusView],
                       matches: Sequence[Mapping[int, Sequence[FilterMatch]]],
                       ) -> list[dict[str, Any]]:
        rendered = await render_statuses(self.svc, views)
        for view, entity, found in zip(views, rendered, matches, strict=True):
            if found:
                set_filtered(entity, view, found)
        return rendered

    async def notifications(self, views: list[NotificationView],
                            matches: Mapping[int, Sequence[FilterMatch]],
                            ) -> list[dict[str, Any]]:
        return await render_notifications(self.svc, views, matches=matches)

    async def conversations(self, views: list[ConversationView]) -> list[dict[str, Any]]:
        return await render_conversations(self.svc, views)


def setup_streaming(app: web.Application) -> None:
    """Create the app's hub; it starts with the app and ends every stream on shutdown (so
    open streams never hold the shutdown up)."""
    svc = app[services_key]
    hub = Hub(svc, _Renderer(svc))
    app[hub_key] = hub

    async def streaming_ctx(app: web.Application) -> AsyncIterator[None]:
        hub.start()
        yield
        await hub.stop()

    async def close_streams(app: web.Application) -> None:
        hub.close_all()

    app.cleanup_ctx.append(streaming_ctx)
    app.on_shutdown.append(close_streams)


# -- who is asking ---------------------------------------------------------------------------

async def _viewer(request: web.Request, token: str | None,
                  ) -> tuple[Account | None, Callable[[str], bool], int | None]:
    """The token's account, scopes and id; anonymous without a token, 401 with a bad one."""
    if token is None:
        return None, lambda scope: False, None
    grant = await tokens.authenticate(request.app[services_key], token)
    return grant.account, grant.token.allows, grant.token.id


def _dropper(request: web.Request) -> Callable[[], None]:
    """Cut a stalled client's socket, so a write blocked on it returns at once."""
    def drop() -> None:
        transport = request.transport
        if transport is not None:
            transport.abort()
    return drop


@contextlib.asynccontextmanager
async def _connected(request: web.Request, token: str | None) -> AsyncIterator[Connection]:
    """The client registered with the hub as the token's viewer (401 for a bad token) for as
    long as the block runs; a stalled one has its socket cut."""
    hub = request.app[hub_key]
    viewer, allows, token_id = await _viewer(request, token)
    conn = hub.connect(viewer, allows, on_drop=_dropper(request), token_id=token_id)
    try:
        yield conn
    finally:
        hub.disconnect(conn)


def _stream_from(params: Any, name: str | None = None) -> Stream:
    """The stream named by query parameters or a WebSocket message (``stream``, ``tag``,
    ``list``, ``only_media``)."""
    tag, list_id, media = params.get("tag"), params.get("list"), params.get("only_media")
    return parse_stream(str(name if name is not None else params.get("stream", "")),
                        tag=None if tag is None else str(tag),
                        list_id=None if list_id is None else str(list_id),
                        only_media=media is True or parse_bool(
                            None if media is None or media is False else str(media),
                            "only_media") or False)


# -- server-sent events ----------------------------------------------------------------------

# The streams served as server-sent events at /api/v1/streaming/<path> (the name with ":").
SSE_PATHS = ("user", "user/notification", "public", "public/local", "public/remote", "hashtag",
             "hashtag/local", "list", "direct")


def _sse_event(item: Message) -> bytes:
    # An event without a payload says "undefined", as Mastodon's streaming server writes it.
    data = "undefined" if item.payload is None else item.payload
    return f"event: {item.event}\ndata: {data}\n\n".encode()


async def _sse(request: web.Request, name: str) -> web.StreamResponse:
    """Stream one subscription as server-sent events until the client goes away."""
    async with _connected(request, bearer_token(request)) as conn:
        # Subscribed before the headers go: a client that has them misses nothing.
        await request.app[hub_key].subscribe(conn, _stream_from(request.query, name))
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no", "Access-Control-Allow-Origin": "*"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            await response.write(b":)\n")
            while True:
                try:
                    item = await asyncio.wait_for(conn.next(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    await response.write(b":thump\n")
                    continue
                if item is None:
                    break
                if isinstance(item, Message):
                    await response.write(_sse_event(item))
    return response


async def streaming_sse_get(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/streaming/<path>`` for each of ``SSE_PATHS``: ``user`` (the home feed
    and notifications), ``user/notification``, ``public``, ``public/local`` and
    ``public/remote`` (``only_media``), ``hashtag`` and ``hashtag/local`` (``tag``), ``list``
    (``list``, one of the caller's) and ``direct`` (``conversation`` events)."""
    path = request.path.removeprefix("/api/v1/streaming/").rstrip("/")
    return await _sse(request, path.replace("/", ":"))


async def streaming_health_get(request: web.Request) -> web.Response:
    """``GET /api/v1/streaming/health``: ``OK``."""
    return web.Response(text="OK")


# -- WebSocket -------------------------------------------------------------------------------

def _ws_text(item: Message | Refusal) -> str:
    if isinstance(item, Message):
        message = {"stream": list(item.stream), "event": item.event}
        if item.payload is not None:  # filters_changed has none
            message["payload"] = item.payload
        return json.dumps(message, ensure_ascii=False)
    refusal: dict[str, Any] = {"error": item.error, "status": item.status}
    if item.stream:
        refusal["stream"] = list(item.stream)
    return json.dumps(refusal, ensure_ascii=False)


def _refusal(exc: DomainError, params: Any) -> Refusal:
    labels = [str(params.get(k)) for k in ("stream", "tag", "list") if params.get(k) is not None]
    return Refusal(exc.message, exc.status, tuple(labels))


async def _client_message(hub: Hub, conn: Connection, text: str) -> None:
    """Act on ``{"type": "subscribe" | "unsubscribe", "stream": …, "tag": …, "list": …}``;
    anything else is answered with an error message (the connection stays open)."""
    try:
        data = json.loads(text)
    except ValueError:
        conn.push(Refusal("Invalid JSON", 400))
        return
    if not isinstance(data, dict) or data.get("type") not in ("subscribe", "unsubscribe") \
            or not isinstance(data.get("stream"), str):
        conn.push(Refusal('Expected {"type": "subscribe" or "unsubscribe", "stream": …}', 400))
        return
    try:
        stream = _stream_from(data)
        if data["type"] == "subscribe":
            await hub.subscribe(conn, stream)
        else:
            hub.unsubscribe(conn, stream)
    except DomainError as exc:
        conn.push(_refusal(exc, data))


async def _write_ws(conn: Connection, ws: web.WebSocketResponse) -> None:
    """Write what the connection's queue holds; close the socket when the hub ends it."""
    with contextlib.suppress(ConnectionError):
        while (item := await conn.next()) is not None:
            await ws.send_str(_ws_text(item))
        await ws.close()


def _ws_token(request: web.Request) -> tuple[str | None, bool]:
    """The token, and whether it came as the WebSocket sub-protocol (then it is echoed)."""
    token = bearer_token(request)
    if token is not None:
        return token, False
    offered = request.headers.get("Sec-WebSocket-Protocol", "").split(",")[0].strip()
    return (offered, True) if offered else (None, False)


async def streaming_get(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/streaming``: the WebSocket (or, without an upgrade, server-sent events
    for the ``stream`` asked for)."""
    hub = request.app[hub_key]
    token, as_protocol = _ws_token(request)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_CLIENT_MESSAGE,
                               protocols=(token,) if as_protocol and token else ())
    if not ws.can_prepare(request).ok:
        if request.query.get("stream"):
            return await _sse(request, request.query["stream"])
        raise Invalid("Expected a WebSocket upgrade (or a stream for server-sent events)")
    async with _connected(request, token) as conn:
        if request.query.get("stream"):
            try:
                await hub.subscribe(conn, _stream_from(request.query))
            except DomainError as exc:  # Mastodon answers these on the open socket
                conn.push(_refusal(exc, request.query))
        await ws.prepare(request)
        writer = asyncio.create_task(_write_ws(conn, ws))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await _client_message(hub, conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    conn.push(Refusal("Only JSON text messages are understood", 400))
        finally:
            conn.close()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
    return ws
