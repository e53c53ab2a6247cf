"""The URL map of every face. API routes also answer with a trailing slash, as Mastodon's do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from fediverse_mu.web import nodeinfo, pages
from fediverse_mu.web.mastodon import accounts as m_accounts
from fediverse_mu.web.mastodon import instance as m_instance

HandlerFn = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC_DIR = Path(__file__).parent / "static"


def _api(router: web.UrlDispatcher, method: str, path: str, handler: HandlerFn) -> None:
    router.add_route(method, path, handler)
    router.add_route(method, path + "/", handler)


def setup_routes(app: web.Application) -> None:
    """Register every route of the application."""
    r = app.router
    r.add_get("/", pages.home_get)
    r.add_get("/about", pages.home_get)
    r.add_get("/healthz", pages.healthz_get)
    r.add_static("/static/", STATIC_DIR, append_version=False)

    _api(r, "GET", "/.well-known/nodeinfo", nodeinfo.well_known_nodeinfo_get)
    _api(r, "GET", "/nodeinfo/{version}", nodeinfo.nodeinfo_get)

    _api(r, "GET", "/api/v1/instance", m_instance.instance_v1_get)
    _api(r, "GET", "/api/v2/instance", m_instance.instance_v2_get)
    _api(r, "GET", "/api/v1/accounts/verify_credentials", m_accounts.verify_credentials_get)
