"""Mastodon-style pagination for list endpoints: read ``max_id``/``since_id``/``min_id``/
``limit`` from the query into a :class:`~fediverse_mu.domain.pagination.Page`, and build the
``Link`` header (``rel="next"`` towards older items, ``rel="prev"`` towards newer ones) from
the pagination ids of the items returned, newest first
(https://docs.joinmastodon.org/api/guidelines/#pagination).

Usage::

    page = page_params(request)                    # 422 on a malformed id or limit
    rows = await service.list_something(svc, me, page)   # [(row id, thing), …] newest first
    return paged_response(request, [entity(t) for _, t in rows], [i for i, _ in rows], page)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid
from fediverse_mu.domain.pagination import Page
from fediverse_mu.web.jsonbody import fast_json_response

DEFAULT_LIMIT = 40
MAX_LIMIT = 80
_PAGING = ("max_id", "since_id", "min_id", "access_token")


def _id(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 20:
        raise Invalid(f"{name} must be an id")
    return int(value)


def page_params(request: web.Request, *, default: int = DEFAULT_LIMIT,
                maximum: int = MAX_LIMIT) -> Page:
    """The page asked for; ``limit`` defaults to ``default`` and is capped at ``maximum``
    (a limit below 1 counts as 1, as too many does as the cap: Mastodon clamps too)."""
    raw = request.query.get("limit", "").strip()
    if not raw:
        limit = default
    else:
        try:
            limit = int(raw)
        except ValueError:
            raise Invalid("limit must be a number") from None
    return Page(max_id=_id(request, "max_id"), since_id=_id(request, "since_id"),
                min_id=_id(request, "min_id"), limit=min(max(limit, 1), maximum))


def _url(request: web.Request, **extra: int) -> str:
    base = request.app[services_key].config.base_url
    kept = [(k, v) for k, v in request.query.items() if k not in _PAGING]
    return f"{base}{request.path}?{urlencode(kept + [(k, str(v)) for k, v in extra.items()])}"


def link_header(request: web.Request, ids: Sequence[int], page: Page) -> str | None:
    """The ``Link`` header for a page whose items have pagination ``ids`` (newest first):
    ``next`` only when the page is full (there may be more), ``prev`` when it is not empty."""
    if not ids:
        return None
    links = []
    if len(ids) >= page.limit:
        links.append(f'<{_url(request, max_id=ids[-1])}>; rel="next"')
    links.append(f'<{_url(request, min_id=ids[0])}>; rel="prev"')
    return ", ".join(links)


def paged_response(request: web.Request, body: list[Any], ids: Sequence[int],
                   page: Page) -> web.Response:
    """A JSON list with its ``Link`` header."""
    response = fast_json_response(body)
    link = link_header(request, ids, page)
    if link is not None:
        response.headers["Link"] = link
    return response
