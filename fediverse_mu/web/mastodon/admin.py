"""A useful subset of Mastodon's admin API (https://docs.joinmastodon.org/methods/admin/), so
admin apps work: accounts (v1 list, one, actions), reports (list, one, assign, resolve,
reopen), domain blocks and domain allows. Every call needs a token with the matching
``admin:read:…``/``admin:write:…`` scope (or ``admin:read``/``admin:write``) **and** a user who
is a moderator or an admin; domain blocks and allows are for admins only (Mastodon's
"manage federation" permission, which its default moderator role does not have)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, Forbidden, Invalid, NotFound, Role, Unauthorized
from fediverse_mu.domain.moderation import AdminAccount, Report
from fediverse_mu.services import federation_policy, moderation, rules
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon import entities
from fediverse_mu.web.mastodon.accounts import render_accounts
from fediverse_mu.web.mastodon.auth import require_grant
from fediverse_mu.web.mastodon.forms import parse_bool, read_nested
from fediverse_mu.web.mastodon.pagination import page_params, paged_response
from fediverse_mu.web.mastodon.statuses import render_statuses


def _svc(request: web.Request) -> Services:
    return request.app[services_key]


async def _staff(request: web.Request, scope: str, *, admin_only: bool = False) -> Account:
    """The calling moderator's account: 401 without a token, 403 without the scope or the
    role."""
    grant = await require_grant(request, scope)
    if grant.user is None or grant.account is None:
        raise Unauthorized("This method requires an authenticated user")
    allowed = (Role.ADMIN,) if admin_only else moderation.STAFF
    if grant.user.role not in allowed:
        raise Forbidden("This action is not allowed")
    return grant.account


def _int(value: str, name: str = "id") -> int:
    if not value.isdigit() or len(value) > 18:
        raise Invalid(f"{name} must be an id")
    return int(value)


def _id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not text.isdigit() or len(text) > 18:
        raise NotFound("Record not found")
    return int(text)


# -- accounts ----------------------------------------------------------------------------------


async def _render_admin_accounts(svc: Services, items: list[AdminAccount]) -> list[dict[str, Any]]:
    rendered = await render_accounts(svc, [i.account for i in items])
    return [entities.admin_account(i, e) for i, e in zip(items, rendered, strict=True)]


async def accounts_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/accounts`` (v1 filters: ``local``, ``remote``, ``active``,
    ``pending``, ``disabled``, ``silenced``, ``suspended``, ``username``, ``by_domain``…)."""
    await _staff(request, "admin:read:accounts")
    q = request.query
    local = True if parse_bool(q.get("local"), "local") else \
        False if parse_bool(q.get("remote"), "remote") else None
    status = next((name for name in ("pending", "disabled", "silenced", "suspended", "active")
                   if parse_bool(q.get(name), name)), None)
    query = q.get("username") or q.get("display_name") or q.get("by_domain") or q.get("email")
    page = page_params(request, default=100, maximum=200)
    found = await moderation.list_accounts(_svc(request), local=local, status=status,
                                           query=query, max_id=page.max_id, limit=page.limit)
    return paged_response(request, await _render_admin_accounts(_svc(request), found),
                          [i.account.id for i in found], page)


