"""Mastodon status and timeline endpoints (https://docs.joinmastodon.org/methods/statuses/,
/timelines/, /bookmarks/, /favourites/): posting, reading, editing and deleting statuses,
threads, favourites, boosts, bookmarks and pins, and the home, public and hashtag timelines.
Thin handlers: every rule lives in ``services.posting``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import federation_key, services_key
from fediverse_mu.domain import Account, DomainError, Invalid, NotFound, User
from fediverse_mu.domain.filters import FilterContext, FilterMatch
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.federation.client import FetchError
from fediverse_mu.services import accounts as account_service
from fediverse_mu.services import filters, places, posting, profiles, scheduled
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import optional_viewer, render_accounts, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool, read_nested
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.mastodon.polls import poll_params
from fediverse_mu.web.mastodon.scheduled import render_scheduled

MAX_IDS = 40


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


def _status_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("Record not found")
    return int(value)


async def render_statuses(svc: Services, views: list[StatusView], *, source: bool = False,
                          viewer: Account | None = None,
                          matches: Mapping[int, Sequence[FilterMatch]] | None = None,
                          ) -> list[dict[str, Any]]:
    """Status entities whose accounts carry their counts (one batch for the whole page);
    ``filtered`` holds the filters that matched, from ``matches`` or, when only ``viewer`` is
    given, from the viewer's filters."""
    if matches is None:
        matches = (await filters.screen(svc, viewer, views))[1] if viewer is not None else {}
    authors: dict[int, Account] = {}
    for view in views:
        authors[view.account.id] = view.account
        if view.reblog is not None:
            authors[view.reblog.account.id] = view.reblog.account
    rendered = dict(zip(authors, await render_accounts(svc, list(authors.values())),
                        strict=True))
    out = []
    for view in views:
        entity = entities.status(svc.config, view, source=source, accounts=rendered)
        if matches:
            set_filtered(entity, view, matches)
        out.append(entity)
    return out


def set_filtered(entity: dict[str, Any], view: StatusView,
                 matches: Mapping[int, Sequence[FilterMatch]]) -> None:
    """Fill a Status entity's ``filtered`` (and its boosted status's) from the filters that
    matched, by status id."""
    entity["filtered"] = [entities.filter_result(m) for m in matches.get(view.status.id, ())]
    if view.reblog is not None and entity["reblog"] is not None:
        entity["reblog"]["filtered"] = [entities.filter_result(m)
                                        for m in matches.get(view.reblog.status.id, ())]


async def _one(svc: Services, view: StatusView, *, source: bool = False,
               viewer: Account | None = None) -> web.Response:
    return web.json_response((await render_statuses(svc, [view], source=source,
                                                    viewer=viewer))[0])


def _resolver(request: web.Request) -> posting.MentionResolver:
    fed = request.app[federation_key]

    async def resolve(handle: str) -> Account | None:
        try:
            return await fed.resolve_handle(handle)
        except (FetchError, DomainError):
            return None  # an unknown mention stays plain text, as on Mastodon

    return resolve


def _media_ids(params: Any) -> list[int]:
    values = params.getall("media_ids", [])
    try:
        return [int(v) for v in values if str(v).strip()]
    except ValueError:
        raise Invalid("media_ids must be ids") from None


