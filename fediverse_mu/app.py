"""The composition root: ``create_app(config)`` wires storage, services, the event bus, the job
worker and the web faces into one aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractResolver

from fediverse_mu import __version__, eventrelay
from fediverse_mu.appkeys import config_key, federation_key, services_key, worker_key
from fediverse_mu.config import Config
from fediverse_mu.domain import Job
from fediverse_mu.events import JOB_QUEUED, EventBus
from fediverse_mu.federation import inbox
from fediverse_mu.federation.client import Federation
from fediverse_mu.federation.transport import Transport
from fediverse_mu.resources import templates_dir
from fediverse_mu.services import fanout, groups, housekeeping, polls, scheduled
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import DELIVER_JOB
from fediverse_mu.storage import Storage
from fediverse_mu.storage.inbox import INBOX_JOB
from fediverse_mu.web.mastodon.streaming import setup_streaming
from fediverse_mu.web.middleware import (
    cors_middleware,
    error_middleware,
    security_headers_middleware,
)
from fediverse_mu.web.routes import setup_routes
from fediverse_mu.web.secure_fetch import secure_fetch_middleware
from fediverse_mu.web.session import setup_session
from fediverse_mu.worker import Handler, Worker

MAX_REQUEST_BYTES = 40 * 1024 * 1024  # media uploads; the inbox enforces its own 1 MiB cap


def job_handlers(app: web.Application) -> dict[str, Handler]:
    """The job kinds this instance runs."""
    fed = app[federation_key]

    async def process_inbox(job: Job) -> None:
        await inbox.process(fed, job)

    async def welcome_member(job: Job) -> None:
        await groups.run_welcome(fed.svc, job)

    async def end_poll(job: Job) -> None:
        await polls.end_poll(fed.svc, int(job.payload["status_id"]))

    async def publish_scheduled(job: Job) -> None:
        await scheduled.publish(fed.svc, int(job.payload["scheduled_id"]),
                                resolve=fed.resolve_handle)

    async def fan_out(job: Job) -> None:
        await fanout.run(fed.svc, job)

    return {DELIVER_JOB: fed.deliver, INBOX_JOB: process_inbox, fanout.FANOUT_JOB: fan_out,
            groups.WELCOME_JOB: welcome_member, polls.POLL_END_JOB: end_poll,
            scheduled.PUBLISH_JOB: publish_scheduled}


def create_app(config: Config, *, resolver: AbstractResolver | None = None,
               start_worker: bool = True, clock: Callable[[], float] = time.time,
               storage_readers: int = 2,
               ssl_context: ssl.SSLContext | None = None,
               relay: Literal["hub", "client"] | None = None,
               on_relay_lost: Callable[[], None] | None = None) -> web.Application:
    """Build the application; the database opens on startup and closes on cleanup.
    ``ssl_context`` replaces the system trust store for outgoing HTTPS (tests: a local CA).
    ``relay`` joins the processes of ``serve --workers N``: the first one is the ``hub`` (and
    runs the worker), the others are ``client``s (``on_relay_lost`` called if the hub goes)."""
    app = web.Application(
        middlewares=[security_headers_middleware, cors_middleware, error_middleware,
                     secure_fetch_middleware],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[config_key] = config
    storage = Storage(config.database_path, readers=storage_readers)
    svc = Services(config=config, storage=storage, events=EventBus(), clock=clock)
    app[services_key] = svc
    worker = Worker(storage, {}, clock=clock)
    app[worker_key] = worker
    svc.events.subscribe(JOB_QUEUED, worker.notify)
    transport = Transport(
        allow_http=config.dev_allow_http, allow_private=config.dev_allow_private_addresses,
        resolver=resolver, user_agent=f"fediverse-mu/{__version__} (+{config.base_url})",
        own_hosts=frozenset({config.domain}), ssl_context=ssl_context)
    app[federation_key] = Federation(svc, transport)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(templates_dir()),
                         autoescape=True)

    async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
        storage.open()
        yield
        await storage.close()

    async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
        worker.handlers.update(job_handlers(app))
        if start_worker:
            worker.start()
        yield
        await worker.stop()

    async def http_ctx(app: web.Application) -> AsyncIterator[None]:
        await transport.start()
        yield
        await transport.close()

    async def housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(housekeeping.run_forever(svc)) if start_worker else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def relay_ctx(app: web.Application) -> AsyncIterator[None]:
        path = eventrelay.socket_path(config.data_dir)
        end: eventrelay.RelayHub | eventrelay.RelayClient | None = None
        if relay == "hub":
            end = eventrelay.RelayHub(svc.events, path)
        elif relay == "client":
            end = eventrelay.RelayClient(svc.events, path, on_lost=on_relay_lost)
        if end is not None:
            await end.start()
        yield
        if end is not None:
            await end.close()

    app.cleanup_ctx.extend([storage_ctx, http_ctx, relay_ctx, worker_ctx, housekeeping_ctx])
    setup_routes(app)
    setup_session(app)  # the browser login of the HTML pages, and the CSRF nonce cookie
    setup_streaming(app)  # the live-stream hub: started with the app
    return app