async def account_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/accounts/:id``."""
    await _staff(request, "admin:read:accounts")
    found = await moderation.get_admin_account(_svc(request), _id(request))
    return web.json_response((await _render_admin_accounts(_svc(request), [found]))[0])


async def account_action_post(request: web.Request) -> web.Response:
    """``POST /api/v1/admin/accounts/:id/action`` (``type``: none, disable, sensitive,
    silence, suspend; ``text``; ``report_id``): ``{}``."""
    me = await _staff(request, "admin:write:accounts")
    params = await read_nested(request)
    kind = params.get("type", "none") or "none"
    if kind == "sensitive":
        raise Invalid("Validation failed: marking media sensitive is not supported here")
    report_id = params.get("report_id")
    account = await moderation.get_admin_account(_svc(request), _id(request))
    await moderation.act_on_account(
        _svc(request), me, account.account.id, kind, params.get("text", ""),
        report_id=None if not report_id else _int(report_id, "report_id"))
    return web.json_response({})


def _reverse(action: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        me = await _staff(request, "admin:write:accounts")
        await moderation.act_on_account(_svc(request), me, _id(request), action)
        found = await moderation.get_admin_account(_svc(request), _id(request))
        return web.json_response((await _render_admin_accounts(_svc(request), [found]))[0])
    handler.__doc__ = f"``POST /api/v1/admin/accounts/:id/{action}``."
    return handler


# -- reports -----------------------------------------------------------------------------------


async def _render_reports(svc: Services, reports: list[Report]) -> list[dict[str, Any]]:
    ids: list[int] = []
    for r in reports:
        ids.extend(i for i in (r.account_id, r.target_account_id, r.assigned_account_id,
                               r.action_taken_by_account_id) if i is not None)
    accounts = {a.account.id: a for a in await moderation.list_accounts_by_ids(svc, ids)}
    rendered = dict(zip(accounts, await _render_admin_accounts(svc, list(accounts.values())),
                        strict=True))
    every_rule = await rules.list_rules(svc)
    out = []
    for r in reports:
        statuses = await render_statuses(svc, await moderation.reported_statuses(svc, r))
        out.append(entities.admin_report(
            r, account=rendered[r.account_id], target_account=rendered[r.target_account_id],
            assigned_account=rendered.get(r.assigned_account_id or 0),
            action_taken_by_account=rendered.get(r.action_taken_by_account_id or 0),
            statuses=statuses, rules=every_rule))
    return out


async def reports_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/reports`` (``resolved``, ``target_account_id``): newest first."""
    await _staff(request, "admin:read:reports")
    q = request.query
    target = q.get("target_account_id")
    page = page_params(request, default=100, maximum=200)
    found = await moderation.list_reports(
        _svc(request), resolved=bool(parse_bool(q.get("resolved"), "resolved")),
        target_account_id=None if not target else _int(target, "target_account_id"),
        max_id=page.max_id, limit=page.limit)
    return paged_response(request, await _render_reports(_svc(request), found),
                          [r.id for r in found], page)


async def report_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/reports/:id``."""
    await _staff(request, "admin:read:reports")
    report = await moderation.get_report(_svc(request), _id(request))
    return web.json_response((await _render_reports(_svc(request), [report]))[0])


def _report_action(name: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        me = await _staff(request, "admin:write:reports")
        svc = _svc(request)
        report_id = _id(request)
        if name == "assign_to_self":
            report = await moderation.assign_report(svc, me, report_id, me)
        elif name == "unassign":
            report = await moderation.assign_report(svc, me, report_id, None)
        elif name == "resolve":
            report = await moderation.resolve_report(svc, me, report_id)
        else:
            report = await moderation.reopen_report(svc, me, report_id)
        return web.json_response((await _render_reports(svc, [report]))[0])
    handler.__doc__ = f"``POST /api/v1/admin/reports/:id/{name}``."
    return handler


# -- domain blocks and allows (admins only) ----------------------------------------------------


async def domain_blocks_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/domain_blocks``."""
    await _staff(request, "admin:read:domain_blocks", admin_only=True)
    found = await federation_policy.list_domain_blocks(_svc(request))
    return web.json_response([entities.admin_domain_block(b) for b in found])