async def _draft(request: web.Request, user: User, account: Account,
                 params: Any) -> posting.Draft:
    svc = _svc(request)
    poll = poll_params(params)
    reply = params.get("in_reply_to_id")
    if reply is not None and reply != "" and not str(reply).isdigit():
        raise NotFound("the status replied to does not exist")
    defaults = await profiles.posting_defaults(svc, user)
    visibility = params.get("visibility") or defaults.privacy.value
    # Local-only in every dialect: local_only=true (Hometown, glitch-soc), federated=false
    # (GoToSocial), visibility=local (Pleroma/Akkoma, in posting); else the resident's default.
    local_only = parse_bool(params.get("local_only"), "local_only")
    federated = parse_bool(params.get("federated"), "federated")
    if local_only is None:
        local_only = federated is False or (
            federated is None and await places.local_only_default(svc, account))
    network = visibility == "network"  # fediverse-mu: for the network of places only
    sensitive = parse_bool(params.get("sensitive"), "sensitive")
    return await posting.prepare(
        svc, account, text=str(params.get("status", "")),
        spoiler_text=str(params.get("spoiler_text", "")),
        sensitive=defaults.sensitive if sensitive is None else sensitive,
        visibility="private" if network else visibility,
        in_reply_to_id=int(reply) if reply else None,
        language=params.get("language") or defaults.language or None,
        media_ids=_media_ids(params), local_only=local_only, resolve=_resolver(request),
        network=network, poll=poll)


async def statuses_create(request: web.Request) -> web.Response:
    """POST /api/v1/statuses (Idempotency-Key honoured); with ``scheduled_at``, a
    ScheduledStatus to publish then (at least 5 minutes ahead)."""
    user, account = await signed_in(request, "write:statuses")
    params = await read_nested(request)
    draft = await _draft(request, user, account, params)
    key = request.headers.get("Idempotency-Key", "").strip()[:128] or None
    when = params.get("scheduled_at")
    if when is not None and str(when).strip():
        item = await scheduled.schedule(_svc(request), account, draft, str(when),
                                        idempotency=key)
        return web.json_response((await render_scheduled(_svc(request), [item]))[0])
    view = await posting.create_status(_svc(request), account, draft, idempotency_key=key)
    return await _one(_svc(request), view)


async def statuses_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses/:id (the viewer's matching filters in ``filtered``; one asked
    for by id is never left out)."""
    viewer = await optional_viewer(request, "read:statuses")
    return await _one(_svc(request), await posting.get_view(_svc(request), _status_id(request),
                                                            viewer), viewer=viewer)


async def statuses_many_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses?id[]=… (unknown or hidden ids are left out)."""
    viewer = await optional_viewer(request, "read:statuses")
    ids = [int(v) for v in request.query.getall("id[]", []) + request.query.getall("id", [])
           if v.isdigit() and len(v) <= 20][:MAX_IDS]
    svc = _svc(request)
    views = []
    for status_id in ids:
        try:
            views.append(await posting.get_view(svc, status_id, viewer))
        except NotFound:
            continue
    return web.json_response(await render_statuses(svc, views, viewer=viewer))


async def statuses_delete(request: web.Request) -> web.Response:
    """DELETE /api/v1/statuses/:id: returns the deleted status with its source text."""
    _, account = await signed_in(request, "write:statuses")
    view = await posting.delete_status(_svc(request), account, _status_id(request))
    return await _one(_svc(request), view, source=True)


async def statuses_update(request: web.Request) -> web.Response:
    """PUT /api/v1/statuses/:id: edit."""
    user, account = await signed_in(request, "write:statuses")
    status_id = _status_id(request)
    svc = _svc(request)
    current = await posting.get_view(svc, status_id, account)
    params = await read_nested(request)
    if "media_ids" not in params:  # unchanged attachments when the client does not say
        for media in current.media:
            params.add("media_ids", str(media.id))
    if "visibility" not in params:
        params["visibility"] = current.status.visibility.value
    if current.status.in_reply_to_id is not None:
        params["in_reply_to_id"] = str(current.status.in_reply_to_id)
    draft = await _draft(request, user, account, params)
    return await _one(svc, await posting.edit_status(svc, account, status_id, draft))


async def statuses_history_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses/:id/history: versions oldest first (the current one included)."""
    viewer = await optional_viewer(request, "read:statuses")
    view, edits = await posting.history(_svc(request), _status_id(request), viewer)
    return web.json_response([entities.status_edit(_svc(request).config, view, e)
                              for e in edits])


async def statuses_source_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses/:id/source (own statuses)."""
    _, account = await signed_in(request, "read:statuses")
    view = await posting.get_view(_svc(request), _status_id(request), account)
    if view.status.account_id != account.id:
        raise NotFound("Record not found")
    return web.json_response(entities.status_source(view))


