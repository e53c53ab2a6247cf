"""Moderation endpoints of the Mastodon API for residents and anyone: the instance rules
(``/api/v1/instance/rules``), the public list of moderated servers
(``/api/v1/instance/domain_blocks``), reports (``POST /api/v1/reports``,
https://docs.joinmastodon.org/methods/reports/) and the domains a resident hides
(``/api/v1/domain_blocks``, https://docs.joinmastodon.org/methods/domain_blocks/)."""

from __future__ import annotations

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Invalid
from fediverse_mu.services import directory, federation_policy, moderation, rules
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import render_account, signed_in
from fediverse_mu.web.mastodon.forms import parse_bool, read_nested
from fediverse_mu.web.mastodon.pagination import page_params, paged_response


def _ids(values: list[str], name: str) -> list[int]:
    out = []
    for value in values:
        value = value.strip()
        if not value.isdigit() or len(value) > 20:
            raise Invalid(f"Validation failed: {name} must be ids")
        out.append(int(value))
    return out


async def instance_rules_get(request: web.Request) -> web.Response:
    """``GET /api/v1/instance/rules``: the rules, in order (public)."""
    found = await rules.list_rules(request.app[services_key])
    return web.json_response([entities.rule(r) for r in found])


async def instance_domain_blocks_get(request: web.Request) -> web.Response:
    """``GET /api/v1/instance/domain_blocks``: the moderated servers (public)."""
    found = await federation_policy.public_domain_blocks(request.app[services_key])
    return web.json_response([entities.public_domain_block(b) for b in found])


async def reports_create(request: web.Request) -> web.Response:
    """``POST /api/v1/reports``: report an account (``account_id``, ``status_ids[]``,
    ``rule_ids[]``, ``comment``, ``category``, ``forward``)."""
    _, me = await signed_in(request, "write:reports")
    svc = request.app[services_key]
    params = await read_nested(request)
    account_id = params.get("account_id", "").strip()
    if not account_id:
        raise Invalid("Validation failed: account_id is required")
    target = await directory.get_account(svc, account_id)
    report = await moderation.create_report(
        svc, me, target.id,
        status_ids=_ids(params.getall("status_ids[]", []) + params.getall("status_ids", []),
                        "status_ids"),
        rule_ids=_ids(params.getall("rule_ids[]", []) + params.getall("rule_ids", []),
                      "rule_ids"),
        comment=params.get("comment", ""), category=params.get("category") or None,
        forward=bool(parse_bool(params.get("forward"), "forward")))
    return web.json_response(entities.report(report, await render_account(svc, target)))


async def domain_blocks_get(request: web.Request) -> web.Response:
    """``GET /api/v1/domain_blocks``: the domains the caller hides (strings, paged)."""
    _, me = await signed_in(request, "read:blocks", "follow")
    page = page_params(request, default=100, maximum=200)
    rows = await moderation.hidden_domains(request.app[services_key], me, max_id=page.max_id,
                                           limit=page.limit)
    return paged_response(request, [domain for _, domain in rows], [i for i, _ in rows], page)


async def domain_blocks_post(request: web.Request) -> web.Response:
    """``POST /api/v1/domain_blocks`` (``domain``): hide a domain; ``{}``."""
    _, me = await signed_in(request, "write:blocks", "follow")
    params = await read_nested(request)
    await moderation.hide_domain(request.app[services_key], me, params.get("domain", ""))
    return web.json_response({})


async def domain_blocks_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/domain_blocks`` (``domain``): show a domain again; ``{}``."""
    _, me = await signed_in(request, "write:blocks", "follow")
    params = await read_nested(request)
    await moderation.unhide_domain(request.app[services_key], me, params.get("domain", ""))
    return web.json_response({})


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the residents' moderation endpoints (both with and without a trailing /)."""
    for method, path, handler in (
            ("GET", "/api/v1/instance/rules", instance_rules_get),
            ("GET", "/api/v1/instance/domain_blocks", instance_domain_blocks_get),
            ("POST", "/api/v1/reports", reports_create),
            ("GET", "/api/v1/domain_blocks", domain_blocks_get),
            ("POST", "/api/v1/domain_blocks", domain_blocks_post),
            ("DELETE", "/api/v1/domain_blocks", domain_blocks_delete)):
        router.add_route(method, path, handler)
        router.add_route(method, path + "/", handler)