async def domain_block_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/domain_blocks/:id``."""
    await _staff(request, "admin:read:domain_blocks", admin_only=True)
    block = await federation_policy.get_domain_block(_svc(request), _id(request))
    return web.json_response(entities.admin_domain_block(block))


def _block_fields(params: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if params.get("severity"):
        fields["severity"] = params["severity"]
    for name in ("reject_media", "reject_reports", "obfuscate"):
        value = parse_bool(params.get(name), name)
        if value is not None:
            fields[name] = value
    for name in ("public_comment", "private_comment"):
        if params.get(name) is not None:
            fields[name] = params[name]
    return fields


async def domain_blocks_post(request: web.Request) -> web.Response:
    """``POST /api/v1/admin/domain_blocks`` (``domain``, ``severity``, ``reject_media``,
    ``reject_reports``, ``private_comment``, ``public_comment``, ``obfuscate``)."""
    me = await _staff(request, "admin:write:domain_blocks", admin_only=True)
    params = await read_nested(request)
    domain = params.get("domain", "")
    if not domain.strip():
        raise Invalid("Validation failed: Domain can't be blank")
    block = await federation_policy.block_domain(_svc(request), me, domain,
                                                 **_block_fields(params))
    return web.json_response(entities.admin_domain_block(block))


async def domain_block_put(request: web.Request) -> web.Response:
    """``PUT /api/v1/admin/domain_blocks/:id``."""
    me = await _staff(request, "admin:write:domain_blocks", admin_only=True)
    params = await read_nested(request)
    block = await federation_policy.update_domain_block(_svc(request), me, _id(request),
                                                        **_block_fields(params))
    return web.json_response(entities.admin_domain_block(block))


async def domain_block_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/admin/domain_blocks/:id``: ``{}``."""
    me = await _staff(request, "admin:write:domain_blocks", admin_only=True)
    await federation_policy.unblock_domain(_svc(request), me, _id(request))
    return web.json_response({})


async def domain_allows_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/domain_allows``."""
    await _staff(request, "admin:read:domain_allows", admin_only=True)
    found = await federation_policy.list_domain_allows(_svc(request))
    return web.json_response([entities.admin_domain_allow(a) for a in found])


async def domain_allow_get(request: web.Request) -> web.Response:
    """``GET /api/v1/admin/domain_allows/:id``."""
    await _staff(request, "admin:read:domain_allows", admin_only=True)
    allow = await federation_policy.get_domain_allow(_svc(request), _id(request))
    return web.json_response(entities.admin_domain_allow(allow))


async def domain_allows_post(request: web.Request) -> web.Response:
    """``POST /api/v1/admin/domain_allows`` (``domain``)."""
    me = await _staff(request, "admin:write:domain_allows", admin_only=True)
    params = await read_nested(request)
    allow = await federation_policy.allow_domain(_svc(request), me, params.get("domain", ""))
    return web.json_response(entities.admin_domain_allow(allow))


async def domain_allow_delete(request: web.Request) -> web.Response:
    """``DELETE /api/v1/admin/domain_allows/:id``: ``{}``."""
    me = await _staff(request, "admin:write:domain_allows", admin_only=True)
    await federation_policy.disallow_domain(_svc(request), me, _id(request))
    return web.json_response({})


def setup_routes(router: web.UrlDispatcher) -> None:
    """Register the admin API (both with and without a trailing /)."""
    routes: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/admin/accounts", accounts_get),
        ("GET", "/api/v1/admin/accounts/{id}", account_get),
        ("POST", "/api/v1/admin/accounts/{id}/action", account_action_post),
        ("POST", "/api/v1/admin/accounts/{id}/unsilence", _reverse("unsilence")),
        ("POST", "/api/v1/admin/accounts/{id}/unsuspend", _reverse("unsuspend")),
        ("POST", "/api/v1/admin/accounts/{id}/enable", _reverse("enable")),
        ("GET", "/api/v1/admin/reports", reports_get),
        ("GET", "/api/v1/admin/reports/{id}", report_get),
        *[("POST", f"/api/v1/admin/reports/{{id}}/{name}", _report_action(name))
          for name in ("assign_to_self", "unassign", "resolve", "reopen")],
        ("GET", "/api/v1/admin/domain_blocks", domain_blocks_get),
        ("POST", "/api/v1/admin/domain_blocks", domain_blocks_post),
        ("GET", "/api/v1/admin/domain_blocks/{id}", domain_block_get),
        ("PUT", "/api/v1/admin/domain_blocks/{id}", domain_block_put),
        ("DELETE", "/api/v1/admin/domain_blocks/{id}", domain_block_delete),
        ("GET", "/api/v1/admin/domain_allows", domain_allows_get),
        ("POST", "/api/v1/admin/domain_allows", domain_allows_post),
        ("GET", "/api/v1/admin/domain_allows/{id}", domain_allow_get),
        ("DELETE", "/api/v1/admin/domain_allows/{id}", domain_allow_delete),
    ]
    for method, path, handler in routes:
        router.add_route(method, path, handler)
        router.add_route(method, path + "/", handler)
