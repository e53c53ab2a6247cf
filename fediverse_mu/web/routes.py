"""The URL map of every face. API routes also answer with a trailing slash, as Mastodon's do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from fediverse_mu.web import (
    activitypub,
    admin,
    moderation,
    nodeinfo,
    notes,
    oauth,
    pages,
    places,
    session,
    settings,
    signup,
    webfinger,
)
from fediverse_mu.web import groups as web_groups
from fediverse_mu.web.mastodon import accounts as m_accounts
from fediverse_mu.web.mastodon import admin as m_admin
from fediverse_mu.web.mastodon import apps as m_apps
from fediverse_mu.web.mastodon import conversations as m_conversations
from fediverse_mu.web.mastodon import filters as m_filters
from fediverse_mu.web.mastodon import instance as m_instance
from fediverse_mu.web.mastodon import lists as m_lists
from fediverse_mu.web.mastodon import media as m_media
from fediverse_mu.web.mastodon import misc as m_misc
from fediverse_mu.web.mastodon import moderation as m_moderation
from fediverse_mu.web.mastodon import notifications as m_notifications
from fediverse_mu.web.mastodon import notifications_v2 as m_notifications_v2
from fediverse_mu.web.mastodon import places as m_places
from fediverse_mu.web.mastodon import polls as m_polls
from fediverse_mu.web.mastodon import scheduled as m_scheduled
from fediverse_mu.web.mastodon import search as m_search
from fediverse_mu.web.mastodon import statuses as m_statuses
from fediverse_mu.web.mastodon import streaming as m_streaming

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
    session.setup_routes(r)

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
    r.add_get("/users/{username}/outbox", notes.outbox_get)
    r.add_get("/users/{username}/followers", activitypub.followers_get)
    r.add_get("/users/{username}/following", activitypub.following_get)
    r.add_get("/users/{username}/collections/featured", notes.featured_get)
    r.add_get("/users/{username}/statuses/{id}", notes.status_get)
    r.add_get("/users/{username}/statuses/{id}/activity", notes.status_activity_get)
    r.add_get("/users/{username}/statuses/{id}/replies", notes.status_replies_get)
    r.add_get("/@{username}/{id}", notes.status_page_get)

    _api(r, "GET", "/api/v1/instance", m_instance.instance_v1_get)
    _api(r, "GET", "/api/v2/instance", m_instance.instance_v2_get)
    _api(r, "GET", "/api/v1/accounts/verify_credentials", m_accounts.verify_credentials_get)

    # Accounts, follows, blocks, mutes (https://docs.joinmastodon.org/methods/accounts/): the
    # fixed paths first, so that {id} does not swallow them.
    _api(r, "PATCH", "/api/v1/accounts/update_credentials", m_accounts.update_credentials_patch)
    _api(r, "GET", "/api/v1/accounts/lookup", m_accounts.lookup_get)
    _api(r, "GET", "/api/v1/accounts/search", m_accounts.search_get)
    _api(r, "GET", "/api/v1/accounts/relationships", m_accounts.relationships_get)
    _api(r, "GET", "/api/v1/accounts/{id}", m_accounts.account_get)
    _api(r, "GET", "/api/v1/accounts/{id}/followers", m_accounts.followers_get)
    _api(r, "GET", "/api/v1/accounts/{id}/following", m_accounts.following_get)
    _api(r, "POST", "/api/v1/accounts/{id}/follow", m_accounts.follow_post)
    _api(r, "POST", "/api/v1/accounts/{id}/unfollow", m_accounts.unfollow_post)
    _api(r, "POST", "/api/v1/accounts/{id}/block", m_accounts.block_post)
    _api(r, "POST", "/api/v1/accounts/{id}/unblock", m_accounts.unblock_post)
    _api(r, "POST", "/api/v1/accounts/{id}/mute", m_accounts.mute_post)
    _api(r, "POST", "/api/v1/accounts/{id}/unmute", m_accounts.unmute_post)
    _api(r, "GET", "/api/v1/follow_requests", m_accounts.follow_requests_get)
    _api(r, "POST", "/api/v1/follow_requests/{id}/authorize",
         m_accounts.follow_request_authorize_post)
    _api(r, "POST", "/api/v1/follow_requests/{id}/reject", m_accounts.follow_request_reject_post)
    _api(r, "GET", "/api/v1/blocks", m_accounts.blocks_get)
    _api(r, "GET", "/api/v1/mutes", m_accounts.mutes_get)
    _api(r, "GET", "/api/v1/preferences", m_misc.preferences_get)
    _api(r, "GET", "/api/v1/markers", m_misc.markers_get)
    _api(r, "POST", "/api/v1/markers", m_misc.markers_post)
    _api(r, "GET", "/api/v1/instance/peers", m_misc.peers_get)
    _api(r, "GET", "/api/v1/instance/activity", m_misc.activity_get)
    _api(r, "GET", "/api/v1/custom_emojis", m_misc.empty_list_get)
    _api(r, "GET", "/api/v1/announcements", m_misc.announcements_get)
    for trend in ("", "/tags", "/statuses", "/links"):
        _api(r, "GET", f"/api/v1/trends{trend}", m_misc.empty_list_get)
    _api(r, "GET", "/api/v1/suggestions", m_misc.suggestions_get)
    _api(r, "GET", "/api/v2/suggestions", m_misc.suggestions_get)

    # Media (https://docs.joinmastodon.org/methods/media/) and the stored files.
    _api(r, "POST", "/api/v1/media", m_media.media_create)
    _api(r, "POST", "/api/v2/media", m_media.media_create)
    _api(r, "GET", "/api/v1/media/{id}", m_media.media_get)
    _api(r, "PUT", "/api/v1/media/{id}", m_media.media_update)
    _api(r, "DELETE", "/api/v1/media/{id}", m_media.media_delete)
    r.add_get("/media/{name}", m_media.media_file_get)

    # Statuses and timelines (https://docs.joinmastodon.org/methods/statuses/, /timelines/).
    _api(r, "POST", "/api/v1/statuses", m_statuses.statuses_create)
    _api(r, "GET", "/api/v1/statuses", m_statuses.statuses_many_get)
    _api(r, "GET", "/api/v1/statuses/{id}", m_statuses.statuses_get)
    _api(r, "DELETE", "/api/v1/statuses/{id}", m_statuses.statuses_delete)
    _api(r, "PUT", "/api/v1/statuses/{id}", m_statuses.statuses_update)
    for name, handler in (("history", m_statuses.statuses_history_get),
                          ("source", m_statuses.statuses_source_get),
                          ("context", m_statuses.statuses_context_get),
                          ("favourited_by", m_statuses.statuses_favourited_by_get),
                          ("reblogged_by", m_statuses.statuses_reblogged_by_get)):
        _api(r, "GET", f"/api/v1/statuses/{{id}}/{name}", handler)
    for name, handler in (("favourite", m_statuses.statuses_favourite),
                          ("unfavourite", m_statuses.statuses_unfavourite),
                          ("reblog", m_statuses.statuses_reblog),
                          ("unreblog", m_statuses.statuses_unreblog),
                          ("bookmark", m_statuses.statuses_bookmark),
                          ("unbookmark", m_statuses.statuses_unbookmark),
                          ("pin", m_statuses.statuses_pin),
                          ("unpin", m_statuses.statuses_unpin)):
        _api(r, "POST", f"/api/v1/statuses/{{id}}/{name}", handler)
    _api(r, "GET", "/api/v1/accounts/{id}/statuses", m_statuses.account_statuses_get)
    _api(r, "GET", "/api/v1/timelines/home", m_statuses.timelines_home_get)
    _api(r, "GET", "/api/v1/timelines/public", m_statuses.timelines_public_get)
    _api(r, "GET", "/api/v1/timelines/tag/{hashtag}", m_statuses.timelines_tag_get)
    _api(r, "GET", "/api/v1/bookmarks", m_statuses.bookmarks_get)
    _api(r, "GET", "/api/v1/favourites", m_statuses.favourites_get)
    _api(r, "GET", "/api/v2/search", m_search.search_v2_get)

    # Lists (https://docs.joinmastodon.org/methods/lists/) and their timelines.
    _api(r, "GET", "/api/v1/lists", m_lists.lists_get)
    _api(r, "POST", "/api/v1/lists", m_lists.lists_create)
    _api(r, "GET", "/api/v1/lists/{id}", m_lists.list_get)
    _api(r, "PUT", "/api/v1/lists/{id}", m_lists.list_update)
    _api(r, "DELETE", "/api/v1/lists/{id}", m_lists.list_delete)
    _api(r, "GET", "/api/v1/lists/{id}/accounts", m_lists.list_accounts_get)
    _api(r, "POST", "/api/v1/lists/{id}/accounts", m_lists.list_accounts_post)
    _api(r, "DELETE", "/api/v1/lists/{id}/accounts", m_lists.list_accounts_delete)
    _api(r, "GET", "/api/v1/accounts/{id}/lists", m_lists.account_lists_get)
    _api(r, "GET", "/api/v1/timelines/list/{list_id}", m_lists.timelines_list_get)

    # Filters v2 and v1 (https://docs.joinmastodon.org/methods/filters/): the fixed
    # keywords/ and statuses/ paths first, so that {id} does not swallow them.
    _api(r, "GET", "/api/v2/filters", m_filters.filters_v2_get)
    _api(r, "POST", "/api/v2/filters", m_filters.filters_v2_create)
    _api(r, "GET", "/api/v2/filters/keywords/{id}", m_filters.filter_keyword_get)
    _api(r, "PUT", "/api/v2/filters/keywords/{id}", m_filters.filter_keyword_update)
    _api(r, "DELETE", "/api/v2/filters/keywords/{id}", m_filters.filter_keyword_delete)
    _api(r, "GET", "/api/v2/filters/statuses/{id}", m_filters.filter_status_get)
    _api(r, "DELETE", "/api/v2/filters/statuses/{id}", m_filters.filter_status_delete)
    _api(r, "GET", "/api/v2/filters/{id}", m_filters.filter_v2_get)
    _api(r, "PUT", "/api/v2/filters/{id}", m_filters.filter_v2_update)
    _api(r, "DELETE", "/api/v2/filters/{id}", m_filters.filter_v2_delete)
    _api(r, "GET", "/api/v2/filters/{filter_id}/keywords", m_filters.filter_keywords_get)
    _api(r, "POST", "/api/v2/filters/{filter_id}/keywords", m_filters.filter_keywords_create)
    _api(r, "GET", "/api/v2/filters/{filter_id}/statuses", m_filters.filter_statuses_get)
    _api(r, "POST", "/api/v2/filters/{filter_id}/statuses", m_filters.filter_statuses_create)
    _api(r, "GET", "/api/v1/filters", m_filters.filters_v1_get)
    _api(r, "POST", "/api/v1/filters", m_filters.filters_v1_create)
    _api(r, "GET", "/api/v1/filters/{id}", m_filters.filter_v1_get)
    _api(r, "PUT", "/api/v1/filters/{id}", m_filters.filter_v1_update)
    _api(r, "DELETE", "/api/v1/filters/{id}", m_filters.filter_v1_delete)

    # Grouped notifications, the v2 policy and notification requests (before the v1 {id}).
    m_notifications_v2.setup_routes(app, _api)
    # Notifications (https://docs.joinmastodon.org/methods/notifications/).
    _api(r, "GET", "/api/v1/notifications", m_notifications.notifications_get)
    _api(r, "GET", "/api/v1/notifications/unread_count",
         m_notifications.notifications_unread_count_get)
    _api(r, "POST", "/api/v1/notifications/clear", m_notifications.notifications_clear_post)
    _api(r, "GET", "/api/v1/notifications/{id}", m_notifications.notification_get)
    _api(r, "POST", "/api/v1/notifications/{id}/dismiss",
         m_notifications.notification_dismiss_post)

    # Streaming (https://docs.joinmastodon.org/methods/streaming/): one WebSocket, and
    # server-sent events per stream.
    _api(r, "GET", "/api/v1/streaming", m_streaming.streaming_get)
    _api(r, "GET", "/api/v1/streaming/health", m_streaming.streaming_health_get)
    for path in m_streaming.SSE_PATHS:
        _api(r, "GET", f"/api/v1/streaming/{path}", m_streaming.streaming_sse_get)

    # OAuth 2 login (https://docs.joinmastodon.org/methods/oauth/) and client apps.
    r.add_get("/oauth/authorize", oauth.authorize_get)
    r.add_post("/oauth/authorize", oauth.authorize_post)
    _api(r, "POST", "/oauth/token", oauth.token_post)
    _api(r, "POST", "/oauth/revoke", oauth.revoke_post)
    _api(r, "GET", "/.well-known/oauth-authorization-server", oauth.server_metadata_get)
    _api(r, "POST", "/api/v1/apps", m_apps.apps_create)
    _api(r, "GET", "/api/v1/apps/verify_credentials", m_apps.apps_verify_credentials_get)
    m_conversations.setup_routes(r)
    m_polls.setup_routes(r)
    m_scheduled.setup_routes(r)
    signup.setup_routes(r)  # registration (issue 7)
    admin.setup_routes(r)  # the web admin (issue 7)
    m_moderation.setup_routes(r)  # residents' moderation endpoints (issue 7)
    moderation.setup_routes(r)  # the public list of moderated servers (issue 7)
    m_admin.setup_routes(r)  # the Mastodon admin API (issue 7)
    # Places and ressentis (issue 6): pages, open data, /admin/place, the place API.
    places.setup_routes(r)
    m_places.setup_routes(r)
    app.on_startup.append(places.on_startup)  # the place actor, once the storage is open
    web_groups.setup_routes(r)  # listening groups (issue 5): pages and the moderators collection
    settings.setup_routes(r)  # a resident's settings page: the language of the pages (issue 7)
