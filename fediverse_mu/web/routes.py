"""The URL map of every face. API routes also answer with a trailing slash, as Mastodon's do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from fediverse_mu.web import activitypub, nodeinfo, oauth, pages, webfinger
from fediverse_mu.web.mastodon import accounts as m_accounts
from fediverse_mu.web.mastodon import apps as m_apps
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

    _api(r, "GET", "/.well-known/webfinger", webfinger.webfinger_get)
    r.add_get("/.well-known/host-meta", webfinger.host_meta_get)
    r.add_get("/.well-known/host-meta.json", webfinger.host_meta_json_get)
    r.add_get("/actor", activitypub.instance_actor_get)
    r.add_post("/actor/inbox", activitypub.inbox_post)
    r.add_post("/inbox", activitypub.inbox_post)
    r.add_get("/users/{username}", activitypub.actor_get)
    r.add_get("/@{username}", activitypub.profile_get)
    r.add_post("/users/{username}/inbox", activitypub.inbox_post)
    r.add_get("/users/{username}/outbox", activitypub.outbox_get)
    r.add_get("/users/{username}/followers", activitypub.followers_get)
    r.add_get("/users/{username}/following", activitypub.following_get)
    r.add_get("/users/{username}/collections/featured", activitypub.featured_get)

    _api(r, "GET", "/api/v1/instance", m_instance.instance_v1_get)
    _api(r, "GET", "/api/v2/instance", m_instance.instance_v2_get)
    _api(r, "GET", "/api/v1/accounts/verify_credentials", m_accounts.verify_credentials_get)

    # OAuth 2 login (https://docs.joinmastodon.org/methods/oauth/) and client apps.
    r.add_get("/oauth/authorize", oauth.authorize_get)
    r.add_post("/oauth/authorize", oauth.authorize_post)
    _api(r, "POST", "/oauth/token", oauth.token_post)
    _api(r, "POST", "/oauth/revoke", oauth.revoke_post)
    _api(r, "GET", "/.well-known/oauth-authorization-server", oauth.server_metadata_get)
    _api(r, "POST", "/api/v1/apps", m_apps.apps_create)
    _api(r, "GET", "/api/v1/apps/verify_credentials", m_apps.apps_verify_credentials_get)
