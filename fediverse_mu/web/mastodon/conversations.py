"""Mastodon conversation endpoints (https://docs.joinmastodon.org/methods/conversations/): the
caller's threads of direct messages, newest first, removing one from the list and marking one
read. Thin handlers over ``services.conversations``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, NotFound
from fediverse_mu.domain.conversations import ConversationView
from fediverse_mu.services import conversations
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import render_accounts, signed_in
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.mastodon.statuses import render_statuses

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


async def render_conversations(svc: Services,
                               views: list[ConversationView]) -> list[dict[str, Any]]:
    """Conversation entities, accounts and statuses rendered in one batch each."""
    people: dict[int, Account] = {a.id: a for v in views for a in v.accounts}
    rendered_people = dict(zip(people, await render_accounts(svc, list(people.values())),
                               strict=True))
    with_status = [v for v in views if v.last_status is not None]
    statuses = dict(zip([v.conversation.id for v in with_status], await render_statuses(
        svc, [v.last_status for v in with_status if v.last_status is not None]),
                        strict=True))
    return [entities.conversation(v, [rendered_people[a.id] for a in v.accounts],
                                  statuses.get(v.conversation.id)) for v in views]


def _conversation_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 20:
        raise NotFound("Record not found")
    return int(value)


async def conversations_get(request: web.Request) -> web.Response:
    """``GET /api/v1/conversations``: paginated by the last message's id."""
    _, account = await signed_in(request, "read:statuses")
    svc = request.app[services_key]
    page = page_params(request, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    views = await conversations.list_conversations(svc, account, page)
    return paged_response(request, await render_conversations(svc, views),
                          [v.conversation.last_status_id for v in views], page)


async def conversation_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/conversations/:id``: gone from the list (the messages stay)."""
    _, account = await signed_in(request, "write:conversations")
    await conversations.remove(request.app[services_key], account, _conversation_id(request))
    return web.json_response({})


async def conversation_read_post(request: web.Request) -> web.Response:
    """``POST /api/v1/conversations/:id/read``."""
    _, account = await signed_in(request, "write:conversations")
    svc = request.app[services_key]
    view = await conversations.mark_read(svc, account, _conversation_id(request))
    return web.json_response((await render_conversations(svc, [view]))[0])


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the conversation endpoints (with and without a trailing slash)."""
    for method, path, handler in (
            ("GET", "/api/v1/conversations", conversations_get),
            ("DELETE", "/api/v1/conversations/{id}", conversation_delete),
            ("POST", "/api/v1/conversations/{id}/read", conversation_read_post)):
        router.add_route(method, path, handler)
        router.add_route(method, path + "/", handler)
