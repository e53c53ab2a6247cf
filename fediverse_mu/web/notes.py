"""Statuses on the web, with content negotiation on the same URLs: the Note (AS2) for servers
and an HTML page for browsers; the Create or Announce activity of a status; its replies
collection; and the outbox and featured collections of a resident. Only public and unlisted,
federated statuses are served: private, direct and local-only ones answer 404, deleted ones
410 with a Tombstone; those of a pending or suspended account answer 404."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.activitypub import notes as ap
from fediverse_mu.activitypub.vocab import AS2_CONTEXT, wants_as2
from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, NotFound
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import StatusView, Visibility
from fediverse_mu.services import accounts, moderation, posting
from fediverse_mu.services.context import Services
from fediverse_mu.web.activitypub import as2_response
from fediverse_mu.web.pages import page

OUTBOX_PAGE = 20


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


async def _author(request: web.Request) -> Account:
    """The author of the URL: a pending account (not approved yet) does not exist, and a
    suspended one's statuses and collections are not served."""
    standing = await moderation.local_standing(_svc(request), request.match_info["username"])
    if standing is None or standing.pending or standing.suspended or \
            standing.account.actor_type == "Application":
        raise NotFound("no such account")
    return standing.account


def _federated(view: StatusView) -> bool:
    status = view.status
    return status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED) and \
        not status.local_only and status.local


async def _public_view(request: web.Request) -> StatusView:
    """The status at this URL, if it may be served to anyone."""
    author = await _author(request)
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("no such status")
    svc = _svc(request)
    status = await posting.get_status_by_uri(svc, f"{author.actor_uri}/statuses/{value}") \
        or await posting.get_status_by_uri(svc,
                                           f"{author.actor_uri}/statuses/{value}/activity")
    if status is None or status.account_id != author.id:
        raise NotFound("no such status")
    if status.deleted_at is not None:
        raise _Gone(status.uri)
    try:
        view = await posting.get_view(svc, status.id, None)
    except NotFound:
        raise NotFound("no such status") from None
    if not _federated(view):
        raise NotFound("no such status")
    return view


class _Gone(Exception):
    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri


def _tombstone(uri: str) -> web.Response:
    return as2_response({"@context": AS2_CONTEXT, "id": uri, "type": "Tombstone"}, status=410)


def _document(svc: Services, view: StatusView) -> dict[str, Any]:
    if view.reblog is not None:
        followers = f"{view.account.actor_uri}/followers"
        to, cc = ap.addressing(view.status.visibility, followers, [])
        return ap.build_announce(view.status.uri, view.account.actor_uri, view.reblog.status.uri,
                                 view.status.created_at, to, cc)
    return ap.with_context(ap.render_note(view, base_url=svc.config.base_url))


async def status_get(request: web.Request) -> web.StreamResponse:
    """``/users/{username}/statuses/{id}``: the Note, or the HTML page for a browser."""
    try:
        view = await _public_view(request)
    except _Gone as gone:
        return _tombstone(gone.uri)
    if not wants_as2(request.headers.get("Accept", "")):
        raise web.HTTPFound(view.status.url or "/")
    return as2_response(_document(_svc(request), view))


async def status_activity_get(request: web.Request) -> web.StreamResponse:
    """``…/statuses/{id}/activity``: the Create of a status (or the Announce of a boost)."""
    try:
        view = await _public_view(request)
    except _Gone as gone:
        return _tombstone(gone.uri)
    document = _document(_svc(request), view)
    return as2_response(document if view.reblog is not None else ap.build_create(
        {k: v for k, v in document.items() if k != "@context"}))


async def status_replies_get(request: web.Request) -> web.Response:
    """``…/statuses/{id}/replies``: the public replies this instance knows, as ids."""
    try:
        view = await _public_view(request)
    except _Gone as gone:
        raise NotFound(f"{gone.uri} was deleted") from None
    _, descendants = await posting.context(_svc(request), view.status.id, None)
    items = [d.status.uri for d in descendants if d.status.in_reply_to_id == view.status.id
             and d.status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)
             and not d.status.local_only]
    collection_id = f"{view.status.uri}/replies"
    return as2_response({"@context": AS2_CONTEXT, "id": collection_id, "type": "Collection",
                         "totalItems": len(items), "first": {
                             "type": "CollectionPage", "id": f"{collection_id}?page=true",
                             "partOf": collection_id, "items": items}})


async def status_page_get(request: web.Request) -> web.StreamResponse:
    """``/@{username}/{id}``: the HTML page of a status (AS2 clients are sent to its id)."""
    try:
        view = await _public_view(request)
    except _Gone:
        raise NotFound("this status was deleted") from None
    if wants_as2(request.headers.get("Accept", "")):
        raise web.HTTPFound(view.status.uri)
    svc = _svc(request)
    shown = view.reblog or view
    return page(request, "status.html", {"config": svc.config, "view": shown,
                                         "booster": view.account if view.reblog else None})


def _activity(svc: Services, view: StatusView) -> dict[str, Any]:
    document = _document(svc, view)
    inner = {k: v for k, v in document.items() if k != "@context"}
    if view.reblog is not None:
        return inner
    create = ap.build_create(inner)
    return {k: v for k, v in create.items() if k != "@context"}


async def outbox_get(request: web.Request) -> web.Response:
    """A resident's outbox: public and unlisted posts and boosts, newest first, paged by id."""
    author = await _author(request)
    svc = _svc(request)
    collection_id = f"{author.actor_uri}/outbox"
    total = await accounts.count_statuses(svc, author.id)
    if request.query.get("page") is None:
        return as2_response({"@context": AS2_CONTEXT, "id": collection_id,
                             "type": "OrderedCollection", "totalItems": total,
                             "first": f"{collection_id}?page=true",
                             "last": f"{collection_id}?page=true&min_id=0"})
    max_id = request.query.get("max_id", "")
    min_id = request.query.get("min_id", "")
    window = Page(max_id=int(max_id) if max_id.isdigit() else None,
                  min_id=int(min_id) if min_id.isdigit() else None, limit=OUTBOX_PAGE)
    views = [v for v in await posting.account_statuses(svc, author, None, window)
             if _federated(v)]
    doc: dict[str, Any] = {"@context": ap.NOTE_CONTEXT,
                           "id": f"{collection_id}?{request.query_string}",
                           "type": "OrderedCollectionPage", "partOf": collection_id,
                           "orderedItems": [_activity(svc, v) for v in views]}
    if views:
        doc["next"] = f"{collection_id}?page=true&max_id={views[-1].status.id}"
        doc["prev"] = f"{collection_id}?page=true&min_id={views[0].status.id}"
    return as2_response(doc)


async def featured_get(request: web.Request) -> web.Response:
    """A resident's pinned posts (Mastodon's ``featured`` collection)."""
    author = await _author(request)
    svc = _svc(request)
    views = [v for v in await posting.account_statuses(svc, author, None, Page(limit=20),
                                                       pinned=True) if _federated(v)]
    return as2_response({"@context": ap.NOTE_CONTEXT,
                         "id": f"{author.actor_uri}/collections/featured",
                         "type": "OrderedCollection", "totalItems": len(views),
                         "orderedItems": [ap.render_note(v, base_url=svc.config.base_url)
                                          for v in views]})