async def statuses_context_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses/:id/context (statuses a ``hide`` filter for ``thread`` matches
    are left out)."""
    viewer = await optional_viewer(request, "read:statuses")
    svc = _svc(request)
    ancestors, descendants = await posting.context(svc, _status_id(request), viewer)
    ancestors, matches = await filters.screen(svc, viewer, ancestors, FilterContext.THREAD)
    descendants, more = await filters.screen(svc, viewer, descendants, FilterContext.THREAD)
    rendered = await render_statuses(svc, ancestors + descendants,
                                     matches={**matches, **more})
    return web.json_response({"ancestors": rendered[:len(ancestors)],
                              "descendants": rendered[len(ancestors):]})


async def statuses_favourite(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/favourite."""
    _, account = await signed_in(request, "write:favourites")
    return await _one(_svc(request), await posting.favourite(_svc(request), account,
                                                             _status_id(request)),
                      viewer=account)


async def statuses_unfavourite(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/unfavourite."""
    _, account = await signed_in(request, "write:favourites")
    return await _one(_svc(request), await posting.unfavourite(_svc(request), account,
                                                               _status_id(request)),
                      viewer=account)


async def statuses_reblog(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/reblog: returns the boost, wrapping the status."""
    _, account = await signed_in(request, "write:statuses")
    params = await read_nested(request)
    view = await posting.reblog(_svc(request), account, _status_id(request),
                                params.get("visibility") or None)
    return await _one(_svc(request), view)


async def statuses_unreblog(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/unreblog."""
    _, account = await signed_in(request, "write:statuses")
    return await _one(_svc(request), await posting.unreblog(_svc(request), account,
                                                            _status_id(request)),
                      viewer=account)


async def statuses_bookmark(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/bookmark."""
    _, account = await signed_in(request, "write:bookmarks")
    return await _one(_svc(request), await posting.bookmark(_svc(request), account,
                                                            _status_id(request), True),
                      viewer=account)


async def statuses_unbookmark(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/unbookmark."""
    _, account = await signed_in(request, "write:bookmarks")
    return await _one(_svc(request), await posting.bookmark(_svc(request), account,
                                                            _status_id(request), False),
                      viewer=account)


async def statuses_pin(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/pin."""
    _, account = await signed_in(request, "write:accounts")
    return await _one(_svc(request), await posting.pin(_svc(request), account,
                                                       _status_id(request), True))


async def statuses_unpin(request: web.Request) -> web.Response:
    """POST /api/v1/statuses/:id/unpin."""
    _, account = await signed_in(request, "write:accounts")
    return await _one(_svc(request), await posting.pin(_svc(request), account,
                                                       _status_id(request), False))


async def _who(request: web.Request, kind: str) -> web.Response:
    viewer = await optional_viewer(request, "read:accounts")
    page = page_params(request, default=40, maximum=80)
    svc = _svc(request)
    finder = posting.favourited_by if kind == "favourites" else posting.reblogged_by
    found, markers = await finder(svc, _status_id(request), viewer, page)
    return paged_response(request, await render_accounts(svc, found), markers, page)


async def statuses_favourited_by_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses/:id/favourited_by."""
    return await _who(request, "favourites")


async def statuses_reblogged_by_get(request: web.Request) -> web.Response:
    """GET /api/v1/statuses/:id/reblogged_by."""
    return await _who(request, "reblogs")


# -- timelines ---------------------------------------------------------------------------------


async def timeline_response(request: web.Request, views: list[StatusView], page: Page, *,
                            viewer: Account | None = None,
                            context: FilterContext | None = None) -> web.Response:
    """A page of a timeline with its Link header; the viewer's filters for ``context`` apply
    (``hide`` ones take statuses out, the page may come out short: Link still follows the
    ids read)."""
    kept, matches = await filters.screen(_svc(request), viewer, views, context)
    body = await render_statuses(_svc(request), kept, matches=matches)
    return paged_response(request, body, [v.status.id for v in views], page)


def _flag(request: web.Request, name: str) -> bool:
    return parse_bool(request.query.get(name), name) or False


async def timelines_home_get(request: web.Request) -> web.Response:
    """GET /api/v1/timelines/home."""
    _, account = await signed_in(request, "read:statuses")
    page = page_params(request, default=20, maximum=40)
    return await timeline_response(
        request, await posting.home_timeline(_svc(request), account, page), page,
        viewer=account, context=FilterContext.HOME)


def _locality(request: web.Request) -> bool | None:
    if _flag(request, "local"):
        return True
    if _flag(request, "remote"):
        return False
    return None


async def timelines_public_get(request: web.Request) -> web.Response:
    """GET /api/v1/timelines/public (``local``, ``remote``, ``only_media``)."""
    viewer = await optional_viewer(request, "read:statuses")
    page = page_params(request, default=20, maximum=40)
    views = await posting.public_timeline(_svc(request), viewer, page,
                                          local=_locality(request),
                                          only_media=_flag(request, "only_media"))
    return await timeline_response(request, views, page, viewer=viewer,
                                   context=FilterContext.PUBLIC)


async def timelines_tag_get(request: web.Request) -> web.Response:
    """GET /api/v1/timelines/tag/:hashtag."""
    viewer = await optional_viewer(request, "read:statuses")
    page = page_params(request, default=20, maximum=40)
    tag = request.match_info["hashtag"].lstrip("#")
    if not tag or len(tag) > 100:
        raise NotFound("Record not found")
    views = await posting.tag_timeline(_svc(request), viewer, tag, page,
                                       local=_locality(request),
                                       only_media=_flag(request, "only_media"))
    return await timeline_response(request, views, page, viewer=viewer,
                                   context=FilterContext.PUBLIC)


async def account_statuses_get(request: web.Request) -> web.Response:
    """GET /api/v1/accounts/:id/statuses (``pinned``, ``exclude_replies``,
    ``exclude_reblogs``, ``only_media``, ``tagged``)."""
    viewer = await optional_viewer(request, "read:statuses")
    value = request.match_info["id"]
    svc = _svc(request)
    account = await account_service.get_account(svc, int(value)) \
        if value.isdigit() and len(value) <= 20 else None
    if account is None:
        raise NotFound("Record not found")
    page = page_params(request, default=20, maximum=40)
    views = await posting.account_statuses(
        svc, account, viewer, page, exclude_replies=_flag(request, "exclude_replies"),
        exclude_reblogs=_flag(request, "exclude_reblogs"),
        only_media=_flag(request, "only_media"), pinned=_flag(request, "pinned"),
        tagged=request.query.get("tagged") or None)
    return await timeline_response(request, views, page, viewer=viewer,
                                   context=FilterContext.ACCOUNT)


async def bookmarks_get(request: web.Request) -> web.Response:
    """GET /api/v1/bookmarks."""
    _, account = await signed_in(request, "read:bookmarks")
    page = page_params(request, default=20, maximum=40)
    views, markers = await posting.bookmarks(_svc(request), account, page)
    return paged_response(request, await render_statuses(_svc(request), views, viewer=account),
                          markers, page)


async def favourites_get(request: web.Request) -> web.Response:
    """GET /api/v1/favourites."""
    _, account = await signed_in(request, "read:favourites")
    page = page_params(request, default=20, maximum=40)
    views, markers = await posting.favourites(_svc(request), account, page)
    return paged_response(request, await render_statuses(_svc(request), views, viewer=account),
                          markers, page)
